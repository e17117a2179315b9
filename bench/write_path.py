"""What one write command costs: its latency distribution, as writers are added, and as
its aggregate grows.

    .venv/bin/python bench/write_path.py [--store postgres|sqlite|both] [--commands N]
                     [--writers 1,2,4,8,16] [--seconds S] [--lengths 0,1000,10000]
                     [--samples K] [--cold-runs C] [--cli-runs R] [--fill commands|batch]
    .venv/bin/python bench/write_path.py --quick     # seconds: shows it runs to the end

The command is a shared cost entered on an approved agreement (``ledger.record_cost``:
load the agreement, check its body is open, decide, save one event and its hash), on a
body and agreements set up through the ledger's own commands (``bench/api.py``'s
``set_up`` and ``new_agreements``). The baseline is the bare database: one ``INSERT`` of a
row of the events table's shape (id, version, topic and the stored state of a real
cost entry) in a table of the same database, one transaction per row, with the bare
driver (psycopg in autocommit mode, a connection per writer: one round trip; ``sqlite3``
in WAL mode with ``BEGIN`` and ``COMMIT``, a connection per writer and one writer at a
time, as the library's pool does).

LATENCY: N commands by one writer (default 3,000; a fresh agreement every 100 entries),
and N baseline rows, alternating in blocks of 100; per command p50, p99, p99.9 and max,
and the ratio of the medians, baseline p50 / ledger p50: the ledger's speed as a share
of the bare insert's, as ``ledger_io.py``'s throughput ratios read.

WRITERS: 1, 2, 4, 8, 16 threads for S seconds each (default 3), every writer on its own
agreement (no contention; one ``Ledger`` shared by all, as a server shares it), then the
baseline with as many threads; commands/s, p50 and p99 of each. Then all of the largest
count of writers on ONE agreement: commands/s, p50, p99, the saves refused because
another writer got there first (each is re-run by the command), the commands that gave
up (``ConcurrentChange``), and a check that the agreement holds exactly one entry per
command that succeeded; the run exits with status 1 if it does not.

LENGTH: agreements holding 0, 1,000 and 10,000 entries (``--lengths``), filled by
recording the entries through the ledger (``--fill commands``, one command each, timed and
reported; ``--fill batch``: 500 of the agreement's own entries per save, still through the
ledger's ``save`` and so chained as any other). Then K commands on each (default 200,
alternating between the agreements) by the ledger that keeps the aggregates in memory, as
a server does; C commands on each by a new ``Ledger`` per command, which loads the
agreement from the store — its latest snapshot and the events after it (ADR 0024) — as
every command-line run does (default 5); and R runs of
``chanjiao agreement cost`` as a process each (default 7, after one untimed run that
catches the read models up), timed from start to exit, with its CPU time beside. Each
reports its median and ``long/new``, the median on each length over the median on the
shortest; the goal (issue 16) is <= 1.3. The HTTP API's writes are ``api.py``'s.

PostgreSQL is ``postgresql://postgres@127.0.0.1:5432/test`` unless
``CHANJIAO_BENCH_POSTGRES_URL`` says otherwise; each store is a fresh schema
(``bench_write_<random>``, dropped afterwards) or a SQLite file in a temporary directory.
``--quick`` (the test suite runs it): 20 commands, writers 1 and 2 for 0.3 s, lengths 0 and
50, 5 samples, one cold run and one command-line run, both stores unless ``--store`` says
otherwise; its figures mean nothing.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
from eventsourcing.persistence import IntegrityError

# Run as a script, this file's own directory comes first on sys.path, and the bench
# modules' names would hide the project's packages: import from the project root instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from bench.api import (  # noqa: E402
    INCURRED_ON,
    PRINCIPAL,
    SEATS,
    Fixture,
    new_agreements,
    pg_conninfo,
    set_up,
)
from bench.ledger_io import PG_DDL, SQLITE_DDL, TABLE  # noqa: E402
from bench.stores import throwaway_url  # noqa: E402
from bootstrap import Ledger  # noqa: E402
from domain.errors import ConcurrentChange  # noqa: E402

LENGTH_GOAL = 1.3  # a command on a long agreement costs at most this many times one on a new
PER_AGREEMENT = 100  # the latency run moves to a fresh agreement after this many entries
BLOCK = 100  # the latency run alternates ledger and baseline in blocks of this many
FILL_BATCH = 500  # --fill batch: entries per save
BASE_TABLE = "bench_baseline_events"

Command = Callable[[], object]


# --- the commands ------------------------------------------------------------------------


def cost(ledger: Ledger, agreement: str, serials: Iterator[int]) -> Command:
    """A shared cost entered on ``agreement``: each call records one more, numbered from
    ``serials`` (which writers may share)."""

    def record() -> object:
        serial = next(serials)
        return ledger.record_cost(
            agreement,
            amount=f"{1000 + serial % 9000}.{serial % 100:02d}",
            incurred_on=INCURRED_ON,
            description=f"耗材与检测试剂（第{serial}批）",
            principal=PRINCIPAL,
        )

    return record


def fill(ledger: Ledger, agreement: str, entries: int, how: str) -> None:
    """Record ``entries`` costs on ``agreement`` through the ledger."""
    if how == "commands":
        command = cost(ledger, agreement, itertools.count())
        for _ in range(entries):
            command()
        return
    day = date.fromisoformat(INCURRED_ON)
    for start in range(0, entries, FILL_BATCH):
        record = ledger.agreement(agreement)  # a copy, as every command gets
        for serial in range(start, min(entries, start + FILL_BATCH)):
            record.incur_cost(1000_00 + serial, day, f"耗材与检测试剂（第{serial}批）", "bench")
        ledger.save(record)


class Refusals:
    """Counts, while it is entered, the saves the store refused because the aggregate had
    changed since it was read (the command then runs again from the start)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger, self.count, self.lock = ledger, 0, threading.Lock()

    def __enter__(self) -> Refusals:
        save = self.ledger.save

        def counted(*args: Any, **kwargs: Any) -> Any:
            try:
                return save(*args, **kwargs)
            except IntegrityError:
                with self.lock:
                    self.count += 1
                raise

        self.ledger.save = counted  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        del self.ledger.save  # the class's again


# --- the baseline ------------------------------------------------------------------------


class Baseline:
    """Bare one-row INSERT transactions into a table of the events table's shape, in the
    ledger's own database."""

    def __init__(self, store: str, url: str, topic: str, state: bytes) -> None:
        self.store, self.topic, self.state = store, topic, state
        self.writer_lock = threading.Lock()  # SQLite: one writer at a time, as the library
        if store == "postgres":
            self.conninfo, schema = pg_conninfo(url)
            self.table = f"{schema}.{BASE_TABLE}"
            with psycopg.connect(self.conninfo, autocommit=True) as conn:
                conn.execute(PG_DDL.replace(TABLE, BASE_TABLE).format(schema=schema))
        else:
            self.path = url.split("://", 1)[1][1:]
            self.table = BASE_TABLE
            with closing(sqlite3.connect(self.path, isolation_level=None)) as conn:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(SQLITE_DDL.replace(TABLE, BASE_TABLE))

    def writer(self) -> tuple[Command, Callable[[], None]]:
        """(insert one row in a transaction of its own, close): one connection each, rows
        of a new aggregate id with increasing versions."""
        originator, versions = uuid.uuid4(), itertools.count(1)
        if self.store == "postgres":
            pg = psycopg.connect(self.conninfo, autocommit=True)
            insert = (
                f"INSERT INTO {self.table} (originator_id, originator_version, topic, state) "
                "VALUES (%s, %s, %s, %s)"
            )

            def pg_insert() -> None:
                pg.execute(insert, (originator, next(versions), self.topic, self.state))

            return pg_insert, pg.close
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=10, check_same_thread=False)
        statement = f"INSERT INTO {self.table} VALUES (?, ?, ?, ?)"
        hex_id = originator.hex  # as the library stores it

        def sqlite_insert() -> None:
            with self.writer_lock:
                conn.execute("BEGIN")
                conn.execute(statement, (hex_id, next(versions), self.topic, self.state))
                conn.execute("COMMIT")

        return sqlite_insert, conn.close


# --- measuring ---------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest rank: the smallest value at least ``q`` of the values do not exceed."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def timed(command: Command) -> float:
    started = time.perf_counter()
    command()
    return time.perf_counter() - started


@dataclass
class Load:
    commands: int
    seconds: float
    latencies: list[float]
    gave_up: int = 0

    @property
    def rate(self) -> float:
        return self.commands / self.seconds


def load(commands: list[Command], seconds: float) -> Load:
    """Each command in ``commands`` run over and over by a thread of its own, all starting
    together, until ``seconds`` have passed. A command that gives up with
    ``ConcurrentChange`` is counted, not timed."""
    barrier = threading.Barrier(len(commands) + 1)
    latencies: list[list[float]] = [[] for _ in commands]
    gave_up = [0] * len(commands)
    ends = [0.0] * len(commands)
    failures: list[BaseException] = []
    deadline = 0.0

    def run(i: int) -> None:
        try:
            barrier.wait()
            mine = latencies[i]
            while True:
                started = time.perf_counter()
                if started >= deadline:
                    break
                try:
                    commands[i]()
                except ConcurrentChange:
                    gave_up[i] += 1
                    continue
                mine.append(time.perf_counter() - started)
            ends[i] = time.perf_counter()
        except BaseException as e:  # re-raised in the main thread
            failures.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(commands))]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    deadline = started + seconds
    barrier.wait()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    done = [x for mine in latencies for x in mine]
    return Load(len(done), max(ends) - started, done, sum(gave_up))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f}"


# --- the three parts, on one store -------------------------------------------------------


@dataclass
class Context:
    store: str
    url: str
    ledger: Ledger
    fx: Fixture
    baseline: Baseline
    args: argparse.Namespace
    serials: Iterator[int]

    def agreements(self, count: int) -> list[str]:
        return new_agreements(self.ledger, self.fx, count)


def latency(cx: Context) -> None:
    n = cx.args.commands
    agreements = cx.agreements(-(-n // PER_AGREEMENT))
    ledger_commands = [cost(cx.ledger, a, cx.serials) for a in agreements]
    insert, close = cx.baseline.writer()
    samples: dict[str, list[float]] = {"baseline": [], "ledger": []}
    try:
        for block, start in enumerate(range(0, n, BLOCK)):
            order = ("baseline", "ledger") if block % 2 == 0 else ("ledger", "baseline")
            for side in order:
                for i in range(start, min(n, start + BLOCK)):
                    command = insert if side == "baseline" else ledger_commands[i // PER_AGREEMENT]
                    samples[side].append(timed(command))
    finally:
        close()
    print(f"{cx.store}: latency of one cost entry, {n:,} commands, one writer (ms)")
    print(f"  {'':10} {'p50':>8} {'p99':>8} {'p99.9':>8} {'max':>8}")
    for side, values in samples.items():
        print(
            f"  {side:10} {ms(percentile(values, 0.5))} {ms(percentile(values, 0.99))} "
            f"{ms(percentile(values, 0.999))} {ms(max(values))}"
        )
    ratio = percentile(samples["baseline"], 0.5) / percentile(samples["ledger"], 0.5)
    print(
        f"  baseline p50 / ledger p50 {ratio:.2f} (the ledger's speed as a share of the bare "
        "insert's)",
        flush=True,
    )


def writers(cx: Context, problems: list[str]) -> None:
    seconds = cx.args.seconds
    print(f"{cx.store}: writers, each on its own agreement, {seconds:g} s each")
    print(
        f"  {'writers':>7} {'ledger/s':>9} {'p50 ms':>8} {'p99 ms':>8}   "
        f"{'baseline/s':>10} {'p50 ms':>8} {'p99 ms':>8}   ledger/baseline"
    )
    for count in cx.args.writers:
        agreements = cx.agreements(count)
        ledger_side = [cost(cx.ledger, a, cx.serials) for a in agreements]
        inserts = [cx.baseline.writer() for _ in range(count)]
        results: dict[str, Load] = {}
        order = ("ledger", "baseline") if count % 2 else ("baseline", "ledger")
        try:
            for side in order:
                results[side] = load(
                    ledger_side if side == "ledger" else [i for i, _ in inserts], seconds
                )
        finally:
            for _, close in inserts:
                close()
        row = f"  {count:7}"
        for side in ("ledger", "baseline"):
            r = results[side]
            width = 9 if side == "ledger" else 10
            row += (
                f" {r.rate:{width},.0f} {ms(percentile(r.latencies, 0.5))} "
                f"{ms(percentile(r.latencies, 0.99))}  "
            )
        print(f"{row} {results['ledger'].rate / results['baseline'].rate:8.2f}", flush=True)

    count = max(cx.args.writers)
    (agreement,) = cx.agreements(1)
    with Refusals(cx.ledger) as refusals:
        contended = load([cost(cx.ledger, agreement, cx.serials) for _ in range(count)], seconds)
    held = len(cx.ledger.agreement(agreement).entries)
    verdict = "ok" if held == contended.commands else "LOST OR DUPLICATED WRITES"
    print(
        f"  {count} writers on ONE agreement: {contended.rate:,.0f} commands/s, p50 "
        f"{percentile(contended.latencies, 0.5) * 1000:.2f} ms, p99 "
        f"{percentile(contended.latencies, 0.99) * 1000:.2f} ms; {refusals.count:,} saves "
        f"refused and run again, {contended.gave_up} commands gave up; the agreement holds "
        f"{held:,} entries for {contended.commands:,} commands that succeeded: {verdict}",
        flush=True,
    )
    if held != contended.commands:
        problems.append(
            f"{cx.store}: the contended agreement holds {held} entries, but "
            f"{contended.commands} commands succeeded"
        )


@dataclass
class Level:
    name: str
    medians: dict[int, float]


def lengths(cx: Context) -> list[Level]:
    args = cx.args
    print(f"{cx.store}: aggregate length (filled with --fill {args.fill})")
    agreements: dict[int, str] = {}
    for length, agreement in zip(args.lengths, cx.agreements(len(args.lengths)), strict=True):
        seconds = timed(lambda a=agreement, n=length: fill(cx.ledger, a, n, args.fill))
        agreements[length] = agreement
        if length:
            print(
                f"  filled an agreement with {length:,} entries in {seconds:.1f} s "
                f"({length / seconds:,.0f} entries/s)",
                flush=True,
            )
    levels = []

    warm: dict[int, list[float]] = {n: [] for n in args.lengths}
    for _ in range(args.samples):
        for length, agreement in agreements.items():
            warm[length].append(timed(cost(cx.ledger, agreement, cx.serials)))
    levels.append(report_level(f"library, kept aggregate ({args.samples} each)", warm, True))

    if args.cold_runs:
        cold: dict[int, list[float]] = {n: [] for n in args.lengths}
        for _ in range(args.cold_runs):
            for length, agreement in agreements.items():
                fresh = Ledger(cx.url)
                try:
                    cold[length].append(timed(cost(fresh, agreement, cx.serials)))
                finally:
                    fresh.close()
        levels.append(report_level(f"library, new Ledger ({args.cold_runs} each)", cold, False))

    if args.cli_runs:
        cli_run(cx.url, next(iter(agreements.values())))  # the read models catch up, untimed
        wall: dict[int, list[float]] = {n: [] for n in args.lengths}
        cpu: dict[int, list[float]] = {n: [] for n in args.lengths}
        for _ in range(args.cli_runs):
            for length, agreement in agreements.items():
                seconds, cpu_seconds = cli_run(cx.url, agreement)
                wall[length].append(seconds)
                cpu[length].append(cpu_seconds)
        levels.append(report_level(f"command line, a process ({args.cli_runs} each)", wall, False))
        report_level("  the process's CPU time", cpu, False)
    return levels


def report_level(name: str, samples: dict[int, list[float]], tail: bool) -> Level:
    new = min(samples)
    medians = {n: statistics.median(values) for n, values in samples.items()}
    print(f"  {name}:")
    for length, values in samples.items():
        p99 = f"   p99 {ms(percentile(values, 0.99))} ms" if tail else ""
        print(
            f"    {length:7,} entries   p50 {ms(medians[length])} ms{p99}   "
            f"long/new {medians[length] / medians[new]:5.2f}",
            flush=True,
        )
    return Level(name.split(" (")[0], medians)


CLI = Path(sys.executable).with_name("chanjiao")


def cli_run(url: str, agreement: str) -> tuple[float, float]:
    """Seconds for one ``chanjiao agreement cost`` process, from start to exit, and the
    CPU seconds it used (less sensitive to other work on the machine)."""
    command = (
        [str(CLI)]
        if CLI.exists()
        else [sys.executable, "-c", "import sys; from cli.main import main; sys.exit(main())"]
    )
    command += [
        "agreement",
        "cost",
        "--db",
        url,
        "--principal",
        PRINCIPAL,
        "--format",
        "json",
        "--amount",
        "1234.50",
        "--incurred-on",
        INCURRED_ON,
        "--description",
        "耗材与检测试剂（命令行）",
        agreement,
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=_HERE.parent)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"chanjiao agreement cost failed ({done.returncode}): {done.stderr}")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return seconds, cpu


def bench_store(store: str, args: argparse.Namespace, problems: list[str]) -> list[Level]:
    with throwaway_url(store, "bench_write") as url:
        ledger = Ledger(url)
        try:
            started = time.perf_counter()
            fx = set_up(ledger, SEATS)
            (first,) = new_agreements(ledger, fx, 1)
            cost(ledger, first, itertools.count())()
            last = ledger.recorder.max_notification_id()
            (stored,) = ledger.recorder.select_notifications(start=last, limit=1)
            print(
                f"{store}: set up a body, a council of {SEATS} and an agreement in "
                f"{time.perf_counter() - started:.1f} s; a cost entry is stored as "
                f"{len(stored.state)} bytes",
                flush=True,
            )
            cx = Context(
                store,
                url,
                ledger,
                fx,
                Baseline(store, url, stored.topic, stored.state),
                args,
                itertools.count(1),
            )
            latency(cx)
            writers(cx, problems)
            return lengths(cx)
        finally:
            ledger.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", choices=["postgres", "sqlite", "both"], default="both")
    parser.add_argument("--commands", type=int, default=3000, help="latency: commands per side")
    parser.add_argument("--writers", default="1,2,4,8,16", help="writer threads, comma-separated")
    parser.add_argument("--seconds", type=float, default=3.0, help="per writer count and side")
    parser.add_argument(
        "--lengths", default="0,1000,10000", help="entries already on the agreements"
    )
    parser.add_argument("--samples", type=int, default=200, help="commands on each length")
    parser.add_argument("--cold-runs", type=int, default=5, help="new Ledger per command")
    parser.add_argument("--cli-runs", type=int, default=7, help="command-line runs per length")
    parser.add_argument("--fill", choices=["commands", "batch"], default="commands")
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes, one of each: shows it runs to the end"
    )
    args = parser.parse_args()
    if args.quick:
        args.commands, args.writers, args.seconds = 20, "1,2", 0.3
        args.lengths, args.samples, args.cold_runs, args.cli_runs = "0,50", 5, 1, 1
    args.writers = [int(w) for w in args.writers.split(",")]
    args.lengths = sorted({int(n) for n in args.lengths.split(",")})
    if len(args.lengths) < 2:
        parser.error("--lengths needs at least two lengths: the shortest is the reference")

    print(
        f"machine: {os.cpu_count()} cores, load average "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}; Python {sys.version.split()[0]}",
        flush=True,
    )
    problems: list[str] = []
    results: dict[str, list[Level]] = {}
    for store in ["postgres", "sqlite"] if args.store == "both" else [args.store]:
        results[store] = bench_store(store, args, problems)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if problems:
        sys.exit(1)
    new, longest = args.lengths[0], args.lengths[-1]
    print()
    print(
        f"Goal: a command on an agreement of {longest:,} entries costs <= {LENGTH_GOAL}x one "
        f"on {'a new agreement' if new == 0 else f'one of {new:,}'} (medians):"
    )
    for store, levels in results.items():
        for level in levels:
            ratio = level.medians[longest] / level.medians[new]
            verdict = "met" if ratio <= LENGTH_GOAL else "MISSED"
            print(f"  {store:8} {level.name:26} long/new {ratio:5.2f}  ({verdict})")


if __name__ == "__main__":
    main()
