"""Bearer tokens: who may call the API, with which role, for which communities.

A token is ``cj_<id>_<secret>``. Only the SHA-256 digest of the whole token is
stored: a token is 32 random bytes, so a fast digest is as safe as a slow password
hash and keeps every request's check cheap (ADR 0012). The id (not secret) lets
``chanjiao token list|revoke`` name a token without ever showing it again.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import threading
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from enum import Enum
from uuid import UUID

import msgspec

from adapters.tokens import TokenInfo, TokenTable
from application.commands import as_uuid
from domain.errors import InvalidInput, LedgerError, NotFound
from domain.values import chinese, parse_choice, parse_text
from projections.machinery import Store


class Role(str, Enum):
    ADMIN = "admin"
    SECRETARY = "secretary"
    AUDITOR = "auditor"
    INTEGRATOR = "integrator"


chinese(
    Role,  # type: ignore[type-var]
    {
        Role.ADMIN: ("管理员",),
        Role.SECRETARY: ("秘书", "秘书处"),
        Role.AUDITOR: ("审计", "审计员"),
        Role.INTEGRATOR: ("对接系统", "集成方"),
    },
)


class Issued(msgspec.Struct, frozen=True):
    token: str
    info: TokenInfo


class TokenNotFound(NotFound):
    pass


class TokenRequired(LedgerError):
    """No token, or one the ledger does not know or has revoked (HTTP 401)."""


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


CACHE_ENTRIES = 4096
"""At most this many verified tokens are kept; when full, the oldest is dropped."""


class Tokens:
    """Issues, lists, revokes and checks tokens, keeping verified ones for ``cache``
    seconds (``CHANJIAO_TOKEN_CACHE``; 0: none) so a request seldom reads the table.

    A token checked within ``cache`` seconds of its last lookup is trusted without a
    query. Its own expiry is still checked on every call, and a secret the table did not
    accept (unknown, revoked, wrong) is never kept, so a newly issued token works at once.
    A token revoked through this object is refused from the next call on: ``revoke``
    empties the cache. A revocation made elsewhere, by another ``chanjiao serve``
    worker or by ``chanjiao token revoke``, cannot empty this process's cache, so it
    takes effect here within ``cache`` seconds; that delay is the price of the saved
    query, and 0 removes it.

    The cache is keyed by the token's SHA-256 digest, never the token. A cache hit
    touches only the dict (atomic under the GIL); storing and emptying take a lock and
    compare a count of local revocations, so a lookup that began before a revocation
    here cannot put the token back after ``revoke`` has emptied the cache."""

    def __init__(self, store: Store, cache: float = 5.0) -> None:
        if not cache >= 0 or math.isinf(cache):
            raise ValueError(f"the token cache is a number of seconds, 0 or more; got {cache!r}")
        self.table = TokenTable(store)
        self.ledger = store.ledger
        self.cache = cache
        self._verified: dict[str, tuple[TokenInfo, float]] = {}
        self._lock = threading.Lock()
        self._revocations = 0

    def issue(
        self,
        *,
        role: str,
        name: str,
        communities: Iterable[str | UUID] = (),
        issued_by: str,
        valid_for: timedelta | None = None,
    ) -> Issued:
        """A new token; ``valid_for``: how long until it expires (None: never)."""
        the_role = parse_choice(Role, role, "role")
        the_name = parse_text(name, "token name", max_length=80)
        scope = sorted({as_uuid(c, "community id") for c in communities}, key=str)
        if the_role is Role.SECRETARY and not scope:
            raise InvalidInput(
                "a secretary's token names the communities it records for: "
                "give --community ID once for each"
            )
        if the_role is not Role.SECRETARY and scope:
            raise InvalidInput(f"only secretaries' tokens are limited to communities, not {role}s'")
        for community in scope:
            self.ledger.community(community)  # refuses an unknown community
        if valid_for is not None and valid_for <= timedelta(0):
            raise InvalidInput("a token must be valid for some time; give a positive period")
        token_id = secrets.token_hex(4)
        token = f"cj_{token_id}_{secrets.token_urlsafe(32)}"
        now = datetime.now(UTC)
        expires = now + valid_for if valid_for is not None else None
        info = TokenInfo(
            token_id, the_name, the_role.value, scope, now, issued_by, expires_at=expires
        )
        self.table.add(info, digest(token))
        return Issued(token, info)

    def list(self) -> list[TokenInfo]:
        return self.table.all()

    def revoke(self, token_id: str) -> TokenInfo:
        key = token_id.strip()
        try:
            changed = self.table.revoke(key, datetime.now(UTC))
        finally:
            self._forget_all()  # even when already revoked, perhaps by another process
        info = self.table.find(key)
        if info is None:
            raise TokenNotFound(f"no token {key!r} was issued; `chanjiao token list` shows them")
        if not changed:
            at = info.revoked_at.isoformat() if info.revoked_at else "an earlier moment"
            raise InvalidInput(f"token {key} was already revoked at {at}")
        return info

    def any_active(self) -> bool:
        return self.table.any_active()

    def check(self, token: str) -> TokenInfo:
        """The active token ``token`` is, or ``TokenRequired``."""
        parts = token.split("_")
        if len(parts) < 3 or parts[0] != "cj":
            raise TokenRequired("the bearer token is not a chanjiao token")
        key = digest(token)
        info = self._cached(key)
        if info is None:
            revocations = self._revocations
            looked_up = time.monotonic()
            found = self.table.active(parts[1])
            if found is None or not hmac.compare_digest(found[1], key):
                raise TokenRequired("the bearer token is unknown or has been revoked")
            info = found[0]
            self._keep(key, info, looked_up, revocations)
        if info.expires_at is not None and info.expires_at <= datetime.now(UTC):
            raise TokenRequired(
                f"the bearer token expired at {info.expires_at.isoformat()}; ask for a new one"
            )
        return info

    def active(self, token_id: str) -> TokenInfo | None:
        """The token ``token_id`` while it may be used: neither revoked nor expired
        (the console's sessions name their token by its id, and look it up each time)."""
        found = self.table.active(token_id)
        if found is None:
            return None
        info = found[0]
        if info.expires_at is not None and info.expires_at <= datetime.now(UTC):
            return None
        return info

    def _cached(self, key: str) -> TokenInfo | None:
        if not self.cache:
            return None
        entry = self._verified.get(key)
        if entry is None:
            return None
        info, looked_up = entry
        # A clock that went back (only a test's frozen clock can) counts as stale.
        return info if 0 <= time.monotonic() - looked_up < self.cache else None

    def _keep(self, key: str, info: TokenInfo, looked_up: float, revocations: int) -> None:
        if not self.cache:
            return
        with self._lock:
            if revocations != self._revocations:
                return  # revoked here while this lookup ran: it may have read the old row
            self._verified.pop(key, None)  # a refreshed entry moves to the newest end
            if len(self._verified) >= CACHE_ENTRIES:
                del self._verified[next(iter(self._verified))]
            self._verified[key] = (info, looked_up)

    def _forget_all(self) -> None:
        with self._lock:
            self._revocations += 1
            self._verified.clear()
