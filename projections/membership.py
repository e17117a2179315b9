"""Who the members of a body are, on a date, as the ledger knew it at a time."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

import msgspec

from application.ledger import Ledger
from domain.community import Community, MembershipPeriod
from domain.divisions import division_name, history
from domain.unit import MemberUnit
from domain.values import (
    chinese_name,
    parse_date,
    parse_timestamp,
    province_name,
    province_of,
    today,
)


class Member(msgspec.Struct, frozen=True):
    unit_id: UUID
    code: str
    name: str
    type: str
    province: str
    province_name: str
    role: str
    since: date
    division: str
    division_name: str | None
    """The GB/T 2260 name of ``division`` on the list's date (ADR 0026)."""


class MemberList(msgspec.Struct, frozen=True):
    community_id: UUID
    community_name: str
    as_of: date
    known_at: datetime | None
    members: list[Member]


class Period(msgspec.Struct, frozen=True):
    community_id: UUID
    community_name: str
    role: str
    admitted_on: date
    admitted_by: str | None
    exited_on: date | None
    exit_reason: str | None
    exited_by: str | None


class QualificationView(msgspec.Struct, frozen=True):
    qualification: str
    name: str  # 产教融合型企业
    since: date
    until: date | None  # the last day held; None: open
    source: str
    sha256: str | None
    recorded_by: str
    recorded_at: datetime
    ended_because: str | None  # ended early: why (``until`` is then the day before)


class UnitView(msgspec.Struct, frozen=True):
    id: UUID
    code: str
    name: str
    type: str
    level: str | None
    division: str
    province: str
    province_name: str
    deregistered_on: date | None
    division_name: str | None
    """The GB/T 2260 name of ``division`` today, or its last name if abolished since."""
    names: list[tuple[date | None, str]]
    divisions: list[tuple[date | None, str]]
    memberships: list[Period]
    qualifications: list[QualificationView] = []
    """Every period of a qualification recorded, in the order recorded."""


class CommunityView(msgspec.Struct, frozen=True):
    id: UUID
    name: str
    kind: str
    industry: str
    division: str
    province: str
    founded_on: date
    dissolved_on: date | None
    active_members: int
    division_name: str | None
    """The GB/T 2260 name of ``division`` today, or its last name if abolished since."""


def members(
    ledger: Ledger,
    community: str | UUID,
    as_of: str | date | None = None,
    known_at: str | datetime | None = None,
) -> MemberList:
    """Members on ``as_of`` (default: today in China), as recorded by ``known_at``
    (default: everything recorded so far)."""
    day = parse_date(as_of, "as-of date") if as_of is not None else today()
    moment = parse_timestamp(known_at, "known-at time") if known_at is not None else None
    body = (
        ledger.community(community)
        if moment is None
        else ledger.community_as_known_at(community, moment)
    )
    rows = [
        _member(unit_as_known_at(ledger, p.unit_id, moment), p, day) for p in body.members_on(day)
    ]
    rows.sort(key=lambda m: (m.role != "lead", m.since, m.code))
    return MemberList(
        community_id=body.id,
        community_name=body.name,
        as_of=day,
        known_at=moment,
        members=rows,
    )


def unit_as_known_at(ledger: Ledger, unit_id: UUID, moment: datetime | None) -> MemberUnit:
    """The unit as recorded by ``moment`` (None: now) — its names and divisions as the
    ledger knew them then, a rename or relocation recorded later left out."""
    if moment is None:
        return ledger.unit(unit_id)
    state: Any = None
    for event in ledger.events.get(unit_id):
        if event.timestamp > moment:
            break
        state = event.mutate(state)
    return state


def _member(unit: MemberUnit, period: MembershipPeriod, day: date) -> Member:
    division = unit.division_on(day)
    return Member(
        unit_id=unit.id,
        code=unit.code,
        name=unit.name_on(day),
        type=unit.unit_type.value,
        province=province_of(division),
        province_name=province_name(division),
        role=period.role_on(day).value,
        since=period.admitted_on,
        division=division,
        division_name=name_of_division(division, day),
    )


def unit_view(ledger: Ledger, ref: str | UUID, periods: list[Period] | None = None) -> UnitView:
    """A unit with its name and location history and its periods in every body
    (computed from the events unless given, e.g. by the membership read model)."""
    unit = ledger.unit(ref)
    if periods is None:
        periods = unit_periods(ledger, unit.id)
    return _unit_view(unit, periods)


def unit_periods(ledger: Ledger, unit_id: UUID) -> list[Period]:
    periods = []
    for community_id in ledger.community_ids():
        body = ledger.community(community_id)
        periods.extend(
            Period(
                community_id=body.id,
                community_name=body.name,
                role=p.role.value,
                admitted_on=p.admitted_on,
                admitted_by=p.admitted_by,
                exited_on=p.exited_on,
                exit_reason=p.exit_reason.value if p.exit_reason else None,
                exited_by=p.exited_by,
            )
            for p in body.periods
            if p.unit_id == unit_id
        )
    return periods


def _unit_view(unit: MemberUnit, periods: list[Period]) -> UnitView:
    return UnitView(
        id=unit.id,
        code=unit.code,
        name=unit.name,
        type=unit.unit_type.value,
        level=unit.level.value if unit.level else None,
        division=unit.division,
        province=unit.province,
        province_name=province_name(unit.division),
        deregistered_on=unit.deregistered_on,
        division_name=name_of_division(unit.division),
        names=[(_since(d), n) for d, n in unit.names],
        divisions=[(_since(d), v) for d, v in unit.divisions],
        memberships=periods,
        qualifications=[
            QualificationView(
                qualification=h.qualification.value,
                name=chinese_name(h.qualification),
                since=h.since,
                until=h.last_day(),
                source=h.source,
                sha256=h.sha256,
                recorded_by=h.principal,
                recorded_at=h.recorded_at,
                ended_because=h.ending.reason if h.ending else None,
            )
            for h in unit.qualifications
        ],
    )


def community_view(body: Community) -> CommunityView:
    return CommunityView(
        id=body.id,
        name=body.name,
        kind=body.kind.value,
        industry=body.industry,
        division=body.division,
        province=province_of(body.division),
        founded_on=body.founded_on,
        dissolved_on=body.dissolved_on,
        active_members=len(body.active_members),
        division_name=name_of_division(body.division),
    )


def communities(ledger: Ledger) -> list[CommunityView]:
    return [community_view(ledger.community(i)) for i in ledger.community_ids()]


def name_of_division(code: str, day: date | None = None) -> str | None:
    """What a report shows beside a recorded division: its GB/T 2260 name on ``day``
    (today's list if None), or, for a code that was not a division then (abolished
    since, or recorded before the check), the last name it had; None for a code the
    list never held. Never a refusal: recorded events are not checked again."""
    name = division_name(code, day)
    if name is None and (listings := history(code)):
        name = listings[-1].name
    return name


def _since(day: date) -> date | None:
    """The registered value holds 'from the beginning', shown as no date."""
    return None if day == date.min else day
