"""The console's sign-in session: a cookie the server signs (HMAC-SHA256 under a key kept
in a file), naming the API token it was opened with, when it expires and its CSRF token
(ADR 0032). It never holds the token itself: each request looks the token up again, so
a revoked or expired token ends the session at once."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

COOKIE = "chanjiao_session"
LIFETIME = 8 * 3600  # seconds: a working day


@dataclass(frozen=True)
class Session:
    token_id: str
    expires: int  # Unix seconds
    csrf: str

    def encode(self) -> dict[str, object]:
        return {"t": self.token_id, "e": self.expires, "c": self.csrf}


class Sessions:
    def __init__(self, key: bytes) -> None:
        self.key = key

    @staticmethod
    def key_from(path: Path) -> bytes:
        """The key in ``path``, made there (mode 600) on first use: every server process
        of the ledger reads the same file, so a session works with any of them."""
        try:
            return bytes.fromhex(path.read_text().strip())
        except FileNotFoundError:
            pass
        key = secrets.token_bytes(32)
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(key.hex())
        try:
            os.link(temporary, path)  # the first process to make it wins
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
        return bytes.fromhex(path.read_text().strip())

    def open(self, token_id: str) -> tuple[Session, str]:
        """A new session for ``token_id`` and its cookie value."""
        session = Session(token_id, int(time.time()) + LIFETIME, secrets.token_urlsafe(24))
        body = base64.urlsafe_b64encode(json.dumps(session.encode()).encode()).decode()
        return session, f"{body}.{self._sign(body)}"

    def read(self, cookie: str | None) -> Session | None:
        """The session a cookie carries, or None if it is missing, forged or expired."""
        if not cookie or "." not in cookie:
            return None
        body, signature = cookie.rsplit(".", 1)
        if not hmac.compare_digest(signature, self._sign(body)):
            return None
        try:
            fields = json.loads(base64.urlsafe_b64decode(body.encode()))
            session = Session(str(fields["t"]), int(fields["e"]), str(fields["c"]))
        except (ValueError, KeyError, TypeError):
            return None
        return session if session.expires > time.time() else None

    def _sign(self, body: str) -> str:
        digest = hmac.new(self.key, body.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")
