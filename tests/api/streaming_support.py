"""Helpers for the event-stream tests: the real app under uvicorn on a loopback
port, a server-sent-events reader over a real socket, and writers that remember
which positions (and whose principal) each write produced.

Imported by ``tests/api/test_stream.py`` and ``tests/api/test_cloudevents.py``."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn

from api.app import create_app
from bootstrap import Ledger
from tests.factories import credit_code

DIVISION = "320506"
UNIT_REGISTERED = "chanjiao.unit.registered.v1"
UNIT_RENAMED = "chanjiao.unit.renamed.v1"
FOUNDED = "chanjiao.community.founded.v1"
ADMITTED = "chanjiao.community.member_admitted.v1"
COUNCIL_ESTABLISHED = "chanjiao.council.established.v1"
SEAT_ASSIGNED = "chanjiao.council.seat_assigned.v1"
AGREEMENT_DRAFTED = "chanjiao.agreement.drafted.v1"


# --- the server -------------------------------------------------------------------


def wait_until_healthy(url: str, timeout: float, failed: Callable[[], str | None]) -> None:
    """Until ``url``/healthz answers 200; ``failed()`` names why to stop waiting."""
    deadline = time.monotonic() + timeout
    while True:
        if (why := failed()) is not None:
            raise RuntimeError(why)
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url}/healthz did not answer within {timeout} s")
        time.sleep(0.05)


class LiveServer:
    """``create_app(ledger, heartbeat=…, poll=…)`` served by uvicorn in a thread on
    a free loopback port; ``start()`` returns once ``/healthz`` answers."""

    def __init__(
        self,
        ledger: Ledger,
        *,
        heartbeat: float = 0.5,
        poll: float | None = None,
        port: int = 0,
        **options: Any,
    ):
        """``port``: 0 for a free one; another server's, to take its place. ``options``:
        more of ``create_app``'s (the console's ``pages``)."""
        self.ledger = ledger
        self.app = create_app(ledger, heartbeat=heartbeat, poll=poll, **options)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            self.app,
            lifespan="on",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, name="uvicorn", daemon=True
        )

    def token(self, role: str = "integrator") -> str:
        return self.app.state.service.tokens.issue(
            role=role, name=f"{role}-{time.monotonic_ns()}", issued_by="test"
        ).token

    def start(self, timeout: float = 15.0) -> LiveServer:
        self.thread.start()
        wait_until_healthy(
            self.url,
            timeout,
            lambda: None if self.thread.is_alive() else "uvicorn stopped while starting",
        )
        return self

    def stop(self, timeout: float = 15.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)
        self.sock.close()
        assert not self.thread.is_alive(), "uvicorn did not shut down"


@contextlib.contextmanager
def serving(ledger: Ledger, **kwargs: Any) -> Iterator[LiveServer]:
    server = LiveServer(ledger, **kwargs).start()
    try:
        yield server
    finally:
        server.stop()


# --- server-sent events -----------------------------------------------------------


@dataclass
class Message:
    id: str | None
    event: str | None
    data: str
    arrived: float = 0.0  # time.monotonic() when its blank line was read


@dataclass
class Comment:
    text: str
    arrived: float = 0.0


@dataclass
class Retry:
    millis: int


def parse_sse(lines: Iterator[str]) -> Iterator[Message | Comment | Retry]:
    """The SSE wire format (WHATWG HTML, "Parsing an event stream"), parsed by hand:
    ``field: value`` lines, a blank line dispatches, ``:`` starts a comment."""
    ident: str | None = None
    event: str | None = None
    data: list[str] = []
    for line in lines:
        if line == "":
            if data:
                yield Message(ident, event, "\n".join(data), time.monotonic())
            ident, event, data = None, None, []
            continue
        if line.startswith(":"):
            yield Comment(line[1:].strip(), time.monotonic())
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "id":
            ident = value
        elif name == "event":
            event = value
        elif name == "data":
            data.append(value)
        elif name == "retry" and value.isdigit():
            yield Retry(int(value))
        else:
            raise AssertionError(f"unexpected line in the event stream: {line!r}")


class Subscription:
    """One GET /events/stream over a real socket; read with ``until`` or ``for_``."""

    def __init__(
        self,
        server: LiveServer,
        token: str,
        *,
        last_event_id: str | bytes | None = None,
        params: dict[str, Any] | None = None,
        read_timeout: float = 10.0,
    ):
        headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        self.client = httpx.Client(timeout=httpx.Timeout(10.0, read=read_timeout))
        self._cm = self.client.stream(
            "GET", f"{server.url}/events/stream", headers=headers, params=params or {}
        )
        self.response = self._cm.__enter__()
        self.messages: list[Message] = []
        self.comments: list[Comment] = []
        self.retry: list[Retry] = []
        self.ended = False
        self._parsed: Iterator[Message | Comment | Retry] | None = None

    @property
    def status(self) -> int:
        return self.response.status_code

    def _next(self) -> Message | Comment | Retry | None:
        if self._parsed is None:
            assert self.status == 200, self.response.read()
            assert self.response.headers["content-type"].startswith("text/event-stream")
            self._parsed = parse_sse(self.response.iter_lines())
        try:
            item = next(self._parsed)
        except (StopIteration, httpx.RemoteProtocolError, httpx.ReadError):
            self.ended = True
            return None
        except httpx.ReadTimeout:
            raise AssertionError(
                f"nothing arrived for {self.client.timeout.read} s, not even a keep-alive "
                f"comment (after {len(self.messages)} messages, {len(self.comments)} comments)"
            ) from None
        if isinstance(item, Message):
            self.messages.append(item)
        elif isinstance(item, Comment):
            self.comments.append(item)
        else:
            self.retry.append(item)
        return item

    def until(self, done: Callable[[Subscription], bool], timeout: float = 20.0) -> None:
        """Read until ``done(self)`` or the stream ends; fail after ``timeout`` s
        (heartbeats keep the reads short, so the deadline is checked often)."""
        deadline = time.monotonic() + timeout
        while not done(self):
            if self.ended:
                raise AssertionError(f"the stream ended after {len(self.messages)} messages")
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"gave up after {timeout} s with {len(self.messages)} messages, "
                    f"the last: {[m.id for m in self.messages[-8:]]}"
                )
            self._next()

    def count(self, n: int, timeout: float = 20.0) -> list[Message]:
        self.until(lambda s: len(s.messages) >= n, timeout)
        return self.messages

    def to_position(self, position: int, timeout: float = 20.0) -> list[Message]:
        self.until(lambda s: bool(s.messages) and int(s.messages[-1].id) >= position, timeout)
        return self.messages

    def for_(self, seconds: float) -> None:
        """Read whatever arrives for ``seconds`` (needs heartbeats shorter than that)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end and not self.ended:
            self._next()

    def heartbeats(self, n: int, timeout: float = 10.0) -> None:
        target = len(self.comments) + n
        self.until(lambda s: len(s.comments) >= target, timeout)

    def drain_until_ended(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.ended:
            assert time.monotonic() < deadline, "the stream did not end"
            self._next()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._cm.__exit__(None, None, None)
        self.client.close()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- writers that remember what they wrote ---------------------------------------


@dataclass(frozen=True)
class Recorded:
    position: int
    type: str
    principal: str
    subject: str


@dataclass
class Journal:
    """What the test wrote, position by position, from the commands it gave (the
    types and principals) and the notification log (the positions)."""

    entries: dict[int, Recorded] = field(default_factory=dict)
    serial: int = 0

    def record(
        self,
        ledger: Ledger,
        expected_types: list[str] | None,
        principal: str,
        command: Callable[[], Any],
    ) -> list[Recorded]:
        """Run ``command`` (no other writer may run meanwhile) and remember the
        events it recorded; ``expected_types`` None: whatever types it recorded."""
        before = ledger.recorder.max_notification_id() or 0
        command()
        new = ledger.recorder.select_notifications(start=before + 1, limit=100)
        assert new, "the command recorded nothing"
        assert expected_types is None or [n.topic for n in new] == expected_types, (
            f"the command recorded {[n.topic for n in new]}, expected {expected_types}"
        )
        made = [Recorded(n.id, n.topic, principal, str(n.originator_id)) for n in new]
        for r in made:
            assert r.position not in self.entries
            self.entries[r.position] = r
        return made

    def unit(self, ledger: Ledger, principal: str) -> str:
        """Register a new unit; its credit code."""
        self.serial += 1
        code = credit_code(self.serial)
        self.record(
            ledger,
            [UNIT_REGISTERED],
            principal,
            lambda: ledger.register_unit(
                code=code,
                name=f"单位{self.serial}",
                unit_type="enterprise",
                division=DIVISION,
                principal=principal,
            ),
        )
        return code

    def rename(self, ledger: Ledger, code: str, principal: str) -> None:
        self.serial += 1
        self.record(
            ledger,
            [UNIT_RENAMED],
            principal,
            lambda: ledger.rename_unit(
                code, name=f"新名{self.serial}", effective_on="2024-06-01", principal=principal
            ),
        )

    def community(self, ledger: Ledger, principal: str, name: str = "苏州市域产教联合体") -> str:
        made = self.record(
            ledger,
            [FOUNDED],
            principal,
            lambda: ledger.found_community(
                name=name,
                kind="city",
                industry="智能制造",
                division=DIVISION,
                founded_on="2024-01-01",
                principal=principal,
            ),
        )
        return made[0].subject

    def admit(self, ledger: Ledger, community: str, code: str, principal: str) -> None:
        self.record(
            ledger,
            [ADMITTED],
            principal,
            lambda: ledger.admit_member(
                community, code, role="participant", effective_on="2024-02-01", principal=principal
            ),
        )

    def seat(self, ledger: Ledger, community: str, code: str, principal: str, first: bool) -> None:
        types = [COUNCIL_ESTABLISHED, SEAT_ASSIGNED] if first else [SEAT_ASSIGNED]
        self.record(
            ledger,
            types,
            principal,
            lambda: ledger.assign_seat(
                community,
                code,
                representative="张三",
                office="chair" if first else "director",
                effective_on="2024-03-01",
                principal=principal,
            ),
        )

    def agreement(self, ledger: Ledger, community: str, codes: list[str], principal: str) -> None:
        share = 10_000 // len(codes)
        parties = [{"unit_id": c, "cost_share_bp": share, "benefit_share_bp": share} for c in codes]
        parties[0]["cost_share_bp"] += 10_000 - share * len(codes)
        parties[0]["benefit_share_bp"] += 10_000 - share * len(codes)
        self.record(
            ledger,
            [AGREEMENT_DRAFTED],
            principal,
            lambda: ledger.draft_agreement(
                community,
                title="共享实训基地",
                parties=parties,
                drafted_on="2024-04-01",
                principal=principal,
            ),
        )

    def lifecycle(self, ledger: Ledger, who: str) -> str:
        """A community's whole life, recording every event type there is; its id."""
        turn = iter(range(1000))

        def step(command: Callable[[Ledger, str], Any]) -> Any:
            principal = f"{who}-{next(turn)}"
            out: list[Any] = []
            self.record(ledger, None, principal, lambda: out.append(command(ledger, principal)))
            return out[0]

        codes = []
        for i in range(4):
            self.serial += 1
            code = credit_code(self.serial)
            codes.append(code)
            step(
                lambda L, p, i=i, code=code: L.register_unit(
                    code=code,
                    name=f"单位{self.serial}",
                    division=DIVISION,
                    principal=p,
                    unit_type="vocational_school" if i == 0 else "enterprise",
                    level="higher" if i == 0 else None,
                )
            )
        step(
            lambda L, p: L.correct_registration(
                codes[1], name="更正后的名称", division="320505", reason="登记时录错", principal=p
            )
        )
        step(
            lambda L, p: L.rename_unit(
                codes[3], name="改名", effective_on="2024-01-15", principal=p
            )
        )
        step(
            lambda L, p: L.relocate_unit(
                codes[3], division="320505", effective_on="2024-01-16", principal=p
            )
        )
        step(
            lambda L, p: L.qualify_unit(
                codes[3], qualification="上市公司", since="2020-01-01", source="上交所", principal=p
            )
        )
        step(
            lambda L, p: L.end_qualification(
                codes[3],
                qualification="上市公司",
                ended_on="2024-01-17",
                reason="退市",
                principal=p,
            )
        )
        body = step(
            lambda L, p: L.found_community(
                name=f"生命周期联合体{who}",
                kind="industry",
                industry="智能制造",
                division=DIVISION,
                founded_on="2024-01-01",
                principal=p,
            )
        ).id
        step(
            lambda L, p: L.adopt_charter(
                body, version="1.0", effective_on="2024-01-01", principal=p
            )
        )
        for code in codes[:3]:
            step(
                lambda L, p, code=code: L.admit_member(
                    body, code, role="participant", effective_on="2024-02-01", principal=p
                )
            )
        step(
            lambda L, p: L.change_member_role(
                body, codes[0], role="lead", effective_on="2024-02-10", principal=p
            )
        )
        for i, code in enumerate(codes[:3]):
            step(
                lambda L, p, i=i, code=code: L.assign_seat(
                    body,
                    code,
                    representative=f"代表{i}",
                    office="chair" if i == 0 else "director",
                    effective_on="2024-03-01",
                    principal=p,
                )
            )
        numbers = []
        for held_on in ("2024-03-10", "2024-04-10", "2024-05-20"):
            meeting = step(
                lambda L, p, held_on=held_on: L.record_meeting(
                    body, held_on=held_on, present=codes[:3], principal=p
                )
            )
            numbers.append(
                step(
                    lambda L, p, meeting=meeting: L.record_resolution(
                        body,
                        meeting=meeting,
                        matter="agreement",
                        title=f"决议{meeting}",
                        votes_for=3,
                        votes_against=0,
                        abstentions=0,
                        principal=p,
                    )
                ).number
            )
        parties = [
            {"unit_id": codes[0], "cost_share_bp": 6000, "benefit_share_bp": 5000},
            {"unit_id": codes[1], "cost_share_bp": 4000, "benefit_share_bp": 5000},
        ]
        agreement = step(
            lambda L, p: L.draft_agreement(
                body, title="共享实训基地", parties=parties, drafted_on="2024-03-01", principal=p
            )
        ).id
        step(lambda L, p: L.approve_agreement(agreement, resolution=numbers[0], principal=p))
        entry = step(
            lambda L, p: L.record_contribution(
                agreement,
                codes[0],
                kind="funds",
                amount="1000.50",
                contributed_on="2024-04-01",
                description="出资",
                principal=p,
            )
        ).number
        step(
            lambda L, p: L.record_funding(
                agreement,
                funder="市财政局",
                funder_kind="government_fund",
                kind="funds",
                amount="2000",
                received_on="2024-04-01",
                description="专项资金",
                principal=p,
            )
        )
        step(
            lambda L, p: L.record_cost(
                agreement, amount="500", incurred_on="2024-04-02", description="成本", principal=p
            )
        )
        step(
            lambda L, p: L.record_benefit(
                agreement,
                amount="300.10",
                realized_on="2024-04-03",
                description="收益",
                principal=p,
            )
        )
        step(lambda L, p: L.reverse_entry(agreement, entry=entry, reason="录错", principal=p))
        amended = [{**parties[0], "cost_share_bp": 5000}, {**parties[1], "cost_share_bp": 5000}]
        step(
            lambda L, p: L.amend_agreement(
                agreement, parties=amended, resolution=numbers[1], principal=p
            )
        )
        step(
            lambda L, p: L.terminate_agreement(
                agreement, effective_on="2024-06-01", resolution=numbers[2], principal=p
            )
        )
        step(
            lambda L, p: L.set_recommending_province(
                body, lead=codes[0], effective_on="2024-02-10", principal=p
            )
        )
        step(
            lambda L, p: L.record_filing(
                body,
                kind="work_plan",
                year=2024,
                filed_on="2024-03-20",
                title="2024 年度工作计划",
                sha256="b" * 64,
                size=2048,
                resolution=numbers[0],
                principal=p,
            )
        )
        step(
            lambda L, p: L.record_indicator(
                body,
                indicator="students_order_classes",
                year=2024,
                value=120,
                unit=codes[0],
                evidence_sha256="c" * 64,
                principal=p,
            )
        )
        step(lambda L, p: L.vacate_seat(body, codes[2], effective_on="2024-05-21", principal=p))
        # a vacancy and a meeting recorded in error, annulled (the vacancy recorded again)
        step(lambda L, p: L.annul_seat_record(body, codes[2], reason="录早了", principal=p))
        step(lambda L, p: L.vacate_seat(body, codes[2], effective_on="2024-05-21", principal=p))
        wrong = step(
            lambda L, p: L.record_meeting(
                body, held_on="2024-05-25", present=codes[:2], principal=p
            )
        )
        step(lambda L, p: L.annul_meeting(body, meeting=wrong, reason="并未开会", principal=p))
        step(
            lambda L, p: L.exit_member(
                body, codes[2], reason="withdrawal", effective_on="2024-05-22", principal=p
            )
        )
        # the exit's date was wrong: annulled and recorded again
        step(lambda L, p: L.annul_member_record(body, codes[2], reason="日期有误", principal=p))
        step(
            lambda L, p: L.exit_member(
                body, codes[2], reason="withdrawal", effective_on="2024-05-24", principal=p
            )
        )
        step(lambda L, p: L.deregister_unit(codes[3], effective_on="2024-05-23", principal=p))
        meeting = step(
            lambda L, p: L.record_meeting(
                body, held_on="2024-06-20", present=codes[:2], principal=p
            )
        )
        dissolution = step(
            lambda L, p: L.record_resolution(
                body,
                meeting=meeting,
                matter="dissolution",
                title="解散",
                votes_for=2,
                votes_against=0,
                abstentions=0,
                principal=p,
            )
        ).number
        step(
            lambda L, p: L.dissolve_community(
                body, effective_on="2024-07-01", resolution=dissolution, principal=p
            )
        )
        return str(body)

    def positions(self) -> list[int]:
        return sorted(self.entries)


def check_exactly_once(
    journal: Journal, messages: list[Message], after: int = 0
) -> list[dict[str, Any]]:
    """Every position the journal holds after ``after`` arrived once, in strictly
    increasing order, with its type and principal; nothing else arrived."""
    ids = [int(m.id) for m in messages if m.id is not None]
    assert len(ids) == len(messages), "a message without an id"
    assert ids == sorted(set(ids)), f"not strictly increasing / duplicated: {ids}"
    expected = [p for p in journal.positions() if p > after]
    missing = sorted(set(expected) - set(ids))
    extra = sorted(set(ids) - set(expected))
    assert not missing and not extra, f"missing {missing}, unexpected {extra}"
    assert ids == expected
    decoded = []
    for m in messages:
        entry = journal.entries[int(m.id)]
        cloud = json.loads(m.data)
        assert m.event == entry.type, (m.id, m.event, entry.type)
        assert cloud["type"] == entry.type
        assert cloud["id"] == m.id
        assert cloud["position"] == entry.position
        assert cloud["subject"] == entry.subject
        assert cloud["data"]["principal"] == entry.principal, (m.id, cloud["data"])
        decoded.append(cloud)
    return decoded
