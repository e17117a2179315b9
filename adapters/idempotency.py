"""The HTTP API's Idempotency-Keys as stored (``api_requests``, ADR 0012, 0015 and 0035):
one row per token and key, written by the transaction that records the request's events
(``KeyToRecord``), holding the request's fingerprint, the attempt that recorded it and,
once made, its answer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from adapters.sql import Database, Tables
from domain.errors import Conflict

TABLE = "api_requests"
KEY_RECORDED = "CJ001"
"""The SQLSTATE of PostgreSQL's recording function when the key is recorded already."""

_COLUMNS = (
    "token_id TEXT NOT NULL, idem_key TEXT NOT NULL, fingerprint TEXT NOT NULL, "
    "attempt TEXT NOT NULL, started_at TEXT NOT NULL, recorded INTEGER NOT NULL, "
    "status INTEGER, answer TEXT, PRIMARY KEY (token_id, idem_key)"
)
_HELD = "token_id = ? AND idem_key = ? AND attempt = ?"


class KeyRecorded(Conflict):
    """Another attempt of the same request has recorded it: this one records nothing."""


class Reservation(msgspec.Struct, frozen=True):
    """A key's row. ``recorded`` is 0 only in a row an earlier release reserved before
    running its command (ADR 0015); this one writes a row only with the events."""

    fingerprint: str
    attempt: str
    started_at: datetime
    recorded: bool
    status: int | None
    answer: bytes | None


class RequestKeys:
    def __init__(self, database: Database) -> None:
        self.tables = Tables(database, {TABLE: _COLUMNS})

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

    def to_record(
        self, token_id: str, key: str, fingerprint: str, attempt: str, at: datetime
    ) -> KeyToRecord:
        """What a command's save takes (``save(in_transaction=…)``) to write the key in
        the transaction that records its events — or, where the key is recorded
        already, to raise ``KeyRecorded`` and record nothing."""
        return KeyToRecord(self, (token_id, key, fingerprint, attempt, at.isoformat()))

    def record(self, cursor: Any, params: tuple[str, ...]) -> bool:
        """Inside the recording transaction (``cursor``): write the key as recorded by
        this attempt; False if it is there already."""
        # RETURNING, not the row count: the library's SQLite cursor keeps its own.
        self.tables.run(
            cursor,
            "INSERT INTO {api_requests} (token_id, idem_key, fingerprint, attempt, "
            "started_at, recorded) VALUES (?, ?, ?, ?, ?, 1) ON CONFLICT DO NOTHING RETURNING 1",
            params,
        )
        return bool(cursor.fetchall())

    def answer(self, token_id: str, key: str, attempt: str, status: int, answer: bytes) -> None:
        self.tables.write(
            f"UPDATE {{api_requests}} SET status = ?, answer = ? WHERE {_HELD}",
            (status, answer.decode(), token_id, key, attempt),
        )

    def clear_abandoned(self, token_id: str, key: str, attempt: str) -> None:
        """Drop a reservation an earlier release made for ``attempt`` and never
        recorded (its server stopped): the request may run now."""
        self.tables.write(
            f"DELETE FROM {{api_requests}} WHERE {_HELD} AND recorded = 0",
            (token_id, key, attempt),
        )


class KeyToRecord:
    """An Idempotency-Key to write in the recording transaction (ADR 0035).

    The recorders take it as ``save(in_transaction=…)``. SQLite's calls it with the
    recording cursor (``record``); PostgreSQL's passes ``params`` to the server-side
    function that records the events (the same ``INSERT … ON CONFLICT DO NOTHING``, in
    the same transaction), so the save stays one call. Either way, where the key is
    there already, ``KeyRecorded`` is raised and nothing is recorded."""

    __slots__ = ("keys", "params")

    def __init__(self, keys: RequestKeys, params: tuple[str, ...]) -> None:
        self.keys = keys
        self.params = params
        """Token id, key, fingerprint, attempt and its start (ISO 8601)."""

    @property
    def table(self) -> str:
        """The keys' table, as its schema names it."""
        return self.keys.tables.names[TABLE]

    def refused(self) -> KeyRecorded:
        return KeyRecorded(
            f"the request with Idempotency-Key {self.params[1]!r} was recorded by another "
            "attempt; this one recorded nothing"
        )

    def __call__(self, cursor: Any) -> None:
        if not self.keys.record(cursor, self.params):
            raise self.refused()
