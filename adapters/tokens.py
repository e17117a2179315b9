"""The HTTP API's bearer tokens as stored (``api_tokens``): the SHA-256 digest of each
token, never the token (ADR 0012), with its name, role, communities and times."""

from __future__ import annotations

import json
from datetime import datetime
from uuid import UUID

import msgspec

from adapters.sql import Database, Tables

_COLUMNS = (
    "token_id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, "
    "communities TEXT NOT NULL, digest TEXT NOT NULL, issued_at TEXT NOT NULL, "
    "issued_by TEXT NOT NULL, revoked_at TEXT"
)
_ADDED = {"expires_at": "TEXT"}  # ADR 0015


class TokenInfo(msgspec.Struct, frozen=True):
    id: str
    name: str
    role: str
    communities: list[UUID]
    issued_at: datetime
    issued_by: str
    revoked_at: datetime | None = None
    expires_at: datetime | None = None


class TokenTable:
    def __init__(self, database: Database) -> None:
        self.tables = Tables(database, {"api_tokens": _COLUMNS}, added={"api_tokens": _ADDED})

    def add(self, info: TokenInfo, digest: str) -> None:
        self.tables.write(
            "INSERT INTO {api_tokens} (token_id, name, role, communities, digest, issued_at, "
            "issued_by, revoked_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)",
            (
                info.id,
                info.name,
                info.role,
                json.dumps([str(c) for c in info.communities]),
                digest,
                info.issued_at.isoformat(),
                info.issued_by,
                info.expires_at.isoformat() if info.expires_at else None,
            ),
        )

    def all(self) -> list[TokenInfo]:
        rows = self.tables.read("SELECT * FROM {api_tokens} ORDER BY issued_at, token_id")
        return [_info(r) for r in rows]

    def find(self, token_id: str) -> TokenInfo | None:
        rows = self.tables.read("SELECT * FROM {api_tokens} WHERE token_id = ?", (token_id,))
        return _info(rows[0]) if rows else None

    def active(self, token_id: str) -> tuple[TokenInfo, str] | None:
        """The token ``token_id`` and its digest, unless it is unknown or revoked."""
        rows = self.tables.read(
            "SELECT * FROM {api_tokens} WHERE token_id = ? AND revoked_at IS NULL", (token_id,)
        )
        return (_info(rows[0]), rows[0]["digest"]) if rows else None

    def revoke(self, token_id: str, at: datetime) -> bool:
        """False when no token ``token_id`` was active."""
        return bool(
            self.tables.write(
                "UPDATE {api_tokens} SET revoked_at = ? WHERE token_id = ? AND revoked_at IS NULL",
                (at.isoformat(), token_id),
            )
        )

    def any_active(self) -> bool:
        return bool(self.tables.read("SELECT 1 FROM {api_tokens} WHERE revoked_at IS NULL LIMIT 1"))


def _info(row: dict) -> TokenInfo:
    return TokenInfo(
        id=row["token_id"],
        name=row["name"],
        role=row["role"],
        communities=[UUID(c) for c in json.loads(row["communities"])],
        issued_at=datetime.fromisoformat(row["issued_at"]),
        issued_by=row["issued_by"],
        revoked_at=datetime.fromisoformat(row["revoked_at"]) if row["revoked_at"] else None,
        expires_at=datetime.fromisoformat(row["expires_at"]) if row.get("expires_at") else None,
    )
