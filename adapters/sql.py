"""Small tables of our own (the HTTP API's tokens and idempotency keys), kept in the
ledger's database next to the events and the read models, on either store."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.utils import retry

from adapters.dialect import Dialect

TABLE_CREATION_LOCK = 0x63_6A_74_62  # "cjtb": the advisory lock our own tables are made under


class Database(Protocol):
    """Where the tables go: the read models' store is one."""

    datastore: Any
    dialect: Dialect
    schema: str


class Tables:
    """Runs SQL written with ``?`` placeholders and ``{name}`` tables on the
    database's dialect and schema."""

    def __init__(
        self,
        database: Database,
        tables: dict[str, str],
        added: dict[str, dict[str, str]] | None = None,
    ) -> None:
        """``added``: columns a table gained after it was first created (name → type);
        added to a table that lacks them, so an older database keeps working."""
        self.dialect = database.dialect
        self.datastore = database.datastore
        prefix = f"{database.schema}." if database.schema else ""
        self.names = {name: f"{prefix}{name}" for name in tables}

        def create() -> None:
            with self.datastore.transaction(commit=True) as cursor:
                for name, columns in tables.items():
                    cursor.execute(f"CREATE TABLE IF NOT EXISTS {self.names[name]} ({columns})")
                for name, more in (added or {}).items():
                    for column, kind in more.items():
                        self.dialect.add_column(cursor, self.names[name], column, kind)

        # Server processes starting together (serve --workers N) make the same tables
        # at once; PostgreSQL's catalog refuses the second CREATE TABLE IF NOT EXISTS.
        self.dialect.create_together(self.datastore, TABLE_CREATION_LOCK, create)

    def sql(self, text: str) -> str:
        return self.dialect.sql(text.format(**self.names))

    def run(self, cursor: Any, text: str, params: Sequence[Any] = ()) -> int:
        """Execute on ``cursor`` (one already inside a transaction); rows changed."""
        cursor.execute(self.sql(text), tuple(params))
        return self.dialect.changed(cursor)

    def write(self, text: str, params: Sequence[Any] = ()) -> int:
        """One statement, committed as it completes."""
        with self.dialect.statement(self.datastore, commit=True) as cursor:
            return self.run(cursor, text, params)

    @retry((InterfaceError, OperationalError), max_attempts=3, wait=0.2)
    def read(self, text: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Retried as the library retries its own reads: after the database restarted,
        a pooled connection fails once before the pool replaces it (a write is not
        retried: its first attempt may have committed)."""
        with self.dialect.statement(self.datastore, commit=False) as cursor:
            cursor.execute(self.sql(text), tuple(params))
            return [dict(row) for row in cursor.fetchall()]
