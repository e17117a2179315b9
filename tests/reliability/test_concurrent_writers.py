"""Concurrent writers: 8 clients × 500 commands over HTTP against one body — admissions,
exits, contributions, costs, benefits, resolutions, revocations and reversals — with
deliberate collisions (issue 8, scenario 1).

Afterwards every acknowledged command is in the log exactly once, every refused one
left nothing, the read models equal a fold of the log and verification is clean.

The collisions, on purpose:

- admissions and exits of one shared pool of 60 units, picked at random: a unit
  already in (out) is refused 409 ``already-member`` (``not-a-member``); each takes the
  next day from one shared counter, so a request overtaken on its way by a later
  day's is refused ``effective-date-too-early`` — every refusal a business one, final;
- every write to one of three aggregates (the community, its council, the agreement),
  so the ledger's optimistic concurrency is exercised on every command;
- 16 earlier resolutions each revoked by two clients at the same step: one is
  adopted, the other refused (already revoked);
- 16 earlier costs each reversed by two clients at the same step: one is reversed,
  the other refused (already reversed);
- the two clients of a pair share a clerk's token and send 25 "twin" costs each with
  the same Idempotency-Key at the same step: recorded once, both answered the same;
- about 1 in 12 acknowledged commands is sent again with its key: the second answer
  replays the first (``Idempotent-Replayed: true``) and records nothing.

A 503 (store busy) or a transient 409 (``concurrent-change``, or the same key still
being processed) is retried with the same key; a business refusal is final.

The whole test is bounded by ``TIME_LIMIT_S`` (600 s; ``CHANJIAO_SCENARIO_TIME_LIMIT``
overrides it): clients stop sending at the deadline, what was sent is checked all the
same, and the test fails if any command was left unsent. A full run takes about 25–45 s a
store on the 2-core machine (SQLite 149–153, PostgreSQL 97–115 commands/s, flat from the
first quarter of the run to the last although the body's aggregates grow to some 1,500
versions: a command copies a kept aggregate cheaply, ADR 0020, no longer waits for the
read models, ADR 0023, and reads kept aggregates without a round trip each, ADR 0034).
The figures are printed with ``-s``.
"""

from __future__ import annotations

import itertools
import os
import random
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from api.idempotency import Requests
from bootstrap import Ledger
from domain.agreement import BenefitAgreement
from domain.community import Community
from domain.council import Council, council_id_for
from domain.values import format_fen, today
from projections import cost_sharing_model, membership_model, register_model
from projections.read_models import open_store
from tests.factories import credit_code
from tests.reliability.server import ServerProcess, issue_token

CLIENTS = 8
COMMANDS = 500  # per client
SEED = 20260808
POOL = 60
INITIALLY_IN = 30  # of the pool, admitted at set-up
TARGETS = 16  # resolutions to revoke, costs to reverse (each by two clients)
TWIN_EVERY = 20  # a twin cost at steps 10, 30, 50, … in both clients of a pair
RESEND_ONE_IN = 12
MAX_TRIES = 12
TIME_LIMIT_S = float(os.environ.get("CHANJIAO_SCENARIO_TIME_LIMIT", "600"))
"""The whole test, set-up and checks included, per store (issue 8: bounded in time)."""

FOUNDED_ON = date(2020, 1, 1)
ADMITTED_ON = date(2020, 1, 2)
SEATED_ON = date(2020, 1, 3)
DRAFTED_ON = date(2020, 1, 5)
MEETING_ON = date(2020, 1, 10)
FIRST_MOVE = date(2020, 2, 1)  # admissions and exits from here, one day per command
ENTRIES_FROM, ENTRIES_TO = date(2020, 2, 1), date(2026, 6, 30)
SETUP = "setup:scenario-1"

PROBLEM = "urn:chanjiao:problem:"
KINDS = [
    "admit",
    "exit",
    "contribution",
    "cost",
    "benefit",
    "resolution",
    "bad_tally",
    "revoke",
    "reverse",
    "twin",
]
WEIGHTS = {
    "admit": 25,
    "exit": 21,
    "contribution": 16,
    "cost": 12,
    "benefit": 4,
    "resolution": 19,
    "bad_tally": 3,
}


# --- the set-up, straight through the ledger -----------------------------------------


@dataclass
class Body:
    community: UUID
    council: UUID
    agreement: UUID
    parties: list[UUID]
    pool: list[UUID]
    initially_in: set[UUID]
    revocable: list[str]  # register numbers, each revoked by two clients
    reversible: list[int]  # entry numbers, each reversed by two clients
    position: int  # the log's last position after the set-up


POOL_TYPES = [
    ("enterprise", None),
    ("enterprise", None),
    ("research_institute", None),
    ("industry_organization", None),
    ("university", None),
    ("vocational_school", "secondary"),
    ("vocational_school", "higher"),
    ("government", None),
    ("other", None),
]
DIVISIONS = [
    "320505",
    "320506",
    "320205",
    "310115",
    "330106",
    "350902",
    "440305",
    "510107",
    "420111",
    "110108",
]


def set_up(database_url: str) -> Body:
    """A city body founded 2020-01-01; three parties seated on its council; meeting 1
    (2020-01-10) adopted 2020-001 (agreement) and 16 ordinary resolutions; the
    agreement approved by 2020-001 with 16 costs; 60 more units, 30 of them members."""
    ledger = Ledger(database_url)
    try:
        r = ledger.register_unit
        core = [
            r(
                code=credit_code(1, division="320505"),
                name="苏州工业园区智能装备有限公司",
                unit_type="enterprise",
                division="320505",
                principal=SETUP,
            ),
            r(
                code=credit_code(2, division="320505"),
                name="苏州工业园区职业技术学院",
                unit_type="vocational_school",
                level="higher",
                division="320505",
                principal=SETUP,
            ),
            r(
                code=credit_code(3, division="310110"),
                name="上海交通大学",
                unit_type="university",
                division="310110",
                principal=SETUP,
            ),
        ]
        pool = []
        for i in range(POOL):
            unit_type, level = POOL_TYPES[i % len(POOL_TYPES)]
            division = DIVISIONS[i % len(DIVISIONS)]
            pool.append(
                r(
                    code=credit_code(100 + i, division=division),
                    name=f"共同体成员单位{i:02d}",
                    unit_type=unit_type,
                    level=level,
                    division=division,
                    principal=SETUP,
                ).id
            )
        body = ledger.found_community(
            name="苏州工业园区市域产教联合体",
            kind="city",
            industry="电子信息与智能制造",
            division="320505",
            founded_on=FOUNDED_ON,
            principal=SETUP,
        )
        c = body.id
        for unit in [u.id for u in core] + pool[:INITIALLY_IN]:
            ledger.admit_member(
                c, unit, role="participant", effective_on=ADMITTED_ON, principal=SETUP
            )
        ledger.adopt_charter(c, version="1.0", effective_on=ADMITTED_ON, principal=SETUP)
        for i, unit in enumerate(core):
            ledger.assign_seat(
                c,
                unit.id,
                representative=f"代表{i}",
                office="chair" if i == 0 else "director",
                effective_on=SEATED_ON,
                principal=SETUP,
            )
        meeting = ledger.record_meeting(
            c, held_on=MEETING_ON, present=[u.id for u in core], principal=SETUP
        )
        assert meeting == 1

        def adopt(matter: str, title: str) -> str:
            resolution = ledger.record_resolution(
                c,
                meeting=meeting,
                matter=matter,
                title=title,
                votes_for=3,
                votes_against=0,
                abstentions=0,
                principal=SETUP,
            )
            assert resolution.number is not None, resolution
            return resolution.number

        approving = adopt("agreement", "批准共享实训基地共建协议")
        agreement = ledger.draft_agreement(
            c,
            title="共享实训基地",
            kind="training_base",
            drafted_on=DRAFTED_ON,
            principal=SETUP,
            parties=[
                {"unit_id": u.id, "cost_share_bp": cost, "benefit_share_bp": benefit}
                for u, (cost, benefit) in zip(
                    core, [(5000, 4000), (3000, 3000), (2000, 3000)], strict=False
                )
            ],
        )
        ledger.approve_agreement(agreement.id, resolution=approving, principal=SETUP)
        revocable = [adopt("ordinary", f"待撤销决议{t:02d}") for t in range(TARGETS)]
        reversible = [
            ledger.record_cost(
                agreement.id,
                amount=f"{100 + t}.00",
                incurred_on=date(2020, 1, 20),
                description=f"待冲销费用{t:02d}",
                principal=SETUP,
            ).number
            for t in range(TARGETS)
        ]
        return Body(
            c,
            council_id_for(c),
            agreement.id,
            [u.id for u in core],
            pool,
            set(pool[:INITIALLY_IN]),
            revocable,
            reversible,
            ledger.recorder.max_notification_id() or 0,
        )
    finally:
        ledger.close()


# --- the commands and their journal ------------------------------------------------


@dataclass
class Command:
    client: int
    step: int
    kind: str
    key: str
    target: Any = None  # unit id, register number or entry number
    seed: int = 0  # what the body's own figures are drawn from
    resend: bool = False
    path: str = ""
    body: dict[str, Any] | None = None
    # what happened
    outcome: str = ""  # acknowledged, refused, gave_up, error
    status: int | None = None
    answer: Any = None
    problem: str | None = None
    detail: str | None = None
    statuses: list[int] = field(default_factory=list)
    replayed: bool = False  # the answer was a replay (a twin's second)
    transport_errors: int = 0
    transient: list[str] = field(default_factory=list)  # why each retry: 503, in-progress, …
    resent_replayed: bool | None = None
    sent_at: float = 0.0  # monotonic, first try
    seconds: float = 0.0  # first try to final answer


class Days:
    """One shared counter of days for admissions and exits: later requests take
    later days, so a unit's moves are in date order unless two race on the way."""

    def __init__(self) -> None:
        self._count = itertools.count()
        self._lock = threading.Lock()

    def next(self) -> date:
        with self._lock:
            return FIRST_MOVE + timedelta(days=next(self._count))


def schedule(body: Body) -> list[list[Command]]:
    """Each client's 500 commands, fixed by the seed: the collisions at fixed steps
    first, the rest drawn at random."""
    plans: list[dict[int, Command]] = [{} for _ in range(CLIENTS)]

    def place(client: int, step: int, command: Command) -> None:
        while step in plans[client]:
            step += 1
        assert step < COMMANDS
        command.client, command.step = client, step
        command.key = command.key or f"c{client}-{step:03d}-{command.kind}"
        plans[client][step] = command

    for pair in range(CLIENTS // 2):
        for k, step in enumerate(range(TWIN_EVERY // 2, COMMANDS, TWIN_EVERY)):
            for client in (2 * pair, 2 * pair + 1):  # same key, same body, same token
                place(
                    client,
                    step,
                    Command(client, step, "twin", f"twin-p{pair}-{k:02d}", seed=pair * 1000 + k),
                )
    for t in range(TARGETS):
        a = t % CLIENTS
        for client in (a, (a + 2) % CLIENTS):  # two clients of different pairs
            place(client, 21 + 28 * t, Command(client, 0, "revoke", "", target=body.revocable[t]))
        for client in (a, (a + 4) % CLIENTS):
            place(client, 33 + 28 * t, Command(client, 0, "reverse", "", target=body.reversible[t]))
    kinds, weights = list(WEIGHTS), list(WEIGHTS.values())
    result = []
    for client in range(CLIENTS):
        rng = random.Random(SEED * 100 + client)
        for step in range(COMMANDS):
            if step not in plans[client]:
                kind = rng.choices(kinds, weights)[0]
                target = rng.choice(body.pool) if kind in ("admit", "exit") else None
                if kind == "contribution":
                    target = rng.choice(body.parties)
                place(
                    client,
                    step,
                    Command(client, step, kind, "", target=target, seed=rng.randrange(1 << 30)),
                )
            plans[client][step].resend = rng.randrange(RESEND_ONE_IN) == 0
        result.append([plans[client][s] for s in range(COMMANDS)])
    return result


def entry_day(rng: random.Random) -> str:
    span = (ENTRIES_TO - ENTRIES_FROM).days
    return (ENTRIES_FROM + timedelta(days=rng.randrange(span))).isoformat()


def request_for(cmd: Command, body: Body, days: Days) -> tuple[str, dict[str, Any]]:
    """The request, built when first sent (admissions and exits take their day then)."""
    rng = random.Random(cmd.seed)
    c, a = body.community, body.agreement
    amount = f"{rng.randrange(1, 5_000_000) / 100:.2f}"
    what = f"{cmd.client}-{cmd.step:03d}"
    match cmd.kind:
        case "admit":
            return f"/communities/{c}/members", {
                "unit_id": str(cmd.target),
                "role": "participant",
                "effective_on": days.next().isoformat(),
            }
        case "exit":
            return f"/communities/{c}/members/{cmd.target}/exit", {
                "reason": "withdrawal",
                "effective_on": days.next().isoformat(),
            }
        case "contribution":
            return f"/agreements/{a}/contributions", {
                "unit_id": str(cmd.target),
                "amount": amount,
                "contributed_on": entry_day(rng),
                "kind": rng.choice(["funds", "equipment", "site", "personnel", "technology"]),
                "description": f"投入{what}",
            }
        case "cost":
            return f"/agreements/{a}/costs", {
                "amount": amount,
                "incurred_on": entry_day(rng),
                "description": f"费用{what}",
            }
        case "twin":
            return f"/agreements/{a}/costs", {
                "amount": amount,
                "incurred_on": entry_day(rng),
                "description": f"双发费用{cmd.key}",
            }
        case "benefit":
            return f"/agreements/{a}/benefits", {
                "amount": amount,
                "realized_on": entry_day(rng),
                "description": f"收益{what}",
            }
        case "resolution" | "bad_tally" | "revoke":
            votes = (
                {"for": 3, "against": 1, "abstain": 0}
                if cmd.kind == "bad_tally"  # 4 of 3
                else {"for": 1, "against": 2, "abstain": 0}
                if rng.random() < 0.2
                else {"for": 3, "against": 0, "abstain": 0}
            )
            resolution = {
                "meeting_id": 1,
                "matter": rng.choice(["ordinary", "resources"]),
                "title": f"决议{what}",
                "votes": votes,
            }
            if cmd.kind == "revoke":
                resolution.update(
                    matter="ordinary",
                    revokes=cmd.target,
                    votes={"for": 3, "against": 0, "abstain": 0},
                )
            return f"/communities/{c}/council/resolutions", resolution
        case "reverse":
            return f"/agreements/{a}/entries/{cmd.target}/reverse", {"reason": f"冲销{what}"}
    raise AssertionError(cmd.kind)


def transient(response: httpx.Response) -> str | None:
    """Why the request is worth sending again with the same key, if it is: the store
    was busy (503), the record kept changing (409 ``concurrent-change``), or the same
    key is still being processed by another request (409 ``conflict``, told apart from
    "recorded, but the answer was lost" only by its detail)."""
    if response.status_code == 503:
        return "503"
    if response.status_code != 409:
        return None
    problem = response.json()
    if problem["type"] == PROBLEM + "concurrent-change":
        return "concurrent-change"
    if problem["type"] == PROBLEM + "conflict" and "still being processed" in problem["detail"]:
        return "in-progress"
    return None


def send(http: httpx.Client, cmd: Command, rng: random.Random) -> httpx.Response | None:
    headers = {"Idempotency-Key": cmd.key}
    response = None
    cmd.sent_at = time.monotonic()
    for attempt in range(MAX_TRIES):
        try:
            response = http.post(cmd.path, json=cmd.body, headers=headers)
        except httpx.TransportError:
            cmd.transport_errors += 1
            time.sleep(0.1)
            continue
        cmd.statuses.append(response.status_code)
        why = transient(response)
        if why is None:
            break
        cmd.transient.append(why)
        time.sleep(rng.uniform(0.5, 1.0) * min(0.02 * 2**attempt, 1.0))
    else:
        cmd.outcome = "gave_up"
        return response
    assert response is not None
    cmd.seconds = time.monotonic() - cmd.sent_at
    cmd.status = response.status_code
    if response.status_code < 300:
        cmd.outcome, cmd.answer = "acknowledged", response.json()
        cmd.replayed = response.headers.get("idempotent-replayed") == "true"
    elif response.status_code >= 500:
        cmd.outcome, cmd.detail = "error", response.text
    else:
        problem = response.json()
        cmd.outcome, cmd.problem, cmd.detail = "refused", problem["type"], problem["detail"]
    return response


def run_client(
    url: str,
    token: str,
    commands: list[Command],
    body: Body,
    days: Days,
    deadline: float,
    failures: list[BaseException],
) -> None:
    """Send each command in turn (until ``deadline``: what is left is reported unsent)."""
    rng = random.Random(SEED + commands[0].client)  # for the back-off only
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with httpx.Client(base_url=url, headers=headers, timeout=60.0) as http:
            for cmd in commands:
                if time.monotonic() > deadline:
                    return
                cmd.path, cmd.body = request_for(cmd, body, days)
                send(http, cmd, rng)
                if cmd.resend and cmd.outcome == "acknowledged":  # as after a lost answer
                    again = http.post(cmd.path, json=cmd.body, headers={"Idempotency-Key": cmd.key})
                    cmd.resent_replayed = (
                        again.status_code == cmd.status
                        and again.headers.get("idempotent-replayed") == "true"
                        and again.json() == cmd.answer
                    )
    except BaseException as e:
        failures.append(e)


# --- what the log holds ------------------------------------------------------------


def events_after(ledger: Ledger, position: int) -> list[Any]:
    """Every notification recorded after ``position``."""
    out, start = [], position + 1
    while True:
        page = ledger.recorder.select_notifications(start=start, limit=1000)
        out.extend(page)
        if len(page) < 1000:
            return out
        start = page[-1].id + 1


def test_eight_clients_five_hundred_commands_each_lose_and_double_nothing(
    database_url: str, tmp_path: Path
) -> None:
    began = time.monotonic()
    body = set_up(database_url)
    set_up_s = time.monotonic() - began
    tokens = [
        issue_token(database_url, "secretary", str(body.community)) for _ in range(CLIENTS // 2)
    ]  # a clerk's token for each pair of clients
    plans = schedule(body)
    commands = [cmd for plan in plans for cmd in plan]
    server = ServerProcess(database_url, tmp_path / "server.log").start()
    days, failures = Days(), []
    deadline = began + TIME_LIMIT_S - 20  # leaves time for the checks
    try:
        started = time.monotonic()
        threads = [
            threading.Thread(
                target=run_client,
                name=f"client-{i}",
                daemon=True,
                args=(server.url, tokens[i // 2], plans[i], body, days, deadline, failures),
            )
            for i in range(CLIENTS)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(max(1.0, deadline + 70 - time.monotonic()))  # 60 s: one request's timeout
        elapsed = time.monotonic() - started
        stuck = [t.name for t in threads if t.is_alive()]
        assert not stuck, f"{stuck} still running after {elapsed:.0f} s"
    finally:
        server.stop()
    assert not failures, failures
    log = server.output()
    sent = [c for c in commands if c.outcome]

    ledger = Ledger(database_url)
    try:
        figures = check(ledger, body, sent)
    finally:
        ledger.close()
    total_s = time.monotonic() - began

    # --- figures
    store = database_url.split(":")[0]
    requests = sum(len(c.statuses) + (c.resent_replayed is not None) for c in sent)
    print(
        f"\n{store}: {CLIENTS} clients × {COMMANDS} commands: {len(sent)} sent, "
        f"{requests} requests in {elapsed:.1f} s ({len(sent) / elapsed:.1f} commands/s, "
        f"{requests / elapsed:.1f} requests/s); set-up {set_up_s:.1f} s, whole test "
        f"{total_s:.1f} s"
    )
    quarters = [0] * 4
    for c in sent:
        quarters[min(3, int(4 * (c.sent_at - started) / elapsed))] += 1
    print(f"commands sent per quarter of the run: {quarters}")
    print(
        "retries (same key): 503 = store unavailable, cc = 409 concurrent-change, ip = 409 "
        "same key still in progress"
    )
    print(
        f"{'kind':<13}{'sent':>6}{'ack':>6}{'refused':>8}{'503':>5}{'cc':>4}{'ip':>4}"
        f"{'recorded':>9}{'p50 ms':>8}{'p95 ms':>8}  refusals"
    )
    for kind in KINDS:
        mine = [c for c in sent if c.kind == kind]
        if not mine:
            continue
        refusals = Counter(c.problem.removeprefix(PROBLEM) for c in mine if c.outcome == "refused")
        times = sorted(c.seconds * 1000 for c in mine)
        retries = Counter(why for c in mine for why in c.transient)
        print(
            f"{kind:<13}{len(mine):>6}{sum(c.outcome == 'acknowledged' for c in mine):>6}"
            f"{sum(c.outcome == 'refused' for c in mine):>8}"
            f"{retries['503']:>5}{retries['concurrent-change']:>4}{retries['in-progress']:>4}"
            f"{figures['recorded'][kind]:>9}{times[len(times) // 2]:>8.0f}"
            f"{times[int(len(times) * 0.95)]:>8.0f}  "
            f"{', '.join(f'{k}×{n}' for k, n in refusals.most_common())}"
        )
    print(
        f"acknowledged {figures['acknowledged']}, recorded {figures['events']} events, "
        f"lost {figures['lost']}, duplicates {figures['duplicates']}, refused-but-recorded "
        f"{figures['refused_recorded']}, gave up {figures['gave_up']}, 5xx other than 503: "
        f"{figures['errors']}; resent {figures['resent']} (replayed {figures['replays']}), "
        f"twins answered by replay {figures['twin_replays']}, transport errors "
        f"{sum(c.transport_errors for c in sent)}"
    )

    assert "Traceback" not in log, log[-5000:]
    assert all(s != 500 for c in sent for s in c.statuses)
    assert len(sent) == len(commands), (
        f"only {len(sent)} of {len(commands)} commands were sent within {TIME_LIMIT_S:.0f} s "
        f"(sent per quarter of the run: {quarters})"
    )
    assert total_s < TIME_LIMIT_S, f"the scenario took {total_s:.0f} s"


def check(ledger: Ledger, body: Body, commands: list[Command]) -> dict[str, Any]:
    """Every assertion on the log, the read models and the chains; the figures."""
    figures: dict[str, Any] = {"recorded": Counter()}
    broken = [c for c in commands if c.outcome in ("gave_up", "error")]
    figures["gave_up"] = sum(c.outcome == "gave_up" for c in commands)
    figures["errors"] = sum(c.outcome == "error" for c in commands)
    assert not broken, [(c.key, c.kind, c.outcome, c.statuses, c.detail) for c in broken[:10]]
    acknowledged = [c for c in commands if c.outcome == "acknowledged"]
    refused = [c for c in commands if c.outcome == "refused"]
    assert len(acknowledged) + len(refused) == len(commands)

    # Refusals are business refusals, never a transient conflict handed back.
    allowed = {
        "admit": {"already-member", "effective-date-too-early"},
        "exit": {"not-a-member", "effective-date-too-early"},
        "bad_tally": {"invalid-input"},
        "revoke": {"invalid-input"},  # "resolution 2020-002 was already revoked by …"
        "reverse": {"agreement-rule-broken"},  # "entry 3 … was already reversed"
    }
    for c in refused:
        assert c.problem.removeprefix(PROBLEM) in allowed.get(c.kind, set()), (
            c.key,
            c.kind,
            c.status,
            c.problem,
            c.detail,
        )
    assert all(c.outcome == "refused" for c in commands if c.kind == "bad_tally")

    # Resent requests replayed the first answer; twins were answered alike.
    resent = [c for c in acknowledged if c.resend]
    figures["resent"] = len(resent)
    figures["replays"] = sum(bool(c.resent_replayed) for c in resent)
    assert all(c.resent_replayed for c in resent), [c.key for c in resent if not c.resent_replayed]
    twins: dict[str, list[Command]] = defaultdict(list)
    for c in commands:
        if c.kind == "twin":
            twins[c.key].append(c)
    for key, pair in twins.items():
        if len(pair) < 2:
            continue  # the other was not sent before the deadline
        assert [c.outcome for c in pair] == ["acknowledged"] * 2, (key, [c.statuses for c in pair])
        assert pair[0].answer == pair[1].answer and pair[0].status == pair[1].status, key
    figures["twin_replays"] = sum(c.replayed for c in commands if c.kind == "twin")

    # What one acknowledged command records: one event (a twin pair: one between them).
    distinct = {c.key: c for c in acknowledged}  # twins share their key
    events = events_after(ledger, body.position)
    figures["events"] = len(events)
    figures["acknowledged"] = len(distinct)
    mine = {body.community, body.council, body.agreement}
    assert {n.originator_id for n in events} <= mine, "something else was recorded"

    lost: list[str] = []  # acknowledged, not in the log
    doubled: list[str] = []  # acknowledged, in the log more than once
    left: list[str] = []  # refused, yet in the log

    def tally(matches: dict[Any, list[Any]], key: Any, cmd: Command) -> list[Any]:
        """The events matching one command, counted as lost, doubled or left behind."""
        found = matches.get(key, [])
        if cmd.outcome == "acknowledged":
            figures["recorded"][cmd.kind] += min(1, len(found))
            if len(found) != 1:
                (lost if not found else doubled).append(f"{cmd.key} ({cmd.kind}) ×{len(found)}")
        elif found:
            left.append(f"{cmd.key} ({cmd.kind}, {cmd.problem}) ×{len(found)}")
        return found

    # --- the agreement: entries by their description, reversals by their reason
    agreement_events = list(ledger.events.get(body.agreement))
    entries = [e for e in agreement_events if hasattr(e, "entry") and hasattr(e, "description")]
    numbers = [e.entry for e in entries]
    assert numbers == list(range(1, len(entries) + 1)), "entry numbers skipped or repeated"
    by_description: dict[str, list[Any]] = defaultdict(list)
    for e in entries:
        by_description[e.description].append(e)
    reversals: dict[str, list[Any]] = defaultdict(list)
    for e in agreement_events:
        if isinstance(e, BenefitAgreement.EntryReversed):
            reversals[e.reason].append(e)
    expected_descriptions = {f"待冲销费用{t:02d}" for t in range(TARGETS)}
    for c in commands:
        if c.kind in ("contribution", "cost", "benefit", "twin"):
            if c.kind == "twin" and c is not twins[c.key][0]:
                continue
            found = tally(by_description, c.body["description"], c)
            expected_descriptions.add(c.body["description"])
            if c.outcome == "acknowledged" and len(found) == 1:
                e = found[0]
                assert c.answer["entry"] == e.entry and c.answer["amount"] == c.body["amount"]
                assert format_fen(e.amount_fen) == c.body["amount"]
                if c.kind == "contribution":
                    assert str(e.unit_id) == c.body["unit_id"] and e.kind == c.body["kind"]
        elif c.kind == "reverse":
            found = tally(reversals, c.body["reason"], c)
            if found:
                assert found[0].entry == c.target
    assert set(by_description) <= expected_descriptions, "entries no command asked for"
    reversed_by_commands = sum(1 for c in acknowledged if c.kind == "reverse")
    assert sum(map(len, reversals.values())) == reversed_by_commands, "unasked reversals"
    for t in body.reversible:  # each target: reversed once, the other request refused
        outcomes = sorted(c.outcome for c in commands if c.kind == "reverse" and c.target == t)
        assert len(outcomes) < 2 or outcomes == ["acknowledged", "refused"], (t, outcomes)

    # --- the council: resolutions by their title
    council_events = list(ledger.events.get(body.council))
    recorded = [e for e in council_events if isinstance(e, Council.ResolutionRecorded)]
    by_title: dict[str, list[Any]] = defaultdict(list)
    for e in recorded:
        by_title[e.title].append(e)
    for c in commands:
        if c.kind in ("resolution", "bad_tally", "revoke"):
            found = tally(by_title, c.body["title"], c)
            if c.outcome == "acknowledged" and len(found) == 1:
                assert c.answer["number"] == found[0].number
                assert c.answer["outcome"] == found[0].outcome.value
    asked = {c.body["title"] for c in commands if c.kind in ("resolution", "bad_tally", "revoke")}
    assert set(by_title) - asked == {"批准共享实训基地共建协议"} | {
        f"待撤销决议{t:02d}" for t in range(TARGETS)
    }, "resolutions no command asked for"
    adopted = [e.number for e in recorded if e.number is not None]
    assert adopted == [f"2020-{n:03d}" for n in range(1, len(adopted) + 1)], (
        "register numbers skipped or repeated"
    )
    for number in body.revocable:
        outcomes = sorted(c.outcome for c in commands if c.kind == "revoke" and c.target == number)
        assert len(outcomes) < 2 or outcomes == ["acknowledged", "refused"], (number, outcomes)
        assert sum(1 for e in recorded if e.revokes == number) == outcomes.count("acknowledged")

    # --- the community: each unit's admissions and exits, by their (unique) days
    community_events = list(ledger.events.get(body.community))
    moves: dict[tuple[str, UUID, date], list[Any]] = defaultdict(list)
    per_unit: dict[UUID, list[Any]] = defaultdict(list)
    for e in community_events[
        len(community_events) - sum(1 for n in events if n.originator_id == body.community) :
    ]:
        assert isinstance(e, (Community.MemberAdmitted, Community.MemberExited)), e
        kind = "admit" if isinstance(e, Community.MemberAdmitted) else "exit"
        moves[(kind, e.unit_id, e.effective_on)].append(e)
        per_unit[e.unit_id].append(e)
    for c in commands:
        if c.kind in ("admit", "exit"):
            day = date.fromisoformat(c.body["effective_on"])
            tally(moves, (c.kind, c.target, day), c)
    figures.update(lost=len(lost), duplicates=len(doubled), refused_recorded=len(left))
    assert not (lost or doubled or left), (
        f"lost {len(lost)} {lost[:5]}, duplicates {len(doubled)} {doubled[:5]}, "
        f"refused but recorded {len(left)} {left[:5]}"
    )
    assert len(events) == len(distinct), (
        f"{len(events)} events recorded for {len(distinct)} acknowledged commands"
    )
    for unit in body.pool:  # each unit in, out, in, … as acknowledged, in date order
        sequence = [isinstance(e, Community.MemberAdmitted) for e in per_unit[unit]]
        first = unit not in body.initially_in  # out at first: admitted first
        assert sequence == [first if i % 2 == 0 else not first for i in range(len(sequence))], (
            unit,
            sequence,
        )
        days = [e.effective_on for e in per_unit[unit]]
        assert days == sorted(days), (unit, days)
        acks = Counter(c.kind for c in acknowledged if c.target == unit)
        assert (acks["admit"], acks["exit"]) == (sum(sequence), len(sequence) - sum(sequence)), (
            unit,
            acks,
            sequence,
        )

    # --- the read models equal a fold of the log
    store = open_store(ledger)
    store.catch_up()
    community = ledger.community(body.community)
    moved = sum(1 for c in commands if c.kind in ("admit", "exit"))  # days taken
    for day in (
        [ADMITTED_ON, MEETING_ON]
        + [FIRST_MOVE + timedelta(days=d) for d in range(0, moved + 2, 97)]
        + [today()]
    ):
        members = membership_model.members(store, body.community, as_of=day).members
        modelled = {m.unit_id for m in members}
        folded = {p.unit_id for p in community.members_on(day)}
        assert modelled == folded, (day, modelled ^ folded)
    members = membership_model.members(store, body.community).members  # today, everything known
    assert {m.unit_id for m in members} == {p.unit_id for p in community.active_members}

    council = ledger.council(body.community)
    register = register_model.register(store, body.community).resolutions
    assert [(r.number, r.title, r.outcome, r.revoked_by) for r in register] == [
        (r.number, r.title, r.outcome.value, r.revoked_by) for r in council.resolutions
    ]

    agreement = ledger.agreement(body.agreement)
    reversed_entries = {e.entry for v in reversals.values() for e in v}
    live = {e.number for e in agreement.entries if e.live}
    assert live == set(numbers) - reversed_entries
    for day in (date(2021, 1, 1), date(2023, 6, 30), ENTRIES_TO, today()):
        report = cost_sharing_model.report(store, body.agreement, as_of=day)
        upto: Counter = Counter()  # fen by event type, summed from the events themselves
        for e in entries:
            on = next(
                getattr(e, a)
                for a in ("contributed_on", "incurred_on", "realized_on")
                if hasattr(e, a)
            )
            if e.entry not in reversed_entries and on <= day:
                upto[type(e).__name__] += e.amount_fen
        assert report.total_contributed == format_fen(upto["ContributionRecorded"])
        assert report.total_costs == format_fen(upto["CostIncurred"])
        assert report.total_benefits == format_fen(upto["BenefitRealized"])
        settled = {p.unit_id: p for p in agreement.settle(day)}
        assert {p.unit_id for p in report.parties} == set(settled)
        for p in report.parties:
            s = settled[p.unit_id]
            assert (p.cost_due, p.contributed, p.benefit_due) == (
                format_fen(s.costs_due),
                format_fen(s.contributed),
                format_fen(s.benefits_due),
            )

    # --- nothing left half-done, and the chains verify
    stuck = Requests(store).keys.tables.read(
        "SELECT idem_key FROM {api_requests} WHERE status IS NULL"
    )
    assert not stuck, f"{len(stuck)} Idempotency-Keys left reserved: {stuck[:5]}"
    verification = ledger.verify()
    assert verification.ok, verification.problems[:5]
    assert verification.events_checked == len(events_after(ledger, 0))
    return figures
