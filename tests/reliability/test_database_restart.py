"""Database restart: PostgreSQL stopped and started again while the server is under
load (issue 8, scenario 2).

While the database is away the server answers 503 with ``Retry-After`` — never a 500,
never a half-recorded command —, it recovers by itself once the database is back, and
clients that retry with their ``Idempotency-Key`` end with each command recorded
exactly once; the read models catch up and the event stream hears other processes'
events again.

The scenario itself (4 clients, a ``pg_ctl stop -m fast``, 3 s down, ``pg_ctl start``)
hits the delicate moments only by chance; the tests after it reproduce each of them
on purpose: a restart while the server is idle, the stream's LISTEN connection, a
commit whose acknowledgement is lost, and a 503 after the key's reservation.

The shared cluster on 127.0.0.1:5432 is never stopped: each test that restarts the
database starts a private, throwaway cluster (``initdb`` as the ``postgres`` user when
run as root) on a free loopback port and removes it at the end, even on failure.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import psycopg
import pytest
from eventsourcing.persistence import OperationalError

from adapters.idempotency import RequestKeys
from adapters.tracking import Tracking
from bootstrap import Ledger
from domain.unit import MemberUnit
from domain.values import format_fen, unit_id_for
from tests.api.streaming_support import Message, parse_sse
from tests.conftest import REQUIRE_POSTGRES
from tests.factories import credit_code
from tests.idempotency_keys import keyed
from tests.reliability.server import ServerProcess, free_port, issue_token

PG_BIN = Path(os.environ.get("CHANJIAO_PG_BIN", "/usr/lib/postgresql/15/bin"))
CLIENTS = 4
WARM_UP_S = 2.0  # load before the database goes away
DOWNTIME_S = float(os.environ.get("CHANJIAO_RESTART_DOWNTIME_S", "3"))  # the cluster stays down
AFTER_S = 3.0  # load once the server has recovered
COMMAND_BOUND_S = 60.0  # a client gives up on a command after this long
RECOVERY_BOUND_S = 30.0
HTTP_TIMEOUT_S = 20.0
SETUP = "setup:scenario-2"
PROBLEM = "urn:chanjiao:problem:"


# --- a private cluster ----------------------------------------------------------------


class Cluster:
    """A throwaway PostgreSQL cluster in a temporary directory, owned by the
    ``postgres`` user when we run as root (``initdb`` refuses root)."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="chanjiao-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0

    def _run(self, *args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        command = [str(PG_BIN / args[0]), *args[1:]]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)

    def create(self, dbname: str = "ledger") -> str:
        """initdb, start, create the database; the ledger URL."""
        if not (PG_BIN / "initdb").exists():
            raise RuntimeError(f"no initdb in {PG_BIN} (set CHANJIAO_PG_BIN)")
        if self.as_postgres:
            if shutil.which("runuser") is None:
                raise RuntimeError("running as root and runuser is not available for initdb")
            shutil.chown(self.root, "postgres", "postgres")
        done = self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed ({done.returncode}): {done.stderr.strip()[-800:]}")
        self.start()
        with psycopg.connect(self.server_url("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {dbname}")
        return self.server_url(dbname)

    def server_url(self, dbname: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=100"
        )
        done = self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-t",
            "30",
            "-o",
            options,
            "start",
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"pg_ctl start failed: {done.stdout}{done.stderr}\n"
                f"{self.log.read_text(errors='replace')[-2000:]}"
            )

    def stop(self, mode: str = "fast") -> None:
        done = self._run("pg_ctl", "-D", str(self.data), "-w", "-t", "30", "-m", mode, "stop")
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl stop failed: {done.stdout}{done.stderr}")

    def remove(self) -> None:
        with contextlib.suppress(Exception):
            if self.data.exists():
                self._run(
                    "pg_ctl", "-D", str(self.data), "-w", "-t", "30", "-m", "immediate", "stop"
                )
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def cluster() -> Iterator[tuple[Cluster, str]]:
    """A private cluster and the ledger URL of a fresh database on it."""
    private = Cluster()
    try:
        try:
            url = private.create()
        except (OSError, RuntimeError, subprocess.SubprocessError, psycopg.Error) as e:
            problem = f"a private PostgreSQL cluster could not be started: {e}"
            if REQUIRE_POSTGRES:
                pytest.fail(f"{problem} (CHANJIAO_REQUIRE_POSTGRES=1)", pytrace=False)
            pytest.skip(problem)
        yield private, url
    finally:
        private.remove()


# --- the set-up, straight through the ledger ----------------------------------------


@dataclass
class Seed:
    community: UUID
    agreement: UUID
    parties: list[UUID]
    position: int  # the log's last position after the set-up


def seed(url: str) -> Seed:
    """A city body with three members, a council and an approved agreement."""
    ledger = Ledger(url)
    try:
        core = [
            ledger.register_unit(
                code=credit_code(1, division="350902"),
                name="宁德新能源装备有限公司",
                unit_type="enterprise",
                division="350902",
                principal=SETUP,
            ),
            ledger.register_unit(
                code=credit_code(2, division="350902"),
                name="宁德职业技术学院",
                unit_type="vocational_school",
                level="higher",
                division="350902",
                principal=SETUP,
            ),
            ledger.register_unit(
                code=credit_code(3, division="350102"),
                name="福州大学",
                unit_type="university",
                division="350102",
                principal=SETUP,
            ),
        ]
        body = ledger.found_community(
            name="宁德新能源市域产教联合体",
            kind="city",
            industry="锂电新能源",
            division="350900",
            founded_on=date(2024, 3, 1),
            principal=SETUP,
        )
        for unit in core:
            ledger.admit_member(
                body.id, unit.id, role="participant", effective_on=date(2024, 3, 2), principal=SETUP
            )
        ledger.adopt_charter(body.id, version="1.0", effective_on=date(2024, 3, 2), principal=SETUP)
        for i, unit in enumerate(core):
            ledger.assign_seat(
                body.id,
                unit.id,
                representative=f"代表{i}",
                office="chair" if i == 0 else "director",
                effective_on=date(2024, 3, 3),
                principal=SETUP,
            )
        meeting = ledger.record_meeting(
            body.id, held_on=date(2024, 3, 10), present=[u.id for u in core], principal=SETUP
        )
        resolution = ledger.record_resolution(
            body.id,
            meeting=meeting,
            matter="agreement",
            title="批准共享实训基地共建协议",
            votes_for=3,
            votes_against=0,
            abstentions=0,
            principal=SETUP,
        )
        assert resolution.number is not None, resolution
        agreement = ledger.draft_agreement(
            body.id,
            title="共享实训基地",
            kind="training_base",
            drafted_on=date(2024, 3, 5),
            principal=SETUP,
            parties=[
                {"unit_id": u.id, "cost_share_bp": cost, "benefit_share_bp": benefit}
                for u, (cost, benefit) in zip(
                    core, [(5000, 4000), (3000, 3000), (2000, 3000)], strict=False
                )
            ],
        )
        ledger.approve_agreement(agreement.id, resolution=resolution.number, principal=SETUP)
        return Seed(
            body.id, agreement.id, [u.id for u in core], ledger.recorder.max_notification_id() or 0
        )
    finally:
        ledger.close()


# --- the clients and their journal ----------------------------------------------------


@dataclass
class Command:
    client: int
    n: int
    kind: str  # "register" or "contribute"
    key: str
    path: str
    body: dict[str, Any]
    code: str | None = None
    description: str | None = None
    fen: int = 0
    outcome: str = ""  # acknowledged, refused, gave_up
    answer: Any = None
    details: list[str] = field(default_factory=list)  # each refusal's problem detail, once
    sent_at: float = 0.0
    tries: list[tuple[float, int | str]] = field(default_factory=list)  # (when, status or error)

    @property
    def retries(self) -> int:
        return max(len(self.tries) - 1, 0)


@dataclass
class Journal:
    """Every answer (or transport error) any client got, with its time."""

    commands: list[Command] = field(default_factory=list)
    answers: list[tuple[float, int | str, str | None]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, cmd: Command, what: int | str, retry_after: str | None = None) -> None:
        now = time.monotonic()
        cmd.tries.append((now, what))
        with self.lock:
            self.answers.append((now, what, retry_after))

    def first_2xx_after(self, moment: float) -> float | None:
        with self.lock:
            times = [
                t
                for t, what, _ in self.answers
                if isinstance(what, int) and 200 <= what < 300 and t > moment
            ]
        return min(times) if times else None


def command_for(client: int, n: int, s: Seed) -> Command:
    key = f"restart-{client}-{n:04d}"
    if n % 2 == 0:
        code = credit_code(10_000 + client * 1_000 + n, division="350902")
        return Command(
            client,
            n,
            "register",
            key,
            "/units",
            {
                "code": code,
                "name": f"重启期间登记单位{client}-{n:04d}",
                "type": "enterprise",
                "division": "350902",
            },
            code=code,
        )
    description = f"重启期间投入{client}-{n:04d}"
    fen = 100_00 + client * 1_000 + n
    return Command(
        client,
        n,
        "contribute",
        key,
        f"/agreements/{s.agreement}/contributions",
        {
            "unit_id": str(s.parties[n % len(s.parties)]),
            "kind": "funds",
            "amount": f"{fen // 100}.{fen % 100:02d}",
            "contributed_on": "2024-06-01",
            "description": description,
        },
        description=description,
        fen=fen,
    )


def transient_409(response: httpx.Response) -> bool:
    """The record kept changing, or the same key is still being processed."""
    problem = response.json()
    return problem["type"] == PROBLEM + "concurrent-change" or (
        problem["type"] == PROBLEM + "conflict" and "still being processed" in problem["detail"]
    )


def send(http: httpx.Client, cmd: Command, journal: Journal) -> None:
    """Until acknowledged: on a 503 wait what Retry-After says, on a transport error
    or a transient 409 a moment, and send again with the same key."""
    cmd.sent_at = time.monotonic()
    deadline = cmd.sent_at + COMMAND_BOUND_S
    backoff = 0.05
    while True:
        try:
            response = http.post(cmd.path, json=cmd.body, headers={"Idempotency-Key": cmd.key})
        except httpx.TimeoutException:
            journal.note(cmd, "timeout")
            wait = 1.0
        except httpx.TransportError as e:
            journal.note(cmd, f"connection-error:{type(e).__name__}")
            wait = 0.5
        else:
            status = response.status_code
            journal.note(cmd, status, response.headers.get("retry-after"))
            if status >= 300 and response.text[:200] not in cmd.details:
                cmd.details.append(response.text[:200])
            if status < 300:
                cmd.outcome, cmd.answer = "acknowledged", response.json()
                return
            if status == 409 and "its answer was lost" in response.text:
                # Recorded, its answer lost with the database: the client is told so,
                # and the test checks it is in the log exactly once.
                cmd.outcome, cmd.answer = "recorded, answer lost", response.text
                return
            if status == 503:
                wait = float(response.headers.get("retry-after") or 1)
            elif status == 409 and transient_409(response):
                wait, backoff = backoff, min(backoff * 2, 1.0)
            elif status >= 500:  # journaled; the test fails on it, but sees the rest
                wait = 1.0
            else:
                cmd.outcome, cmd.answer = "refused", response.text
                return
        if time.monotonic() + wait > deadline:
            cmd.outcome = "gave_up"
            return
        time.sleep(wait)


def run_client(
    url: str,
    token: str,
    client: int,
    s: Seed,
    journal: Journal,
    stop: threading.Event,
    failures: list[BaseException],
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with httpx.Client(base_url=url, headers=headers, timeout=HTTP_TIMEOUT_S) as http:
            n = 0
            while not stop.is_set():
                cmd = command_for(client, n, s)
                with journal.lock:
                    journal.commands.append(cmd)
                send(http, cmd, journal)
                n += 1
    except BaseException as e:
        failures.append(e)


def timeline(during: list[tuple[float, int | str]]) -> list[tuple[int, Counter]]:
    """The answers after the stop, counted per second."""
    seconds: dict[int, Counter] = {}
    for t, what in during:
        seconds.setdefault(int(t), Counter())[what] += 1
    return sorted(seconds.items())


def compress(cmd: Command, origin: float) -> str:
    """A command's answers as runs: ``+3.1s 503×2, +4.2s 409×57``."""
    runs: list[list[Any]] = []
    for t, what in cmd.tries:
        if runs and runs[-1][1] == what:
            runs[-1][2] += 1
        else:
            runs.append([t - origin, what, 1])
    return ", ".join(f"{t:+.1f}s {what}×{n}" for t, what, n in runs)


# --- what the server wrote in its log -----------------------------------------------


@dataclass
class Incident:
    """One traceback in the server's log, with those chained to it."""

    header: str  # the line before it: the log message or "Exception in thread …"
    errors: list[str] = field(default_factory=list)  # each chained exception's line

    @property
    def expected(self) -> bool:
        """A failure of the store while it was away, logged by a part of the server
        that goes on (the read models catching up after a recorded command, the stream
        reading new events) — not a crash, not a 500."""
        return (
            self.header.startswith(HANDLED)
            and bool(self.errors)
            and all(STORE_AWAY.search(e) for e in self.errors)
        )


HANDLED = (
    "read models could not catch up",
    "the event stream could not read new events",
    "listening for new events failed",
)
STORE_AWAY = re.compile(
    r"^(eventsourcing\.persistence\.(OperationalError|InterfaceError)|"
    r"psycopg\.(OperationalError|InterfaceError)|"
    r"psycopg\.errors\.AdminShutdown|psycopg_pool\.PoolTimeout)\b"
)
CHAINED = ("The above exception was the direct cause", "During handling of the above exception")


def incidents(log: str) -> list[Incident]:
    lines = log.splitlines()
    found: list[Incident] = []
    for i, line in enumerate(lines):
        if not line.startswith("Traceback (most recent call last)"):
            continue
        before = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        if not (before.startswith(CHAINED) and found):
            found.append(Incident(before.strip()))
        error = next(
            (lines[j] for j in range(i + 1, len(lines)) if lines[j] and not lines[j][0].isspace()),
            "",
        )
        found[-1].errors.append(error.strip())
    return found


# --- the scenario --------------------------------------------------------------------


def read_added(url: str, s: Seed) -> tuple[list[Any], Counter, Counter, bool, Any]:
    """With a fresh Ledger: the events recorded after the set-up, the registrations per
    unit id, the agreement's entries per description, whether every registered unit's
    history is its registration alone, and the verification."""
    check = Ledger(url)
    try:
        added, start = [], s.position + 1
        while True:
            page = check.recorder.select_notifications(start=start, limit=1000)
            added.extend(page)
            if len(page) < 1000:
                break
            start = page[-1].id + 1
        registered = Counter(
            n.originator_id for n in added if n.topic == MemberUnit.Registered.TOPIC
        )
        described = Counter(e.description for e in check.agreement(s.agreement).entries)
        alone = all(len(check.event_hashes(unit)) == 1 for unit in registered)
        return added, registered, described, alone, check.verify()
    finally:
        check.close()


def test_database_restart_under_load_is_503_then_recovers_with_each_command_once(
    cluster: tuple[Cluster, str], tmp_path: Path
) -> None:
    began = time.monotonic()
    pg, url = cluster
    s = seed(url)
    token = issue_token(url, "admin")
    server = ServerProcess(url, tmp_path / "server.log").start()
    assert server.process is not None
    pid = server.process.pid
    journal, stop, failures = Journal(), threading.Event(), []
    threads = [
        threading.Thread(
            target=run_client,
            name=f"client-{c}",
            args=(server.url, token, c, s, journal, stop, failures),
        )
        for c in range(CLIENTS)
    ]
    stopping = stopped = starting = started = time.monotonic()
    recovered: float | None = None
    try:
        for t in threads:
            t.start()
        time.sleep(WARM_UP_S)
        acknowledged_before = sum(1 for c in list(journal.commands) if c.outcome == "acknowledged")
        stopping = time.monotonic()
        pg.stop("fast")
        stopped = time.monotonic()
        time.sleep(DOWNTIME_S)
        starting = time.monotonic()
        pg.start()
        started = time.monotonic()
        while recovered is None and time.monotonic() - started < RECOVERY_BOUND_S:
            time.sleep(0.05)
            recovered = journal.first_2xx_after(started)
        time.sleep(AFTER_S)
    finally:
        stop.set()
        for t in threads:
            t.join(COMMAND_BOUND_S + HTTP_TIMEOUT_S + 5)
    load_s = time.monotonic() - began

    try:
        commands, answers = journal.commands, journal.answers
        statuses = Counter(what for _, what, _ in answers)
        unavailable = [a for a in answers if a[1] == 503]
        errors = [a for a in answers if isinstance(a[1], str)]
        acknowledged = [c for c in commands if c.outcome == "acknowledged"]
        registrations = [c for c in commands if c.kind == "register"]
        contributions = [c for c in commands if c.kind == "contribute"]

        # The log, read afresh: each command's content exactly once, nothing else.
        added, registered, described, alone, verification = read_added(url, s)
        lost = sum(1 for c in registrations if registered[unit_id_for(c.code)] == 0) + sum(
            1 for c in contributions if described[c.description] == 0
        )
        duplicates = sum(n - 1 for n in registered.values() if n > 1) + sum(
            n - 1 for n in described.values() if n > 1
        )
        with psycopg.connect(url) as conn:  # a key reserved or recorded but never answered
            half_done = conn.execute(
                "SELECT idem_key, recorded, status FROM api_requests "
                "WHERE status IS NULL OR recorded = 0"
            ).fetchall()

        # The read side, through the recovered server.
        alive = server.process.poll() is None and server.process.pid == pid
        with httpx.Client(
            base_url=server.url, timeout=30.0, headers={"Authorization": f"Bearer {token}"}
        ) as http:
            healthz = http.get("/healthz").status_code
            found = {c.code: http.get("/units", params={"code": c.code}) for c in registrations}
            report = http.get(f"/agreements/{s.agreement}/report", params={"as_of": "2024-12-31"})
        missing = {
            code: r.status_code
            for code, r in found.items()
            if r.status_code != 200 or r.json()["id"] != str(unit_id_for(code))
        }
        expected = format_fen(sum(c.fen for c in contributions if described[c.description]))
        traces = incidents(server.output())
        unexpected = [t for t in traces if not t.expected]

        recovery = "none" if recovered is None else f"{recovered - started:.2f} s"
        slowest = max((c.tries[-1][0] - c.sent_at for c in commands if c.tries), default=0.0)
        print(
            f"\ndatabase restart: {len(commands)} commands from {CLIENTS} clients "
            f"({len(registrations)} registrations, {len(contributions)} contributions), "
            f"{len(acknowledged)} acknowledged ({acknowledged_before} before the stop), "
            f"{len(unavailable)} × 503 seen, {len(errors)} connection errors or timeouts seen, "
            f"{sum(c.retries for c in commands)} retries; recorded {len(added)} events, "
            f"lost {lost}, duplicates {duplicates}; answers "
            f"{dict(sorted(statuses.items(), key=str))}\n"
            f"  stop took {stopped - stopping:.2f} s, downtime {started - stopping:.2f} s (stop "
            f"begun → started again), recovery {recovery} (started → first 2xx), slowest command "
            f"{slowest:.2f} s; server log: {len(traces)} tracebacks "
            f"({len(unexpected)} unexpected); load phase {load_s:.1f} s"
        )
        print(
            "  answers by second from the stop: "
            + "; ".join(
                f"+{second}s {', '.join(f'{n}×{w}' for w, n in sorted(c.items(), key=str))}"
                for second, c in timeline(
                    [(t - stopping, w) for t, w, _ in answers if t >= stopping]
                )
            )
        )
        for c in commands:
            times = registered[unit_id_for(c.code)] if c.code else described[c.description]
            if c.outcome not in ("acknowledged", "recorded, answer lost") or times != 1:
                rows = [
                    (n.id, n.originator_version, n.state.decode()[:40])
                    for n in added
                    if (c.code or c.description or "").encode() in n.state
                ]
                print(
                    f"  {c.key} ({c.kind}, {c.outcome}) in the log {times}×, sent "
                    f"{c.sent_at - stopping:+.2f} s from the stop, "
                    f"answers {compress(c, stopping)}; "
                    f"reservation {[r for r in half_done if r[0] == c.key]}; "
                    f"details {[d[:150] for d in c.details]}; events {rows}"
                )
        for t in traces:
            print(
                f"  {'' if t.expected else 'UNEXPECTED '}traceback after {t.header[:90]!r}: "
                f"{' <- '.join(e[:100] for e in t.errors)}"
            )

        problems = []
        if failures:
            problems.append(f"a client failed: {failures!r}")
        if any(t.is_alive() for t in threads):
            problems.append("a client is still sending")
        if not acknowledged_before:
            problems.append("nothing was acknowledged before the stop")
        other = {w: n for w, n in statuses.items() if isinstance(w, int) and w >= 500 and w != 503}
        if other:
            problems.append(f"answered {other}")
        if [a for a in unavailable if not a[2]]:
            problems.append("a 503 without Retry-After")
        # A command committed just before the stop may still be answered just after it
        # (its answer comes from memory; every acknowledged one is checked in the log
        # below); one acknowledged a second or more into the downtime, before the server
        # was being started again, cannot have been. (`pg_ctl start -w` returns a little
        # after the server accepts connections, and a waiting command may be answered in
        # between.)
        if [a for a in answers if stopped + 1.0 < a[0] < starting and a[1] in (200, 201)]:
            problems.append("a command was acknowledged while the database was down")
        if recovered is None:
            problems.append(f"no 2xx within {RECOVERY_BOUND_S} s of the cluster's start")
        told = ("acknowledged", "recorded, answer lost")
        if not_acknowledged := [c.key for c in commands if c.outcome not in told]:
            problems.append(f"not acknowledged: {not_acknowledged}")
        if lost or duplicates or len(added) != len(commands):
            problems.append(
                f"{len(commands)} commands, {len(added)} events recorded: lost {lost}, "
                f"duplicates {duplicates}"
            )
        if set(registered) - {unit_id_for(c.code) for c in registrations} or set(described) - {
            c.description for c in contributions
        }:
            problems.append("recorded what no client sent")
        if not alone:
            problems.append("a unit's history holds more than its registration")
        if unexplained := [
            h
            for h in half_done
            if h[0] not in {c.key for c in commands if c.outcome == "recorded, answer lost"}
        ]:
            problems.append(f"idempotency keys left without an answer: {unexplained}")
        if not verification.ok:
            problems.append(f"verification: {verification.problems[:3]}")
        if not alive or healthz != 200:
            problems.append(f"the server process: alive {alive}, /healthz {healthz}")
        if missing:
            problems.append(f"units the read side does not find: {list(missing.items())[:5]}")
        if report.status_code != 200 or report.json()["total_contributed"] != expected:
            problems.append(f"cost-sharing report: {report.text[:200]}, expected {expected}")
        if unexpected:
            problems.append(f"unexpected tracebacks in the server log: {unexpected}")
        if time.monotonic() - began > 120:
            problems.append(f"took {time.monotonic() - began:.0f} s")
        assert not problems, "\n".join(problems)
    finally:
        server.stop()


def test_after_a_restart_while_idle_the_first_requests_are_answered(
    cluster: tuple[Cluster, str], tmp_path: Path
) -> None:
    """The database restarts while the server is idle: its pooled connections are
    all broken, though nothing tells it so. Once the database is back, requests must
    be answered — not refused with a 503 for each broken connection in turn."""
    pg, url = cluster
    s = seed(url)
    token = issue_token(url, "admin")
    server = ServerProcess(url, tmp_path / "server.log").start()
    journal = Journal()
    try:
        with httpx.Client(
            base_url=server.url,
            timeout=HTTP_TIMEOUT_S,
            headers={"Authorization": f"Bearer {token}"},
        ) as http:
            before = [command_for(0, n, s) for n in range(0, 10, 2)]
            for cmd in before:
                send(http, cmd, journal)
            pg.stop("fast")
            time.sleep(1.0)
            pg.start()
            time.sleep(1.0)  # the database is back: nothing is away any more
            back = time.monotonic()
            after = [command_for(1, n, s) for n in range(0, 20, 2)]
            for cmd in after:
                send(http, cmd, journal)
        first = next((t for t, what, _ in journal.answers if t > back and what == 201), None)
        refused = [(round(t - back, 2), what) for c in after for t, what in c.tries if what != 201]
        print(
            f"\nrestart while idle: {len(after)} commands after the database was back, "
            f"{len(refused)} answers other than 201 {refused}, first 201 "
            f"{'never' if first is None else f'{first - back:.2f} s'} after the first request"
        )
        assert all(c.outcome == "acknowledged" for c in before + after)
        # A pooled connection the restart broke may still cost one 503 (with
        # Retry-After) before the pool replaces it; never more, never a 500.
        assert len(refused) <= 1 and all(what == 503 for _, what in refused), refused
        assert first is not None and first - back < 3.0
    finally:
        server.stop()


# --- the event stream after the restart ------------------------------------------------

NOTIFY_BOUND_S = 3.0
"""An event another process records reaches a subscriber within this long when the
server hears PostgreSQL's NOTIFY; without it, only the hub's 10 s poll finds it."""


class Reader:
    """One GET /events/stream read in a thread: each message with its arrival time."""

    def __init__(self, url: str, token: str, after: int) -> None:
        self.messages: list[Message] = []
        self.client = httpx.Client(timeout=httpx.Timeout(10.0, read=None))
        self.thread = threading.Thread(target=self._read, args=(url, token, after), daemon=True)
        self.error: BaseException | None = None
        self.thread.start()

    def _read(self, url: str, token: str, after: int) -> None:
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        try:
            with self.client.stream(
                "GET", f"{url}/events/stream", headers=headers, params={"after": after}
            ) as response:
                assert response.status_code == 200, response.read()
                for item in parse_sse(response.iter_lines()):
                    if isinstance(item, Message):
                        self.messages.append(item)
        except BaseException as e:
            self.error = e

    def arrival(self, position: int, timeout: float) -> float | None:
        """When (``time.monotonic()``) the message at ``position`` arrived, or None."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for m in list(self.messages):
                if m.id == str(position):
                    return m.arrived
            time.sleep(0.02)
        return None

    def latency(self, url: str, serial: int, timeout: float = 12.0) -> float | None:
        """Seconds from another process's recording to its arrival here, or None."""
        began = time.monotonic()
        arrived = self.arrival(record_elsewhere(url, serial), timeout)
        return None if arrived is None else arrived - began

    def close(self) -> None:
        self.client.close()


def record_elsewhere(url: str, serial: int) -> int:
    """A registration by another process (a Ledger of the test's own); its position."""
    other = Ledger(url)
    try:
        other.register_unit(
            code=credit_code(serial, division="350902"),
            name=f"另一进程登记{serial}",
            unit_type="enterprise",
            division="350902",
            principal=SETUP,
        )
        return other.recorder.max_notification_id() or 0
    finally:
        other.close()


def test_the_event_stream_hears_other_processes_again_after_the_database_restarts(
    cluster: tuple[Cluster, str], tmp_path: Path
) -> None:
    """The hub LISTENs for the library's NOTIFY on a pooled connection; the restart
    breaks that connection, and the hub must listen again by itself."""
    pg, url = cluster
    head = record_elsewhere(url, 1)
    token = issue_token(url, "auditor")
    server = ServerProcess(url, tmp_path / "server.log").start()
    reader = Reader(server.url, token, head)
    try:
        time.sleep(0.5)  # subscribed
        before = [reader.latency(url, 2, NOTIFY_BOUND_S)]
        assert before[0] is not None, "the stream did not hear another process before the restart"
        pg.stop("fast")
        time.sleep(1.0)
        pg.start()
        started = time.monotonic()
        with httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=30.0
        ) as http:
            while http.get("/events", params={"after": head}).status_code != 200:
                assert time.monotonic() - started < RECOVERY_BOUND_S, "the server did not recover"
                time.sleep(0.5)
        time.sleep(2.0)  # time to listen again (the hub retries once a second)
        # Two events 4.5 s apart: the hub's 10 s poll cannot bring both within 3 s.
        after = [reader.latency(url, 3)]
        time.sleep(4.5)
        after.append(reader.latency(url, 4))
        log = server.output()
        crashed = [i for i in incidents(log) if i.header.startswith("Exception in thread")]
        shown = ", ".join("never" if t is None else f"{t:.2f} s" for t in after)
        print(
            f"\nevent stream: another process's events reached the stream {before[0]:.2f} s "
            f"after being recorded before the restart, {shown} after it; threads that died: "
            f"{[(i.header, i.errors[-1][:90]) for i in crashed]}"
        )
        assert reader.error is None, reader.error
        assert not crashed, f"a server thread died: {crashed}"
        assert all(t is not None and t < NOTIFY_BOUND_S for t in after), (
            f"after the restart other processes' events took {shown} to reach the stream "
            "(the hub no longer hears NOTIFY)"
        )
    finally:
        reader.close()
        server.stop()


# --- the moments of the restart that the scenario hits only by chance --------------------


def test_a_commit_whose_acknowledgement_is_lost_is_recorded_once(postgres_url: str) -> None:
    """The database goes away just after it committed a command's events, before the
    server read the acknowledgement: the server sees a broken connection. Retrying
    the save blindly (the library retries ``insert_events`` on OperationalError) finds
    the events already there (IntegrityError), and the command is then decided again
    as if the record had changed underneath it — recording a contribution twice, or
    refusing a registration as "already registered" by itself."""
    s = seed(postgres_url)
    ledger = Ledger(postgres_url)
    recorder: Any = ledger.recorder
    datastore = recorder.datastore
    inserting = threading.local()
    armed = threading.Event()
    # The recording's one call (ADR 0021); the library retries it as a whole.
    hook, real = recorder._record, datastore.get_connection
    keys = RequestKeys(Tracking.of(ledger.factory))
    broken: list[str] = []

    def noting(*args: Any, **kwargs: Any) -> Any:
        inserting.now = True
        return hook(*args, **kwargs)

    @contextlib.contextmanager
    def breaking_after_commit() -> Iterator[Any]:
        with real() as conn:
            yield conn
            if armed.is_set() and getattr(inserting, "now", False):  # it has committed
                armed.clear()
                inserting.now = False
                broken.append(what)
                raise psycopg.OperationalError("server closed the connection unexpectedly")

    def contribution(description: str) -> Any:
        return ledger.record_contribution(
            s.agreement,
            s.parties[0],
            kind="funds",
            amount="100.00",
            contributed_on="2024-06-01",
            description=description,
            principal=SETUP,
        )

    def keyed_contribution() -> Any:
        with keyed(keys, "a", "lost"):
            return contribution("确认丢失的带键投入")

    recorder._record, datastore.get_connection = noting, breaking_after_commit
    outcomes = {}
    try:
        code = credit_code(500, division="350902")
        for what, call in [
            ("keyed contribution", keyed_contribution),
            ("contribution", lambda: contribution("确认丢失的投入")),
            (
                "registration",
                lambda: ledger.register_unit(
                    code=code,
                    name="确认丢失的登记",
                    unit_type="enterprise",
                    division="350902",
                    principal=SETUP,
                ),
            ),
        ]:
            before = recorder.max_notification_id() or 0
            armed.set()
            try:
                outcomes[what] = f"returned {type(call()).__name__}"
            except Exception as e:
                outcomes[what] = f"raised {type(e).__name__}: {e}"
            recorded = (recorder.max_notification_id() or 0) - before
            outcomes[what] += f"; {recorded} event(s) recorded"
    finally:
        del recorder._record
        datastore.get_connection = real
        ledger.close()
    check = Ledger(postgres_url)
    try:
        entries = [e.description for e in check.agreement(s.agreement).entries]
        registered = check.unit(code).name
    finally:
        check.close()
    print(f"\nlost acknowledgement: {outcomes}")
    assert entries.count("确认丢失的投入") == 1, (entries, outcomes)
    assert entries.count("确认丢失的带键投入") == 1, (entries, outcomes)
    assert broken == list(outcomes), "each acknowledgement was lost once"
    assert all(outcome.startswith("returned") for outcome in outcomes.values()), outcomes
    assert registered == "确认丢失的登记"
    assert "AlreadyRegistered" not in outcomes["registration"], outcomes


@pytest.mark.parametrize("moment", ["after-the-commit", "before-it-and-during-the-clean-up"])
def test_a_503_tells_the_truth_and_the_retry_with_its_key_is_answered(
    world: Any, monkeypatch: pytest.MonkeyPatch, moment: str
) -> None:
    """Two moments of the restart that a 503 must survive:

    - after the commit: the command's events and its Idempotency-Key's mark are
      recorded, then the database goes away while the server reads the answer from the
      read models;
    - before it: the command fails (nothing recorded), and the database is still away
      when the server looks the key up again (another attempt might have recorded it).

    Either way the 503 must not say "nothing was recorded" when something was, and a
    retry with the same key once the database is back must be answered — not met with
    "still being processed" for ``api.idempotency.STALE`` (5 minutes)."""
    from api import resources

    away = OperationalError("terminating connection due to administrator command")
    service = world.api.app.state.service
    if moment == "after-the-commit":
        real = resources.unit_view

        def unit_view(c: Any, ref: Any) -> Any:
            monkeypatch.setattr(resources, "unit_view", real)  # once
            raise away

        monkeypatch.setattr(resources, "unit_view", unit_view)
    else:

        def register_unit(**kwargs: Any) -> Any:
            raise away

        find = service.requests.keys.find
        looked_up: list[Any] = []

        def find_once(*ids: Any) -> Any:  # before the command; then the database is away
            if looked_up:
                raise away
            looked_up.append(ids)
            return find(*ids)

        monkeypatch.setattr(service.ledger, "register_unit", register_unit)
        monkeypatch.setattr(service.requests.keys, "find", find_once)
    code = world.next_code()
    body = {"code": code, "name": "重启时刻的登记", "type": "enterprise", "division": "320506"}
    headers = {"Idempotency-Key": f"restart-{moment}"}
    first = world.api.request("POST", "/units", json=body, headers=headers)
    monkeypatch.undo()  # the database is back
    recorded = world.api.request("GET", "/units", params={"code": code}).status_code == 200
    retries = []
    for _ in range(3):
        retry = world.api.request("POST", "/units", json=body, headers=headers)
        retries.append(retry.status_code)
        if retry.status_code < 300:
            break
        time.sleep(float(retry.headers.get("retry-after") or 0.2))
    after = world.api.request("GET", "/units", params={"code": code})
    print(
        f"\n{moment}: first answer {first.status_code} "
        f"({first.json().get('detail', '')[:60]!r}), recorded then: {recorded}; retries "
        f"{retries}: {retry.json().get('detail', retry.json().get('id'))!r:.90}"
    )
    problems = []
    if first.status_code not in (201, 503) or (
        first.status_code == 503 and "Retry-After" not in first.headers
    ):
        problems.append(f"first answer {first.status_code}: {first.text}")
    if first.status_code == 503 and recorded and "nothing was recorded" in first.text:
        problems.append("the 503 says nothing was recorded, but the unit was")
    lost = retry.status_code == 409 and "its answer was lost" in retry.json()["detail"]
    if moment == "after-the-commit" and lost:
        # Recorded, and the answer never made: said at once, never recorded again.
        if after.status_code != 200 or set(retries) != {409}:
            problems.append(f"recorded-answer-lost, but {retries} / {after.status_code}")
    elif retry.status_code != 201:
        problems.append(f"the retry with the same key got {retries}: {retry.json()['detail']}")
    elif retry.json()["code"] != code or after.json()["id"] != retry.json()["id"]:
        problems.append(f"the retry answered {retry.text[:200]}")
    assert not problems, problems
