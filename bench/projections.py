"""How fast the read models rebuild from a national-scale ledger, and how fast they answer.

    .venv/bin/python bench/projections.py [--store postgres|sqlite|both] [--events N]
                                          [--repeats K] [--keep] [--verify] [--profile]
                                          [--no-analyze] [--calls C] [--seed S]
    .venv/bin/python bench/projections.py --quick    # seconds: shows it runs to the end

GENERATE: a ledger of about N events (default 1,000,000: some 2,000 bodies and
200,000 member units across the 34 provinces; ten years of admissions, exits,
re-joins, role changes, renamings and relocations; councils with seats, meetings and
resolutions; charters revised to require admission resolutions; cost-sharing
agreements with contributions, costs, benefits, reversals, amendments), scaled in
proportion to N, plus one body of about 300 members for the queries. The events are
built with the aggregates' own event classes, in the order, with the versions and
the field values the ledger's commands would record, turned into stored events by
the ledger's mapper and inserted thousands at a time with ``recorder.insert_events``.
Recorded times run through the ten years, a microsecond apart, on the day each event
takes effect. ``--verify`` replays the whole log as ledger commands on an in-memory
ledger and checks that each command is accepted and records exactly the events in
the log (slow: use at 50,000 events or fewer).

REBUILD: each read model in ``projections.read_models.MODELS`` alone, and all of
them together, from position zero on fresh tables (tables dropped, tracking row
deleted, a new ``Store``, ``catch_up``), against a baseline taken in the same run:
the raw scan every reader pays, ``recorder.select_notifications`` pages decoded by
``ledger.mapper.to_domain_event``. Rates are log events per second (the whole log
over the rebuild's time, whichever events the model reads), medians of K repeats.

QUERY: latency (median, p99) of the read models' queries, each of which catches up
first as it does in the application: the members of the 300-member body on a date,
the national distribution by province, one agreement's cost-sharing report.

PostgreSQL is ``postgresql://postgres@127.0.0.1:5432/test`` unless
``CHANJIAO_BENCH_POSTGRES_URL`` says otherwise; the ledger goes into a fresh schema,
dropped at the end unless ``--keep``. SQLite goes into a temporary file.

``--quick`` (the test suite runs it): about 1,000 events (some 2,100 with the query
body), one repeat, 20 calls per query, ``--verify`` and ``--profile``, both stores
unless ``--store`` says otherwise; its figures mean nothing. Whatever the mode, the
run exits with status 1 if the generated ledger failed its checks.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import random
import statistics
import sys
import time as clock
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

# Run as a script, this file's own directory comes first on sys.path, and this file's
# name would hide the ``projections`` package: import from the project root instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from eventsourcing.utils import get_topic  # noqa: E402

from adapters.dialect import is_postgres  # noqa: E402
from bench.stores import throwaway_url  # noqa: E402
from bootstrap import Ledger  # noqa: E402
from domain.agreement import AgreementKind, BenefitAgreement, Party, ResourceKind  # noqa: E402
from domain.charter import (  # noqa: E402
    FOUNDING_RULES,
    Matter,
    Outcome,
    Rules,
    Tally,
    decide,
    make_rules,
    quorum_needed,
)
from domain.community import Community  # noqa: E402
from domain.council import Council, Office, council_id_for  # noqa: E402
from domain.divisions import counties  # noqa: E402
from domain.unit import MemberUnit  # noqa: E402
from domain.values import (  # noqa: E402
    LEAD_TYPES,
    PROVINCES,
    CommunityKind,
    ExitReason,
    Role,
    UnitType,
    VocationalLevel,
    credit_code_check_character,
    format_fen,
    unit_id_for,
)
from projections.cost_sharing_model import report  # noqa: E402
from projections.machinery import BATCH, ReadModel, Store  # noqa: E402
from projections.membership_model import members  # noqa: E402
from projections.provinces import distribution  # noqa: E402
from projections.read_models import MODELS  # noqa: E402

PRINCIPAL = "secretary:bench"
INSERT_BATCH = 5000  # stored events per insert_events call while generating

FIRST_DAY, LAST_DAY = date(2015, 1, 1), date(2024, 12, 31)
GENERATED_KINDS = [CommunityKind.INDUSTRY, CommunityKind.CITY, CommunityKind.DEVELOPMENT]
"""The kinds the generated bodies have, as weighted in ``Generator.run`` (the further
kinds keep a development body's rules, so they would add nothing to measure)."""
AS_OF = date(2024, 6, 30)  # the queries' date
QUERY_BODY_SIZE = 300
QUERY_CALLS = 200
QUERY_BUDGET_S = 60.0  # a slower query is called fewer times (at least 20)

REBUILD_GOAL_S = 60.0  # all read models from 1,000,000 events, PostgreSQL
RATIO_GOAL = 0.5  # … at least this share of the raw scan's rate (issue 16, step 6)
P99_GOAL_MS = 20.0
MEMBERS_P99_GOAL_MS = 10.0  # the 300-member list at 1,000,000 events (issue 16, step 6)

# At 1,000,000 events (scale 1); everything but the query body scales with --events.
BODIES_AT_SCALE_1 = 2000
UNITS_AT_SCALE_1 = 200_000
EVENTS_PER_SCALE = 1_000_000  # what scale 1 produces, give or take a few per cent

UNIT_TYPES = [  # (type, weight)
    (UnitType.ENTERPRISE, 55),
    (UnitType.VOCATIONAL_SCHOOL, 15),
    (UnitType.UNIVERSITY, 8),
    (UnitType.RESEARCH_INSTITUTE, 7),
    (UnitType.INDUSTRY_ORGANIZATION, 7),
    (UnitType.GOVERNMENT, 4),
    (UnitType.OTHER, 4),
]
INDUSTRIES = [
    "先进制造",
    "新一代信息技术",
    "现代农业",
    "生物医药",
    "新能源汽车",
    "现代物流",
    "集成电路",
    "轨道交通",
    "文化旅游",
    "健康养老",
    "数字经济",
    "新材料",
]
BIG_PROVINCES = {"32": 6, "44": 6, "33": 5, "37": 5, "41": 4, "51": 4, "42": 3, "43": 3}
OFFICES = [
    Office.CHAIR,
    Office.VICE_CHAIR,
    Office.VICE_CHAIR,
    Office.SECRETARY_GENERAL,
    Office.EXECUTIVE_DIRECTOR,
    Office.DIRECTOR,
    Office.DIRECTOR,
    Office.DIRECTOR,
    Office.DIRECTOR,
]


# --- the generator's own record of what it has recorded ------------------------------
#
# Just enough state to decide, in O(1) per event, what the aggregates would accept;
# ``--verify`` checks the result against the real ledger commands.


class UnitRec:
    __slots__ = ("bodies", "code", "division", "gone", "i", "id", "name", "type", "version")

    def __init__(self, i: int, code: str, name: str, kind: UnitType, division: str) -> None:
        self.i, self.code, self.name, self.type, self.division = i, code, name, kind, division
        self.id = unit_id_for(code)
        self.version = 1
        self.gone = False  # deregistered
        self.bodies: set[int] = set()  # bodies it is an active member of


class PeriodRec:
    __slots__ = ("role", "since")

    def __init__(self, role: Role, since: date) -> None:
        self.role, self.since = role, since  # current role, effective since


class CouncilRec:
    __slots__ = (
        "adopted",
        "ended",
        "id",
        "meetings",
        "reshuffled",
        "resolutions",
        "seats",
        "version",
    )

    def __init__(self, community_id: UUID) -> None:
        self.id = council_id_for(community_id)
        self.version = 0
        self.seats: dict[int, tuple[Office, date]] = {}  # unit → open seat (office, since)
        self.ended: dict[int, date] = {}  # unit → end of its last seat
        self.meetings = 0
        self.adopted: Counter[int] = Counter()  # year → adopted resolutions
        self.resolutions: dict[str, Matter] = {}  # adopted, unrevoked ordinary ones
        self.reshuffled: date = date.min


class AgreementRec:
    __slots__ = (
        "active",
        "body",
        "entries",
        "has_amendment",
        "id",
        "live",
        "parties",
        "terms_since",
        "units",
        "version",
    )

    def __init__(self, body: BodyRec, units: list[UnitRec], parties: tuple[Party, ...]) -> None:
        self.id = uuid.uuid4()
        self.body = body
        self.version = 1
        self.units = units  # the parties' units, in the order of ``parties``
        self.parties = parties  # in force (the draft until approved)
        self.terms_since: date | None = None
        self.entries: list[date] = []  # each entry's date, by number - 1
        self.live: set[int] = set()  # numbers of unreversed entries
        self.active = False
        self.has_amendment = False


class BodyRec:
    __slots__ = (
        "active",
        "admission_resolution",
        "agenda",
        "agreements",
        "charter",
        "charter_due",
        "council",
        "first",
        "founded",
        "i",
        "id",
        "kind",
        "leads",
        "name",
        "needs_resolution",
        "order",
        "protected",
        "province",
        "ramp",
        "rules",
        "target",
        "version",
    )

    def __init__(self, i: int, kind: CommunityKind, province: str, founded: date) -> None:
        self.i, self.kind, self.province, self.founded = i, kind, province, founded
        self.id = uuid.uuid4()
        self.name = ""
        self.version = 0
        self.active: dict[int, PeriodRec] = {}  # unit → open period
        self.order: list[int] = []  # units in order of admission (may hold former members)
        self.leads: dict[UnitType, int] = {}  # industry bodies: lead unit by type
        self.charter = "1"
        self.rules: Rules = FOUNDING_RULES
        self.needs_resolution = False  # admissions need an adopted admission resolution
        self.admission_resolution: str | None = None
        self.council: CouncilRec | None = None
        self.protected: Counter[int] = Counter()  # agreement parties: they do not leave
        self.target = 0
        self.first = 0
        self.ramp = 0
        self.charter_due = False
        self.agenda: deque[tuple[str, AgreementRec]] = deque()  # agreement matters to decide
        self.agreements: list[AgreementRec] = []


class Generator:
    """A ten-year simulation, one action at a time in date order; each action records
    the events the matching ledger command would, through ``emit``."""

    def __init__(self, events: int, emit: Callable[[Any], None], seed: int = 2025) -> None:
        self.scale = events / EVENTS_PER_SCALE
        self.emit = emit
        self.rng = random.Random(seed)
        # (day ordinal, sequence, action, arguments): actions run in date order, and in
        # the order they were planned within a day.
        self.heap: list[tuple[int, int, Callable[..., None], tuple[Any, ...]]] = []
        self.seq = itertools.count()
        self.units: list[UnitRec] = []
        self.pool: dict[str, list[UnitRec]] = {p: [] for p in PROVINCES}  # registered, by province
        self.everyone: list[UnitRec] = []
        self.bodies: list[BodyRec] = []
        self.counties: dict[str, list[str]] = {}  # by province, filled on first use
        self.counts: Counter[str] = Counter()  # events recorded, by topic
        self.day = FIRST_DAY
        self.ordinal = FIRST_DAY.toordinal()
        self.stamp_day = FIRST_DAY
        self.stamp_base = datetime.combine(FIRST_DAY, time(2), tzinfo=UTC)
        self.stamp_n = 0
        provinces = list(PROVINCES)
        self.provinces = provinces
        self.province_weights = list(
            itertools.accumulate(  # cumulative, for choices()
                BIG_PROVINCES.get(p, 2) if p not in ("71", "81", "82") else 0.3 for p in provinces
            )
        )
        self.unit_types = [t for t, _ in UNIT_TYPES]
        self.unit_weights = list(itertools.accumulate(w for _, w in UNIT_TYPES))
        n_units = max(QUERY_BODY_SIZE * 2, round(UNITS_AT_SCALE_1 * self.scale))
        # Admissions pick a unit never seen before with this probability, so that about
        # n_units are registered by the end; tuned with the admissions the bodies make.
        self.fresh = min(0.95, n_units / max(1.0, 455_000 * self.scale + 700))
        self.n_bodies = max(3, round(BODIES_AT_SCALE_1 * self.scale))
        self.query_body: BodyRec | None = None
        self.report_agreement: AgreementRec | None = None

    # --- plumbing -----------------------------------------------------------------

    def at(self, day: date, action: Callable[..., None], *args: Any) -> None:
        if day <= LAST_DAY:
            heapq.heappush(self.heap, (day.toordinal(), next(self.seq), action, args))

    def stamp(self) -> datetime:
        """The recorded time of the next event: 10:00 China time on the day it takes
        effect, a microsecond after the event before."""
        if self.day != self.stamp_day:
            self.stamp_day = self.day
            self.stamp_base = datetime.combine(self.day, time(2), tzinfo=UTC)
            self.stamp_n = 0
        self.stamp_n += 1
        return self.stamp_base + timedelta(microseconds=self.stamp_n)

    def record(self, event: Any) -> None:
        self.counts[type(event).TOPIC] += 1
        self.emit(event)

    def later(self, low: int, high: int) -> date:
        return self.day + timedelta(days=self.rng.randint(low, high))

    def run(self) -> None:
        rng = self.rng
        span = (date(2020, 12, 31) - FIRST_DAY).days
        for i in range(self.n_bodies):
            if i == 0:
                kind, province, founded = CommunityKind.INDUSTRY, "32", date(2015, 1, 5)
            else:
                kind = rng.choices(GENERATED_KINDS, [60, 25, 15])[0]
                province = rng.choices(self.provinces, cum_weights=self.province_weights)[0]
                founded = FIRST_DAY + timedelta(days=rng.randint(0, span))
            body = BodyRec(i, kind, province, founded)
            if i == 0:
                body.target, self.query_body = QUERY_BODY_SIZE, body
            else:
                body.target = min(700, int(30 + rng.paretovariate(2.5) * 102))
            body.first = max(5, body.target // 4)
            body.ramp = rng.randint(900, 1800)
            self.bodies.append(body)
            self.at(founded, self.found, body)
        while self.heap:
            day, _, action, args = heapq.heappop(self.heap)
            if day != self.ordinal:
                self.ordinal, self.day = day, date.fromordinal(day)
            action(*args)

    # --- member units ---------------------------------------------------------------

    def division_in(self, province: str) -> str:
        """A county of ``province`` that is a division throughout the generated years,
        as the ledger checks (ADR 0026)."""
        if province not in self.counties:
            first, last = set(counties(province, FIRST_DAY)), counties(province, LAST_DAY)
            # Taiwan, Hong Kong and Macao have no counties in GB/T 2260: the province's code.
            self.counties[province] = [c for c in last if c in first] or [f"{province}0000"]
        return self.rng.choice(self.counties[province])

    def register(self, province: str, kind: UnitType | None = None) -> UnitRec:
        rng = self.rng
        i = len(self.units)
        if kind is None:
            kind = rng.choices(self.unit_types, cum_weights=self.unit_weights)[0]
        if rng.random() > 0.7:
            province = rng.choices(self.provinces, cum_weights=self.province_weights)[0]
        division = self.division_in(province)
        authority = "91" if kind in (UnitType.ENTERPRISE, UnitType.OTHER) else "12"
        code = f"{authority}{division}{i:09d}"
        code += credit_code_check_character(code)
        name = f"{PROVINCES[province]}{_TYPE_NAMES[kind]}{i}"
        unit = UnitRec(i, code, name, kind, division)
        level = rng.choice(list(VocationalLevel)) if kind is UnitType.VOCATIONAL_SCHOOL else None
        self.record(
            MemberUnit.Registered(
                originator_id=unit.id,
                originator_version=1,
                timestamp=self.stamp(),
                originator_topic=_UNIT_TOPIC,
                principal=PRINCIPAL,
                code=code,
                name=name,
                unit_type=kind,
                level=level,
                division=division,
            )
        )
        self.units.append(unit)
        self.pool[province].append(unit)
        self.everyone.append(unit)
        if rng.random() < 0.08:
            self.at(self.later(30, 3000), self.rename, unit)
        if rng.random() < 0.045:
            self.at(self.later(30, 3000), self.relocate, unit)
        if rng.random() < 0.01:
            self.at(self.later(400, 3000), self.deregister, unit)
        return unit

    def rename(self, unit: UnitRec) -> None:
        if unit.gone:
            return
        unit.version += 1
        unit.name = f"{unit.name.split('（')[0]}（{unit.version}）"
        self.record(
            MemberUnit.Renamed(
                originator_id=unit.id,
                originator_version=unit.version,
                timestamp=self.stamp(),
                principal=PRINCIPAL,
                name=unit.name,
                effective_on=self.day,
            )
        )
        if self.rng.random() < 0.2:
            self.at(self.later(200, 2000), self.rename, unit)

    def relocate(self, unit: UnitRec) -> None:
        if unit.gone:
            return
        province = unit.division[:2]
        if self.rng.random() < 0.5:
            province = self.rng.choices(self.provinces, cum_weights=self.province_weights)[0]
        division = self.division_in(province)
        if division == unit.division:
            return
        unit.version += 1
        unit.division = division
        self.record(
            MemberUnit.Relocated(
                originator_id=unit.id,
                originator_version=unit.version,
                timestamp=self.stamp(),
                principal=PRINCIPAL,
                division=division,
                effective_on=self.day,
            )
        )

    def deregister(self, unit: UnitRec) -> None:
        """It leaves every body first (one exit command each), then is deregistered;
        a party to an agreement, or a member admitted today, stays a while longer."""
        if unit.gone:
            return
        bodies = [self.bodies[b] for b in sorted(unit.bodies)]
        if any(b.protected[unit.i] or b.active[unit.i].since >= self.day for b in bodies):
            self.at(self.later(30, 90), self.deregister, unit)
            return
        for body in bodies:
            self.exit(body, unit, ExitReason.WITHDRAWAL)
        unit.gone = True
        unit.version += 1
        self.record(
            MemberUnit.Deregistered(
                originator_id=unit.id,
                originator_version=unit.version,
                timestamp=self.stamp(),
                principal=PRINCIPAL,
                effective_on=self.day,
            )
        )

    # --- bodies and membership --------------------------------------------------------

    def found(self, body: BodyRec) -> None:
        rng = self.rng
        industry = rng.choice(INDUSTRIES)
        kind_name = {
            "industry": "行业产教融合共同体",
            "city": "市域产教联合体",
            "development": "开发区产教联合体",
        }[body.kind]
        body.name = f"{PROVINCES[body.province]}{industry}{kind_name}{body.i}"
        if body is self.query_body:
            body.name = f"江苏{industry}{kind_name}（查询基准）"
        division = self.division_in(body.province)
        body.version = 1
        self.record(
            Community.Founded(
                originator_id=body.id,
                originator_version=1,
                timestamp=self.stamp(),
                originator_topic=_COMMUNITY_TOPIC,
                principal=PRINCIPAL,
                name=body.name,
                kind=body.kind,
                industry=industry,
                division=division,
                founded_on=self.day,
            )
        )
        body.rules = make_rules(FOUNDING_RULES)
        self.charter_adopted(body, "1", body.rules, None)
        self.at(self.later(1, 10), self.grow, body)
        self.at(self.later(35, 50), self.set_up_council, body)
        self.at(self.later(60, 120), self.meeting, body)
        if rng.random() < 0.25:
            self.at(self.later(365, 1100), self.revise_charter, body)
        if body is self.query_body or rng.random() < 0.15:
            self.at(self.later(150, 1800), self.draft_agreement, body)

    def charter_adopted(self, body: BodyRec, version: str, rules: Rules, by: str | None) -> None:
        body.version += 1
        body.charter = version
        body.rules = rules
        self.record(
            Community.CharterAdopted(
                originator_id=body.id,
                originator_version=body.version,
                timestamp=self.stamp(),
                principal=PRINCIPAL,
                version=version,
                rules=rules,
                effective_on=self.day,
                resolution=by,
            )
        )

    def grow(self, body: BodyRec) -> None:
        """Admit members towards the body's size for its age: a quarter at the
        start, all of it after ``ramp`` days; members who leave are replaced."""
        age = (self.day - body.founded).days
        target = body.first + (body.target - body.first) * min(1.0, age / body.ramp)
        wanted = min(int(target) - len(body.active), 12 if body.active else body.first)
        if not body.active and body.kind is CommunityKind.INDUSTRY:
            for kind in LEAD_TYPES:  # an industry body starts with its three leads
                self.admit(body, self.register(body.province, kind), Role.LEAD)
            wanted -= 3
        elif not body.active:
            self.admit(body, self.register(body.province, UnitType.ENTERPRISE), Role.LEAD)
            wanted -= 1
        for _ in range(wanted):
            unit = self.pick(body)
            if not self.admit(body, unit, Role.PARTICIPANT):
                break
        self.at(self.later(10, 40), self.grow, body)

    def pick(self, body: BodyRec) -> UnitRec:
        """A unit to admit: one registered today, or one already on the register
        (usually of the body's province) that is not a member yet."""
        rng = self.rng
        if rng.random() >= self.fresh:
            for _ in range(6):
                pool = self.pool[body.province] if rng.random() < 0.7 else self.everyone
                if pool:
                    unit = pool[int(rng.random() * len(pool))]
                    if not unit.gone and unit.i not in body.active:
                        return unit
        return self.register(body.province)

    def admit(self, body: BodyRec, unit: UnitRec, role: Role) -> bool:
        reference = None
        if body.needs_resolution:
            reference = body.admission_resolution
            if reference is None:
                return False
        body.version += 1
        self.record(
            Community.MemberAdmitted(
                originator_id=body.id,
                originator_version=body.version,
                timestamp=self.stamp(),
                principal=PRINCIPAL,
                unit_id=unit.id,
                unit_type=unit.type,
                role=role,
                effective_on=self.day,
                resolution=reference,
            )
        )
        body.active[unit.i] = PeriodRec(role, self.day)
        body.order.append(unit.i)
        unit.bodies.add(body.i)
        if role is Role.LEAD and body.kind is CommunityKind.INDUSTRY:
            body.leads[unit.type] = unit.i
        rng = self.rng
        if rng.random() < 0.33:
            self.at(self.later(120, 3000), self.leave, body, unit)
        if rng.random() < 0.07:
            self.at(self.later(60, 2000), self.change_role, body, unit)
        return True

    def leave(self, body: BodyRec, unit: UnitRec) -> None:
        period = body.active.get(unit.i)
        if period is None or body.protected[unit.i] or period.since >= self.day:
            return
        reason = ExitReason.REMOVAL if self.rng.random() < 0.1 else ExitReason.WITHDRAWAL
        self.exit(body, unit, reason)
        if self.rng.random() < 0.3:
            self.at(self.later(60, 720), self.rejoin, body, unit)

    def exit(self, body: BodyRec, unit: UnitRec, reason: ExitReason) -> None:
        """The exit, and (saved with it) the council seat it gives up."""
        body.version += 1
        self.record(
            Community.MemberExited(
                originator_id=body.id,
                originator_version=body.version,
                timestamp=self.stamp(),
                principal=PRINCIPAL,
                unit_id=unit.id,
                reason=reason,
                effective_on=self.day,
                resolution=None,
            )
        )
        del body.active[unit.i]
        unit.bodies.discard(body.i)
        if body.leads.get(unit.type) == unit.i:
            del body.leads[unit.type]
        council = body.council
        if council is not None and unit.i in council.seats:
            self.vacate(council, unit, because_member_exited=True)

    def rejoin(self, body: BodyRec, unit: UnitRec) -> None:
        if not unit.gone and unit.i not in body.active:
            self.admit(body, unit, Role.PARTICIPANT)

    def change_role(self, body: BodyRec, unit: UnitRec) -> None:
        """Participant to lead or back. An industry body's lead of the same type steps
        down first (its own command), if it can on this date."""
        period = body.active.get(unit.i)
        if period is None or period.since >= self.day:
            return
        industry = body.kind is CommunityKind.INDUSTRY
        if period.role is Role.LEAD:
            self.set_role(body, unit, period, Role.PARTICIPANT)
            return
        if industry:
            if unit.type not in LEAD_TYPES:
                return
            holder = body.leads.get(unit.type)
            if holder is not None:
                held = body.active[holder]
                if held.since >= self.day:
                    return
                self.set_role(body, self.units[holder], held, Role.PARTICIPANT)
        self.set_role(body, unit, period, Role.LEAD)

    def set_role(self, body: BodyRec, unit: UnitRec, period: PeriodRec, role: Role) -> None:
        body.version += 1
        self.record(
            Community.MemberRoleChanged(
                originator_id=body.id,
                originator_version=body.version,
                timestamp=self.stamp(),
                principal=PRINCIPAL,
                unit_id=unit.id,
                role=role,
                effective_on=self.day,
            )
        )
        period.role, period.since = role, self.day
        if body.kind is CommunityKind.INDUSTRY:
            if role is Role.LEAD:
                body.leads[unit.type] = unit.i
            elif body.leads.get(unit.type) == unit.i:
                del body.leads[unit.type]

    def revise_charter(self, body: BodyRec) -> None:
        body.charter_due = True  # decided at the next meeting

    # --- councils ---------------------------------------------------------------------

    def set_up_council(self, body: BodyRec) -> None:
        leads = [u for u, p in body.active.items() if p.role is Role.LEAD]
        others = [u for u in body.active if u not in leads]
        for office, u in zip(OFFICES, leads + others, strict=False):
            self.assign(body, self.units[u], office)

    def assign(self, body: BodyRec, unit: UnitRec, office: Office) -> None:
        council = body.council
        if council is None:  # the first seat establishes the council, in the same save
            council = body.council = CouncilRec(body.id)
            council.version = 1
            self.record(
                Council.Established(
                    originator_id=council.id,
                    originator_version=1,
                    timestamp=self.stamp(),
                    originator_topic=_COUNCIL_TOPIC,
                    principal=PRINCIPAL,
                    community_id=body.id,
                )
            )
        council.version += 1
        self.record(
            Council.SeatAssigned(
                originator_id=council.id,
                originator_version=council.version,
                timestamp=self.stamp(),
                principal=PRINCIPAL,
                unit_id=unit.id,
                representative=f"代表{unit.i}-{council.version}",
                office=office,
                effective_on=self.day,
            )
        )
        council.seats[unit.i] = (office, self.day)

    def vacate(self, council: CouncilRec, unit: UnitRec, because_member_exited: bool) -> None:
        council.version += 1
        self.record(
            Council.SeatVacated(
                originator_id=council.id,
                originator_version=council.version,
                timestamp=self.stamp(),
                principal=PRINCIPAL,
                unit_id=unit.id,
                effective_on=self.day,
                because_member_exited=because_member_exited,
            )
        )
        del council.seats[unit.i]
        council.ended[unit.i] = self.day

    def seatable(self, body: BodyRec, council: CouncilRec) -> int | None:
        """A member on this date without a seat, whose last seat (if any) has ended."""

        def free(u: int) -> bool:
            return (
                u in body.active
                and u not in council.seats
                and council.ended.get(u, date.min) <= self.day
            )

        for _ in range(20):  # a few random tries first: scanning a large body is slow
            u = body.order[int(self.rng.random() * len(body.order))]
            if free(u):
                return u
        return next((u for u in body.active if free(u)), None)

    def meeting(self, body: BodyRec) -> None:
        """Seats filled and (yearly) one reshuffled; the meeting; its resolutions."""
        rng = self.rng
        council = body.council
        self.at(self.later(120, 240), self.meeting, body)
        if council is None:
            return
        offices = Counter(office for office, _ in council.seats.values())
        if (self.day - council.reshuffled).days >= 365 and len(council.seats) > 1:
            council.reshuffled = self.day
            movable = [
                u
                for u, (o, since) in council.seats.items()
                if o is not Office.CHAIR and since < self.day
            ]
            if movable:
                u = rng.choice(movable)
                office = council.seats[u][0]
                self.vacate(council, self.units[u], because_member_exited=False)
                offices[office] -= 1
        for office in OFFICES:
            if offices[office] > 0:
                offices[office] -= 1
                continue
            u = self.seatable(body, council)
            if u is None:
                break
            self.assign(body, self.units[u], office)
        seats = list(council.seats)
        if not seats:
            return
        needed = quorum_needed(body.rules.quorum, len(seats))
        decisive = body.charter_due or bool(body.agenda) or body.needs_resolution
        if decisive or rng.random() < 0.9:
            size = rng.randint(min(len(seats), max(needed, 1)), len(seats))
            if body.charter_due:
                size = len(seats)
        else:
            size = max(1, needed - 1)  # no quorum: its resolutions are rejected
        present = rng.sample(seats, size)
        council.meetings += 1
        council.version += 1
        number = council.meetings
        self.record(
            Council.MeetingHeld(
                originator_id=council.id,
                originator_version=council.version,
                timestamp=self.stamp(),
                principal=PRINCIPAL,
                meeting=number,
                held_on=self.day,
                present=tuple(self.units[u].id for u in present),
            )
        )
        agenda: list[tuple[Matter, str, Any]] = []
        if body.charter_due:
            agenda.append((Matter.CHARTER, "修订章程：成员入会须经理事会决议", None))
        if body.needs_resolution or body.charter_due:
            agenda.append((Matter.ADMISSION, f"接纳新成员（第{number}次会议）", None))
        while body.agenda:
            what, agreement = body.agenda.popleft()
            agenda.append((Matter.AGREEMENT, f"协议事项：{what}", (what, agreement)))
        for _ in range(rng.randint(1, 2)):
            agenda.append(
                (
                    rng.choice([Matter.ORDINARY, Matter.ORDINARY, Matter.RESOURCES]),
                    f"工作事项（第{number}次会议）",
                    None,
                )
            )
        postponed = []
        for matter, title, item in agenda:
            adopted = self.resolve(body, council, number, present, matter, title)
            if adopted is None:
                if item is not None:
                    postponed.append(item)
                continue
            if matter is Matter.CHARTER:
                body.charter_due = False
                body.needs_resolution = True
                self.charter_adopted(
                    body,
                    str(int(body.charter) + 1),
                    make_rules(body.rules, admission_requires_resolution=True),
                    adopted,
                )
            elif matter is Matter.ADMISSION:
                body.admission_resolution = adopted
            elif item is not None and not self.agreement_decided(item, adopted):
                postponed.append(item)
        body.agenda.extend(postponed)

    def resolve(
        self,
        body: BodyRec,
        council: CouncilRec,
        meeting: int,
        present: list[int],
        matter: Matter,
        title: str,
    ) -> str | None:
        """Record a resolution as the council decides it; its number if adopted."""
        rng = self.rng
        recused = (
            [self.units[present[0]].id]
            if matter is Matter.RESOURCES and len(present) > 3 and rng.random() < 0.3
            else []
        )
        voters = len(present) - len(recused)
        shortfall = 0 if matter is Matter.CHARTER else min(voters, rng.choice([0, 0, 0, 1, 2]))
        votes_for = voters - shortfall
        votes_against = rng.randint(0, shortfall)
        abstentions = shortfall - votes_against
        revokes = None
        if matter is Matter.ORDINARY and council.resolutions and rng.random() < 0.05:
            revokes = rng.choice(list(council.resolutions))
        tally = Tally(
            votes_for=votes_for,
            votes_against=votes_against,
            abstentions=abstentions,
            present=len(present),
            recused=len(recused),
            seats=len(council.seats),
        )
        decision = decide(body.rules, matter, tally)
        number = None
        if decision.outcome is Outcome.ADOPTED:
            year = self.day.year
            council.adopted[year] += 1
            number = f"{year}-{council.adopted[year]:03d}"
            if revokes is not None:
                del council.resolutions[revokes]
            if matter is Matter.ORDINARY:
                council.resolutions[number] = matter
        council.version += 1
        self.record(
            Council.ResolutionRecorded(
                originator_id=council.id,
                originator_version=council.version,
                timestamp=self.stamp(),
                principal=PRINCIPAL,
                meeting=meeting,
                matter=matter,
                title=title,
                votes_for=votes_for,
                votes_against=votes_against,
                abstentions=abstentions,
                recused=tuple(recused),
                revokes=revokes,
                seats=len(council.seats),
                charter_version=body.charter,
                outcome=decision.outcome,
                reason=decision.reason,
                number=number,
            )
        )
        return number

    # --- agreements -------------------------------------------------------------------

    def draft_agreement(self, body: BodyRec) -> None:
        rng = self.rng
        candidates = [u for u, p in body.active.items() if p.since < self.day]
        if body.council is None or len(candidates) < 2:
            self.at(self.later(60, 120), self.draft_agreement, body)
            return
        leads = [u for u in candidates if body.active[u].role is Role.LEAD]
        others = [u for u in candidates if u not in leads]
        chosen = (leads + rng.sample(others, min(len(others), 3)))[: rng.randint(2, 5)]
        units = [self.units[u] for u in chosen]
        agreement = AgreementRec(body, units, self.shares(units))
        for u in chosen:
            body.protected[u] += 1
        kind = rng.choice(list(AgreementKind))
        self.record(
            BenefitAgreement.Drafted(
                originator_id=agreement.id,
                originator_version=1,
                timestamp=self.stamp(),
                originator_topic=_AGREEMENT_TOPIC,
                principal=PRINCIPAL,
                community_id=body.id,
                title=f"{body.name}{_KIND_NAMES[kind]}协议{len(body.agreements) + 1}",
                kind=kind,
                parties=agreement.parties,
                drafted_on=self.day,
            )
        )
        body.agreements.append(agreement)
        body.agenda.append(("approve", agreement))
        if body is self.query_body:
            self.report_agreement = agreement

    def shares(self, units: list[UnitRec]) -> tuple[Party, ...]:
        def split() -> list[int]:
            cuts = sorted(self.rng.sample(range(1, 10_000), len(units) - 1))
            return [b - a for a, b in itertools.pairwise([0, *cuts, 10_000])]

        return tuple(
            Party(unit_id=u.id, cost_share_bp=c, benefit_share_bp=b)
            for u, c, b in zip(units, split(), split(), strict=True)
        )

    def agreement_decided(self, item: tuple[str, AgreementRec], resolution: str) -> bool:
        """Approve, amend or terminate on an adopted resolution; False to postpone."""
        what, agreement = item
        rng = self.rng
        body = agreement.body
        if what == "approve":
            self.agreement_event(
                agreement, BenefitAgreement.Approved, effective_on=self.day, resolution=resolution
            )
            agreement.active, agreement.terms_since = True, self.day
            self.at(self.later(3, 30), self.agreement_entry, agreement)
            if body is self.query_body or rng.random() < 0.35:
                self.at(self.later(300, 900), self.put_on_agenda, agreement, "amend")
            if body is not self.query_body and rng.random() < 0.1:
                self.at(self.later(1000, 2500), self.put_on_agenda, agreement, "terminate")
            return True
        if not agreement.active:
            return True  # terminated meanwhile: nothing left to decide
        assert agreement.terms_since is not None
        if agreement.terms_since >= self.day:
            return False  # its shares changed today already
        if what == "amend":
            units = list(agreement.units)
            taken = {u.i for u in units}
            newcomers = [u for u, p in body.active.items() if p.since < self.day and u not in taken]
            if newcomers and rng.random() < 0.5:
                newcomer = rng.choice(newcomers)
                body.protected[newcomer] += 1
                units.append(self.units[newcomer])
            parties = self.shares(units)
            self.agreement_event(
                agreement,
                BenefitAgreement.Amended,
                parties=parties,
                effective_on=self.day,
                resolution=resolution,
            )
            agreement.units, agreement.parties, agreement.terms_since = units, parties, self.day
            agreement.has_amendment = True
            return True
        # terminate: only after its last entry
        if agreement.live and agreement.entries[max(agreement.live) - 1] >= self.day:
            return False
        self.agreement_event(
            agreement, BenefitAgreement.Terminated, effective_on=self.day, resolution=resolution
        )
        agreement.active = False
        for unit in agreement.units:
            body.protected[unit.i] -= 1
        return True

    def put_on_agenda(self, agreement: AgreementRec, what: str) -> None:
        if agreement.active:
            agreement.body.agenda.append((what, agreement))

    def agreement_event(self, agreement: AgreementRec, cls: type, **fields: Any) -> None:
        agreement.version += 1
        self.record(
            cls(
                originator_id=agreement.id,
                originator_version=agreement.version,
                timestamp=self.stamp(),
                principal=PRINCIPAL,
                **fields,
            )
        )

    def agreement_entry(self, agreement: AgreementRec) -> None:
        if not agreement.active:
            return
        rng = self.rng
        number = len(agreement.entries) + 1
        amount = rng.randint(10_000, 50_000_000)
        pick = rng.random()
        if pick < 0.45:
            party = rng.choice(agreement.parties)
            self.agreement_event(
                agreement,
                BenefitAgreement.ContributionRecorded,
                entry=number,
                unit_id=party.unit_id,
                kind=rng.choice(list(ResourceKind)),
                amount_fen=amount,
                contributed_on=self.day,
                description=f"投入第{number}笔",
            )
        elif pick < 0.8:
            self.agreement_event(
                agreement,
                BenefitAgreement.CostIncurred,
                entry=number,
                amount_fen=amount,
                incurred_on=self.day,
                description=f"共担成本第{number}笔",
            )
        else:
            self.agreement_event(
                agreement,
                BenefitAgreement.BenefitRealized,
                entry=number,
                amount_fen=amount,
                realized_on=self.day,
                description=f"共享收益第{number}笔",
            )
        agreement.entries.append(self.day)
        agreement.live.add(number)
        if number > 3 and rng.random() < 0.03:
            wrong = rng.choice(sorted(agreement.live))
            agreement.live.discard(wrong)
            self.agreement_event(
                agreement, BenefitAgreement.EntryReversed, entry=wrong, reason="录入错误，冲销"
            )
        self.at(self.later(15, 60), self.agreement_entry, agreement)


_UNIT_TOPIC = get_topic(MemberUnit)
_COMMUNITY_TOPIC = get_topic(Community)
_COUNCIL_TOPIC = get_topic(Council)
_AGREEMENT_TOPIC = get_topic(BenefitAgreement)
_TYPE_NAMES = {
    UnitType.ENTERPRISE: "制造有限公司",
    UnitType.UNIVERSITY: "理工大学",
    UnitType.VOCATIONAL_SCHOOL: "职业技术学院",
    UnitType.RESEARCH_INSTITUTE: "研究院",
    UnitType.INDUSTRY_ORGANIZATION: "行业协会",
    UnitType.GOVERNMENT: "人力资源和社会保障局",
    UnitType.OTHER: "服务中心",
}
_KIND_NAMES = {
    AgreementKind.TRAINING_BASE: "共享实训基地",
    AgreementKind.INDUSTRY_COLLEGE: "产业学院",
    AgreementKind.TECHNOLOGY_CENTRE: "技术创新中心",
    AgreementKind.OTHER: "合作",
}


# --- writing and checking the log --------------------------------------------------------


class BulkWriter:
    """Events → stored events (the ledger's own mapper) → ``recorder.insert_events``,
    INSERT_BATCH at a time: one transaction per batch instead of one per command."""

    def __init__(self, ledger: Ledger) -> None:
        self.to_stored = ledger.mapper.to_stored_event
        self.insert = ledger.recorder.insert_events
        self.buffer: list[Any] = []
        self.written = 0

    def __call__(self, event: Any) -> None:
        self.buffer.append(self.to_stored(event))
        if len(self.buffer) >= INSERT_BATCH:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            self.insert(self.buffer)
            self.written += len(self.buffer)
            self.buffer = []
            if self.written % 250_000 < INSERT_BATCH:
                print(f"    {self.written:,} events written", flush=True)


def generate(ledger: Ledger, events: int, seed: int) -> tuple[Generator, int, float]:
    writer = BulkWriter(ledger)
    generator = Generator(events, writer, seed)
    started = clock.perf_counter()
    generator.run()
    writer.flush()
    return generator, writer.written, clock.perf_counter() - started


def analyze(ledger: Ledger) -> float:
    """PostgreSQL: gather the planner's statistics on the events table, as autovacuum
    would have on a ledger written over ten years (the library sets the table to be
    analyzed after every 1 % of change). This server runs with autovacuum off, and
    a table bulk-loaded and never analyzed gets a plan that reads every remaining
    event for each topic-filtered page of a catch-up. Seconds taken; 0 on SQLite."""
    recorder: Any = ledger.recorder
    if not is_postgres(recorder):
        return 0.0
    started = clock.perf_counter()
    with recorder.datastore.transaction(commit=True) as cursor:
        cursor.execute(f"ANALYZE {recorder.datastore.schema}.{recorder.events_table_name}")
    return clock.perf_counter() - started


def check_log(ledger: Ledger) -> list[str]:
    """The whole log, in SQL: every aggregate's versions run 1, 2, 3… without a gap,
    and recorded times only increase along the log."""
    recorder: Any = ledger.recorder
    table = recorder.events_table_name
    if is_postgres(recorder):
        table = f"{recorder.datastore.schema}.{table}"
        stamp = "(convert_from(state, 'UTF8')::jsonb ->> 'timestamp')::timestamptz"
        position = "notification_id"
    else:
        stamp = "json_extract(state, '$.timestamp')"  # fixed-width text here: sorts as it compares
        position = "rowid"
    gaps = (
        f"SELECT count(*) AS n FROM (SELECT originator_id FROM {table} GROUP BY originator_id "
        "HAVING min(originator_version) <> 1 OR max(originator_version) <> count(*)) AS g"
    )
    backwards = (
        f"SELECT count(*) AS n FROM (SELECT {stamp} AS t, lag({stamp}) OVER "
        f"(ORDER BY {position}) AS before FROM {table}) AS s WHERE t <= before"
    )
    problems = []
    datastore: Any = recorder.datastore
    with datastore.transaction(commit=False) as cursor:
        for sql, what in (
            (gaps, "aggregates whose versions have gaps"),
            (backwards, "events recorded no later than the event before"),
        ):
            cursor.execute(sql)
            count = cursor.fetchone()["n"]
            if count:
                problems.append(f"{count} {what}")
    return problems


def check_aggregates(ledger: Ledger, gen: Generator) -> list[str]:
    """A few aggregates loaded back with ``repository.get`` (their events replayed):
    each as the generator left it."""
    problems: list[str] = []

    def expect(what: str, got: object, wanted: object) -> None:
        if got != wanted:
            problems.append(f"{what}: {got!r}, expected {wanted!r}")

    body = gen.query_body
    assert body is not None and body.council is not None
    community = ledger.repository.get(body.id)
    expect("query body version", community.version, body.version)
    expect(
        "query body members",
        {p.unit_id for p in community.active_members},
        {gen.units[u].id for u in body.active},
    )
    expect("query body charter", community.charters[-1].version, body.charter)
    council = ledger.repository.get(body.council.id)
    expect("query council version", council.version, body.council.version)
    expect(
        "query council seats",
        {s.unit_id for s in council.seats if s.until is None},
        {gen.units[u].id for u in body.council.seats},
    )
    agreement = gen.report_agreement
    if agreement is not None:
        record = ledger.repository.get(agreement.id)
        expect("agreement version", record.version, agreement.version)
        expect("agreement entries", len(record.entries), len(agreement.entries))
        expect("agreement shares", record.terms[-1].parties, agreement.parties)
    rng = random.Random(7)
    for body in rng.sample(gen.bodies, min(5, len(gen.bodies))):
        community = ledger.repository.get(body.id)
        expect(f"body {body.i} members", len(community.active_members), len(body.active))
    changed = [u for u in gen.units if u.version > 1]
    for unit in rng.sample(changed, min(20, len(changed))):
        record = ledger.repository.get(unit.id)
        expect(
            f"unit {unit.code}",
            (record.version, record.name, record.division, record.is_deregistered),
            (unit.version, unit.name, unit.division, unit.gone),
        )
    return problems


def check_members(store: Store, ledger: Ledger, gen: Generator) -> list[str]:
    """The membership read model's member lists against the same lists computed
    from the events (``projections.membership.members``)."""
    from projections import membership as from_events
    from projections.membership_model import members as from_model

    rng = random.Random(11)
    body = gen.query_body
    assert body is not None
    known_at = datetime(2019, 7, 1, 4, tzinfo=UTC)
    cases = [
        (body, AS_OF, None),
        (body, date(2016, 6, 30), None),
        (body, AS_OF, known_at),
        (body, LAST_DAY, None),
    ]
    cases += [
        (b, rng.choice([AS_OF, date(2018, 1, 1)]), None)
        for b in rng.sample(gen.bodies[1:], min(4, len(gen.bodies) - 1))
    ]
    problems = []
    for b, day, moment in cases:
        fast = from_model(store, b.id, day, moment)
        slow = from_events.members(ledger, b.id, day, moment)
        if fast != slow:
            wrong = [(x, y) for x, y in zip(fast.members, slow.members, strict=False) if x != y]
            problems.append(
                f"members of body {b.i} on {day} (known at {moment}): read model "
                f"{len(fast.members)}, events {len(slow.members)}; first difference "
                f"{wrong[0] if wrong else 'in length'}"
            )
    return problems


class VerifyFailed(Exception):
    pass


def verify_by_commands(ledger: Ledger) -> int:
    """Replay the log as ledger commands on an in-memory ledger: every command must
    be accepted and record exactly the next events of the log (same types, versions
    and fields; recorded times aside, and the ids of bodies, councils and agreements,
    which the ledger draws itself, mapped). Recorded times must only increase.

    The in-memory ledger caches its aggregates, without copying them for each
    command: otherwise every command on a large body replays all its history, and a
    refused command ends the check anyway."""
    memory = Ledger(
        "memory://",
        env={"AGGREGATE_CACHE_MAXSIZE": "1000000", "DEEPCOPY_FROM_AGGREGATE_CACHE": "n"},
    )
    ids: dict[UUID, UUID] = {}
    council_of: dict[UUID, UUID] = {}  # generated council id → generated community id
    log = _decoded_log(ledger)
    ahead: deque[Any] = deque()
    position = checked = 0
    last_time = datetime.min.replace(tzinfo=UTC)

    def take() -> Any:
        return ahead.popleft() if ahead else next(log)

    while True:
        try:
            expected = [take()]
        except StopIteration:
            return checked
        if isinstance(expected[0], Council.Established):
            council_of[expected[0].originator_id] = expected[0].community_id
            expected.append(take())  # established by the command that assigns the first seat
        try:
            _command(memory, expected[-1], ids, council_of)
        except VerifyFailed:
            raise
        except Exception as e:
            raise VerifyFailed(f"the ledger refused {_describe(expected[-1])}: {e}") from e
        produced = [
            memory.mapper.to_domain_event(n)
            for n in memory.recorder.select_notifications(start=position + 1, limit=1000)
        ]
        position += len(produced)
        while len(expected) < len(produced):
            expected.append(take())
        for mine, theirs in zip(expected, produced, strict=True):
            if isinstance(mine, (Community.Founded, Council.Established, BenefitAgreement.Drafted)):
                ids.setdefault(mine.originator_id, theirs.originator_id)
            problem = _difference(mine, theirs, ids)
            if problem:
                raise VerifyFailed(f"{_describe(mine)}: {problem}")
            if mine.timestamp <= last_time:
                raise VerifyFailed(f"{_describe(mine)} is recorded no later than the event before")
            last_time = mine.timestamp
        checked += len(produced)


def _decoded_log(ledger: Ledger) -> Iterator[Any]:
    start = 1
    while True:
        page = ledger.recorder.select_notifications(start=start, limit=BATCH)
        for notification in page:
            yield ledger.mapper.to_domain_event(notification)
        if len(page) < BATCH:
            return
        start = page[-1].id + 1


def _describe(event: Any) -> str:
    return f"{type(event).__qualname__} v{event.originator_version} of {event.originator_id}"


def _difference(mine: Any, theirs: Any, ids: dict[UUID, UUID]) -> str | None:
    if type(mine) is not type(theirs):
        return f"the ledger recorded {type(theirs).__qualname__} instead"
    if (
        ids.get(mine.originator_id) != theirs.originator_id
        and mine.originator_id != theirs.originator_id
    ):
        return f"the ledger recorded it for {theirs.originator_id}"
    skip = ("timestamp", "originator_id")
    a = {
        k: ids.get(v, v) if isinstance(v, UUID) else v
        for k, v in vars(mine).items()
        if k not in skip
    }
    b = {k: v for k, v in vars(theirs).items() if k not in skip}
    if a != b:
        keys = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
        return "; ".join(f"{k}: log {a.get(k)!r}, ledger {b.get(k)!r}" for k in keys)
    return None


def _parties(parties: tuple[Party, ...]) -> list[dict[str, Any]]:
    return [
        {
            "unit_id": p.unit_id,
            "cost_share_bp": p.cost_share_bp,
            "benefit_share_bp": p.benefit_share_bp,
        }
        for p in parties
    ]


def _command(m: Ledger, e: Any, ids: dict[UUID, UUID], council_of: dict[UUID, UUID]) -> None:
    """The ledger command that records ``e`` (and whatever goes with it)."""
    who = e.principal
    own = ids.get(e.originator_id)
    body = ids.get(council_of.get(e.originator_id))  # type: ignore[arg-type]
    match e:
        case MemberUnit.Registered():
            m.register_unit(
                code=e.code,
                name=e.name,
                unit_type=e.unit_type,
                division=e.division,
                level=e.level,
                principal=who,
            )
        case MemberUnit.Renamed():
            m.rename_unit(e.originator_id, name=e.name, effective_on=e.effective_on, principal=who)
        case MemberUnit.Relocated():
            m.relocate_unit(
                e.originator_id, division=e.division, effective_on=e.effective_on, principal=who
            )
        case MemberUnit.Deregistered():
            m.deregister_unit(e.originator_id, effective_on=e.effective_on, principal=who)
        case Community.Founded():
            m.found_community(
                name=e.name,
                kind=e.kind,
                industry=e.industry,
                division=e.division,
                founded_on=e.founded_on,
                principal=who,
                again=True,  # replaying what is recorded: repeats are the data's own
            )
        case Community.CharterAdopted():
            r = e.rules
            m.adopt_charter(
                own,
                version=e.version,
                effective_on=e.effective_on,
                resolution=e.resolution,
                quorum=r.quorum,
                majorities={str(k): f"{v.base}:{v.threshold}" for k, v in r.majorities.items()},
                admission_requires_resolution=r.admission_requires_resolution,
                removal_requires_resolution=r.removal_requires_resolution,
                principal=who,
            )
        case Community.MemberAdmitted():
            m.admit_member(
                own,
                e.unit_id,
                role=e.role,
                effective_on=e.effective_on,
                resolution=e.resolution,
                principal=who,
            )
        case Community.MemberRoleChanged():
            m.change_member_role(
                own, e.unit_id, role=e.role, effective_on=e.effective_on, principal=who
            )
        case Community.MemberExited():
            m.exit_member(
                own,
                e.unit_id,
                reason=e.reason,
                effective_on=e.effective_on,
                resolution=e.resolution,
                principal=who,
            )
        case Council.SeatAssigned():
            m.assign_seat(
                body,
                e.unit_id,
                representative=e.representative,
                office=e.office,
                effective_on=e.effective_on,
                principal=who,
            )
        case Council.SeatVacated() if not e.because_member_exited:
            m.vacate_seat(body, e.unit_id, effective_on=e.effective_on, principal=who)
        case Council.MeetingHeld():
            m.record_meeting(
                body, held_on=e.held_on, present=list(e.present), principal=who, again=True
            )
        case Council.ResolutionRecorded():
            m.record_resolution(
                body,
                meeting=e.meeting,
                matter=e.matter,
                title=e.title,
                votes_for=e.votes_for,
                votes_against=e.votes_against,
                abstentions=e.abstentions,
                recused=list(e.recused),
                revokes=e.revokes,
                principal=who,
            )
        case BenefitAgreement.Drafted():
            m.draft_agreement(
                ids[e.community_id],
                title=e.title,
                parties=_parties(e.parties),
                kind=e.kind,
                drafted_on=e.drafted_on,
                principal=who,
            )
        case BenefitAgreement.Approved():
            m.approve_agreement(
                own, resolution=e.resolution, effective_on=e.effective_on, principal=who
            )
        case BenefitAgreement.Amended():
            m.amend_agreement(
                own,
                parties=_parties(e.parties),
                resolution=e.resolution,
                effective_on=e.effective_on,
                principal=who,
            )
        case BenefitAgreement.Terminated():
            m.terminate_agreement(
                own, effective_on=e.effective_on, resolution=e.resolution, principal=who
            )
        case BenefitAgreement.ContributionRecorded():
            m.record_contribution(
                own,
                e.unit_id,
                kind=e.kind,
                amount=format_fen(e.amount_fen),
                contributed_on=e.contributed_on,
                description=e.description,
                principal=who,
            )
        case BenefitAgreement.CostIncurred():
            m.record_cost(
                own,
                amount=format_fen(e.amount_fen),
                incurred_on=e.incurred_on,
                description=e.description,
                principal=who,
            )
        case BenefitAgreement.BenefitRealized():
            m.record_benefit(
                own,
                amount=format_fen(e.amount_fen),
                realized_on=e.realized_on,
                description=e.description,
                principal=who,
            )
        case BenefitAgreement.EntryReversed():
            m.reverse_entry(own, entry=e.entry, reason=e.reason, principal=who)
        case _:
            raise VerifyFailed(f"{_describe(e)}: no ledger command records it on its own here")


# --- measuring --------------------------------------------------------------------------


def raw_scan(ledger: Ledger) -> int:
    """What any reader pays: the log in pages, each event decoded."""
    select, decode = ledger.recorder.select_notifications, ledger.mapper.to_domain_event
    start, count = 1, 0
    while True:
        page = select(start=start, limit=BATCH)
        for notification in page:
            decode(notification)
        count += len(page)
        if len(page) < BATCH:
            return count
        start = page[-1].id + 1


def drop(ledger: Ledger, models: list[type[ReadModel]]) -> None:
    """Forget the read models: their tables (and any rebuild's shadows), their positions."""
    probe = Store(ledger, [])
    p = probe.dialect.placeholder
    with probe.datastore.transaction(commit=True) as cursor:
        for cls in models:
            for model in (cls(probe.dialect, probe.schema), cls(probe.dialect, probe.schema, True)):
                for statement in model.drop_statements():
                    cursor.execute(statement)
                cursor.execute(
                    f"DELETE FROM {probe.table} WHERE application_name = {p}", (model.key,)
                )


def rebuild(ledger: Ledger, models: list[type[ReadModel]], head: int) -> float:
    """Seconds to bring ``models`` from nothing to the head of the log, as a new
    ``Store`` would (tables created untimed; the catch-up timed)."""
    drop(ledger, models)
    store = Store(ledger, models)
    started = clock.perf_counter()
    reached = store.catch_up()
    elapsed = clock.perf_counter() - started
    behind = [m.key for m in store.live if store.position(m.key) != head]
    if reached != head or behind:
        raise RuntimeError(f"catch-up reached {reached} of {head}; behind: {behind}")
    return elapsed


class CountingCursor:
    """A cursor that counts the statements sent through it."""

    def __init__(self, cursor: Any, counts: Counter[str], key: str) -> None:
        self._cursor, self._counts, self._key = cursor, counts, key

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        self._counts[self._key] += 1
        return self._cursor.execute(*args, **kwargs)

    def executemany(self, sql: str, rows: Any, *args: Any, **kwargs: Any) -> Any:
        rows = list(rows)
        self._counts[self._key] += len(rows)
        return self._cursor.executemany(sql, rows, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


def profile_rebuild(ledger: Ledger, models: list[type[ReadModel]], head: int) -> None:
    """One more rebuild of every read model, instrumented: the time spent reading
    pages, decoding and in each model's ``apply`` by event type, with the number of
    SQL statements (rows, for ``executemany``) each sends; the rest is the
    machinery's own (transactions, positions)."""
    drop(ledger, models)
    store = Store(ledger, models)
    seconds: Counter[str] = Counter()
    events: Counter[str] = Counter()
    statements: Counter[str] = Counter()

    def timed(key: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            started = clock.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                seconds[key] += clock.perf_counter() - started
                events[key] += 1

        return run

    for model in store.live:

        def apply(
            event: Any, cursor: Any, _apply: Any = model.apply, _name: str = model.name
        ) -> None:
            key = f"{_name}  {type(event).__qualname__}"
            started = clock.perf_counter()
            _apply(event, CountingCursor(cursor, statements, key))
            seconds[key] += clock.perf_counter() - started
            events[key] += 1

        model.apply = apply  # type: ignore[method-assign]
        model.begin = timed(f"{model.name}  begin (reads for the batch)", model.begin)  # type: ignore[method-assign]
        model.finish = timed(f"{model.name}  finish (buffered writes)", model.finish)  # type: ignore[method-assign]
    recorder: Any = ledger.recorder
    mapper: Any = ledger.mapper
    recorder.select_notifications = timed("read pages", recorder.select_notifications)
    mapper.to_domain_event = timed("decode events", mapper.to_domain_event)
    try:
        started = clock.perf_counter()
        store.catch_up()
        total = clock.perf_counter() - started
    finally:
        del recorder.select_notifications, mapper.to_domain_event
    print(f"  where one rebuild of all read models spends its {total:.1f} s ({head:,} events):")
    print(f"    {'':52} {'calls':>9} {'seconds':>8} {'µs each':>8} {'statements':>11}")
    for key, spent in sorted(seconds.items(), key=lambda kv: -kv[1]):
        print(
            f"    {key:52} {events[key]:9,} {spent:8.1f} {spent / events[key] * 1e6:8.0f} "
            f"{statements[key]:11,}"
        )
    rest = total - sum(seconds.values())
    print(f"    {'the rest (transactions, positions, the loop)':52} {'':9} {rest:8.1f}")


def latency(call: Callable[[], object], calls: int) -> tuple[float, float, int]:
    """(median, p99) in milliseconds, after a few warm-up calls, and the number of
    calls made: fewer than asked when they would take more than QUERY_BUDGET_S."""
    started = clock.perf_counter()
    for _ in range(3):
        call()
    each = (clock.perf_counter() - started) / 3
    calls = max(min(calls, 20), min(calls, int(QUERY_BUDGET_S / each)))
    times = []
    for _ in range(calls):
        started = clock.perf_counter()
        call()
        times.append((clock.perf_counter() - started) * 1000)
    p99 = statistics.quantiles(times, n=100, method="inclusive")[98]
    return statistics.median(times), p99, calls


class Results:
    """What one store measured, for the table."""

    def __init__(self, store: str, events: int) -> None:
        self.store, self.events = store, events
        self.generation = 0.0
        self.samples: dict[str, list[float]] = {}
        self.applied: dict[str, int] = {}
        self.queries: list[tuple[str, float, float, int]] = []
        self.checks: list[str] = []

    def rate(self, name: str) -> float:
        return self.events / statistics.median(self.samples[name])


RAW = "raw scan (baseline)"
ALL = "all read models"


def bench_store(store: str, ledger: Ledger, args: argparse.Namespace) -> Results:
    models = list(MODELS)
    print(f"  read models: {', '.join(m.name for m in models)}")

    gen, written, seconds = generate(ledger, args.events, args.seed)
    head = ledger.recorder.max_notification_id() or 0
    res = Results(store, written)
    res.generation = seconds
    body = gen.query_body
    assert body is not None
    print(
        f"  generated {written:,} events in {seconds:.1f} s ({written / seconds:,.0f} ev/s): "
        f"{len(gen.bodies):,} bodies, {len(gen.units):,} units, query body with "
        f"{len(body.active)} members"
    )
    if head != written:
        res.checks.append(f"log head {head} but {written} events written")
    if args.analyze and store == "postgres":
        print(f"  analyzed the events table in {analyze(ledger):.1f} s")
    elif store == "postgres":
        print("  events table NOT analyzed (--no-analyze): catch-up pages may scan the whole log")

    started = clock.perf_counter()
    problems = check_log(ledger) + check_aggregates(ledger, gen)
    res.checks += problems
    print(
        f"  checked versions, recorded times and sample aggregates in "
        f"{clock.perf_counter() - started:.1f} s: {'; '.join(problems) or 'all valid'}"
    )
    if args.verify:
        started = clock.perf_counter()
        try:
            n = verify_by_commands(ledger)
            print(
                f"  verified: {n:,} events, each as the ledger's commands record them "
                f"({clock.perf_counter() - started:.0f} s)"
            )
        except VerifyFailed as e:
            res.checks.append(f"verify: {e}")
            print(f"  VERIFY FAILED: {e}")

    for cls in models:
        res.applied[cls.name] = sum(gen.counts[t] for t in cls.topics)
    res.applied[ALL] = sum(gen.counts[t] for t in {t for c in models for t in c.topics})
    res.applied[RAW] = written

    samples: list[tuple[str, list[type[ReadModel]] | None]] = [(RAW, None)]
    samples += [(cls.name, [cls]) for cls in models]
    samples.append((ALL, models))
    for repeat in range(args.repeats):
        for name, chosen in samples if repeat % 2 == 0 else samples[::-1]:
            if chosen is None:
                started = clock.perf_counter()
                count = raw_scan(ledger)
                elapsed = clock.perf_counter() - started
                assert count == written, f"raw scan read {count} of {written}"
            else:
                elapsed = rebuild(ledger, chosen, head)
            res.samples.setdefault(name, []).append(elapsed)
            print(
                f"    {repeat + 1}/{args.repeats} {name:24} {elapsed:8.1f} s "
                f"{written / elapsed:10,.0f} ev/s",
                flush=True,
            )
    if args.profile:
        profile_rebuild(ledger, models, head)

    live = Store(ledger, models)
    live.catch_up()  # every model built, whichever sample came last
    problems = check_members(live, ledger, gen)
    res.checks += problems
    print(f"  member lists, read model against events: {'; '.join(problems) or 'identical'}")
    bench_queries(res, live, gen, args.calls)
    return res


def bench_queries(res: Results, store: Store, gen: Generator, calls: int) -> None:
    body, agreement = gen.query_body, gen.report_agreement
    assert body is not None and agreement is not None
    queries: list[tuple[str, Callable[[], object]]] = [
        (
            f"members of one body ({len(body.active)}) on {AS_OF}",
            lambda: members(store, body.id, AS_OF),
        ),
        (f"national distribution by province on {AS_OF}", lambda: distribution(store, None, AS_OF)),
        (
            f"cost-sharing report of one agreement ({len(agreement.entries)} entries)",
            lambda: report(store, agreement.id, AS_OF),
        ),
    ]
    for name, call in queries:
        median, p99, made = latency(call, calls)
        res.queries.append((name, median, p99, made))


# --- report -----------------------------------------------------------------------------


def print_results(res: Results, repeats: int, calls: int) -> list[str]:
    """The table; returns the verdicts."""
    print()
    print(
        f"{res.store}: {res.events:,} events, generated in {res.generation:.1f} s "
        f"({res.events / res.generation:,.0f} ev/s); medians of {repeats}"
    )
    raw = res.rate(RAW)
    print(f"  {'rebuild':34} {'seconds':>8} {'log ev/s':>10} {'its events':>11} {'/ raw scan':>10}")
    for name in res.samples:
        seconds = statistics.median(res.samples[name])
        print(
            f"  {name:34} {seconds:8.1f} {res.rate(name):10,.0f} "
            f"{res.applied.get(name, 0):11,} {res.rate(name) / raw:10.2f}"
        )
    print(f"  {'query':62} {'calls':>6} {'median ms':>10} {'p99 ms':>8}")
    for name, median, p99, made in res.queries:
        print(f"  {name:62} {made:6} {median:10.1f} {p99:8.1f}")

    verdicts = []
    all_rate = res.rate(ALL)
    projected = 1_000_000 / all_rate
    if res.store == "postgres":
        seconds = statistics.median(res.samples[ALL])
        verdicts.append(
            f"postgres: all read models from 1,000,000 events in < {REBUILD_GOAL_S:.0f} s: "
            f"{'met' if projected < REBUILD_GOAL_S else 'MISSED'} ({seconds:.1f} s for "
            f"{res.events:,} events; {projected:.0f} s per 1,000,000 at {all_rate:,.0f} ev/s)"
        )
        verdicts.append(
            f"postgres: all read models >= {RATIO_GOAL} of the raw scan: "
            f"{'met' if all_rate / raw >= RATIO_GOAL else 'MISSED'} ({all_rate / raw:.2f})"
        )
    else:
        verdicts.append(
            f"{res.store}: (no rebuild goal) all read models {all_rate / raw:.2f} of the raw "
            f"scan; {projected:.0f} s per 1,000,000 events at {all_rate:,.0f} ev/s"
        )
    for name, _, p99, _ in res.queries:
        goal = MEMBERS_P99_GOAL_MS if name.startswith("members") else P99_GOAL_MS
        verdicts.append(
            f"{res.store}: {name}: p99 < {goal:.0f} ms: "
            f"{'met' if p99 < goal else 'MISSED'} ({p99:.1f} ms)"
        )
    if res.checks:
        verdicts.append(
            f"{res.store}: THE GENERATED LEDGER FAILED ITS CHECKS: {'; '.join(res.checks)}"
        )
    return verdicts


# --- stores -----------------------------------------------------------------------------


@contextmanager
def bench_ledger(store: str, keep: bool) -> Iterator[Ledger]:
    """A ledger in a fresh PostgreSQL schema or SQLite file, removed afterwards
    unless ``keep``."""
    with throwaway_url(store, "bench_proj", keep) as url, closing(Ledger(url)) as ledger:
        yield ledger


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--store", choices=["postgres", "sqlite", "both"], help="default: postgres (--quick: both)"
    )
    parser.add_argument("--events", type=int, default=1_000_000, help="events to generate")
    parser.add_argument("--repeats", type=int, default=3, help="samples per rebuild")
    parser.add_argument("--calls", type=int, default=QUERY_CALLS, help="calls per query")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="about 1,000 events, one repeat, --verify and --profile: shows it runs to the end",
    )
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--keep", action="store_true", help="keep the generated ledger")
    parser.add_argument(
        "--verify", action="store_true", help="replay the log as ledger commands in memory (slow)"
    )
    parser.add_argument(
        "--no-analyze",
        dest="analyze",
        action="store_false",
        help="leave the PostgreSQL events table without statistics",
    )
    parser.add_argument(
        "--profile", action="store_true", help="profile one more rebuild of all read models"
    )
    args = parser.parse_args()
    if args.quick:
        args.events, args.repeats, args.calls = 1000, 1, 20
        args.verify = args.profile = True
    store = args.store or ("both" if args.quick else "postgres")

    verdicts = []
    failed = False
    for one in ["postgres", "sqlite"] if store == "both" else [store]:
        print(f"{one}: generating about {args.events:,} events", flush=True)
        with bench_ledger(one, args.keep) as ledger:
            res = bench_store(one, ledger, args)
        verdicts += print_results(res, args.repeats, args.calls)
        failed = failed or bool(res.checks)
    print()
    print("Goals:")
    for verdict in verdicts:
        print(f"  {verdict}")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
