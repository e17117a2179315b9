"""What differs between the two stores' SQL, in one place (and not in string tests
of module names spread over the layers)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import psycopg
from eventsourcing.persistence import IntegrityError, OperationalError
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore, PostgresFactory
from psycopg import IsolationLevel
from psycopg.rows import dict_row, tuple_row
from psycopg.types.datetime import DateLoader
from psycopg.types.string import TextLoader


@dataclass(frozen=True)
class Dialect:
    postgres: bool
    placeholder: str  # "%s" or "?"
    position: str  # the events table's position column
    id_type: str  # how the events table keeps aggregate ids
    key: Callable[[UUID], Any]  # an aggregate id as the events table keeps it
    arrays: bool  # a list binds as one array parameter (``= ANY(?)``, ``unnest(?)``)
    copy: bool  # many rows go in by ``COPY … FROM STDIN`` rather than ``executemany``
    types: dict[str, str]  # the read models' column types: "id" (a UUID) and "date"

    @staticmethod
    def of(thing: Any) -> Dialect:
        """The dialect of a recorder, a datastore or the library's factory."""
        return POSTGRES if is_postgres(thing) else SQLITE

    def sql(self, text: str) -> str:
        """``text``, written with ``?`` placeholders, in the driver's."""
        return text.replace("?", self.placeholder) if self.placeholder != "?" else text

    def marks(self, count: int) -> str:
        """``count`` placeholders, comma-separated."""
        return ", ".join([self.placeholder] * count)

    @staticmethod
    def changed(cursor: Any) -> int:
        """How many rows the cursor's last statement changed (the library wraps
        SQLite's cursor, whose own count is the one that is kept)."""
        return getattr(cursor, "sqlite_cursor", cursor).rowcount

    @contextmanager
    def snapshot(self, datastore: Any) -> Iterator[Any]:
        """A cursor in a transaction that reads one snapshot of the tables throughout,
        rolled back at the end. SQLite's transactions do. On PostgreSQL it takes
        REPEATABLE READ (READ COMMITTED takes a snapshot per statement), begun by one
        ``BEGIN ISOLATION LEVEL REPEATABLE READ`` rather than a BEGIN and a ``SET
        TRANSACTION``: a round trip less on every read the API answers."""
        if not self.postgres:
            with datastore.transaction(commit=False) as cursor:
                yield cursor
            return
        with datastore.get_connection() as conn:
            conn.isolation_level = IsolationLevel.REPEATABLE_READ
            try:
                with conn.transaction(force_rollback=True):
                    yield conn.cursor()
            finally:
                with suppress(psycopg.Error):  # a broken connection leaves the pool
                    conn.isolation_level = None

    @contextmanager
    def statement(
        self, datastore: Any, *, commit: bool, tuples: bool = False, binary: bool = False
    ) -> Iterator[Any]:
        """A cursor for one statement that is its own transaction. On PostgreSQL the
        library's connections are in autocommit mode, so the statement commits (or
        ends) as it completes: one round trip, where ``datastore.transaction`` takes
        three (``BEGIN``, the statement, ``COMMIT``). SQLite's is the library's
        transaction, which costs no round trip. ``tuples``: rows that are sequences
        (PostgreSQL's are the library's dicts otherwise; SQLite's ``Row`` is both);
        ``binary``: PostgreSQL sends the values in binary (a ``bytea`` as its bytes, not
        as hex text to parse back)."""
        if not self.postgres:
            with datastore.transaction(commit=commit) as cursor:
                yield cursor
            return
        with datastore.get_connection() as conn:
            assert conn.autocommit
            yield conn.cursor(row_factory=tuple_row if tuples else dict_row, binary=binary)

    def add_column(self, cursor: Any, table: str, column: str, kind: str) -> None:
        """Add ``column`` to ``table`` unless it has it already (SQLite has no
        ``ADD COLUMN IF NOT EXISTS``)."""
        if self.postgres:
            cursor.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {kind}")
            return
        cursor.execute(f"PRAGMA table_info({table})")
        if column not in {row["name"] for row in cursor.fetchall()}:
            cursor.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")

    def as_text(self, cursor: Any) -> None:
        """Make ``cursor`` return ids and dates as the text SQLite keeps (``str(uuid)``,
        ``YYYY-MM-DD``), whatever the columns' types, so the read models' Python
        reads the same values from both stores. Parameters need nothing: psycopg
        sends text of unknown type, which PostgreSQL reads as the column's type."""
        if self.postgres:
            cursor.adapters.register_loader("uuid", TextLoader)
            # In the ISO DateStyle (PostgreSQL's default) a date arrives as the text
            # wanted, and the driver's own text loader takes it in C, where a loader
            # written in Python cost about 1 µs a value; in any other, it is rewritten.
            style = cursor.connection.info.parameter_status("DateStyle") or ""
            cursor.adapters.register_loader(
                "date", TextLoader if style.startswith("ISO") else _IsoDate
            )

    def indexes(self, cursor: Any, schema: str, names: list[str]) -> set[str]:
        """Which of the indexes ``names`` exist (in ``schema`` on PostgreSQL)."""
        if not names:
            return set()
        if self.postgres:
            cursor.execute(
                "SELECT indexname AS name FROM pg_indexes WHERE schemaname = %s "
                "AND indexname = ANY(%s)",
                (schema, names),
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' "
                f"AND name IN ({self.marks(len(names))})",
                names,
            )
        return {row["name"] for row in cursor.fetchall()}

    def rename_index(self, cursor: Any, old: str, new: str, create: str) -> None:
        """Give index ``old`` (qualified) the unqualified name ``new``; SQLite, which
        cannot rename one, drops it and runs ``create`` (making it as ``new``)."""
        if self.postgres:
            cursor.execute(f"ALTER INDEX {old} RENAME TO {new}")
            return
        cursor.execute(f"DROP INDEX IF EXISTS {old}")
        cursor.execute(create)

    def analyze(self, cursor: Any, table: str) -> None:
        """Give the planner statistics of a table just filled (PostgreSQL; SQLite
        plans by its indexes alone)."""
        if self.postgres:
            cursor.execute(f"ANALYZE {table}")

    def create_together(self, datastore: Any, lock: int, create: Callable[[], None]) -> None:
        """Run ``create`` (tables made if missing) so that processes starting together
        on a new database do not trip over each other: under the advisory lock
        ``lock`` on PostgreSQL, whose catalog would otherwise clash ("tuple
        concurrently updated"); on SQLite, again after a short pause when it lost
        the race."""
        if self.postgres:
            with datastore.get_connection() as conn:
                conn.execute("SELECT pg_advisory_lock(%s)", (lock,))
                try:
                    create()
                finally:
                    conn.execute("SELECT pg_advisory_unlock(%s)", (lock,))
            return
        for attempt in range(10):
            try:
                create()
                return
            except (IntegrityError, OperationalError):
                if attempt == 9:
                    raise
                time.sleep(0.02 * (attempt + 1))


class _IsoDate(DateLoader):
    """A PostgreSQL date as ``YYYY-MM-DD`` text, in a DateStyle other than ISO (in ISO
    it arrives as that text, and ``as_text`` takes the driver's text loader instead)."""

    def load(self, data: Any) -> str:  # type: ignore[override]
        return super().load(data).isoformat()


def is_postgres(thing: Any) -> bool:
    return isinstance(thing, PostgresApplicationRecorder | PostgresDatastore | PostgresFactory)


POSTGRES = Dialect(
    postgres=True,
    placeholder="%s",
    position="notification_id",
    id_type="uuid",
    key=lambda u: u,
    arrays=True,
    copy=True,
    types={"id": "uuid", "date": "date"},
)
SQLITE = Dialect(
    postgres=False,
    placeholder="?",
    position="rowid",
    id_type="TEXT",
    key=lambda u: u.hex,
    arrays=False,
    copy=False,
    types={"id": "TEXT", "date": "TEXT"},
)
