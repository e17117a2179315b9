"""The council's register, seats and the charter, as answers for people and scripts."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import msgspec

from application.ledger import Ledger
from domain.charter import FOUNDING_RULES, Majority
from domain.council import Resolution
from domain.values import parse_date, today


class RegisterEntry(msgspec.Struct, frozen=True):
    number: str | None
    held_on: date
    meeting: int
    matter: str
    title: str
    votes_for: int
    votes_against: int
    abstentions: int
    recused: int
    outcome: str
    reason: str
    charter_version: str | None
    revokes: str | None
    revoked_by: str | None


class Register(msgspec.Struct, frozen=True):
    community_id: UUID
    community_name: str
    resolutions: list[RegisterEntry]
    known_at: datetime | None = None  # None: everything recorded so far


class SeatView(msgspec.Struct, frozen=True):
    unit_id: UUID
    code: str
    unit_name: str
    representative: str
    office: str
    since: date
    until: date | None


class SeatList(msgspec.Struct, frozen=True):
    community_id: UUID
    community_name: str
    as_of: date
    seats: list[SeatView]


class MeetingRecorded(msgspec.Struct, frozen=True):
    community_id: str
    meeting: int  # its number in the council's sequence, for recording resolutions
    held_on: str
    present: int


class MeetingView(msgspec.Struct, frozen=True):
    meeting: int  # its number in the council's sequence: what a resolution names
    held_on: date
    present: list[str]  # the units present, by the name they had that day
    seats: int  # the seats held that day
    resolutions: int
    adopted: list[str]  # the numbers of the resolutions it adopted
    annulled: str | None = None  # why, if it was recorded in error and annulled


class MeetingList(msgspec.Struct, frozen=True):
    community_id: UUID
    community_name: str
    meetings: list[MeetingView]


class CharterView(msgspec.Struct, frozen=True):
    community_id: UUID
    community_name: str
    as_of: date
    version: str | None  # None: the founding-phase rules, no charter adopted yet
    effective_on: date | None
    adopted_by: str | None
    quorum: str
    majorities: dict[str, Majority]
    admission_requires_resolution: bool
    removal_requires_resolution: bool


def register(ledger: Ledger, community: str | UUID) -> Register:
    """Every resolution in the order recorded; adopted ones carry their number."""
    body = ledger.community(community)
    council = ledger.council(body)
    return Register(
        community_id=body.id,
        community_name=body.name,
        resolutions=[entry(r) for r in council.resolutions],
    )


def entry(r: Resolution) -> RegisterEntry:
    return RegisterEntry(
        number=r.number,
        held_on=r.held_on,
        meeting=r.meeting,
        matter=r.matter.value,
        title=r.title,
        votes_for=r.votes_for,
        votes_against=r.votes_against,
        abstentions=r.abstentions,
        recused=len(r.recused),
        outcome=r.outcome.value,
        reason=r.reason,
        charter_version=r.charter_version,
        revokes=r.revokes,
        revoked_by=r.revoked_by,
    )


def seats(ledger: Ledger, community: str | UUID, as_of: str | date | None = None) -> SeatList:
    day = parse_date(as_of, "as-of date") if as_of is not None else today()
    body = ledger.community(community)
    council = ledger.council(body)
    rows = []
    for seat in council.seats_on(day):
        unit = ledger.unit(seat.unit_id)
        rows.append(
            SeatView(
                unit_id=unit.id,
                code=unit.code,
                unit_name=unit.name_on(day),
                representative=seat.representative,
                office=seat.office.value,
                since=seat.since,
                until=seat.until,
            )
        )
    order = ["chair", "vice_chair", "secretary_general", "executive_director", "director"]
    rows.sort(key=lambda s: (order.index(s.office), s.since, s.code))
    return SeatList(community_id=body.id, community_name=body.name, as_of=day, seats=rows)


def meetings(ledger: Ledger, community: str | UUID) -> MeetingList:
    """The council's meetings in their recorded order, numbered as resolutions name
    them, with who was present and what was decided."""
    body = ledger.community(community)
    council = ledger.council(body)
    views = []
    for m in council.meetings:
        decided = [r for r in council.resolutions if r.meeting == m.number]
        views.append(
            MeetingView(
                meeting=m.number,
                held_on=m.held_on,
                present=[ledger.unit(u).name_on(m.held_on) for u in m.present],
                seats=len(council.seats_on(m.held_on)),
                resolutions=len(decided),
                adopted=[r.number for r in decided if r.number],
                annulled=m.annulled_because,
            )
        )
    return MeetingList(community_id=body.id, community_name=body.name, meetings=views)


def charter(ledger: Ledger, community: str | UUID, as_of: str | date | None = None) -> CharterView:
    day = parse_date(as_of, "as-of date") if as_of is not None else today()
    body = ledger.community(community)
    in_force = body.charter_on(day)
    rules = in_force.rules if in_force else FOUNDING_RULES
    return CharterView(
        community_id=body.id,
        community_name=body.name,
        as_of=day,
        version=in_force.version if in_force else None,
        effective_on=in_force.effective_on if in_force else None,
        adopted_by=in_force.resolution if in_force else None,
        quorum=rules.quorum,
        majorities={m.value: v for m, v in rules.majorities.items()},
        admission_requires_resolution=rules.admission_requires_resolution,
        removal_requires_resolution=rules.removal_requires_resolution,
    )
