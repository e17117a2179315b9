"""The library's application recorders, extended where it means them to be: subclasses
selected by its ``APPLICATION_RECORDER_TOPIC`` setting (``adapters.settings``) that
write more in the recording transaction, reached from ``Application.save(**kwargs)``
with the caller's keyword arguments — as the library's own process recorders and its
searchable-content example do.

What they add to every recording (ADR 0014, 0015, 0021):

- the events' hash chain (``adapters.chain``), checked and appended in the same
  transaction;
- ``in_transaction``, when ``save`` is given one: the HTTP API's Idempotency-Key
  (``adapters.idempotency.KeyToRecord``), written in the same transaction, so that it
  commits or rolls back with the events and a second attempt of the request records
  nothing;
- a retried recording whose first attempt committed, though its acknowledgement was
  lost, is recognised by its events stored exactly so, instead of being decided again
  and recorded twice.

On SQLite the library inserts, then the chain is appended and the key written with the
cursor, in Python (one process writes a file at a time). On PostgreSQL all of it — the
key, the ordering lock, the events, their hashes and the ``NOTIFY`` — is one call of
a server-side function (``chanjiao_record_events``), one statement in autocommit mode:
one round trip, the ordering lock held only inside the database (ADR 0021).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from typing import Any

import psycopg
from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    Notification,
    OperationalError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from eventsourcing.utils import retry
from psycopg.rows import tuple_row

from adapters.chain import Chain, notification
from adapters.idempotency import KEY_RECORDED, KeyRecorded, KeyToRecord
from adapters.idempotency import TABLE as REQUESTS_TABLE
from domain.errors import TamperedRecord

TABLE_CREATION_LOCK = 0x6368616E6A69616F  # "chanjiao"
NO_HEAD = 2**63 - 1  # a read set checked against every version stored

_ATTEMPTS: ContextVar[list[int] | None] = ContextVar("recording_attempts", default=None)
"""How many times the library has begun the current recording transaction."""


def _array(elements: Iterable[str]) -> str:
    """A PostgreSQL array literal of elements written already (numbers, UUIDs, or
    quoted by ``_texts``)."""
    return "{" + ",".join(elements) + "}"


def _texts(values: Iterable[str]) -> str:
    """A ``text[]`` literal: each value double-quoted, its backslashes and double
    quotes escaped, so any text (an Idempotency-Key as sent) comes back as it was."""
    return _array('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)


class Chained:
    """What both stores' recorders add; mixed in before the library's class."""

    chain: Chain
    checks_reads = True
    """A recording takes ``reads={aggregate id: version read}`` and ``reads_head`` (a
    position) and is refused, as a conflict (``IntegrityError``), if any of them had a
    later version stored at or before that position (ADR 0034)."""

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        attempts = [0]
        token = _ATTEMPTS.set(attempts)
        try:
            return self._insert_retrying(stored_events, **kwargs)
        except (IntegrityError, KeyRecorded):
            # A retried recording refused for its versions, or for its key, that the
            # first attempt took: recorded once, its acknowledgement lost.
            if attempts[0] > 1 and stored_events:
                positions = self.chain.stored_as(self.datastore, stored_events)  # type: ignore[attr-defined]
                if positions is not None:
                    return positions
            raise
        finally:
            _ATTEMPTS.reset(token)

    def _insert_retrying(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        """The library's insert, which retries on a lost connection."""
        return super().insert_events(stored_events, **kwargs)  # type: ignore[misc]


def changed_since_read(aggregate: Any, version: int) -> IntegrityError:
    return IntegrityError(
        f"{aggregate} was read at version {version} and has changed since: decide again"
    )


def _count_attempt() -> None:
    attempts = _ATTEMPTS.get()
    if attempts is not None:
        attempts[0] += 1


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
        _count_attempt()
        in_transaction = kwargs.pop("in_transaction", None)
        reads = kwargs.pop("reads", None)
        head = kwargs.pop("reads_head", None)
        # The library inserts first, taking SQLite's write lock, so the chain's reads
        # cannot leave two writers deadlocked on a shared lock.
        result = super()._insert_events(c, stored_events, **kwargs)
        if stored_events:
            if reads:
                self._check_reads(c, reads, head)
            self.chain.append(c, stored_events)
            if in_transaction is not None:
                in_transaction(c)
        return result

    def _check_reads(self, cursor: Any, reads: dict[Any, int], head: int | None) -> None:
        """Under the write lock the insert took: nothing else records meanwhile."""
        changed = self._first_changed(cursor, reads, head)
        if changed is not None:
            raise changed_since_read(changed, reads[changed])

    def _first_changed(self, cursor: Any, reads: dict[Any, int], head: int | None) -> Any:
        for aggregate, version in reads.items():
            cursor.execute(
                f"SELECT 1 FROM {self.events_table_name} "
                "WHERE originator_id = ? AND originator_version = ? AND rowid <= ?",
                (aggregate.hex, version + 1, NO_HEAD if head is None else head),
            )
            if cursor.fetchone() is not None:
                return aggregate
        return None

    def reads_changed(self, reads: dict[Any, int], head: int | None = None) -> bool:
        """Whether any aggregate read has a later version stored (at or before the
        position ``head``, if given; ADR 0034)."""
        with self.datastore.transaction(commit=False) as cursor:
            return self._first_changed(cursor, reads, head) is not None


class ChainedPostgresRecorder(Chained, PostgresApplicationRecorder):
    """Records a batch by one call of ``chanjiao_record_events`` (ADR 0021), which takes
    the library's ordering lock (``LOCK TABLE … IN EXCLUSIVE MODE``), writes the
    Idempotency-Key if one is given, inserts the events, checks each aggregate's stored
    head and appends the events' hashes (``Chain.function_statements``), sends the
    library's ``NOTIFY`` and returns the positions; the statement commits as it ends."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.chain = Chain(self)
        schema = self.datastore.schema
        self.record_function = f"{schema}.chanjiao_record_events"
        self.requests_table = f"{schema}.{REQUESTS_TABLE}"
        self.record_statement = (
            f"SELECT {self.record_function}(%s::uuid[], %s::bigint[], %s::text[], "
            "%s::bytea[], %s::integer, %s::text[], %s::uuid[], %s::bigint[], %s::bigint) "
            "AS positions"
        )
        self._select_statements: dict[tuple[str, ...], str] = {}
        self.reads_changed_statement = (
            "SELECT 1 FROM unnest(%s::uuid[], %s::bigint[]) AS r(id, v) WHERE EXISTS "
            f"(SELECT FROM {schema}.{self.events_table_name} e "
            "WHERE e.originator_id = r.id AND e.originator_version = r.v + 1 "
            "AND e.notification_id <= %s::bigint) LIMIT 1"
        )

    def create_table(self) -> None:
        """Under an advisory lock: processes that start together on an empty database
        would otherwise collide in the catalog ("tuple concurrently updated") while
        creating the same tables, types and functions."""
        with self.datastore.get_connection() as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (TABLE_CREATION_LOCK,))
            try:
                super().create_table()
                for statement in self.chain.create_statements():
                    conn.execute(statement)
                self._create_functions(conn)
                conn.commit()
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (TABLE_CREATION_LOCK,))

    def _create_functions(self, conn: Any) -> None:
        for statement in [*self.chain.function_statements(), self._record_function_statement()]:
            conn.execute(statement)

    def _record_function_statement(self) -> str:
        """The one call that commits a batch. The key first (nothing waits on the table
        lock for a key recorded already), then the ordering lock, which is held from before the
        first position is drawn until the statement's transaction commits: no two
        recording transactions interleave their positions, so commits come in position
        order and a reader following positions never passes one still to commit."""
        hash_fn, head_fn = self.chain.functions
        events, chain = self.chain.events, self.chain.table
        channel = self.channel_name.replace('"', '""')
        return f"""CREATE OR REPLACE FUNCTION {self.record_function}(
    ids uuid[], versions bigint[], topics text[], states bytea[], wait_ms integer,
    request text[], read_ids uuid[], read_versions bigint[], read_head bigint)
RETURNS bigint[] LANGUAGE plpgsql AS $$
DECLARE
    positions bigint[];
    event record;
    aggregate uuid;
    prev bytea;
    chained_ids uuid[] := '{{}}';
    chained_versions bigint[] := '{{}}';
    chained_hashes text[] := '{{}}';
BEGIN
    PERFORM set_config('lock_timeout', wait_ms || 'ms', true);
    IF request[1] <> '' THEN
        INSERT INTO {self.requests_table}
            (token_id, idem_key, fingerprint, attempt, started_at, recorded)
            VALUES (request[1], request[2], request[3], request[4], request[5], 1)
            ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = '{KEY_RECORDED}', MESSAGE = format(
                'the Idempotency-Key %s was recorded by another attempt', request[2]);
        END IF;
    END IF;
    LOCK TABLE {events} IN EXCLUSIVE MODE;
    -- One look-up by the primary key per aggregate read: its generic plan is as cheap
    -- as any, so it is planned once per connection (a join of the arrays with the
    -- table was planned again on every call, and a plan made while the table was
    -- small could stay a scan of it).
    FOR i IN 1..coalesce(cardinality(read_ids), 0) LOOP
        PERFORM FROM {events} e WHERE e.originator_id = read_ids[i]
            AND e.originator_version = read_versions[i] + 1
            AND e.notification_id <= read_head;
        IF FOUND THEN
            RAISE unique_violation USING MESSAGE = format(
                '%s was read at version %s and has changed since: decide again',
                read_ids[i], read_versions[i]);
        END IF;
    END LOOP;
    NOTIFY "{channel}";
    WITH inserted AS (
        INSERT INTO {events} (originator_id, originator_version, topic, state)
        SELECT * FROM unnest(ids, versions, topics, states)
        RETURNING notification_id
    )
    SELECT array_agg(notification_id ORDER BY notification_id) INTO positions FROM inserted;
    FOR event IN SELECT * FROM unnest(ids, versions, topics, states) AS b(id, v, topic, state)
            ORDER BY b.id::text, b.v LOOP
        IF aggregate IS DISTINCT FROM event.id THEN
            aggregate := event.id;
            prev := {head_fn}(event.id, event.v - 1);
        END IF;
        prev := {hash_fn}(prev, event.topic, event.id, event.v, event.state);
        chained_ids := chained_ids || event.id;
        chained_versions := chained_versions || event.v;
        chained_hashes := chained_hashes || encode(prev, 'hex');
    END LOOP;
    INSERT INTO {chain} (originator_id, originator_version, hash)
        SELECT * FROM unnest(chained_ids, chained_versions, chained_hashes);
    RETURN positions;
END
$$"""

    def _insert_retrying(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Any:
        key = kwargs.get("in_transaction")
        if key is not None and not isinstance(key, KeyToRecord):
            raise TypeError(
                "on PostgreSQL a recording takes in_transaction=KeyToRecord(…) only (the "
                f"key's parameters go to the server-side function), not {key!r}"
            )
        if key is not None and key.table != self.requests_table:
            raise TypeError(f"the key's table {key.table} is not {self.requests_table}")
        if not stored_events:
            return None
        return self._record(stored_events, key, kwargs.get("reads") or {}, kwargs.get("reads_head"))

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def _record(
        self,
        stored_events: Sequence[StoredEvent],
        key: KeyToRecord | None,
        reads: dict[Any, int],
        head: int | None,
    ) -> list[int]:
        _count_attempt()
        # No key is empty strings rather than NULL or an empty array, which are bound
        # untyped: psycopg would prepare the call again for the other parameter types.
        request = key.params if key is not None else ("",) * 5
        # The arrays go as PostgreSQL's array literals, cast by the statement: psycopg
        # dumping nine Python lists, each searched for its elements' type, cost about
        # 0.12 ms a save; these strings cost a few µs.
        params = (
            _array(str(e.originator_id) for e in stored_events),
            _array(str(e.originator_version) for e in stored_events),
            _texts(e.topic for e in stored_events),
            _array(f'"\\\\x{e.state.hex()}"' for e in stored_events),
            int(self.datastore.lock_timeout * 1000),
            _texts(request),
            _array(str(i) for i in reads),
            _array(str(v) for v in reads.values()),
            NO_HEAD if head is None else head,
        )
        with self.datastore.get_connection() as conn:
            assert conn.autocommit  # one statement, one transaction, one round trip
            try:
                # Prepared (about 0.1 ms a call less than parsing it each time): the
                # preparation is an exchange of its own, once per pooled connection;
                # every call after it is one round trip.
                row = conn.execute(self.record_statement, params, prepare=True).fetchone()
            except psycopg.Error as e:
                if e.sqlstate == KEY_RECORDED and key is not None:
                    raise key.refused() from None
                if e.sqlstate == Chain.TAMPERED:
                    raise TamperedRecord(e.diag.message_primary or str(e)) from None
                raise
        assert row is not None
        return list(row["positions"])

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def reads_changed(self, reads: dict[Any, int], head: int | None = None) -> bool:
        """Whether any aggregate read has a later version stored (at or before the
        position ``head``, if given; ADR 0034): one query."""
        params = (list(reads), list(reads.values()), NO_HEAD if head is None else head)
        with self.datastore.get_connection() as conn:
            row = conn.execute(self.reads_changed_statement, params, prepare=True).fetchone()
        return row is not None

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_notifications(
        self,
        start: int | None,
        limit: int,
        stop: int | None = None,
        topics: Sequence[str] = (),
        *,
        inclusive_of_start: bool = True,
    ) -> Sequence[Notification]:
        """The library's query, its rows read as tuples instead of dicts: a catch-up,
        a replay and the event feed page through the whole log by it, and building a
        dict per row cost about as much as fetching it."""
        where, params = [], []
        if start is not None:
            where.append("notification_id >= %s" if inclusive_of_start else "notification_id > %s")
            params.append(start)
        if stop is not None:
            where.append("notification_id <= %s")
            params.append(stop)
        if topics:
            where.append("topic = ANY(%s)")
            params.append(list(topics))
        params.append(limit)
        statement = self._select_statements.get(tuple(where))
        if statement is None:
            statement = (
                "SELECT notification_id, originator_id, originator_version, topic, state "
                f"FROM {self.datastore.schema}.{self.events_table_name}"
                + (" WHERE " + " AND ".join(where) if where else "")
                + " ORDER BY notification_id LIMIT %s"
            )
            self._select_statements[tuple(where)] = statement
        # In binary: a state travels as its bytes rather than as hex text to be parsed
        # back (about half the driver's time a row, 2.7 → 1.3–2.0 µs).
        with (
            self.datastore.get_connection() as conn,
            conn.cursor(row_factory=tuple_row, binary=True) as curs,
        ):
            curs.execute(statement, params, prepare=True)
            return [notification(*row) for row in curs.fetchall()]
