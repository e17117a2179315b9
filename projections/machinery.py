"""Read models kept in the ledger's own database, exactly once (ADR 0011).

Each read model owns a few tables (``rm_<model>_<table>``) and a row in the
library's single-row tracking table (``SQLiteTrackingRecorder`` /
``PostgresTrackingRecorder``) holding the position of the last event it has
processed. Catching up reads the events after that position from the ordered
notification log, and in **one transaction** advances the position by
compare-and-set (``… WHERE notification_id = <the position it read>``) and writes the
rows. Two processes catching up at once cannot both apply the same events: the
second one's compare-and-set finds the position moved, its transaction is rolled
back and it starts again from the new position. A crash before the commit leaves
rows and position as they were; after it, both moved together.

A batch is applied model by model: ``begin`` (a model may read, in a few queries,
what the whole batch needs), ``apply`` for each event, ``finish``. Rows a model
adds go through its ``writes`` buffer and reach the database at ``finish`` in one
``COPY`` (PostgreSQL) or ``executemany`` (SQLite) per table, instead of one round
trip per statement; any other statement a model runs first sends what is
buffered, so statements still take effect in the order the events asked for them.

Readers never see the read models behind the log as it stood when they began:
``reading`` opens the read's snapshot with one query that compares the models'
positions with the head of the log, and catches up first only when they are behind
(ADR 0023). So a command's own writes are visible to every read that follows it, in
any process on the same database, whether the catch-up after a save ran inside the
command (the command line) or in a background thread (``Follower``, the HTTP API).

Tables filled from position zero (a rebuild's shadow, a new database, a model
whose shape changed) are filled without their ``indexes``, which are built once the
fill reaches the head of the log; a rebuild builds them before its swap (ADR 0025).
While a batch is applied, the next page of the log is read in another thread.

The same SQL serves SQLite and PostgreSQL: ids and dates are columns of the
dialect's types (``{id}``, ``{date}``: ``uuid`` and ``date`` on PostgreSQL, text on
SQLite) read back as text on both, so ISO dates compare as text does; times are
ISO text (which sorts as it compares), money integer fen; ``?`` placeholders
become the driver's, and what does differ between the stores is said by
``adapters.dialect.Dialect``.
"""

from __future__ import annotations

import gc
import re
import threading
import time
import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime
from functools import partial
from typing import Any, ClassVar, TypeVar
from uuid import UUID

import msgspec
from eventsourcing.persistence import Notification

from adapters.dialect import Dialect
from adapters.tracking import Tracking
from application.ledger import Ledger
from domain.errors import TamperedRecord
from domain.hashing import named

BATCH = 2000
"""Events per transaction while catching up or rebuilding."""

_TABLE_CREATION_LOCK = 0x726D5F7461626C65  # "rm_table"

SHADOW = "__rebuild"
"""Suffix of the tables and tracking key a rebuild fills before it takes over."""


def iso(value: date | datetime | None) -> str | None:
    """Dates as ``YYYY-MM-DD``; times as UTC ``YYYY-MM-DDTHH:MM:SS.ffffff`` — one fixed
    width, so text order is time order."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is UTC:  # as events are recorded: the offset is cut off
            return value.isoformat("T", "microseconds")[:26]
        return value.astimezone(UTC).replace(tzinfo=None).isoformat("T", "microseconds")
    return value.isoformat()


def rowset(columns: str) -> str:
    """Rows sent as one JSON parameter (``rows_param``), for a statement that uses
    many rows at once on PostgreSQL (where ``Dialect.arrays``): ``columns`` is
    "name type, …", and the result a subquery yielding them. Much cheaper to send
    than one array parameter per column, which psycopg dumps element by element."""
    picked = ", ".join(
        f"(e->>{i})::{kind} AS {name}"
        for i, (name, kind) in enumerate(c.split() for c in columns.split(","))
    )
    return f"(SELECT {picked} FROM json_array_elements(?::json) e)"


_SELECT = re.compile(r"\s*SELECT\s+(?!DISTINCT\b|ALL\b)", re.IGNORECASE)
"""The start of a query to which ``Store.read`` can add the check's columns: a plain
``SELECT`` (not ``DISTINCT``)."""
_UNION = re.compile(r"\b(UNION|INTERSECT|EXCEPT)\b", re.IGNORECASE)
"""A set operation, whose select lists would no longer match once the first had the
check's columns: such a query is checked apart."""


def rows_param(rows: Sequence[Sequence[Any]]) -> str:
    """The parameter of a ``rowset``: its rows as a JSON list of lists."""
    return _json(rows).decode()


_json = msgspec.json.Encoder().encode


def from_iso_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=UTC)


class Writes:
    """What a read model writes in one batch, sent at its end.

    ``insert`` buffers a row (all the table's columns, in order); ``later``
    buffers a statement that must run after the buffered rows are in (an update of
    rows this batch may have added). Both are sent by ``flush``: rows per table in
    one ``COPY`` or ``executemany``, then the statements in order, consecutive
    ones with the same text in one ``executemany``. Rows of different tables may
    reach the database in another order than they were buffered, which no read
    model can observe: tables have no triggers or foreign keys."""

    def __init__(self, model: ReadModel) -> None:
        self.model = model
        self.rows: dict[str, list[Sequence[Any]]] = {}
        self.statements: list[tuple[str, Sequence[Any]]] = []

    def insert(self, table: str, row: Sequence[Any]) -> None:
        self.rows.setdefault(table, []).append(row)

    def later(self, text: str, params: Sequence[Any]) -> None:
        self.statements.append((text, params))

    def clear(self) -> None:
        self.rows, self.statements = {}, []

    def flush(self, cursor: Any) -> None:
        rows, statements = self.rows, self.statements
        self.clear()
        model = self.model
        for table, buffered in rows.items():
            if model.dialect.copy:
                with cursor.copy(f"COPY {model.t[table]} FROM STDIN") as copy:
                    for row in buffered:
                        copy.write_row(row)
            else:
                marks = model.dialect.marks(len(buffered[0]))
                cursor.executemany(f"INSERT INTO {model.t[table]} VALUES ({marks})", buffered)
        start = 0
        while start < len(statements):
            text = statements[start][0]
            end = start + 1
            while end < len(statements) and statements[end][0] == text:
                end += 1
            cursor.executemany(model.sql(text), [tuple(p) for _, p in statements[start:end]])
            start = end


class ReadModel(ABC):
    """A set of tables fed from the event log. Subclasses name their tables and
    columns, and turn each event they care about into SQL."""

    name: ClassVar[str]
    tables: ClassVar[dict[str, str]]
    """Logical table name → column definitions (inside ``CREATE TABLE … ( )``)."""
    indexes: ClassVar[dict[str, str]] = {}
    """Index suffix → ``table(columns)`` or ``UNIQUE table(columns)``: the indexes the
    answers need and filling the tables does not. Tables filled from position zero
    get them once they have caught up (ADR 0025); a key that ``apply`` or ``begin``
    looks rows up by is declared in ``tables``, so it is there while they fill."""
    topics: ClassVar[tuple[str, ...]]
    """The event types it reads; others never reach ``apply``."""
    retired: ClassVar[tuple[str, ...]] = ()
    """Logical names of tables earlier versions had: dropped with the others when
    the model's shape changes, so an upgraded database keeps none of them."""

    position = 0
    """The position of the event being applied (set by the store before ``apply``)."""

    def __init__(self, dialect: Dialect, schema: str = "", shadow: bool = False) -> None:
        self.dialect = dialect
        self.schema = schema
        self.shadow = shadow
        self.key = self.name + (SHADOW if shadow else "")
        self.bare = {table: self.table(table, shadow) for table in self.tables}
        self.t = {
            table: f"{schema}.{bare}" if schema else bare for table, bare in self.bare.items()
        }
        self._sql: dict[str, str] = {}
        self.writes = Writes(self)
        self.reads = frozenset(self.topics)

    @classmethod
    def table(cls, logical: str, shadow: bool = False) -> str:
        """The unqualified table name."""
        return f"rm_{cls.name}_{logical}" + (SHADOW if shadow else "")

    def index(self, suffix: str, table: str) -> tuple[str, str]:
        """(name to create it under, qualified name to drop it by)."""
        name = f"{self.bare[table]}_{suffix}"
        return name, f"{self.schema}.{name}" if self.schema else name

    def sql(self, text: str) -> str:
        """``text`` with ``{table}`` names filled in and placeholders for the driver."""
        try:
            return self._sql[text]
        except KeyError:
            done = self.dialect.sql(text.format(**self.t, **self.dialect.types))
            self._sql[text] = done
            return done

    def table_statements(self) -> list[str]:
        """The tables, without the indexes of ``indexes``; ``{id}`` and ``{date}`` in a
        column definition are the dialect's types for them."""
        types = self.dialect.types
        return [
            f"CREATE TABLE IF NOT EXISTS {self.t[name]} ({columns.format(**types)})"
            for name, columns in self.tables.items()
        ]

    def index_statements(self) -> dict[str, str]:
        """Each index of ``indexes``: its unqualified name → the statement making it."""
        statements = {}
        for suffix, target in self.indexes.items():
            unique = "UNIQUE " if target.startswith("UNIQUE ") else ""
            table, _, columns = target.removeprefix("UNIQUE ").partition("(")
            name = self.index(suffix, table)[0]
            statements[name] = (
                f"CREATE {unique}INDEX IF NOT EXISTS {name} ON {self.t[table]} ({columns}"
            )
        return statements

    def shape(self) -> int:
        """A checksum of the table definitions as this store makes them: it changes
        when they do."""
        types = self.dialect.types
        tables = sorted((name, columns.format(**types)) for name, columns in self.tables.items())
        text = repr(tables) + repr(sorted(self.indexes.items()))
        return zlib.crc32(text.encode()) + 1

    def drop_statements(self) -> list[str]:
        """Its tables, and those its earlier versions had (``retired``)."""
        prefix = f"{self.schema}." if self.schema else ""
        retired = [prefix + self.table(name, self.shadow) for name in self.retired]
        return [f"DROP TABLE IF EXISTS {table}" for table in [*self.t.values(), *retired]]

    def run(self, cursor: Any, text: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement now, after whatever ``writes`` holds."""
        self.writes.flush(cursor)
        cursor.execute(self.sql(text), tuple(params))
        return cursor

    def select_in(
        self, cursor: Any, text: str, values: Sequence[Any], before: Sequence[Any] = ()
    ) -> list[Any]:
        """Rows of ``text`` whose ``{in}`` is "column IN (values)": one ``= ANY``
        where a list binds as an array, else chunks of 500. ``before``: parameters
        ahead of it."""
        if not values:
            return []
        if self.dialect.arrays:
            return list(
                self.run(
                    cursor, text.replace("{in}", "= ANY(?)"), (*before, list(values))
                ).fetchall()
            )
        found = []
        for i in range(0, len(values), 500):
            chunk = values[i : i + 500]
            marks = f"IN ({self.dialect.marks(len(chunk))})"
            self.writes.flush(cursor)
            cursor.execute(
                self.dialect.sql(
                    text.replace("{in}", marks).format(**self.t, **self.dialect.types)
                ),
                (*before, *chunk),
            )
            found += cursor.fetchall()
        return found

    def begin(self, events: Sequence[Any], cursor: Any) -> None:  # noqa: B027 (optional)
        """Before a batch's events are applied (``position`` is still that of the last
        event applied before them): read what they will need."""

    @abstractmethod
    def apply(self, event: Any, cursor: Any) -> None:
        """Write what ``event`` changes, inside the caller's transaction."""

    def finish(self, cursor: Any) -> None:
        """After a batch's events: send what is still buffered."""
        self.writes.flush(cursor)

    def committed(self, position: int) -> None:  # noqa: B027 (optional)
        """The batch's transaction committed: the tables hold the events up to
        ``position``, and no other process can change them without moving it."""

    def abandoned(self) -> None:  # noqa: B027 (optional)
        """The batch's transaction was rolled back: forget what it did."""


M = TypeVar("M", bound=ReadModel)


FEWER_COLLECTIONS = 50_000
"""The collector's first-generation threshold while a catch-up runs (Python's is 700)."""

_collections_lock = threading.Lock()
_collections_held = 0
_collections_before: tuple[int, int, int] | None = None


@contextmanager
def fewer_collections() -> Iterator[None]:
    """While any catch-up runs in the process, the cyclic garbage collector looks at its
    youngest objects every 50,000 allocations instead of 700.

    A catch-up makes hundreds of thousands of short-lived objects (rows, decoded
    events, counts) while a batch's state, and a server's kept aggregates, stay alive:
    at the default threshold the collections that those allocations set off, and the
    older generations' walks over everything that survived them, took 35–40 % of a
    read model's rebuild (`bench/README.md`). Almost nothing it makes is cyclic
    garbage; what there is waits a little longer. The thresholds in force before the
    first catch-up began are put back when the last one ends."""
    global _collections_held, _collections_before
    with _collections_lock:
        if _collections_held == 0:
            _collections_before = gc.get_threshold()
            first, *older = _collections_before
            gc.set_threshold(max(first, FEWER_COLLECTIONS), *older)
        _collections_held += 1
    try:
        yield
    finally:
        with _collections_lock:
            _collections_held -= 1
            if _collections_held == 0 and _collections_before is not None:
                gc.set_threshold(*_collections_before)


class Store:
    """The read models' side of the ledger's database."""

    def __init__(self, ledger: Ledger, models: Sequence[type[ReadModel]]) -> None:
        self.ledger = ledger
        place = Tracking.of(ledger.factory)
        self.dialect = place.dialect
        self.datastore = place.datastore
        self.tracking: Any = place.recorder
        self.schema = place.schema
        self.table = place.table
        self.model_classes = {m.name: m for m in models}
        self.live = [m(self.dialect, self.schema) for m in models]
        self._catching_up = threading.RLock()
        self._indexed: set[str] = set()
        """The models (keys) whose ``indexes`` this store has seen built."""
        self._with_check: dict[str, tuple[str, tuple[str, ...]] | tuple[()]] = {}
        """``read``'s queries with the check added (``_add_check``), by their text."""
        self.follower: Any = None
        """The ``read_models.Follower`` catching this store up in the background, if any."""
        self._create_tables()

    def _create_tables(self) -> None:
        """Processes starting together on a new database must not trip over each
        other creating the same tables (``Dialect.create_together``)."""

        def create() -> None:
            self.tracking.create_table()
            self.create(self.live)
            self._check_shapes(self.live)
            # Models the log has no more for: their indexes, if a fill that ended
            # was stopped before it built them. The others get theirs when the
            # catch-up that any read starts with brings them to the head.
            if self.live:
                head, done = self.head(), self.positions([m.key for m in self.live])
                self._build_indexes([m for m in self.live if done[m.key] >= head])

        self.dialect.create_together(self.datastore, _TABLE_CREATION_LOCK, create)

    def _check_shapes(self, models: Sequence[ReadModel]) -> None:
        """A read model whose tables were made by an older version of its code
        (their definitions changed) is emptied and filled again from position zero
        on the next catch-up. Its shape — a checksum of its table definitions — is
        kept in the tracking table under ``<name>#shape``."""
        for model in models:
            key, shape = f"{model.key}#shape", model.shape()
            if self.position(key) == shape:
                continue
            self._indexed.discard(model.key)
            with self._transaction(commit=True) as cursor:
                for statement in model.drop_statements():
                    cursor.execute(statement)
                for statement in model.table_statements():
                    cursor.execute(statement)
                for name, value in ((model.key, 0), (key, shape)):
                    self._advance(cursor, name, 0, 0)
                    cursor.execute(
                        self.dialect.sql(
                            f"UPDATE {self.table} SET notification_id = ? "
                            "WHERE application_name = ?"
                        ),
                        (value, name),
                    )

    # --- positions ----------------------------------------------------------------

    def position(self, key: str) -> int:
        return self.tracking.max_tracking_id(key) or 0

    def positions(
        self, keys: Sequence[str], query: Callable[..., list[Any]] | None = None
    ) -> dict[str, int]:
        """Several models' positions in one query (``query``: inside a snapshot)."""
        marks = self.dialect.marks(len(keys))
        rows = (query or self.query)(
            f"SELECT application_name, notification_id FROM {self.table} "
            f"WHERE application_name IN ({marks})",
            keys,
        )
        found = {r["application_name"]: r["notification_id"] or 0 for r in rows}
        return {key: found.get(key, 0) for key in keys}

    def head(self) -> int:
        return self.ledger.recorder.max_notification_id() or 0

    def _where(self, query: Callable[..., list[Any]]) -> tuple[int, int]:
        """(head of the log, position every live model has reached), in one query
        where both live in one database — inside a snapshot, both as that snapshot
        sees them."""
        check = self._check()
        if check is None:  # memory://: the log is not in the read models' database
            return self.head(), min(self.positions([m.key for m in self.live], query).values())
        columns, params = check
        return self._checked(query(f"SELECT {columns}", params)[0], tuples=False)

    def _check(self) -> tuple[str, tuple[str, ...]] | None:
        """The check as three columns of a select list (``_head``, ``_done``,
        ``_known``) and their parameters; None where the log is in another database."""
        chain = getattr(self.ledger, "chain", None)
        if chain is None:
            return None
        keys = tuple(m.key for m in self.live)
        mine = f"FROM {self.table} WHERE application_name IN ({self.dialect.marks(len(keys))})"
        return (
            f"(SELECT MAX({chain.position}) FROM {chain.events}) AS _head, "
            f"(SELECT MIN(notification_id) {mine}) AS _done, (SELECT COUNT(*) {mine}) AS _known",
            keys + keys,
        )

    def _checked(self, row: Any, *, tuples: bool) -> tuple[int, int]:
        """(head, done) from a row that holds the check's columns (first, in a tuple)."""
        head, done, known = row[:3] if tuples else (row["_head"], row["_done"], row["_known"])
        return head or 0, (done or 0) if known == len(self.live) else 0

    def ready(self) -> int:
        """Make sure the read models hold every event recorded before this call (one
        query when they do); returns the position they have reached."""
        head, done = self._where(self.query)
        return done if done >= head else self.catch_up()

    @contextmanager
    def reading(self) -> Iterator[Callable[..., list[Any]]]:
        """``snapshot``, of read models that hold every event recorded before it
        began: its first query checks how far they are; if they are behind, the
        snapshot is left, they catch up, and a new one is opened. One query more
        than the read itself when they are up to date, which is the usual case."""
        target: int | None = None
        while True:
            with self.snapshot() as query:
                head, done = self._where(query)
                target = head if target is None else target
                if done >= target:
                    yield query
                    return
            self.catch_up()

    def read(self, sql: str, params: Sequence[Any] = (), *, tuples: bool = False) -> list[Any]:
        """``reading`` for an answer of one query, in one statement and one round trip:
        the check travels with the query as three columns more of every row
        (``_add_check``), which the database works out once, and one statement sees one
        state of the tables, so the rows are as current as the check says. Where the
        check cannot go with the query, or the query finds no row to carry it, the check
        is asked first and the query after it, which then sees at least what it found.
        ``tuples``: rows as ``query`` gives them with it, without the check's columns."""
        found = self._with_check.get(sql)
        if found is None:
            found = self._with_check[sql] = self._add_check(sql)
        target: int | None = None
        while True:
            rows = self.query(found[0], (*found[1], *params), tuples=tuples) if found else []
            if rows:
                head, done = self._checked(rows[0], tuples=tuples)
            else:
                head, done = self._where(self.query)
            target = head if target is None else target
            if done >= target:
                if not rows:
                    return self.query(sql, params, tuples=tuples)
                return [row[3:] for row in rows] if tuples else rows
            self.catch_up()

    def _add_check(self, sql: str) -> tuple[str, tuple[str, ...]] | tuple[()]:
        """``sql`` with the check's columns first in its select list, and the check's
        parameters; empty where the check cannot go there (``_SELECT``, ``_UNION``)."""
        check = self._check()
        select = _SELECT.match(sql)
        if check is None or select is None or _UNION.search(sql):
            return ()
        columns, checks = check
        return f"SELECT {columns}, {sql[select.end() :]}", checks

    def wait(self, position: int, timeout: float = 5.0) -> None:
        """Block until every live read model has processed ``position``."""
        for model in self.live:
            self.tracking.wait(model.key, position, timeout=timeout)

    # --- catching up ----------------------------------------------------------------

    def catch_up(
        self,
        models: Sequence[ReadModel] | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Bring ``models`` (default: every live one) up to the head of the log, a
        batch per transaction; returns the position reached."""
        with self._catching_up, fewer_collections():
            return self._catch_up(list(self.live if models is None else models), progress)

    def _catch_up(
        self, models: list[ReadModel], progress: Callable[[int, int], None] | None
    ) -> int:
        # The models' batch state and memory belong to one thread at a time (the
        # HTTP API serves reads from a pool of threads).
        head = self.head()
        topics = sorted({t for m in models for t in m.topics})
        keys = [m.key for m in models]
        positions = self.positions(keys)
        # While a batch is applied, the next one is read and decoded in another
        # thread: its wait for the database overlaps this one's work, and this
        # one's commit overlaps its decoding. Only after a full page (more to come).
        reader: ThreadPoolExecutor | None = None
        ahead: tuple[int, Future[Batch]] | None = None  # (its first position, the read)
        try:
            while True:
                start = min(positions.values())
                if start >= head:
                    unindexed = [m for m in models if m.key not in self._indexed]
                    if unindexed:
                        self.dialect.create_together(
                            self.datastore,
                            _TABLE_CREATION_LOCK,
                            partial(self._build_indexes, unindexed),
                        )
                    return head
                if ahead is not None and ahead[0] == start + 1:
                    events = ahead[1].result()
                else:
                    events = self._read(start + 1, head, topics)
                ahead = None
                reached = events[-1][0].id if len(events) == BATCH else head
                if reached < head:
                    reader = reader or ThreadPoolExecutor(1, "chanjiao-read-ahead")
                    ahead = (reached + 1, reader.submit(self._read, reached + 1, head, topics))
                if self._apply(models, positions, events, reached):
                    positions = {key: max(done, reached) for key, done in positions.items()}
                    if progress:
                        progress(reached, head)
                else:
                    positions = self.positions(keys)
        finally:
            if reader is not None:
                reader.shutdown(wait=True, cancel_futures=True)

    def _read(self, start: int, stop: int, topics: list[str]) -> Batch:
        """A page of events from ``start`` (``_page``), each decoded."""
        decode = self.ledger.mapper.to_domain_event
        return [(n, decode(n)) for n in self._page(start, stop, topics)]

    def _page(self, start: int, stop: int, topics: list[str]) -> Sequence[Notification]:
        """The next batch of events, each checked against its link of the hash chain
        in the same read: an event changed behind the ledger's back is never folded."""
        chain = getattr(self.ledger, "chain", None)
        if chain is None:  # memory:// keeps no hashes
            return self.ledger.recorder.select_notifications(
                start=start, limit=BATCH, stop=stop, topics=topics
            )
        links = chain.links(self.datastore, start, stop, BATCH, topics)
        problems = [p for link in links if (p := link.problem()) is not None]
        if problems:
            raise TamperedRecord(
                f"the read models were not brought up to date: {named(problems)}. "
                "The event was changed behind the ledger's back and is not folded into them; "
                "they keep answering as they were. Run `chanjiao audit verify` for the whole "
                "list, and restore the event from a backup or an audit bundle"
            )
        return [link.notification for link in links]

    def _apply(
        self,
        models: Sequence[ReadModel],
        positions: dict[str, int],
        events: list[tuple[Notification, Any]],
        reached: int,
    ) -> bool:
        """One transaction: move each model's position from what was read to
        ``reached`` and apply its events; False (and nothing written) if another
        process moved a position first."""
        applied = []
        try:
            with self._transaction(commit=True) as cursor:
                # Models already past this batch are neither moved nor applied.
                behind = [m for m in models if positions[m.key] < reached]
                if not self._advance_all(
                    cursor, [(m.key, positions[m.key]) for m in behind], reached
                ):
                    raise _Moved
                for model in behind:
                    done = positions[model.key]
                    applied.append(model)
                    reads = model.reads
                    mine = [(n.id, e) for n, e in events if n.id > done and n.topic in reads]
                    model.writes.clear()  # nothing left from a batch that failed
                    model.position = done
                    model.begin([e for _, e in mine], cursor)
                    for position, event in mine:
                        model.position = position
                        model.apply(event, cursor)
                    model.finish(cursor)
        except _Moved:
            for model in applied:
                model.abandoned()
            time.sleep(0.001)
            return False
        except BaseException:
            for model in applied:
                model.abandoned()
            raise
        for model in applied:
            model.committed(reached)
        return True

    def _advance_all(self, cursor: Any, expected: list[tuple[str, int]], reached: int) -> bool:
        """``_advance`` for several models in one statement: all move, or none."""
        if not expected:
            return True
        if len(expected) == 1:
            return self._advance(cursor, *expected[0], reached)
        for key, done in expected:
            if done == 0:
                self._advance(cursor, key, 0, 0)  # make sure the row exists
        matches = " OR ".join("(application_name = ? AND notification_id = ?)" for _ in expected)
        cursor.execute(
            self.dialect.sql(f"UPDATE {self.table} SET notification_id = ? WHERE {matches}"),
            (reached, *(v for pair in expected for v in pair)),
        )
        return self.dialect.changed(cursor) == len(expected)

    def _advance(self, cursor: Any, key: str, expected: int, reached: int) -> bool:
        sql = self.dialect.sql
        if expected == 0:
            cursor.execute(
                sql(
                    f"INSERT INTO {self.table} (application_name, notification_id) VALUES (?, 0) "
                    "ON CONFLICT (application_name) DO NOTHING"
                ),
                (key,),
            )
        cursor.execute(
            sql(
                f"UPDATE {self.table} SET notification_id = ? "
                "WHERE application_name = ? AND notification_id = ?"
            ),
            (reached, key, expected),
        )
        return self.dialect.changed(cursor) == 1

    def model(self, cls: type[M]) -> M:
        """The live instance of a read model, for its table names and SQL."""
        return next(m for m in self.live if isinstance(m, cls))

    def query(self, sql: str, params: Sequence[Any] = (), *, tuples: bool = False) -> list[Any]:
        """Rows of one read query (``?`` placeholders, or SQL from ``ReadModel.sql``):
        one statement, which sees one state of the tables by itself. ``tuples``: each
        row a sequence of its columns' values rather than a mapping of their names (on
        PostgreSQL a tuple made by the driver in C, where a dict per row cost about
        2 µs: a long answer's rows are better taken apart by position)."""
        with self.dialect.statement(self.datastore, commit=False, tuples=tuples) as cursor:
            self.dialect.as_text(cursor)
            cursor.execute(self.dialect.sql(sql), tuple(params))
            return list(cursor.fetchall())

    @contextmanager
    def snapshot(self) -> Iterator[Callable[..., list[Any]]]:
        """Several reads that see one state of the tables: a catch-up committing in
        between cannot make one answer mix old and new rows (``Dialect.snapshot``)."""
        with self.dialect.snapshot(self.datastore) as cursor:
            self.dialect.as_text(cursor)

            def query(sql: str, params: Sequence[Any] = ()) -> list[Any]:
                cursor.execute(self.dialect.sql(sql), tuple(params))
                return list(cursor.fetchall())

            yield query

    # --- tables and rebuilding ------------------------------------------------------

    @contextmanager
    def _transaction(self, commit: bool) -> Iterator[Any]:
        """A transaction of the read models: ids and dates read as text on both stores."""
        with self.datastore.transaction(commit=commit) as cursor:
            self.dialect.as_text(cursor)
            yield cursor

    def create(self, models: Sequence[ReadModel]) -> None:
        """Their tables, if missing; without ``indexes``, which come once the tables
        have been filled (``_build_indexes``)."""
        with self._transaction(commit=True) as cursor:
            for model in models:
                for statement in model.table_statements():
                    cursor.execute(statement)

    def _build_indexes(self, models: Sequence[ReadModel]) -> None:
        """The models' ``indexes`` that are missing, built on the filled tables, whose
        planner statistics are then taken afresh. Filling tables without their
        secondary indexes and building these once is much cheaper than keeping them
        up to date row by row (ADR 0025)."""
        with self._transaction(commit=True) as cursor:
            for model in models:
                statements = model.index_statements()
                there = self.dialect.indexes(cursor, self.schema, list(statements))
                missing = [name for name in statements if name not in there]
                for name in missing:
                    cursor.execute(statements[name])
                if missing:
                    for table in model.t.values():
                        self.dialect.analyze(cursor, table)
        self._indexed.update(m.key for m in models)

    def rebuild(self, name: str, progress: Callable[[int, int], None] | None = None) -> int:
        """Fill a shadow copy of the read model from position zero (resuming one
        left by an interrupted rebuild of the same shape), build its indexes, then
        swap it in, in one transaction, for the live one, which keeps answering
        until then. Returns the position."""
        shadow = self.model_classes[name](self.dialect, self.schema, shadow=True)
        self.create([shadow])
        self._check_shapes([shadow])
        self.catch_up([shadow], progress)  # its indexes built at the end
        live = next(m for m in self.live if m.name == name)
        with self._transaction(commit=True) as cursor:
            reached = self._read_position(cursor, shadow.key)
            # Set the live position first, unconditionally: that locks its row, so a
            # concurrent catch-up either committed before (its rows are dropped with
            # the old tables) or waits and then finds its compare-and-set refused.
            self._advance(cursor, live.key, 0, 0)  # make sure the row exists
            cursor.execute(
                self.dialect.sql(
                    f"UPDATE {self.table} SET notification_id = ? WHERE application_name = ?"
                ),
                (reached, live.key),
            )
            for statement in live.drop_statements():
                cursor.execute(statement)
            for logical, table in shadow.t.items():
                cursor.execute(f"ALTER TABLE {table} RENAME TO {live.bare[logical]}")
            # The indexes keep their shadow names: give them the live ones, so the
            # next rebuild's shadow indexes do not collide with them.
            made = live.index_statements()
            for (suffix, target), name in zip(shadow.indexes.items(), made, strict=True):
                table = target.removeprefix("UNIQUE ").partition("(")[0]
                self.dialect.rename_index(cursor, shadow.index(suffix, table)[1], name, made[name])
            cursor.execute(
                self.dialect.sql(f"DELETE FROM {self.table} WHERE application_name IN (?, ?)"),
                (shadow.key, f"{shadow.key}#shape"),
            )
        self._indexed.discard(shadow.key)
        return reached

    def _read_position(self, cursor: Any, key: str) -> int:
        cursor.execute(
            self.dialect.sql(
                f"SELECT notification_id FROM {self.table} WHERE application_name = ?"
            ),
            (key,),
        )
        row = cursor.fetchone()
        return (row["notification_id"] if row else 0) or 0

    def status(self) -> list[tuple[str, int, int]]:
        """(read model, position, events behind the head)."""
        head = self.head()
        return [(m.name, p, head - p) for m in self.live for p in [self.position(m.key)]]


Batch = list[tuple[Notification, Any]]
"""A page of the log: each event as stored and decoded."""


class _Moved(Exception):
    """Another process advanced a read model first."""


def uuid_text(value: UUID | None) -> str | None:
    return str(value) if value is not None else None
