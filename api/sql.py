"""The API's own small tables (tokens, idempotency keys), kept in the ledger's
database next to the events and the read models, on either store."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.utils import retry

from projections.machinery import Store


class Tables:
    """Runs the API's SQL, written with ``?`` placeholders and ``{name}`` tables,
    on the store's dialect and schema."""

    def __init__(
        self, store: Store, tables: dict[str, str], added: dict[str, dict[str, str]] | None = None
    ) -> None:
        """``added``: columns a table gained after it was first created (name → type);
        added to a table that lacks them, so an older database keeps working."""
        self.dialect = store.dialect
        self.datastore = store.datastore
        prefix = f"{store.schema}." if store.schema else ""
        self.names = {name: f"{prefix}{name}" for name in tables}
        with self.datastore.transaction(commit=True) as cursor:
            for name, columns in tables.items():
                cursor.execute(f"CREATE TABLE IF NOT EXISTS {self.names[name]} ({columns})")
            for name, more in (added or {}).items():
                for column, kind in more.items():
                    self._add_column(cursor, self.names[name], column, kind)

    def _add_column(self, cursor: Any, table: str, column: str, kind: str) -> None:
        if self.dialect == "postgres":
            cursor.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {kind}")
            return
        cursor.execute(f"PRAGMA table_info({table})")
        if column not in {row["name"] for row in cursor.fetchall()}:
            cursor.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")

    def sql(self, text: str) -> str:
        done = text.format(**self.names)
        return done.replace("?", "%s") if self.dialect == "postgres" else done

    def run(self, cursor: Any, text: str, params: Sequence[Any] = ()) -> int:
        """Execute on ``cursor`` (one already inside a transaction); rows changed."""
        cursor.execute(self.sql(text), tuple(params))
        return getattr(cursor, "sqlite_cursor", cursor).rowcount

    def write(self, text: str, params: Sequence[Any] = ()) -> int:
        with self.datastore.transaction(commit=True) as cursor:
            return self.run(cursor, text, params)

    @retry((InterfaceError, OperationalError), max_attempts=3, wait=0.2)
    def read(self, text: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Retried as the library retries its own reads: after the database restarted,
        a pooled connection fails once before the pool replaces it (a write is not
        retried: its first attempt may have committed)."""
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(self.sql(text), tuple(params))
            return [dict(row) for row in cursor.fetchall()]
