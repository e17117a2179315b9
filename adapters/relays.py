"""What a relay keeps in the ledger's database: its progress (``relay_progress``), for
``chanjiao relay status`` and for a restart whose stream lost its last message; and the
lock that lets one relay at a time publish to a stream.

Where a relay resumes is read back from the stream itself (its last message carries the
position it holds, ADR 0030); the progress row is the relay's report, written after
each batch the broker acknowledged."""

from __future__ import annotations

import contextlib
import fcntl
import logging
import threading
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import msgspec

from adapters.settings import sqlite_file
from adapters.sql import Database, Tables

log = logging.getLogger("chanjiao.relay")

_COLUMNS = (
    "name TEXT PRIMARY KEY, target TEXT NOT NULL, filters TEXT NOT NULL, "
    "position BIGINT NOT NULL, stream_seq BIGINT NOT NULL, scanned BIGINT NOT NULL, "
    "published BIGINT NOT NULL, started_at TEXT NOT NULL, updated_at TEXT NOT NULL"
)


class Progress(msgspec.Struct, frozen=True):
    name: str  # the relay: its kind and stream, e.g. "nats CHANJIAO"
    target: str  # where it publishes (server and subjects), without credentials
    filters: str  # "" for every event, else "type=…; community=…"
    position: int  # the last event published (0: none yet)
    stream_seq: int  # the stream's sequence number of that message
    scanned: int  # the last position read (a filtered relay reads past what it skips)
    published: int  # messages published since the relay started
    started_at: datetime
    updated_at: datetime


class RelayTable:
    def __init__(self, database: Database) -> None:
        self.tables = Tables(database, {"relay_progress": _COLUMNS})

    def save(self, p: Progress) -> None:
        with self.tables.datastore.transaction(commit=True) as cursor:
            changed = self.tables.run(
                cursor,
                "UPDATE {relay_progress} SET target = ?, filters = ?, position = ?, "
                "stream_seq = ?, scanned = ?, published = ?, started_at = ?, updated_at = ? "
                "WHERE name = ?",
                (*_row(p)[1:], p.name),
            )
            if not changed:
                self.tables.run(
                    cursor,
                    "INSERT INTO {relay_progress} (name, target, filters, position, "
                    "stream_seq, scanned, published, started_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    _row(p),
                )

    def find(self, name: str) -> Progress | None:
        rows = self.tables.read("SELECT * FROM {relay_progress} WHERE name = ?", (name,))
        return _progress(rows[0]) if rows else None

    def all(self) -> list[Progress]:
        return [
            _progress(r) for r in self.tables.read("SELECT * FROM {relay_progress} ORDER BY name")
        ]


def _row(p: Progress) -> tuple[Any, ...]:
    return (
        p.name,
        p.target,
        p.filters,
        p.position,
        p.stream_seq,
        p.scanned,
        p.published,
        p.started_at.isoformat(),
        p.updated_at.isoformat(),
    )


def _progress(row: dict[str, Any]) -> Progress:
    return Progress(
        name=row["name"],
        target=row["target"],
        filters=row["filters"],
        position=int(row["position"]),
        stream_seq=int(row["stream_seq"]),
        scanned=int(row["scanned"]),
        published=int(row["published"]),
        started_at=datetime.fromisoformat(row["started_at"]),
        updated_at=datetime.fromisoformat(row["updated_at"]),
    )


def now() -> datetime:
    return datetime.now(UTC)


# --- one relay per stream -----------------------------------------------------------


@contextlib.contextmanager
def exclusive(
    database: Database, url: str, name: str, stopping: threading.Event, waiting: Callable[[], None]
) -> Iterator[bool]:
    """Hold the lock named ``name`` for the ledger at ``url`` while inside; wait for it
    (calling ``waiting`` once) while another process holds it. Yields False if
    ``stopping`` was set before the lock was taken.

    PostgreSQL: a session advisory lock on a connection kept for the purpose (the
    server releases it if this process dies); a SQLite file: ``flock`` on a file beside
    it (the kernel releases it likewise)."""
    key = zlib.crc32(f"chanjiao relay {name}".encode())
    if database.dialect.postgres:
        with database.datastore.get_connection() as conn:
            taken = _wait(lambda: _try_advisory(conn, key), stopping, waiting)
            try:
                yield taken
            finally:
                if taken:
                    with contextlib.suppress(Exception):
                        conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
                        conn.commit()
        return
    if urlsplit(url).scheme.lower() != "sqlite":  # memory://: one process has it all
        yield not stopping.is_set()
        return
    ledger_file = sqlite_file(url)
    path = ledger_file.with_name(f"{ledger_file.name}.relay-{key:08x}.lock")
    with open(path, "a+b") as lockfile:
        taken = _wait(lambda: _try_flock(lockfile), stopping, waiting)
        try:
            yield taken
        finally:
            if taken:
                fcntl.flock(lockfile, fcntl.LOCK_UN)


def _wait(
    attempt: Callable[[], bool], stopping: threading.Event, waiting: Callable[[], None]
) -> bool:
    told = False
    while not stopping.is_set():
        if attempt():
            return True
        if not told:
            waiting()
            told = True
        stopping.wait(1.0)
    return False


def _try_advisory(conn: Any, key: int) -> bool:
    row = conn.execute("SELECT pg_try_advisory_lock(%s) AS taken", (key,)).fetchone()
    conn.commit()
    return bool(row["taken"] if isinstance(row, dict) else row[0])


def _try_flock(lockfile: Any) -> bool:
    try:
        fcntl.flock(lockfile, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
