"""The HTTP API's Idempotency-Keys as stored (``api_requests``, ADR 0012 and 0015): one
row per token and key, holding the request's fingerprint, the attempt that holds the
key, whether its events were recorded, and its answer once made."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec

from adapters.sql import Database, Tables

TABLE = "api_requests"
FENCE_LOST = "CJ001"
"""The SQLSTATE of PostgreSQL's recording function when the fence no longer holds."""

_COLUMNS = (
    "token_id TEXT NOT NULL, idem_key TEXT NOT NULL, fingerprint TEXT NOT NULL, "
    "attempt TEXT NOT NULL, started_at TEXT NOT NULL, recorded INTEGER NOT NULL, "
    "status INTEGER, answer TEXT, PRIMARY KEY (token_id, idem_key)"
)
_HELD = "token_id = ? AND idem_key = ? AND attempt = ?"


class Reservation(msgspec.Struct, frozen=True):
    fingerprint: str
    attempt: str
    started_at: datetime
    recorded: bool
    status: int | None
    answer: bytes | None


class RequestKeys:
    def __init__(self, database: Database) -> None:
        self.tables = Tables(database, {TABLE: _COLUMNS})

    def reserve(
        self, token_id: str, key: str, fingerprint: str, attempt: str, at: datetime
    ) -> bool:
        """False when the key is already held."""
        return bool(
            self.tables.write(
                "INSERT INTO {api_requests} VALUES (?, ?, ?, ?, ?, 0, NULL, NULL) "
                "ON CONFLICT DO NOTHING",
                (token_id, key, fingerprint, attempt, at.isoformat()),
            )
        )

    def find(self, token_id: str, key: str) -> Reservation | None:
        rows = self.tables.read(
            "SELECT * FROM {api_requests} WHERE token_id = ? AND idem_key = ?", (token_id, key)
        )
        if not rows:
            return None
        row = rows[0]
        return Reservation(
            row["fingerprint"],
            row["attempt"],
            datetime.fromisoformat(row["started_at"]),
            bool(row["recorded"]),
            row["status"],
            row["answer"].encode() if row["answer"] is not None else None,
        )

    def take_over(self, token_id: str, key: str, held_by: str, attempt: str, at: datetime) -> bool:
        """Give the key to ``attempt`` if ``held_by`` still holds it, unrecorded."""
        return bool(
            self.tables.write(
                "UPDATE {api_requests} SET attempt = ?, started_at = ? "
                "WHERE token_id = ? AND idem_key = ? AND attempt = ? AND recorded = 0",
                (attempt, at.isoformat(), token_id, key, held_by),
            )
        )

    def mark_recorded(self, cursor: Any, token_id: str, key: str, attempt: str) -> bool:
        """Inside the recording transaction (``cursor``): mark the key recorded if
        ``attempt`` still holds it and it was not recorded yet; False otherwise."""
        # RETURNING, not the row count: PostgreSQL's recorder runs in pipeline mode,
        # where a cursor's rowcount is not yet known.
        self.tables.run(
            cursor,
            f"UPDATE {{api_requests}} SET recorded = 1 WHERE {_HELD} AND recorded = 0 RETURNING 1",
            (token_id, key, attempt),
        )
        return bool(cursor.fetchall())

    def fence(
        self, token_id: str, key: str, attempt: str, refused: Callable[[], Exception]
    ) -> Fence:
        """What a command's save takes (``save(in_transaction=…)``) to mark the key
        recorded in the transaction that records its events, or raise ``refused()``
        and record nothing where ``attempt`` no longer holds it."""
        return Fence(self, token_id, key, attempt, refused)

    def answer(self, token_id: str, key: str, attempt: str, status: int, answer: bytes) -> None:
        self.tables.write(
            f"UPDATE {{api_requests}} SET status = ?, answer = ? WHERE {_HELD}",
            (status, answer.decode(), token_id, key, attempt),
        )

    def release(self, token_id: str, key: str, attempt: str) -> None:
        """Let go of a key ``attempt`` holds, unless its events were recorded."""
        self.tables.write(
            f"DELETE FROM {{api_requests}} WHERE {_HELD} AND recorded = 0",
            (token_id, key, attempt),
        )


class Fence:
    """A fenced Idempotency-Key to mark in the recording transaction (ADR 0015, 0021).

    The recorders take it as ``save(in_transaction=…)``. SQLite's calls it with the
    recording cursor (``mark_recorded``); PostgreSQL's passes its parameters to the
    server-side function that records the events (the same ``UPDATE … WHERE attempt =
    mine AND recorded = 0``, in the same transaction), so the save stays one call.
    Either way, where the attempt no longer holds the key, ``refused()`` is raised and
    nothing is recorded."""

    __slots__ = ("keys", "params", "refused")

    def __init__(
        self,
        keys: RequestKeys,
        token_id: str,
        key: str,
        attempt: str,
        refused: Callable[[], Exception],
    ) -> None:
        self.keys = keys
        self.params = (token_id, key, attempt)
        self.refused = refused

    @property
    def table(self) -> str:
        """The keys' table, as its schema names it."""
        return self.keys.tables.names[TABLE]

    def __call__(self, cursor: Any) -> None:
        if not self.keys.mark_recorded(cursor, *self.params):
            raise self.refused()
