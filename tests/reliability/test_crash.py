"""Crash (issue 8, scenario 3): the server process is killed with SIGKILL in the middle
of a stream of commands and restarted on the same port and database.

Three clients write over HTTP — two register units (each a new credit code), one
records costs on one agreement (each a new description; a cost recorded twice would
show as two entries) —, every command with its own ``Idempotency-Key``. A subscriber
follows ``/events/stream`` throughout, reconnecting with ``Last-Event-ID`` as a
browser's EventSource would. After ``KILL_AFTER`` acknowledged commands the server is
killed; it is restarted at once and the clients go on to ``TOTAL``.

A command whose answer never came (in flight at the kill) has an unknown outcome: its
client retries it with the same key once the server is back. The key's reservation
was made by the killed process, so the restarted server answers 409 "still being
processed" until the reservation is ``api.idempotency.STALE`` (15 s) old; the client
keeps retrying, as a real one would: the server then runs a command that never
recorded, or says it was recorded and its answer lost.

Then every acknowledged command is in the log exactly once (nothing lost, nothing
twice), the read models agree with the log, the subscriber has received every
position in the log exactly once and in order, and the hash chains verify.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from api.idempotency import STALE
from bootstrap import Ledger
from domain.agreement import BenefitAgreement
from domain.unit import MemberUnit
from projections.read_models import open_store
from tests.api.streaming_support import Message, parse_sse
from tests.api.support import Api, Caller, build_world
from tests.factories import credit_code
from tests.reliability.server import ServerProcess, issue_token

KILL_AFTER = 100  # acknowledged commands before the SIGKILL
TOTAL = 300  # acknowledged commands in all
COST = Decimal("1.00")
COMMAND_BOUND_S = 60.0  # a client gives up on one command after this long
HTTP_TIMEOUT_S = 20.0
PROBLEM = "application/problem+json"


# --- clients ------------------------------------------------------------------------------


@dataclass
class Command:
    writer: str
    path: str
    body: dict[str, Any]
    tag: str  # what identifies its event in the log: a credit code, a cost's description
    key: str
    outcome: str = "pending"
    interrupted: bool = False  # an attempt was sent and its answer never came
    replayed: bool = False  # the answer came from the idempotency store
    waited: float = 0.0  # seconds its retries were told "still being processed"


@dataclass
class Run:
    url: str
    token: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    acked: int = 0
    errors: list[str] = field(default_factory=list)

    def ack(self) -> int:
        with self.lock:
            self.acked += 1
            return self.acked

    @property
    def done(self) -> bool:
        return self.acked >= TOTAL or bool(self.errors)


class Writer(threading.Thread):
    """One client sending one command at a time, each retried with its key until its
    outcome is known."""

    def __init__(self, name: str, run: Run, make: Callable[[int], tuple[str, dict, str]]):
        super().__init__(name=name, daemon=True)
        self.run_ = run
        self.make = make
        self.commands: list[Command] = []
        self.busy: Command | None = None  # a request sent, its answer not yet here

    def run(self) -> None:
        with httpx.Client(
            base_url=self.run_.url,
            timeout=HTTP_TIMEOUT_S,
            headers={"Authorization": f"Bearer {self.run_.token}"},
        ) as client:
            k = 0
            while not self.run_.done:
                k += 1
                path, body, tag = self.make(k)
                command = Command(self.name, path, body, tag, key=f"crash-{self.name}-{k}")
                self.commands.append(command)
                try:
                    self.send(client, command)
                except Exception as e:
                    self.run_.errors.append(f"{self.name} {command.key}: {e!r}")

    def send(self, client: httpx.Client, c: Command) -> None:
        deadline = time.monotonic() + COMMAND_BOUND_S
        while True:
            if time.monotonic() > deadline:
                raise AssertionError(f"no outcome within {COMMAND_BOUND_S} s")
            self.busy = c
            try:
                r = client.post(c.path, json=c.body, headers={"Idempotency-Key": c.key})
            except (httpx.ConnectError, httpx.ConnectTimeout):
                time.sleep(0.05)  # the server is down: nothing was sent
                continue
            except httpx.TransportError:
                c.interrupted = True  # sent, and the connection died before the answer
                time.sleep(0.05)
                continue
            finally:
                self.busy = None
            if r.status_code in (200, 201):
                c.outcome = "acknowledged"
                c.replayed = r.headers.get("idempotent-replayed") == "true"
                self.run_.ack()
                return
            detail = (
                r.json().get("detail", "")
                if r.headers.get("content-type", "").startswith(PROBLEM)
                else r.text
            )
            if r.status_code == 503:
                time.sleep(0.1)
                continue
            if r.status_code == 409 and c.interrupted and "still being processed" in detail:
                # The killed server's reservation: held until it is STALE.
                assert c.waited <= STALE.total_seconds() + 10, f"held too long: {detail}"
                time.sleep(0.5)
                c.waited += 0.5
                continue
            if r.status_code == 409 and c.interrupted and "answer was lost" in detail:
                c.outcome = "recorded, answer lost"
                return
            raise AssertionError(f"{r.status_code} {detail}")


class Follower(threading.Thread):
    """``GET /events/stream`` from the start, reconnecting with ``Last-Event-ID`` after
    the last complete message whenever the connection ends, until ``target``."""

    def __init__(self, run: Run) -> None:
        super().__init__(name="follower", daemon=True)
        self.run_ = run
        self.ids: list[int] = []
        self.connections = 0
        self.target: int | None = None
        self.error: BaseException | None = None

    def reached(self) -> bool:
        return self.target is not None and bool(self.ids) and self.ids[-1] >= self.target

    def run(self) -> None:
        try:
            self._follow()
        except BaseException as e:
            self.error = e

    def _follow(self) -> None:
        deadline = time.monotonic() + 110
        timeout = httpx.Timeout(5.0, read=20.0)  # the server's heartbeat: 15 s
        while not self.reached():
            assert time.monotonic() < deadline, f"stuck at {self.ids[-1:]}"
            headers = {"Authorization": f"Bearer {self.run_.token}", "Accept": "text/event-stream"}
            if self.ids:
                headers["Last-Event-ID"] = str(self.ids[-1])
            try:
                with (
                    httpx.Client(timeout=timeout) as client,
                    client.stream(
                        "GET", f"{self.run_.url}/events/stream", headers=headers
                    ) as response,
                ):
                    assert response.status_code == 200, response.read()
                    self.connections += 1
                    for m in parse_sse(response.iter_lines()):
                        if isinstance(m, Message):
                            self.ids.append(int(m.id))
                        if self.reached():
                            return
            except httpx.TransportError:
                pass
            time.sleep(0.1)


# --- the scenario ---------------------------------------------------------------------------


def test_a_killed_server_loses_nothing_duplicates_nothing_and_the_stream_resumes(
    database_url: str, tmp_path: Path
) -> None:
    store = "postgres" if database_url.startswith("postgres") else "sqlite"
    inspector = Ledger(database_url)  # the test's own view of the database

    token = issue_token(database_url, "admin")
    log = tmp_path / "server.log"
    server = ServerProcess(database_url, log).start()
    restarted: ServerProcess | None = None
    run = Run(server.url, token)
    follower = Follower(run)
    try:
        with httpx.Client(base_url=server.url, timeout=HTTP_TIMEOUT_S) as http:
            admin = Caller(token, "-", "-", "admin")
            world = build_world(Api(None, http, admin))  # type: ignore[arg-type]
        agreement = world.agreement_id
        setup_head = inspector.recorder.max_notification_id() or 0
        follower.start()

        def unit(offset: int) -> Callable[[int], tuple[str, dict, str]]:
            def make(k: int) -> tuple[str, dict, str]:
                code = credit_code(offset + k, division="320506")
                return (
                    "/units",
                    {
                        "code": code,
                        "name": f"崩溃测试单位{offset + k}",
                        "type": "enterprise",
                        "division": "320506",
                    },
                    code,
                )

            return make

        def cost(k: int) -> tuple[str, dict, str]:
            description = f"崩溃测试成本 {k}"
            return (
                f"/agreements/{agreement}/costs",
                {
                    "amount": str(COST),
                    "incurred_on": "2024-04-20",
                    "description": description,
                },
                description,
            )

        writers = [
            Writer("units-a", run, unit(10_000)),
            Writer("units-b", run, unit(20_000)),
            Writer("costs", run, cost),
        ]
        for w in writers:
            w.start()

        deadline = time.monotonic() + 60
        while run.acked < KILL_AFTER and not run.errors:
            assert time.monotonic() < deadline, f"only {run.acked} acknowledged in 60 s"
            time.sleep(0.005)
        acked_at_kill = run.acked
        in_flight = [w.busy for w in writers if w.busy is not None]
        killed_at = time.monotonic()
        server.kill()
        restarted = ServerProcess(database_url, log, port=server.port).start()
        recovery = time.monotonic() - killed_at

        for w in writers:
            w.join(COMMAND_BOUND_S + 30)
            assert not w.is_alive(), f"{w.name} did not finish"
        assert not run.errors, run.errors

        head = inspector.recorder.max_notification_id() or 0
        follower.target = head
        deadline = time.monotonic() + 60
        while not follower.reached():  # (its thread ends with the server, or at a heartbeat)
            assert follower.error is None, follower.error
            assert time.monotonic() < deadline, f"subscriber at {follower.ids[-1:]} of {head}"
            time.sleep(0.05)
        received = list(follower.ids)
        # The read models' positions, caught up by the restarted server's own saves
        # (before any read of ours catches them up).
        status = open_store(inspector).status()

        # The read models' contents, as the restarted server answers them.
        commands = [c for w in writers for c in w.commands]
        with httpx.Client(
            base_url=restarted.url,
            timeout=HTTP_TIMEOUT_S,
            headers={"Authorization": f"Bearer {token}"},
        ) as http:
            units_read = {}
            for c in commands:
                if c.path == "/units":
                    r = http.get("/units", params={"code": c.tag})
                    units_read[c.tag] = r.status_code == 200 and r.json()["code"] == c.tag
            report = http.get(f"/agreements/{agreement}/report").json()

        # The log, read directly.
        notifications = []
        while batch := inspector.recorder.select_notifications(
            start=(notifications[-1].id + 1) if notifications else 1, limit=1000
        ):
            notifications.extend(batch)
        positions = [n.id for n in notifications]
        tags: Counter[str] = Counter()
        costs = 0
        for n in notifications:
            if n.id <= setup_head:
                continue
            event = inspector.mapper.to_domain_event(n)
            if isinstance(event, MemberUnit.Registered):
                tags[event.code] += 1
            elif isinstance(event, BenefitAgreement.CostIncurred):
                tags[event.description] += 1
                costs += 1
        verification = inspector.verify()
    finally:
        run.errors.append("stopped")  # the writers stop at their next command
        follower.target = follower.target or 0
        server.kill()
        if restarted is not None:
            restarted.stop()
        inspector.close()

    acknowledged = [c for c in commands if c.outcome == "acknowledged"]
    known_recorded = [c for c in commands if c.outcome == "recorded, answer lost"]
    unresolved = [c for c in commands if c.outcome == "pending"]
    ours = {c.tag for c in commands}
    lost = [c.tag for c in acknowledged + known_recorded if tags[c.tag] == 0]
    duplicates = [t for t, n in tags.items() if n > 1]
    strangers = [t for t in tags if t not in ours]
    dups = len(received) - len(set(received))
    gaps = sorted(set(positions) - set(received))
    extra = sorted(set(received) - set(positions))
    behind = {name: n for name, _, n in status if n}
    interrupted = [c for c in commands if c.interrupted]
    in_flight_keys = {c.key for c in in_flight}

    print(
        f"\n{store}: {len(acknowledged)} acknowledged ({acked_at_kill} before the kill), "
        f"{len(in_flight)} in flight at the kill, {len(interrupted)} of them sent with the "
        f"answer lost (outcome unknown), each retried with its key: "
        + ", ".join(
            f"{c.key} -> {c.outcome}{' (replayed)' if c.replayed else ''}"
            f"{f' (waited {c.waited:.1f} s for its reservation)' if c.waited else ''}"
            for c in interrupted
        )
    )
    print(
        f"  recorded {sum(tags[t] for t in ours)} of our commands in {len(positions)} "
        f"events (positions {positions[0]}..{positions[-1]}); lost {len(lost)}, "
        f"duplicates {len(duplicates)}; read models behind: {behind or 'none'}; "
        f"verify ok={verification.ok} ({verification.events_checked} events)"
    )
    print(
        f"  subscriber: {len(received)} events over {follower.connections} connections, "
        f"gaps {len(gaps)}, dups {dups}, out of order "
        f"{sum(1 for a, b in itertools.pairwise(received) if b <= a)}; "
        f"recovery (kill -> /healthz) {recovery:.2f} s"
    )

    assert not unresolved, [c.key for c in unresolved]
    assert len(acknowledged) >= TOTAL
    assert not lost, lost
    assert not duplicates, duplicates
    assert not strangers, strangers
    assert all(tags[c.tag] == 1 for c in acknowledged + known_recorded)
    assert in_flight_keys <= {c.key for c in interrupted} | {c.key for c in acknowledged}
    # The read models agree with the log.
    assert not behind, behind
    assert all(units_read.values()), [t for t, ok in units_read.items() if not ok]
    assert Decimal(report["total_costs"]) == Decimal("1234.50") + costs * COST, report
    # The subscriber saw every position in the log once, in order, across the crash.
    assert follower.connections >= 2
    assert not gaps and not extra and not dups, (gaps[:10], extra[:10], dups)
    assert received == positions
    assert verification.ok, verification.problems[:5]
