"""No recording order can make the ledger hold a date on which a rule is broken.

Hypothesis generates histories of admissions, role changes, exits, seats, meetings
and agreements whose effective dates come in any order. After every command the
ledger accepts, an independent checker — a plain fold of the stored events, then a
walk over every single day — finds no day on which a rule fails; every command the
ledger refuses leaves the log as it was. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from uuid import UUID

import pytest
from freezegun import freeze_time
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bootstrap import Ledger
from domain.agreement import BenefitAgreement
from domain.community import Community
from domain.council import Council, council_id_for
from domain.errors import LedgerError
from domain.values import unit_id_for
from tests.factories import credit_code

P = "secretary:prop"
UNITS = [  # (credit code, type, level)
    (credit_code(960), "enterprise", None),
    (credit_code(961), "enterprise", None),
    (credit_code(962), "enterprise", None),
    (credit_code(963), "university", None),
    (credit_code(964), "university", None),
    (credit_code(965), "vocational_school", "higher"),
    (credit_code(966), "research_institute", None),
]
CODES = [code for code, _, _ in UNITS]
TYPE = {unit_id_for(code): unit_type for code, unit_type, _ in UNITS}
START = date(2024, 1, 1)
DAYS = [START + timedelta(days=d) for d in range(0, 480)]


def day(step: int) -> str:
    return (START + timedelta(days=10 * step)).isoformat()


unit = st.integers(0, len(UNITS) - 1)
when = st.integers(0, 44)
admissions = st.tuples(st.just("admit"), unit, st.sampled_from(["lead", "participant"]), when)
seats = st.tuples(st.just("seat"), unit, st.sampled_from(["chair", "director"]), when)
commands = st.one_of(
    admissions,
    st.tuples(st.just("role"), unit, st.sampled_from(["lead", "participant"]), when),
    st.tuples(st.just("exit"), unit, when),
    seats,
    st.tuples(st.just("vacate"), unit, when),
    st.tuples(st.just("meeting"), when),
    st.tuples(st.just("agreement"), st.sets(unit, min_size=1, max_size=3), when),
    st.tuples(st.just("amend"), st.integers(0, 2), st.sets(unit, min_size=1, max_size=3), when),
    st.tuples(st.just("contribute"), st.integers(0, 2), unit, when),
)


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time("2025-12-01T02:00:00Z"):
        yield


@pytest.fixture
def registered(ledger: Ledger) -> Ledger:
    for code, unit_type, level in UNITS:
        ledger.register_unit(
            code=code,
            name=f"单位{code[-4:]}",
            unit_type=unit_type,
            level=level,
            division="320506",
            principal=P,
        )
    return ledger


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    setting=st.lists(admissions, min_size=3, max_size=8),
    council=st.lists(seats, min_size=1, max_size=4),
    history=st.lists(commands, min_size=5, max_size=30),
)
def test_no_recording_order_breaks_a_rule_on_any_date(registered, setting, council, history):
    """Most histories begin with admissions and seats, so that later commands have
    something to collide with; their dates still come in any order."""
    ledger = registered
    body = ledger.found_community(
        name="属性测试行业产教融合共同体",
        kind="industry",
        industry="测试",
        division="320500",
        founded_on=START,
        again=True,  # each example founds its own body of this name in one ledger
        principal=P,
    ).id
    agreements: list[UUID] = []
    for step in setting + council + history:
        for command in steps(ledger, body, agreements, step):
            before = ledger.recorder.max_notification_id()
            try:
                command()
            except (LedgerError, IndexError) as refusal:  # IndexError: no such agreement yet
                event(f"{step[0]} refused: {type(refusal).__name__}")
                assert ledger.recorder.max_notification_id() == before, f"{step}: recorded"
                continue
            event(f"{step[0]} accepted")
            broken = Checker.fold(ledger, body, [a for a in agreements if a]).broken()
            assert not broken, f"after {step}: {broken[:3]} …"


def steps(ledger: Ledger, body: UUID, agreements: list[UUID], step: tuple) -> Iterator[Callable]:
    """The ledger commands a generated step is made of, one at a time: each is
    accepted or refused on its own."""
    kind, *args = step
    if kind == "admit":
        u, role, d = args
        yield lambda: ledger.admit_member(
            body, CODES[u], role=role, effective_on=day(d), principal=P
        )
    elif kind == "role":
        u, role, d = args
        yield lambda: ledger.change_member_role(
            body, CODES[u], role=role, effective_on=day(d), principal=P
        )
    elif kind == "exit":
        u, d = args
        yield lambda: ledger.exit_member(
            body, CODES[u], reason="withdrawal", effective_on=day(d), principal=P
        )
    elif kind == "seat":
        u, office, d = args
        yield lambda: ledger.assign_seat(
            body,
            CODES[u],
            representative=f"代表{u}",
            office=office,
            effective_on=day(d),
            principal=P,
        )
    elif kind == "vacate":
        u, d = args
        yield lambda: ledger.vacate_seat(body, CODES[u], effective_on=day(d), principal=P)
    elif kind == "meeting":
        yield from resolve(ledger, body, day(args[0]))
    elif kind == "agreement":
        units, d = args
        agreements.append(None)  # type: ignore[arg-type]

        def draft() -> None:
            agreements[-1] = ledger.draft_agreement(
                body, title="协议", parties=shares(units), drafted_on=day(d), principal=P
            ).id

        yield draft
        adopted = yield from resolve(ledger, body, day(d))
        yield lambda: ledger.approve_agreement(agreements[-1], resolution=adopted[0], principal=P)
    elif kind == "amend":
        index, units, d = args
        adopted = yield from resolve(ledger, body, day(d))
        yield lambda: ledger.amend_agreement(
            agreements[index],
            parties=shares(units),
            effective_on=day(d),
            resolution=adopted[0],
            principal=P,
        )
    elif kind == "contribute":
        index, u, d = args
        yield lambda: ledger.record_contribution(
            agreements[index],
            CODES[u],
            kind="funds",
            amount="10",
            contributed_on=day(d),
            description="投入",
            principal=P,
        )


def resolve(ledger: Ledger, body: UUID, on: str):
    """A meeting of every seat held that day, then an agreement resolution (adopted
    if the seats make a quorum); returns a box that holds its number afterwards."""
    meeting: list[int] = []
    present: list[UUID] = []
    adopted: list[str | None] = [None]

    def meet() -> None:
        council = ledger.council(body)
        present[:] = [s.unit_id for s in council.seats_on(date.fromisoformat(on))]
        # the drawn steps may meet twice on a day with the same seats (--again)
        meeting.append(
            ledger.record_meeting(body, held_on=on, present=present, again=True, principal=P)
        )

    def decide() -> None:
        adopted[0] = ledger.record_resolution(
            body,
            meeting=meeting[0] if meeting else 0,
            matter="agreement",
            title="议题",
            votes_for=len(present),
            votes_against=0,
            abstentions=0,
            principal=P,
        ).number

    yield meet
    yield decide
    return adopted


def shares(units: set[int]) -> list[dict]:
    ordered = sorted(units)
    parts = [10_000 // len(ordered)] * len(ordered)
    parts[0] += 10_000 - sum(parts)
    return [
        {"unit_id": CODES[u], "cost_share_bp": s, "benefit_share_bp": s}
        for u, s in zip(ordered, parts, strict=False)
    ]


@dataclass
class Checker:
    """The rules, written again from the stored events alone and checked day by day."""

    periods: dict[UUID, list[list]] = field(default_factory=lambda: defaultdict(list))
    seats: dict[UUID, list[list]] = field(default_factory=lambda: defaultdict(list))
    meetings: dict[int, tuple[date, tuple[UUID, ...]]] = field(default_factory=dict)
    resolutions: list[tuple[date, int]] = field(default_factory=list)
    terms: list[list[tuple[date, date | None, set[UUID]]]] = field(default_factory=list)
    contributions: list[tuple[UUID, date]] = field(default_factory=list)

    @classmethod
    def fold(cls, ledger: Ledger, body: UUID, agreements: list[UUID]) -> Checker:
        c = cls()
        for e in ledger.events.get(body):
            if isinstance(e, Community.MemberAdmitted):
                c.periods[e.unit_id].append([e.effective_on, None, [(e.effective_on, e.role)]])
            elif isinstance(e, Community.MemberRoleChanged):
                c.periods[e.unit_id][-1][2].append((e.effective_on, e.role))
            elif isinstance(e, Community.MemberExited):
                c.periods[e.unit_id][-1][1] = e.effective_on
        council = list(ledger.events.get(council_id_for(body))) if c.periods else []
        for e in council:
            if isinstance(e, Council.SeatAssigned):
                c.seats[e.unit_id].append([e.effective_on, None, e.office])
            elif isinstance(e, Council.SeatVacated):
                c.seats[e.unit_id][-1][1] = e.effective_on
            elif isinstance(e, Council.MeetingHeld):
                c.meetings[e.meeting] = (e.held_on, e.present)
            elif isinstance(e, Council.ResolutionRecorded):
                c.resolutions.append((c.meetings[e.meeting][0], e.seats))
        for agreement in agreements:
            spans: list[tuple[date, set[UUID]]] = []
            ended = None
            drafted: set[UUID] = set()
            for e in ledger.events.get(agreement):
                if isinstance(e, BenefitAgreement.Drafted):
                    drafted = {p.unit_id for p in e.parties}
                elif isinstance(e, BenefitAgreement.Approved):
                    spans.append((e.effective_on, drafted))
                elif isinstance(e, BenefitAgreement.Amended):
                    spans.append((e.effective_on, {p.unit_id for p in e.parties}))
                elif isinstance(e, BenefitAgreement.Terminated):
                    ended = e.effective_on
                elif isinstance(e, BenefitAgreement.ContributionRecorded):
                    c.contributions.append((e.unit_id, e.contributed_on))
            ends = [s for s, _ in spans[1:]] + [ended]
            c.terms.append([(s, end, units) for (s, units), end in zip(spans, ends, strict=False)])
        return c

    def member(self, unit: UUID, on: date) -> bool:
        return any(p[0] <= on and (p[1] is None or on < p[1]) for p in self.periods[unit])

    def lead(self, unit: UUID, on: date) -> bool:
        for start, end, roles in self.periods[unit]:
            if start <= on and (end is None or on < end):
                return [r for since, r in roles if since <= on][-1] == "lead"
        return False

    def holders(self, on: date) -> dict[UUID, str]:
        return {
            u: s[2]
            for u, seats in self.seats.items()
            for s in seats
            if s[0] <= on and (s[1] is None or on < s[1])
        }

    def broken(self) -> list[str]:
        found = []
        for on in DAYS:
            for unit_type in ("enterprise", "university", "vocational_school"):
                leads = [u for u in self.periods if TYPE[u] == unit_type and self.lead(u, on)]
                if len(leads) > 1:
                    found.append(f"{on}: {len(leads)} lead {unit_type}s")
            holders = self.holders(on)
            if any(not self.member(u, on) for u in holders):
                found.append(f"{on}: a seat held by a non-member")
            if sum(1 for office in holders.values() if office == "chair") > 1:
                found.append(f"{on}: two chairs")
            for terms in self.terms:
                for start, end, units in terms:
                    in_force = start <= on and (end is None or on < end)
                    if in_force and any(not self.member(u, on) for u in units):
                        found.append(f"{on}: an agreement party is not a member")
        for held_on, present in self.meetings.values():
            if any(u not in self.holders(held_on) for u in present):
                found.append(f"{held_on}: present without a seat")
        for held_on, seats in self.resolutions:
            if len(self.holders(held_on)) != seats:
                found.append(f"{held_on}: a resolution's seats changed")
        for unit, on in self.contributions:
            if not self.member(unit, on):
                found.append(f"{on}: a contribution from a non-member")
        return found
