"""Bearer tokens: who may call the API, with which role, for which communities.

A token is ``cj_<id>_<secret>``. Only the SHA-256 digest of the whole token is
stored: a token is 32 random bytes, so a fast digest is as safe as a slow password
hash and keeps every request's check cheap (ADR 0012). The id (not secret) lets
``chanjiao token list|revoke`` name a token without ever showing it again.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from enum import Enum
from uuid import UUID

import msgspec

from adapters.tokens import TokenInfo, TokenTable
from application.commands import as_uuid
from domain.errors import InvalidInput, LedgerError, NotFound
from domain.values import parse_choice, parse_text
from projections.machinery import Store


class Role(str, Enum):
    ADMIN = "admin"
    SECRETARY = "secretary"
    AUDITOR = "auditor"
    INTEGRATOR = "integrator"


class Issued(msgspec.Struct, frozen=True):
    token: str
    info: TokenInfo


class TokenNotFound(NotFound):
    pass


class TokenRequired(LedgerError):
    """No token, or one the ledger does not know or has revoked (HTTP 401)."""


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Tokens:
    def __init__(self, store: Store) -> None:
        self.table = TokenTable(store)
        self.ledger = store.ledger

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
        changed = self.table.revoke(key, datetime.now(UTC))
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
        found = self.table.active(parts[1])
        if found is None or not hmac.compare_digest(found[1], digest(token)):
            raise TokenRequired("the bearer token is unknown or has been revoked")
        info = found[0]
        if info.expires_at is not None and info.expires_at <= datetime.now(UTC):
            raise TokenRequired(
                f"the bearer token expired at {info.expires_at.isoformat()}; ask for a new one"
            )
        return info
