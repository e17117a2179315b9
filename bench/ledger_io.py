"""How much the ledger costs over the bare database, for writes and for reads.

    .venv/bin/python bench/ledger_io.py [--events N] [--repeats R] [--store postgres|sqlite|all]
    .venv/bin/python bench/ledger_io.py --quick     # seconds: shows it runs to the end

WRITES: N ledger commands (found a community, register units, admit them, let a
quarter exit; one command = one transaction = one event) against a baseline that
inserts the same rows (id, version, topic, msgspec-JSON state of the same size and
shape) one transaction per command, with the bare driver, into a table of the same
shape. READS: the whole log paged through ``recorder.select_notifications`` and
decoded by ``ledger.mapper.to_domain_event``, against the same paged SELECT of the
baseline table and ``msgspec.json.decode`` of each state. SAVE: the seconds of the
ledger's writes spent in ``recorder.insert_events`` alone (recording the events, their
hashes and the NOTIFY), against the same baseline.

Each repeat starts from empty stores: fresh PostgreSQL schemas (dropped afterwards)
or fresh SQLite files in a temporary directory. Baseline and ledger samples
alternate, each is taken R times, and medians are reported, since the machine is
noisy. ``--quick`` (the test suite runs it): 92 commands (two communities), one repeat,
both stores unless ``--store`` says otherwise; its figures mean nothing.
"""

from __future__ import annotations

import argparse
import itertools
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, closing, contextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec
import psycopg

# Run as a script, this file's own directory comes first on sys.path, and
# ``bench/projections.py`` would hide the ``projections`` package: import from the
# project root instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from bench.stores import PG_URL  # noqa: E402
from bootstrap import Ledger  # noqa: E402
from domain.values import credit_code_check_character  # noqa: E402

TABLE = "chanjiao_events"  # the ledger's table name, reused for the baseline
PAGE = 500  # notifications per page, for ledger and baseline alike
MIN_READ_EVENTS = 20_000  # a read sample re-reads the log until this many events are decoded
MEMBERS_PER_COMMUNITY = 20  # an admission replays its community: keep bodies realistic
UNIT_TYPES = [
    ("enterprise", None),
    ("university", None),
    ("vocational_school", "higher"),
    ("research_institute", None),
]
PRINCIPAL = "secretary:bench"
WRITE_GOAL = {"postgres": 0.5}
READ_GOAL = {"postgres": 0.7}

Row = tuple[UUID, int, str, bytes]  # originator_id, originator_version, topic, state


# --- the workload ---------------------------------------------------------------


def command_stream(ledger: Ledger) -> Iterator[None]:
    """An endless stream of valid commands; each ``next()`` records one of them."""
    serial = itertools.count()
    for c in itertools.count():
        body = ledger.found_community(
            name=f"产教融合共同体 {c}",
            kind="industry",
            industry="先进制造",
            division="320506",
            founded_on="2024-01-01",
            principal=PRINCIPAL,
        )
        yield
        codes = []
        for _ in range(MEMBERS_PER_COMMUNITY):
            i = next(serial)
            code = f"91320500{i:09d}"
            code += credit_code_check_character(code)
            unit_type, level = UNIT_TYPES[i % len(UNIT_TYPES)]
            ledger.register_unit(
                code=code,
                name=f"苏州成员单位 {i}",
                unit_type=unit_type,
                level=level,
                division="320506",
                principal=PRINCIPAL,
            )
            yield
            ledger.admit_member(
                body.id,
                code,
                role="participant",
                effective_on="2024-03-01",
                principal=PRINCIPAL,
            )
            yield
            codes.append(code)
        for code in codes[::4]:
            ledger.exit_member(
                body.id, code, reason="withdrawal", effective_on="2024-09-01", principal=PRINCIPAL
            )
            yield


def record(ledger: Ledger, commands: int, after: Callable[[], object] = lambda: None) -> None:
    for _ in itertools.islice(command_stream(ledger), commands):
        after()


def baseline_transactions(commands: int) -> list[list[Row]]:
    """The rows the workload stores, grouped by command, taken from an in-memory
    ledger: the baseline then writes exactly what the ledger writes (only the
    timestamps and community ids inside differ from one run to the next)."""
    ledger = Ledger("memory://")
    ends: list[int] = []
    record(ledger, commands, after=lambda: ends.append(ledger.recorder.max_notification_id()))
    log = ledger.recorder.select_notifications(start=1, limit=ends[-1])
    rows = [(n.originator_id, n.originator_version, n.topic, n.state) for n in log]
    return [rows[start:end] for start, end in itertools.pairwise([0, *ends])]


def ledger_read(ledger: Ledger) -> int:
    start, count = 1, 0
    while True:
        page = ledger.recorder.select_notifications(start=start, limit=PAGE)
        for notification in page:
            ledger.mapper.to_domain_event(notification)
        count += len(page)
        if len(page) < PAGE:
            return count
        start = page[-1].id + 1


class SaveClock:
    """The seconds a ledger spends in its recorder's ``insert_events``: the saves
    alone (issue 16's third step), without the reads and decisions around them."""

    def __init__(self, ledger: Ledger) -> None:
        self.seconds = 0.0
        insert = ledger.recorder.insert_events

        def clocked(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return insert(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        ledger.recorder.insert_events = clocked  # type: ignore[method-assign]


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


# One repeat: a context manager that sets up fresh, empty stores (untimed) and yields,
# for "baseline" and "ledger", a (write the workload, read the whole log) pair, and
# the ledger's SaveClock as "clock".
Sides = dict[str, Any]
Run = Callable[[int, list[list[Row]]], AbstractContextManager[Sides]]


def measure(run: Run, commands: int, transactions: list[list[Row]], repeats: int) -> dict:
    """Write samples: seconds for the whole workload. Read samples: seconds per event."""
    events = sum(map(len, transactions))
    # A log of a few thousand events reads in milliseconds: a read sample reads it
    # several times, to be long enough to rise above the machine's noise.
    passes = -(-MIN_READ_EVENTS // events)
    samples: dict[str, list[float]] = defaultdict(list)
    for repeat in range(repeats):
        # Alternate which side goes first, so drift on the machine is shared.
        order = ("baseline", "ledger") if repeat % 2 == 0 else ("ledger", "baseline")
        with run(commands, transactions) as sides:
            for side in order:
                samples[f"{side} write"].append(timed(sides[side][0]))
                if side == "ledger":
                    samples["ledger save"].append(sides["clock"].seconds)
            for side in order:
                read = sides[side][1]
                started = time.perf_counter()
                decoded = sum(read() for _ in range(passes))
                samples[f"{side} read"].append((time.perf_counter() - started) / decoded)
                assert decoded == passes * events, f"{side} read {decoded} events"
    return samples


# --- PostgreSQL -----------------------------------------------------------------

# The library's DDL for the events table of an application recorder (postgres.py).
PG_DDL = f"""
CREATE TABLE {{schema}}.{TABLE} (
    originator_id uuid NOT NULL, originator_version bigint NOT NULL, topic text,
    state bytea, notification_id bigserial,
    PRIMARY KEY (originator_id, originator_version))
WITH (autovacuum_enabled = true, autovacuum_vacuum_threshold = 100000000,
      autovacuum_vacuum_scale_factor = 0.5, autovacuum_analyze_threshold = 1000,
      autovacuum_analyze_scale_factor = 0.01);
CREATE UNIQUE INDEX {TABLE}_notification_id_idx ON {{schema}}.{TABLE} (notification_id ASC);
"""


@contextmanager
def pg_schema(conn: psycopg.Connection) -> Iterator[str]:
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield schema
    finally:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def pg_raw_write(conn: psycopg.Connection, schema: str, transactions: list[list[Row]]) -> None:
    insert = (
        f"INSERT INTO {schema}.{TABLE} (originator_id, originator_version, topic, state) "
        "VALUES (%s, %s, %s, %s)"
    )
    cursor = conn.cursor()
    for rows in transactions:
        with conn.transaction():
            cursor.executemany(insert, rows)


def raw_read(execute: Callable[..., Any], select: str) -> int:
    """Page through the log by position and decode every state, untyped."""
    start, count = 1, 0
    while True:
        page = execute(select, (start, PAGE)).fetchall()
        for row in page:
            msgspec.json.decode(row[4])
        count += len(page)
        if len(page) < PAGE:
            return count
        start = page[-1][0] + 1


def pg_raw_read(conn: psycopg.Connection, schema: str) -> int:
    return raw_read(
        conn.execute,
        f"SELECT notification_id, originator_id, originator_version, topic, state "
        f"FROM {schema}.{TABLE} WHERE notification_id >= %s ORDER BY notification_id LIMIT %s",
    )


@contextmanager
def postgres_run(commands: int, transactions: list[list[Row]]) -> Iterator[Sides]:
    with (
        psycopg.connect(PG_URL, autocommit=True) as conn,
        pg_schema(conn) as raw_schema,
        pg_schema(conn) as ledger_schema,
        closing(Ledger(f"{PG_URL}{'&' if '?' in PG_URL else '?'}schema={ledger_schema}")) as ledger,
    ):
        conn.execute(PG_DDL.format(schema=raw_schema))
        yield {
            "baseline": (
                lambda: pg_raw_write(conn, raw_schema, transactions),
                lambda: pg_raw_read(conn, raw_schema),
            ),
            "ledger": (lambda: record(ledger, commands), lambda: ledger_read(ledger)),
            "clock": SaveClock(ledger),
        }


# --- SQLite ---------------------------------------------------------------------

# The library's DDL for an application recorder's table (sqlite.py): a rowid table.
SQLITE_DDL = (
    f"CREATE TABLE {TABLE} (originator_id TEXT, originator_version INTEGER, topic TEXT, "
    "state BLOB, PRIMARY KEY (originator_id, originator_version))"
)


def sqlite_raw_write(conn: sqlite3.Connection, transactions: list[list[Row]]) -> None:
    insert = f"INSERT INTO {TABLE} VALUES (?, ?, ?, ?)"
    for rows in transactions:
        conn.execute("BEGIN")
        # The library stores the id as 32 hex digits.
        conn.executemany(insert, [(i.hex, v, t, s) for i, v, t, s in rows])
        conn.execute("COMMIT")


def sqlite_raw_read(conn: sqlite3.Connection) -> int:
    return raw_read(
        conn.execute, f"SELECT rowid, * FROM {TABLE} WHERE rowid >= ? ORDER BY rowid LIMIT ?"
    )


@contextmanager
def sqlite_run(commands: int, transactions: list[list[Row]]) -> Iterator[Sides]:
    with (
        tempfile.TemporaryDirectory(prefix="chanjiao-bench-") as tmp,
        # As the library connects: autocommit mode, an explicit BEGIN per
        # transaction, WAL journal, default synchronous (FULL).
        closing(sqlite3.connect(Path(tmp, "raw.db"), isolation_level=None)) as conn,
        closing(Ledger(f"sqlite:///{Path(tmp, 'ledger.db')}")) as ledger,
    ):
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(SQLITE_DDL)
        yield {
            "baseline": (
                lambda: sqlite_raw_write(conn, transactions),
                lambda: sqlite_raw_read(conn),
            ),
            "ledger": (lambda: record(ledger, commands), lambda: ledger_read(ledger)),
            "clock": SaveClock(ledger),
        }


# --- report ---------------------------------------------------------------------


def report(store: str, samples: dict, events: int) -> None:
    """Write, the saves alone (against the same baseline: one bare transaction per
    command), read."""
    for what, goals, per in (
        ("write", WRITE_GOAL, events),
        ("save", {}, events),
        ("read", READ_GOAL, 1),
    ):
        base = "write" if what == "save" else what
        raw = per / statistics.median(samples[f"baseline {base}"])
        ledger = per / statistics.median(samples[f"ledger {what}"])
        ratio = ledger / raw
        goal = goals.get(store)
        verdict = ""
        if goal is not None:
            verdict = f"  (goal >= {goal}: {'met' if ratio >= goal else 'MISSED'})"
        print(
            f"{store:8} {what:5}  baseline {raw:9,.0f} ev/s   ledger {ledger:9,.0f} ev/s"
            f"   ledger/baseline {ratio:.2f}{verdict}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2000, help="commands (= events) to record")
    parser.add_argument("--repeats", type=int, default=5, help="samples per measurement")
    parser.add_argument("--store", choices=["postgres", "sqlite", "all"], default="all")
    parser.add_argument(
        "--quick", action="store_true", help="92 commands, one repeat: shows it runs to the end"
    )
    args = parser.parse_args()
    if args.quick:
        args.events, args.repeats = 2 * (1 + 2 * MEMBERS_PER_COMMUNITY + 5), 1

    transactions = baseline_transactions(args.events)
    events = sum(map(len, transactions))
    print(
        f"{args.events} commands, {events} events, {args.repeats} repeats; "
        f"medians (reads: {-(-MIN_READ_EVENTS // events)} passes over the log per sample)"
    )
    runs: dict[str, Run] = {"postgres": postgres_run, "sqlite": sqlite_run}
    for store in runs if args.store == "all" else [args.store]:
        report(store, measure(runs[store], args.events, transactions, args.repeats), events)


if __name__ == "__main__":
    main()
