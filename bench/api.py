"""What the HTTP API costs over a bare endpoint, and how fast the event stream delivers.

    .venv/bin/python bench/api.py [--store postgres|sqlite|both] [--quick]
                                  [--repeats K] [--seconds S] [--warmup W] [--concurrency C]
                                  [--members M] [--no-idempotency-key] [--client lean|httpx]
                                  [--subscribers N] [--rate R] [--stream-seconds T]
                                  [--server uvicorn|uvicorn-fast|granian] [--workers N]
    .venv/bin/python bench/api.py --profile [--store ...] [--requests N] [--sql] [--pstats DIR]

``--quick`` (the test suite runs it, with and without ``--profile``): one repeat of
0.5 s samples after 0.25 s of warm-up, 4 connections, 5 subscribers for 1 s, 10 profiled
requests; both stores unless ``--store`` says otherwise. It shows that the servers, the
load, the stream and the recording process start, run and stop; its figures mean nothing.

THROUGHPUT: the real app (``api.app.create_app``) and a minimal starlette app, each
served by the same server (``--server``: uvicorn on asyncio with h11, or with httptools
as ``chanjiao serve`` runs it, the default; on uvloop with httptools; or granian) in its
own subprocess on a free loopback port; the app with ``--workers`` processes (default 1,
started as ``chanjiao serve --workers N`` starts them), the baseline always with one, so
that it stays the same yardstick from run to run. Both are loaded from this process by
the same client with C concurrent keep-alive connections (default 16) for S seconds
after W seconds of warm-up. The client is by default a lean HTTP/1.1 client on asyncio
streams (about 0.15 ms of CPU per request): ``httpx.AsyncClient`` costs 2 ms of CPU per
request on one connection and 4-5 ms with 16 on the 2-core development machine, more
than either server, so it measured itself (``--client httpx`` to see). Two routes:

- **write**: ``POST /agreements/{id}/costs`` with an ``Idempotency-Key`` (unless
  ``--no-idempotency-key``), each connection on its own approved agreement (fresh ones
  for every sample, set up through the ledger directly, so the aggregates stay the size
  of a year or two of entries and no two connections contend for one). The baseline:
  the same JSON body decoded with msgspec and one ``INSERT`` of a row in a table of the
  same database, through the same driver (psycopg with ``psycopg_pool`` sized as the
  library sizes its pool, 5 + 10; ``sqlite3`` in WAL mode, a connection per thread, one
  writer at a time as the library's pool does), answered 201 with the row as JSON.
- **read**: ``GET /communities/{id}/members`` of a community of M members (default
  30). The baseline: one ``SELECT`` by primary key of a row holding the app's own
  answer for that community, sent as it is (the same bytes).

Each sample counts requests completed in the window; latency is per request (median,
p99). Baseline and app samples alternate (order reversed on every repeat), and the
servers' CPU time per request (their workers' included) is read from ``/proc``.
Reported: medians of K repeats and ``app/baseline``, the ratio of the median
throughputs; goal >= 0.5.

STREAM (PostgreSQL): N subscribers (default 100) on ``GET /events/stream`` of the app
server; a separate process with its own ``Ledger`` records costs at R per second for T
seconds, so the server hears of them only by PostgreSQL's ``NOTIFY``. The commit time
of each event is taken in that process right after its save returns (the ledger's
``after_save`` hook, called once the transaction has committed); its receipt time when
its ``id:`` line reaches a subscriber. Delays are per event per subscriber (the
clocks are the same machine's); reported: median and p99 of each repeat, and the
median of those; goal p99 < 250 ms.

PROFILE (``--profile``, instead of the above): the app in this process (requests
through ``httpx.ASGITransport``, the thread pool replaced by direct calls so that all
the work is in one thread), N sequential write requests and N reads, each request's
time split into stages (token check, idempotency, scope, aggregate loads, the
command, the save, the read models' catch-up, the answer, encoding) with the SQL
statements each stage sends through a cursor (SQLite's count includes its ``BEGIN``;
psycopg sends its own implicitly; ``--sql`` lists one request's), then cProfile's
busiest functions (``--pstats DIR`` saves them). The in-process client's time is in
"the rest". Each write pass uses C fresh agreements, as the load test does.

PostgreSQL is ``postgresql://postgres@127.0.0.1:5432/test`` unless
``CHANJIAO_BENCH_POSTGRES_URL`` says otherwise; everything goes into a fresh schema
(``bench_api_<random>``), dropped at the end. SQLite goes into a temporary file.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import itertools
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import msgspec
import psycopg

# Run as a script, this file's own directory comes first on sys.path, and this file's
# name would hide the ``api`` package: import from the project root instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from bench.stores import throwaway_url  # noqa: E402
from bootstrap import Ledger, read_settings  # noqa: E402
from domain.values import credit_code_check_character  # noqa: E402

PRINCIPAL = "secretary:bench"

RATIO_GOAL = 0.5  # the app's throughput >= this share of the minimal endpoint's
STREAM_P99_GOAL_MS = 250.0

FOUNDED_ON, ADMITTED_ON, SEATED_ON = "2024-01-01", "2024-02-01", "2024-03-01"
DRAFTED_ON, APPROVED_FROM, INCURRED_ON = "2024-12-01", "2025-06-01", "2025-07-01"
SEATS = 4  # council seats, and the parties of each agreement (2,500 bp each)

WRITE_ROUTE = "POST /agreements/{id}/costs"
READ_ROUTE = "GET /communities/{id}/members"
BASE_WRITES, BASE_READS = "bench_baseline_writes", "bench_baseline_reads"


# --- the ledger's contents ---------------------------------------------------------------


def credit_code(serial: int) -> str:
    body = f"91320506{serial:09d}"
    return body + credit_code_check_character(body)


@dataclass
class Fixture:
    """What the benchmark set up in the ledger, through its own commands."""

    community: UUID
    seated: list[str]
    meetings: Iterator[int] = field(default_factory=itertools.count)
    drafted: Iterator[int] = field(default_factory=lambda: itertools.count(1))


def set_up(ledger: Ledger, members: int) -> Fixture:
    """A city body founded 2024-01-01 with ``members`` units from 2024-02-01, and a
    council of four of them (a chair and three directors) from 2024-03-01."""
    codes = [credit_code(7000 + i) for i in range(members)]
    for i, code in enumerate(codes):
        ledger.register_unit(
            code=code,
            name=f"苏州精密制造{i:03d}有限公司",
            unit_type="enterprise",
            division="320506",
            principal=PRINCIPAL,
        )
    body = ledger.found_community(
        name="苏州市域产教联合体",
        kind="city",
        industry="智能制造",
        division="320500",
        founded_on=FOUNDED_ON,
        principal=PRINCIPAL,
    ).id
    for code in codes:
        ledger.admit_member(
            body, code, role="participant", effective_on=ADMITTED_ON, principal=PRINCIPAL
        )
    for i, code in enumerate(codes[:SEATS]):
        ledger.assign_seat(
            body,
            code,
            representative=f"代表{i}",
            office="chair" if i == 0 else "director",
            effective_on=SEATED_ON,
            principal=PRINCIPAL,
        )
    return Fixture(body, codes[:SEATS])


def new_agreements(ledger: Ledger, fx: Fixture, count: int) -> list[str]:
    """``count`` training-base agreements among the four council members, drafted,
    approved by resolutions of one council meeting, in force from 2025-06-01."""
    n = next(fx.meetings)
    held_on = f"2025-{1 + n // 28 % 5:02d}-{1 + n % 28:02d}"
    meeting = ledger.record_meeting(
        fx.community,
        held_on=held_on,
        present=fx.seated,
        principal=PRINCIPAL,
        again=True,  # the dates cycle every 140 meetings in a long run
    )
    ids = []
    for _ in range(count):
        i = next(fx.drafted)
        number = ledger.record_resolution(
            fx.community,
            meeting=meeting,
            matter="agreement",
            title=f"批准共享实训基地{i}号共建协议",
            votes_for=SEATS,
            votes_against=0,
            abstentions=0,
            principal=PRINCIPAL,
        ).number
        agreement = ledger.draft_agreement(
            fx.community,
            title=f"共享实训基地{i}号",
            kind="training_base",
            drafted_on=DRAFTED_ON,
            parties=[
                {"unit_id": c, "cost_share_bp": 2500, "benefit_share_bp": 2500} for c in fx.seated
            ],
            principal=PRINCIPAL,
        ).id
        ledger.approve_agreement(
            agreement, resolution=number or "", effective_on=APPROVED_FROM, principal=PRINCIPAL
        )
        ids.append(str(agreement))
    return ids


def cost_body(i: int) -> bytes:
    return json.dumps(
        {
            "amount": f"{1000 + i % 9000}.{i % 100:02d}",
            "incurred_on": INCURRED_ON,
            "description": f"耗材与检测试剂（第{i}批）",
        },
        ensure_ascii=False,
    ).encode()


# --- the servers (subprocesses) ---------------------------------------------------------


def baseline_app(url: str) -> Any:
    """The minimal starlette app: one INSERT, one SELECT by key."""
    import msgspec
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    if url.startswith("sqlite"):
        import sqlite3

        path = url.split("://", 1)[1][1:]
        local = threading.local()
        writer = threading.Lock()  # one writer at a time, as the library's pool does

        def connection() -> sqlite3.Connection:
            conn = getattr(local, "conn", None)
            if conn is None:
                conn = local.conn = sqlite3.connect(
                    path, isolation_level=None, timeout=10, check_same_thread=False
                )
            return conn

        def insert(row: tuple[Any, ...]) -> None:
            with writer:
                connection().execute(f"INSERT INTO {BASE_WRITES} VALUES (?, ?, ?, ?, ?)", row)

        def select(key: str) -> bytes | None:
            found = (
                connection()
                .execute(f"SELECT answer FROM {BASE_READS} WHERE key = ?", (key,))
                .fetchone()
            )
            return found[0] if found else None

        close: Callable[[], None] = lambda: None  # noqa: E731
    else:
        from psycopg_pool import ConnectionPool

        conninfo, schema = pg_conninfo(url)
        pool = ConnectionPool(
            conninfo, min_size=5, max_size=15, kwargs={"autocommit": True}, open=True
        )
        writes, reads = f"{schema}.{BASE_WRITES}", f"{schema}.{BASE_READS}"

        def insert(row: tuple[Any, ...]) -> None:
            with pool.connection() as conn:
                conn.execute(f"INSERT INTO {writes} VALUES (%s, %s, %s, %s, %s)", row)

        def select(key: str) -> bytes | None:
            with pool.connection() as conn:
                row = conn.execute(f"SELECT answer FROM {reads} WHERE key = %s", (key,))
                found = row.fetchone()
            return found[0] if found else None

        close = pool.close

    class Cost(msgspec.Struct):
        amount: str
        incurred_on: str
        description: str

    decoder = msgspec.json.Decoder(Cost)

    async def write(request: Request) -> Response:
        cost = decoder.decode(await request.body())
        row = (
            uuid.uuid4().hex,
            request.path_params["id"],
            cost.amount,
            cost.incurred_on,
            cost.description,
        )
        await run_in_threadpool(insert, row)
        keys = ("entry", "agreement_id", "amount", "incurred_on", "description")
        return Response(
            msgspec.json.encode(dict(zip(keys, row, strict=True))),
            201,
            media_type="application/json",
        )

    async def read(request: Request) -> Response:
        answer = await run_in_threadpool(select, request.path_params["id"])
        if answer is None:
            return JSONResponse({"detail": "not found"}, 404)
        return Response(answer, media_type="application/json")

    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": True})

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> Any:
        yield
        close()

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/agreements/{id}/costs", write, methods=["POST"]),
            Route("/communities/{id}/members", read),
        ],
        lifespan=lifespan,
    )


SERVERS = ("uvicorn", "uvicorn-httptools", "uvicorn-fast", "granian")
"""``--server``: uvicorn on asyncio with h11 (uvicorn's own parser, in pure Python), with
httptools (``chanjiao serve``'s, ADR 0022), or on uvloop with httptools; or granian (HTTP in
Rust, uvloop for the app's event loop). uvloop and granian are not dependencies of the
project: ``pip install uvloop granian`` for the last two."""
UVICORN_STACKS = {
    "uvicorn": ("asyncio", "h11"),
    "uvicorn-httptools": ("asyncio", "httptools"),
    "uvicorn-fast": ("uvloop", "httptools"),
}
SERVE_VARIABLE = "CHANJIAO_BENCH_SERVE"  # granian's factory: which app on which store


def serve(kind: str, url: str, port: int, server: str, workers: int) -> None:
    """The ``--serve`` mode: one server (``workers`` processes) until SIGINT."""
    if server == "granian":
        from granian import Granian

        os.environ[SERVE_VARIABLE] = json.dumps([kind, url])
        Granian(
            "bench.api:granian_app",
            factory=True,
            address="127.0.0.1",
            port=port,
            interface="asgi",
            http="1",
            loop="uvloop",
            workers=workers,
            log_level="warning",
            log_access=False,
            working_dir=_HERE.parent,
        ).serve()
        return
    import uvicorn

    from cli.serve import run_workers, worker_app

    loop, http = UVICORN_STACKS[server]
    options: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "loop": loop,
        "http": http,
        "log_level": "warning",
        "access_log": False,
        "lifespan": "on",
    }
    if workers > 1:  # as ``chanjiao serve --workers N`` runs them
        settings = msgspec.structs.replace(read_settings(), database_url=url)
        run_workers(functools.partial(worker_app, settings), workers, options)
        return
    if kind == "app":
        from api.app import create_app

        app = create_app(url=url)
    else:
        app = baseline_app(url)
    uvicorn.Server(uvicorn.Config(app, workers=1, **options)).run()


def granian_app() -> Any:
    """granian's factory, in each of its workers: takes only an import string."""
    kind, url = json.loads(os.environ[SERVE_VARIABLE])
    if kind == "app":
        from api.app import create_app

        return create_app(url=url)
    return baseline_app(url)


class Server:
    """A server subprocess: ``app`` or ``baseline`` on ``url``; ``wait=False`` leaves
    waiting for it to answer to ``ready()``, so that two can start side by side."""

    def __init__(
        self, kind: str, url: str, server: str, workers: int = 1, wait: bool = True
    ) -> None:
        self.kind = kind
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (kept for the server's life)
        self.proc = subprocess.Popen(
            [
                *(sys.executable, __file__, "--serve", kind, "--url", url),
                *("--port", str(self.port), "--server", server, "--workers", str(workers)),
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        if wait:
            self.ready()

    def ready(self) -> None:
        """Wait until it answers ``/healthz``; stopped and an error if it does not."""
        deadline = time.monotonic() + 60
        while True:
            if self.proc.poll() is not None:
                output = self.output()
                self.stop()
                raise RuntimeError(f"the {self.kind} server stopped: {output}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                output = self.output()
                self.stop()
                raise RuntimeError(f"the {self.kind} server did not start: {output}")
            time.sleep(0.1)

    def cpu(self) -> float:
        """The server's CPU seconds so far (user + system), its workers' included."""
        ticks = 0
        for pid in process_tree(self.proc.pid):
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-3000:]

    def stop(self) -> None:
        """SIGINT (uvicorn's graceful shutdown), SIGKILL after 15 s; safe to repeat."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self.log.closed:
            self.log.close()


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants still running, from /proc."""
    found, i = [pid], 0
    while i < len(found):
        for task in Path(f"/proc/{found[i]}/task").glob("*"):
            with contextlib.suppress(OSError):
                found += [int(c) for c in (task / "children").read_text().split()]
        i += 1
    return found


def machine_busy() -> tuple[int, int]:
    """(busy, total) jiffies of all cores, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- load -------------------------------------------------------------------------------


@dataclass
class Sample:
    rps: float
    median_ms: float
    p99_ms: float
    cpu_ms: float  # server CPU per request
    requests: int
    server_cpu: float  # share of one core
    client_cpu: float
    machine: float  # share of all cores busy


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]


Request = tuple[str, str, dict[str, str], bytes]  # method, path, headers, body


class Connection:
    """One keep-alive HTTP/1.1 connection on asyncio streams: the lean client. (httpx
    spends 2-5 ms of CPU per request on this machine, more than the servers do.)"""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, base: str) -> Connection:
        host, port = base.removeprefix("http://").split(":")
        return cls(*await asyncio.open_connection(host, int(port)))

    async def send(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> None:
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await self.writer.drain()

    async def head(self) -> tuple[int, dict[bytes, bytes]]:
        raw = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *rest = raw[:-4].split(b"\r\n")
        fields = {}
        for line in rest:
            name, _, value = line.partition(b":")
            fields[name.strip().lower()] = value.strip()
        return int(status_line.split()[1]), fields

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, bytes]:
        await self.send(method, path, headers, body)
        status, fields = await self.head()
        if b"content-length" in fields:
            return status, await self.reader.readexactly(int(fields[b"content-length"]))
        chunks = []
        while size := int((await self.reader.readuntil(b"\r\n")).strip(), 16):
            chunks.append(await self.reader.readexactly(size + 2))
        await self.reader.readuntil(b"\r\n")
        return status, b"".join(c[:-2] for c in chunks)

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(OSError):
            await self.writer.wait_closed()


async def load(
    server: Server,
    requests: list[Callable[[int], Request]],
    warmup: float,
    seconds: float,
    client: str,
) -> Sample:
    """``len(requests)`` connections, each sending its own requests back to back; what
    completed in the ``seconds`` after ``warmup``."""
    n = len(requests)
    done: list[tuple[float, float]] = []
    errors: list[str] = []
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
    async with httpx.AsyncClient(base_url=server.base, limits=limits, timeout=60) as hx:
        if client == "httpx":

            async def call(conn: Any, r: Request) -> tuple[int, bytes]:
                response = await hx.request(r[0], r[1], headers=r[2], content=r[3])
                return response.status_code, response.content

            connections: list[Any] = [None] * n
        else:

            async def call(conn: Any, r: Request) -> tuple[int, bytes]:
                return await conn.request(*r)

            connections = [await Connection.open(server.base) for _ in range(n)]
        started = time.perf_counter()
        window = (started + warmup, started + warmup + seconds)
        marks: dict[str, Any] = {}

        async def mark_window() -> None:
            await asyncio.sleep(max(0.0, window[0] - time.perf_counter()))
            marks["start"] = (server.cpu(), client_cpu(), machine_busy())
            await asyncio.sleep(max(0.0, window[1] - time.perf_counter()))
            marks["end"] = (server.cpu(), client_cpu(), machine_busy())

        async def worker(make: Callable[[int], Request], conn: Any) -> None:
            for i in itertools.count():
                sent = time.perf_counter()
                if sent >= window[1]:
                    return
                status, body = await call(conn, make(i))
                received = time.perf_counter()
                if status >= 300:
                    errors.append(f"{status} {body[:300]!r}")
                    return
                done.append((sent, received))

        try:
            pairs = zip(requests, connections, strict=True)
            await asyncio.gather(mark_window(), *(worker(r, c) for r, c in pairs))
        finally:
            for conn in connections:
                if conn is not None:
                    await conn.close()
    if errors:
        raise RuntimeError(f"{len(errors)} requests failed, e.g. {errors[0]}")
    measured = [(b - a) * 1000 for a, b in done if window[0] <= b <= window[1]]
    (cpu0, me0, (busy0, total0)), (cpu1, me1, (busy1, total1)) = marks["start"], marks["end"]
    return Sample(
        rps=len(measured) / seconds,
        median_ms=statistics.median(measured),
        p99_ms=p99(measured),
        cpu_ms=(cpu1 - cpu0) * 1000 / len(measured),
        requests=len(measured),
        server_cpu=(cpu1 - cpu0) / seconds,
        client_cpu=(me1 - me0) / seconds,
        machine=(busy1 - busy0) / max(1, total1 - total0),
    )


def writer(token: str, agreement: str, idempotency: bool) -> Callable[[int], Request]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    seed = uuid.uuid4().hex[:8]

    def make(i: int) -> Request:
        extra = {"Idempotency-Key": f"bench-{seed}-{i}"} if idempotency else {}
        return "POST", f"/agreements/{agreement}/costs", {**headers, **extra}, cost_body(i)

    return make


def reader(token: str, community: UUID) -> Callable[[int], Request]:
    headers = {"Authorization": f"Bearer {token}"}
    request = ("GET", f"/communities/{community}/members", headers, b"")
    return lambda i: request


# --- the event stream -------------------------------------------------------------------


def record_costs(url: str, agreements: list[str], rate: float, seconds: float) -> None:
    """The ``--record`` mode: costs at ``rate`` per second through a Ledger of its own;
    prints the positions and commit times as JSON."""
    marks: list[tuple[int, float]] = []
    with contextlib.closing(Ledger(url)) as ledger:
        for a in agreements:
            ledger.agreement(a)  # connections open, code warm
        ledger.after_save.append(lambda position: marks.append((position, time.time())))
        count = int(rate * seconds)
        started = time.perf_counter()
        for i in range(count):
            time.sleep(max(0.0, started + i / rate - time.perf_counter()))
            ledger.record_cost(
                agreements[i % len(agreements)],
                amount=f"{100 + i}.00",
                incurred_on=INCURRED_ON,
                description=f"实时推送测试{i}",
                principal="secretary:stream",
            )
        late = time.perf_counter() - started - (count - 1) / rate
    print(json.dumps({"marks": marks, "late_s": late}))


@dataclass
class StreamSample:
    subscribers: int
    events: int
    expected: int
    received: int
    median_ms: float
    p99_ms: float
    max_ms: float
    late_s: float


async def stream_once(
    server: Server,
    url: str,
    token: str,
    after: int,
    agreements: list[str],
    subscribers: int,
    rate: float,
    seconds: float,
    client: str,
) -> StreamSample:
    receipts: list[dict[int, float]] = [{} for _ in range(subscribers)]
    ready = asyncio.Semaphore(0)
    limits = httpx.Limits(max_connections=subscribers, max_keepalive_connections=subscribers)
    timeout = httpx.Timeout(30, read=None)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=server.base, limits=limits, timeout=timeout) as hx:

        def got(mine: dict[int, float], line: str) -> None:
            if line.startswith("id: "):
                mine[int(line[4:])] = time.time()
            elif line.startswith("retry:"):
                ready.release()

        async def subscribe(mine: dict[int, float]) -> None:
            path = f"/events/stream?after={after}"
            if client == "httpx":
                async with hx.stream("GET", path, headers=headers) as response:
                    if response.status_code != 200:
                        raise RuntimeError(f"stream: {response.status_code}")
                    async for line in response.aiter_lines():
                        got(mine, line)
                return
            conn = await Connection.open(server.base)
            try:
                await conn.send("GET", path, headers)
                status, _ = await conn.head()
                if status != 200:
                    raise RuntimeError(f"stream: {status}")
                # chunked: each SSE message is one chunk; size lines and blank lines pass by
                while line := await conn.reader.readline():
                    got(mine, line.decode().rstrip("\r\n"))
            finally:
                await conn.close()

        tasks = [asyncio.create_task(subscribe(r)) for r in receipts]
        recorder: asyncio.subprocess.Process | None = None
        try:
            for _ in range(subscribers):
                await asyncio.wait_for(ready.acquire(), 60)
            recorder = await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--record",
                "--url",
                url,
                "--rate",
                str(rate),
                "--stream-seconds",
                str(seconds),
                "--agreements",
                ",".join(agreements),
                stdout=asyncio.subprocess.PIPE,
            )
            out, _ = await recorder.communicate()
            if recorder.returncode:
                raise RuntimeError("the recording process failed")
            report = json.loads(out)
            marks = dict(report["marks"])
            last = max(marks)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and not all(last in r for r in receipts):
                if any(t.done() for t in tasks):
                    break
                await asyncio.sleep(0.05)
        finally:
            if recorder is not None and recorder.returncode is None:  # interrupted
                recorder.kill()
                await recorder.wait()
            for t in tasks:
                t.cancel()
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        failed = [
            o
            for o in outcomes
            if isinstance(o, Exception) and not isinstance(o, asyncio.CancelledError)
        ]
        if failed:
            raise failed[0]
    delays = [(r[p] - t) * 1000 for r in receipts for p, t in marks.items() if p in r]
    return StreamSample(
        subscribers,
        len(marks),
        len(marks) * subscribers,
        len(delays),
        statistics.median(delays),
        p99(delays),
        max(delays),
        report["late_s"],
    )


# --- one store ----------------------------------------------------------------------


@dataclass
class Results:
    store: str
    samples: dict[tuple[str, str], list[Sample]] = field(default_factory=dict)
    stream: list[StreamSample] = field(default_factory=list)

    def median(self, route: str, who: str, what: str) -> float:
        return statistics.median(getattr(s, what) for s in self.samples[(route, who)])


def pg_conninfo(url: str) -> tuple[str, str]:
    """(the URL without ``schema=``, the schema)."""
    base, _, query = url.partition("?")
    params = [p for p in query.split("&") if p]
    schema = next(p.split("=", 1)[1] for p in params if p.startswith("schema="))
    rest = "&".join(p for p in params if not p.startswith("schema="))
    return (f"{base}?{rest}" if rest else base), schema


@contextlib.contextmanager
def baseline_tables(url: str) -> Iterator[Callable[[str, bytes], None]]:
    """Creates the baseline's two tables; yields ``put(key, answer)`` for the reads'."""
    columns = (
        "entry TEXT PRIMARY KEY, agreement_id TEXT NOT NULL, amount TEXT NOT NULL, "
        "incurred_on TEXT NOT NULL, description TEXT NOT NULL"
    )
    if url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(url.split("://", 1)[1][1:], isolation_level=None, timeout=10)
        conn.execute(f"CREATE TABLE {BASE_WRITES} ({columns})")
        conn.execute(f"CREATE TABLE {BASE_READS} (key TEXT PRIMARY KEY, answer BLOB NOT NULL)")

        def put(key: str, answer: bytes) -> None:
            conn.execute(f"INSERT INTO {BASE_READS} VALUES (?, ?)", (key, answer))

        try:
            yield put
        finally:
            conn.close()
        return
    conninfo, schema = pg_conninfo(url)
    with psycopg.connect(conninfo, autocommit=True) as pg:
        pg.execute(f"CREATE TABLE {schema}.{BASE_WRITES} ({columns})")
        pg.execute(
            f"CREATE TABLE {schema}.{BASE_READS} (key TEXT PRIMARY KEY, answer BYTEA NOT NULL)"
        )

        def put_pg(key: str, answer: bytes) -> None:
            pg.execute(f"INSERT INTO {schema}.{BASE_READS} VALUES (%s, %s)", (key, answer))

        yield put_pg


def bench_store(store: str, url: str, args: argparse.Namespace) -> Results:
    from api.app import create_app

    res = Results(store)
    ledger = Ledger(url)
    try:
        started = time.perf_counter()
        fx = set_up(ledger, args.members)
        token = (
            create_app(ledger)
            .state.service.tokens.issue(role="admin", name="bench", issued_by="bench")
            .token
        )
        print(
            f"  set up a community of {args.members} members and a council of {SEATS} in "
            f"{time.perf_counter() - started:.1f} s",
            flush=True,
        )
        servers: list[Server] = []
        try:
            # Both start side by side; each is in ``servers`` (stopped in ``finally``)
            # before anything can fail.
            for kind in ("app", "baseline"):
                workers = args.workers if kind == "app" else 1
                servers.append(Server(kind, url, args.server, workers, wait=False))
            app, baseline = servers
            for server in servers:
                server.ready()
            with baseline_tables(url) as put:
                answer = httpx.get(
                    f"{app.base}/communities/{fx.community}/members",
                    headers={"Authorization": f"Bearer {token}"},
                )
                answer.raise_for_status()
                put(str(fx.community), answer.content)
            print(
                f"  servers up (app :{app.port}, baseline :{baseline.port}); the read's answer "
                f"is {len(answer.content):,} bytes",
                flush=True,
            )

            def sample(route: str, who: str) -> Sample:
                server = app if who == "app" else baseline
                if route == "write":
                    # fresh agreements: one per connection, set up outside the window
                    ids = (
                        new_agreements(ledger, fx, args.concurrency)
                        if who == "app"
                        else [str(uuid.uuid4()) for _ in range(args.concurrency)]
                    )
                    requests = [writer(token, a, args.idempotency) for a in ids]
                else:
                    requests = [reader(token, fx.community)] * args.concurrency
                return asyncio.run(load(server, requests, args.warmup, args.seconds, args.client))

            pairs = [("write", "baseline"), ("write", "app"), ("read", "baseline"), ("read", "app")]
            for repeat in range(args.repeats):
                for route, who in pairs if repeat % 2 == 0 else pairs[::-1]:
                    s = sample(route, who)
                    res.samples.setdefault((route, who), []).append(s)
                    print(
                        f"    {repeat + 1}/{args.repeats} {route:5} {who:8} {s.rps:8,.0f} req/s  "
                        f"median {s.median_ms:6.1f} ms  p99 {s.p99_ms:6.1f} ms  server CPU "
                        f"{s.cpu_ms:5.2f} ms/req ({s.server_cpu:4.0%} of a core)  client "
                        f"{s.client_cpu:4.0%}  machine {s.machine:4.0%}",
                        flush=True,
                    )

            if store == "postgres" and args.subscribers:
                agreements = new_agreements(ledger, fx, 4)
                for repeat in range(args.repeats):
                    after = ledger.recorder.max_notification_id() or 0
                    s = asyncio.run(
                        stream_once(
                            app,
                            url,
                            token,
                            after,
                            agreements,
                            args.subscribers,
                            args.rate,
                            args.stream_seconds,
                            args.client,
                        )
                    )
                    res.stream.append(s)
                    print(
                        f"    {repeat + 1}/{args.repeats} stream: {s.events} events x "
                        f"{s.subscribers} subscribers, {s.received:,}/{s.expected:,} received, "
                        f"median {s.median_ms:.1f} ms  p99 {s.p99_ms:.1f} ms  max "
                        f"{s.max_ms:.1f} ms (recorder {s.late_s * 1000:.0f} ms behind "
                        f"schedule at the end)",
                        flush=True,
                    )
        finally:
            for server in servers:
                server.stop()
    finally:
        ledger.close()
    return res


# --- report -----------------------------------------------------------------------------


def print_results(res: Results, args: argparse.Namespace) -> list[str]:
    print()
    key = "with" if args.idempotency else "without"
    print(
        f"{res.store}: {args.concurrency} connections, {args.seconds:g} s after "
        f"{args.warmup:g} s of warm-up, medians of {args.repeats}; writes {key} Idempotency-Key; "
        f"community of {args.members} members"
    )
    print(
        f"  {'route':36} {'server':9} {'req/s':>8} {'median ms':>10} {'p99 ms':>8} "
        f"{'CPU ms/req':>11} {'app/baseline':>13}"
    )
    verdicts = []
    for route, path in (("write", WRITE_ROUTE), ("read", READ_ROUTE)):
        for who in ("baseline", "app"):
            ratio = ""
            if who == "app":
                r = res.median(route, "app", "rps") / res.median(route, "baseline", "rps")
                ratio = f"{r:13.2f}"
                verdicts.append(
                    f"{res.store}: {route} app >= {RATIO_GOAL} of the baseline's "
                    f"req/s: {'met' if r >= RATIO_GOAL else 'MISSED'} ({r:.2f})"
                )
            m = functools.partial(res.median, route, who)
            print(
                f"  {path if who == 'baseline' else '':36} {who:9} {m('rps'):8,.0f} "
                f"{m('median_ms'):10.1f} {m('p99_ms'):8.1f} {m('cpu_ms'):11.2f}{ratio}"
            )
    if res.stream:
        s0 = res.stream[0]
        print(
            f"  event stream: {s0.subscribers} subscribers, {s0.events} events at "
            f"{args.rate:g}/s recorded by another process, per repeat:"
        )
        print(f"    {'received':>15} {'median ms':>10} {'p99 ms':>8} {'max ms':>8}")
        for s in res.stream:
            print(
                f"    {s.received:>7,}/{s.expected:<7,} {s.median_ms:10.1f} {s.p99_ms:8.1f} "
                f"{s.max_ms:8.1f}"
            )
        median = statistics.median(s.median_ms for s in res.stream)
        tail = statistics.median(s.p99_ms for s in res.stream)
        print(f"    {'median':>15} {median:10.1f} {tail:8.1f}")
        lost = sum(s.expected - s.received for s in res.stream)
        met = tail < STREAM_P99_GOAL_MS and not lost
        verdicts.append(
            f"{res.store}: stream commit-to-delivery p99 < "
            f"{STREAM_P99_GOAL_MS:.0f} ms: {'met' if met else 'MISSED'} "
            f"({tail:.1f} ms; median {median:.1f} ms"
            f"{f'; {lost} deliveries MISSING' if lost else ''})"
        )
    return verdicts


# --- profile ------------------------------------------------------------------------------


class Stages:
    """Exclusive time per stage (time in a stage minus time in the stages it calls),
    and the SQL statements sent from each."""

    def __init__(self) -> None:
        self.stack: list[list[Any]] = []  # [label, started, time in children]
        self.seconds: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()
        self.statements: Counter[str] = Counter()
        self.log: list[tuple[str, str]] | None = None  # the statements, when kept

    def wrap(self, label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            frame = [label, time.perf_counter(), 0.0]
            self.stack.append(frame)
            try:
                return function(*args, **kwargs)
            finally:
                self.stack.pop()
                elapsed = time.perf_counter() - frame[1]
                self.seconds[label] += elapsed - frame[2]
                self.calls[label] += 1
                if self.stack:
                    self.stack[-1][2] += elapsed

        return run

    def statement(self, sql: Any) -> None:
        label = self.stack[-1][0] if self.stack else "(outside the stages)"
        self.statements[label] += 1
        if self.log is not None:
            with contextlib.suppress(Exception):  # psycopg's sql.Composed, as text
                sql = sql.as_string(None)
            self.log.append((label, " ".join(str(sql).split())))

    def reset(self) -> None:
        self.seconds.clear()
        self.calls.clear()
        self.statements.clear()


@contextlib.contextmanager
def patched(obj: Any, name: str, value: Any) -> Iterator[None]:
    old = obj.__dict__.get(name, None) if isinstance(obj, type) else getattr(obj, name)
    setattr(obj, name, value)
    try:
        yield
    finally:
        if isinstance(obj, type) and old is None:
            delattr(obj, name)
        else:
            setattr(obj, name, old)


def profile_store(store: str, url: str, args: argparse.Namespace) -> None:
    import cProfile
    import pstats

    import eventsourcing.sqlite

    import api.endpoint
    import projections.cost_sharing
    import projections.membership_model
    from api.app import create_app
    from api.resources import ENDPOINTS

    ledger = Ledger(url)
    try:
        fx = set_up(ledger, args.members)
        agreements: list[str] = []  # fresh ones for each pass, one per --concurrency
        app = create_app(ledger)
        service = app.state.service
        token = service.tokens.issue(role="admin", name="bench", issued_by="bench").token
        st = Stages()
        w = st.wrap
        stack = contextlib.ExitStack()

        async def inline(function: Callable[..., Any], *a: Any, **kw: Any) -> Any:
            return function(*a, **kw)

        def counting(execute: Callable[..., Any]) -> Callable[..., Any]:
            def run(*a: Any, **kw: Any) -> Any:
                st.statement(a[1] if len(a) > 1 else kw.get("query"))
                return execute(*a, **kw)

            return run

        def marking(run: Callable[..., Any]) -> Callable[..., Any]:
            """The idempotency table's statement run inside the save is the mark."""
            mark = w("idempotency: write the key, in the save's transaction", run)

            def choose(*a: Any, **kw: Any) -> Any:
                inside = bool(st.stack) and st.stack[-1][0].startswith("save: INSERT")
                return (mark if inside else run)(*a, **kw)

            return choose

        cost_endpoint = next(
            e for e in ENDPOINTS if e.method == "POST" and e.path.endswith("/costs")
        )
        store_ = service.store
        recorder: Any = ledger.recorder
        for obj, name, value in [
            (api.endpoint, "run_in_threadpool", inline),
            (api.endpoint, "to_json", w("encode the answer (msgspec)", api.endpoint.to_json)),
            (service.tokens, "check", w("token check", service.tokens.check)),
            (
                service.requests.keys.tables,
                "read",
                w("idempotency: look the key up", service.requests.keys.tables.read),
            ),
            (
                service.requests.keys.tables,
                "write",
                w("idempotency: keep the answer", service.requests.keys.tables.write),
            ),
            (service.requests.keys.tables, "run", marking(service.requests.keys.tables.run)),
            (ledger.repository, "get", w("load aggregates (replay)", ledger.repository.get)),
            (
                recorder,
                "select_events",
                w("load aggregates: SELECT events", recorder.select_events),
            ),
            (ledger, "record_cost", w("command: record_cost (decide)", ledger.record_cost)),
            (ledger, "save", w("save (the library's Application.save)", ledger.save)),
            (
                recorder,
                "insert_events",
                w("save: INSERT events, lock, NOTIFY, commit", recorder.insert_events),
            ),
            (store_, "catch_up", w("read models: catch up", store_.catch_up)),
            (
                projections.cost_sharing,
                "recorded_entry",
                w("answer: recorded_entry view", projections.cost_sharing.recorded_entry),
            ),
            (
                projections.membership_model,
                "members",
                w("answer: members query", projections.membership_model.members),
            ),
            (psycopg.Cursor, "execute", counting(psycopg.Cursor.execute)),
            (psycopg.Cursor, "executemany", counting(psycopg.Cursor.executemany)),
            (
                eventsourcing.sqlite.SQLiteCursor,
                "execute",
                counting(eventsourcing.sqlite.SQLiteCursor.execute),
            ),
        ]:
            stack.enter_context(patched(obj, name, value))
        scope = cost_endpoint.scope  # a frozen dataclass: set it behind its back
        object.__setattr__(cost_endpoint, "scope", w("scope: the agreement's community", scope))
        stack.callback(object.__setattr__, cost_endpoint, "scope", scope)

        transport = httpx.ASGITransport(app=app)
        auth = {"Authorization": f"Bearer {token}"}
        counter = itertools.count()

        async def write(client: httpx.AsyncClient) -> None:
            i = next(counter)
            extra = {"Idempotency-Key": f"profile-{i}"} if args.idempotency else {}
            r = await client.post(
                f"/agreements/{agreements[i % len(agreements)]}/costs",
                content=cost_body(i),
                headers={**auth, **extra, "Content-Type": "application/json"},
            )
            assert r.status_code == 201, r.text

        async def read(client: httpx.AsyncClient) -> None:
            r = await client.get(f"/communities/{fx.community}/members", headers=auth)
            assert r.status_code == 200, r.text

        async def run(
            call: Callable[[httpx.AsyncClient], Any],
            n: int,
            profiler: cProfile.Profile | None = None,
        ) -> float:
            if call is write:
                agreements[:] = new_agreements(ledger, fx, args.concurrency)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
                for _ in range(10):
                    await call(client)
                st.reset()
                started = time.perf_counter()
                if profiler:
                    profiler.enable()
                for _ in range(n):
                    await call(client)
                if profiler:
                    profiler.disable()
                elapsed = time.perf_counter() - started
                if args.sql and not profiler:
                    kept, st.log = st.log, []  # one more request, its statements kept
                    await call(client)
                    sql[name], st.log = st.log, kept
                return elapsed

        sql: dict[str, list[tuple[str, str]]] = {}
        with stack:
            rtt = []
            for _ in range(200):
                started = time.perf_counter()
                with store_.datastore.transaction(commit=False) as cursor:
                    cursor.execute("SELECT 1")
                rtt.append((time.perf_counter() - started) * 1000)
            print(
                f"  one bare transaction with SELECT 1 through the library's pool: "
                f"{statistics.median(rtt):.2f} ms (median of 200)"
            )
            for name, call, route in (("write", write, WRITE_ROUTE), ("read", read, READ_ROUTE)):
                total = asyncio.run(run(call, args.requests))
                n = args.requests
                print(
                    f"  {route}: {n} sequential requests in one thread, "
                    f"{total / n * 1000:.2f} ms each"
                )
                print(
                    f"    {'stage (exclusive time)':52} {'calls/req':>9} {'ms/req':>7} "
                    f"{'share':>6} {'SQL/req':>8}"
                )
                st.seconds["the rest: HTTP, routing, dispatch, decoding"] = total - sum(
                    st.seconds.values()
                )
                labels = sorted(set(st.seconds) | set(st.statements), key=lambda k: -st.seconds[k])
                for label in labels:
                    print(
                        f"    {label:52} {st.calls[label] / n:9.1f} "
                        f"{st.seconds[label] / n * 1000:7.2f} {st.seconds[label] / total:6.0%} "
                        f"{st.statements[label] / n:8.1f}"
                    )
                print(
                    f"    {'total':52} {'':9} {total / n * 1000:7.2f} {'':6} "
                    f"{sum(st.statements.values()) / n:8.1f}"
                )
                if name in sql:
                    print(f"    the SQL statements of one more {name}, in order:")
                    for label, text in sql[name]:
                        print(f"      {label[:28]:28} {text[:110]}")
                profiler = cProfile.Profile()
                asyncio.run(run(call, args.requests, profiler))
                print(f"    cProfile of {n} more {name}s, busiest functions (own time):")
                stats = pstats.Stats(profiler)
                if args.pstats:
                    saved = Path(args.pstats, f"api-{store}-{name}.pstats")
                    saved.parent.mkdir(parents=True, exist_ok=True)
                    stats.dump_stats(saved)
                    print(f"    (saved as {saved})")
                table: Any = stats.stats  # type: ignore[attr-defined]
                rows = sorted(table.items(), key=lambda kv: -kv[1][2])[:12]
                for (file, line, function), (_, calls, tottime, cumtime, _) in rows:
                    where = f"{Path(file).name}:{line} {function}"
                    print(
                        f"      {where[:60]:60} {calls / n:7.1f}/req "
                        f"{tottime / n * 1000:6.2f} ms/req "
                        f"(cumulative {cumtime / n * 1000:6.2f})"
                    )
    finally:
        ledger.close()


# --- main ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", choices=["postgres", "sqlite", "both"], default="both")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="one short repeat, 4 connections, 5 subscribers for 1 s: shows it runs to the end",
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4.0, help="measured seconds per sample")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds before measuring")
    parser.add_argument("--concurrency", type=int, default=16, help="client connections")
    parser.add_argument("--members", type=int, default=30, help="members of the read's community")
    parser.add_argument(
        "--client",
        choices=["lean", "httpx"],
        default="lean",
        help="lean: keep-alive HTTP/1.1 on asyncio streams (default); httpx: "
        "httpx.AsyncClient, which costs more CPU per request than the servers",
    )
    parser.add_argument(
        "--no-idempotency-key",
        dest="idempotency",
        action="store_false",
        help="writes without Idempotency-Key",
    )
    parser.add_argument(
        "--server",
        choices=SERVERS,
        default="uvicorn-httptools",
        help="for both servers: uvicorn (asyncio, h11), uvicorn-httptools (asyncio, "
        "httptools: chanjiao serve's; default), uvicorn-fast (uvloop, httptools) or granian "
        "(uvloop); the last two need uvloop and granian installed",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="the app server's processes (the baseline: 1)"
    )
    parser.add_argument("--subscribers", type=int, default=100, help="0: no stream test")
    parser.add_argument("--rate", type=float, default=20.0, help="events per second recorded")
    parser.add_argument("--stream-seconds", type=float, default=10.0)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead: split sequential requests into stages, in process",
    )
    parser.add_argument("--requests", type=int, default=200, help="--profile: requests per route")
    parser.add_argument("--pstats", metavar="DIR", help="--profile: save cProfile's stats there")
    parser.add_argument("--sql", action="store_true", help="--profile: print one request's SQL")
    # internal: the subprocesses
    parser.add_argument("--serve", choices=["app", "baseline"], help=argparse.SUPPRESS)
    parser.add_argument("--record", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--agreements", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.serve:
        serve(args.serve, args.url, args.port, args.server, args.workers)
        return
    if args.record:
        record_costs(args.url, args.agreements.split(","), args.rate, args.stream_seconds)
        return
    if args.quick:
        args.repeats, args.seconds, args.warmup = 1, 0.5, 0.25
        args.concurrency = min(args.concurrency, 4)
        args.subscribers, args.rate, args.stream_seconds = min(args.subscribers, 5), 10.0, 1.0
        args.requests = min(args.requests, 10)

    stores = ["postgres", "sqlite"] if args.store == "both" else [args.store]
    print(
        f"machine: {os.cpu_count()} cores; Python {sys.version.split()[0]}; {args.server}, "
        f"app {args.workers} worker{'s' if args.workers > 1 else ''}, baseline 1; servers "
        f"and client ({args.client}) in separate processes",
        flush=True,
    )
    verdicts = []
    for store in stores:
        print(f"{store}:", flush=True)
        with throwaway_url(store, "bench_api") as url:
            if args.profile:
                profile_store(store, url, args)
                continue
            res = bench_store(store, url, args)
        verdicts += print_results(res, args)
    if verdicts:
        print()
        print("Goals:")
        for verdict in verdicts:
            print(f"  {verdict}")


if __name__ == "__main__":
    main()
