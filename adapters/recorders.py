"""The library's application recorders, extended where it means them to be: subclasses
selected by its ``APPLICATION_RECORDER_TOPIC`` setting (``adapters.settings``) that
write more rows in the recording transaction through ``_insert_events``, which
``Application.save(**kwargs)`` reaches with the caller's keyword arguments — as the
library's own process recorders and its searchable-content example do.

What they add to every recording (ADR 0014, 0015):

- the events' hash chain (``adapters.chain``), checked and appended in the same
  transaction;
- ``in_transaction``, when ``save`` is given one: called with the cursor before the
  commit, so that a row kept about the request (the HTTP API's fenced Idempotency-Key)
  commits or rolls back with the events;
- a retried recording whose first attempt committed, though its acknowledgement was
  lost, is recognised by its events stored exactly so, instead of being decided again
  and recorded twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any

from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder

from adapters.chain import Chain

TABLE_CREATION_LOCK = 0x6368616E6A69616F  # "chanjiao"

_ATTEMPTS: ContextVar[list[int] | None] = ContextVar("recording_attempts", default=None)
"""How many times the library has begun the current recording transaction."""


class Chained:
    """What both stores' recorders add; mixed in before the library's class."""

    chain: Chain

    def _chained_insert(self, cursor: Any, stored_events: Sequence[StoredEvent], kwargs: Any):
        attempts = _ATTEMPTS.get()
        if attempts is not None:
            attempts[0] += 1
        in_transaction = kwargs.pop("in_transaction", None)
        result = super()._insert_events(cursor, stored_events, **kwargs)  # type: ignore[misc]
        if stored_events:
            self.chain.append(cursor, stored_events)
            if in_transaction is not None:
                in_transaction(cursor)
        return result

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        attempts = [0]
        token = _ATTEMPTS.set(attempts)
        try:
            return super().insert_events(stored_events, **kwargs)  # type: ignore[misc]
        except IntegrityError:
            if attempts[0] > 1 and stored_events:
                positions = self.chain.stored_as(self.datastore, stored_events)  # type: ignore[attr-defined]
                if positions is not None:
                    return positions
            raise
        finally:
            _ATTEMPTS.reset(token)


class ChainedSQLiteRecorder(Chained, SQLiteApplicationRecorder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.chain = Chain(self)

    def create_table(self) -> None:
        super().create_table()
        with self.datastore.transaction(commit=True) as cursor:
            for statement in self.chain.create_statements():
                cursor.execute(statement)

    def _insert_events(self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        # The library inserts first, taking SQLite's write lock, so the chain's reads
        # cannot leave two writers deadlocked on a shared lock.
        return self._chained_insert(c, stored_events, kwargs)


class ChainedPostgresRecorder(Chained, PostgresApplicationRecorder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.chain = Chain(self)

    def create_table(self) -> None:
        """Under an advisory lock: processes that start together on an empty database
        would otherwise collide in the catalog ("tuple concurrently updated") while
        creating the same tables and types."""
        with self.datastore.get_connection() as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (TABLE_CREATION_LOCK,))
            try:
                super().create_table()
                for statement in self.chain.create_statements():
                    conn.execute(statement)
                conn.commit()
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (TABLE_CREATION_LOCK,))

    def _insert_events(self, c: Any, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        # Runs before the library locks the events table, so the lock is taken here
        # first: writers to one aggregate are serialised before they touch the chain,
        # and one that lost the race finds the version taken (a conflict the command
        # re-runs), never a clash on the chain's key that would abort the pipeline.
        if stored_events:
            self._lock_table(c)
        return self._chained_insert(c, stored_events, kwargs)
