"""Council: a body's seats, meetings and numbered resolution register.

One council per community (its id derives from the community's). The ledger
service supplies what the council cannot know itself — the charter in force on a
meeting date, and whether a unit is a member — and the council keeps the rest:
who held which seat when, who was present, and each resolution's outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid5

from domain.charter import Decision, Matter, Outcome, Rules, Tally, decide
from domain.errors import (
    EffectiveDateTooEarly,
    InvalidInput,
    LikelyDuplicate,
    MeetingHasResolutions,
    MeetingNotFound,
    ResolutionNotFound,
    SeatRuleBroken,
)
from domain.events import LedgerAggregate, LedgerCreated, LedgerEvent
from domain.values import chinese

Names = Callable[[UUID], str]
"""A unit as users know it (its name and credit code); ``str`` gives the id."""

COUNCIL_NAMESPACE = UUID("0b5d7c1e-7d2a-5f43-8e6b-3c2f1a9d4e70")


def council_id_for(community_id: UUID) -> UUID:
    return uuid5(COUNCIL_NAMESPACE, str(community_id))


class Office(StrEnum):
    CHAIR = "chair"
    VICE_CHAIR = "vice_chair"
    SECRETARY_GENERAL = "secretary_general"
    EXECUTIVE_DIRECTOR = "executive_director"
    DIRECTOR = "director"


chinese(
    Office,
    {
        Office.CHAIR: ("理事长",),
        Office.VICE_CHAIR: ("副理事长",),
        Office.SECRETARY_GENERAL: ("秘书长",),
        Office.EXECUTIVE_DIRECTOR: ("常务理事",),
        Office.DIRECTOR: ("理事",),
    },
)


@dataclass(frozen=True)
class Seat:
    unit_id: UUID
    representative: str
    office: Office
    since: date
    until: date | None = None  # first day no longer held
    recorded: tuple[int, ...] = ()
    """The versions, in the council's stream, of its assignment and its vacancy."""

    def held_on(self, day: date) -> bool:
        return self.since <= day and (self.until is None or day < self.until)


class SeatRecord(StrEnum):
    """The facts about a seat that an annulment can take back."""

    ASSIGNMENT = "assignment"
    VACANCY = "vacancy"


chinese(SeatRecord, {SeatRecord.ASSIGNMENT: ("席位分配",), SeatRecord.VACANCY: ("席位出缺",)})


@dataclass(frozen=True)
class Meeting:
    number: int
    held_on: date
    present: tuple[UUID, ...]
    annulled_because: str | None = None
    """Recorded in error and annulled: it keeps its number, and counts for nothing."""


@dataclass(frozen=True)
class Resolution:
    number: str | None  # "2025-007" when adopted
    meeting: int
    held_on: date
    matter: Matter
    title: str
    votes_for: int
    votes_against: int
    abstentions: int
    recused: tuple[UUID, ...]
    revokes: str | None
    outcome: Outcome
    reason: str
    charter_version: str | None
    revoked_by: str | None = None
    seats: int = 0  # the seats on the meeting date, the base its outcome was decided on

    @property
    def in_force(self) -> bool:
        return self.outcome is Outcome.ADOPTED and self.revoked_by is None


class Council(LedgerAggregate):
    TOPIC = "chanjiao.council"

    class Event(LedgerEvent):
        pass

    class Created(Event, LedgerCreated):
        TOPIC = "chanjiao.council.created"

    class Established(Created):
        TOPIC = "chanjiao.council.established.v1"
        community_id: UUID

    class SeatAssigned(Event):
        TOPIC = "chanjiao.council.seat_assigned.v1"
        unit_id: UUID
        representative: str
        office: Office
        effective_on: date

        def apply(self, council: Council) -> None:
            council.seats.append(
                Seat(
                    self.unit_id,
                    self.representative,
                    self.office,
                    self.effective_on,
                    recorded=(self.originator_version,),
                )
            )

    class SeatVacated(Event):
        TOPIC = "chanjiao.council.seat_vacated.v1"
        unit_id: UUID
        effective_on: date
        because_member_exited: bool

        def apply(self, council: Council) -> None:
            seat = council.open_seat(self.unit_id)
            assert seat is not None
            _swap(
                council.seats,
                seat,
                replace(
                    seat,
                    until=self.effective_on,
                    recorded=(*seat.recorded, self.originator_version),
                ),
            )

    class SeatRecordAnnulled(Event):
        """A unit's last seat record (its assignment or its vacancy: ``record``, the
        event of version ``annulled``) taken back, recorded in error."""

        TOPIC = "chanjiao.council.seat_record_annulled.v1"
        unit_id: UUID
        record: SeatRecord
        annulled: int
        reason: str

        def apply(self, council: Council) -> None:
            seat = council.last_seat(self.unit_id)
            assert seat is not None and seat.recorded[-1] == self.annulled
            if self.record is SeatRecord.VACANCY:
                _swap(council.seats, seat, replace(seat, until=None, recorded=seat.recorded[:-1]))
            else:
                council.seats.remove(seat)

    class MeetingAnnulled(Event):
        """A meeting recorded in error, taken back: it keeps its number."""

        TOPIC = "chanjiao.council.meeting_annulled.v1"
        meeting: int
        reason: str

        def apply(self, council: Council) -> None:
            meeting = council.meeting(self.meeting)
            _swap(council.meetings, meeting, replace(meeting, annulled_because=self.reason))

    class MeetingHeld(Event):
        TOPIC = "chanjiao.council.meeting_held.v1"
        meeting: int
        held_on: date
        present: tuple[UUID, ...]

        def apply(self, council: Council) -> None:
            council.meetings.append(Meeting(self.meeting, self.held_on, self.present))

    class ResolutionRecorded(Event):
        TOPIC = "chanjiao.council.resolution_recorded.v1"
        meeting: int
        matter: Matter
        title: str
        votes_for: int
        votes_against: int
        abstentions: int
        recused: tuple[UUID, ...]
        revokes: str | None
        seats: int
        charter_version: str | None
        outcome: Outcome
        reason: str
        number: str | None

        def apply(self, council: Council) -> None:
            meeting = council.meeting(self.meeting)
            council.resolutions.append(
                Resolution(
                    number=self.number,
                    meeting=self.meeting,
                    held_on=meeting.held_on,
                    matter=self.matter,
                    title=self.title,
                    votes_for=self.votes_for,
                    votes_against=self.votes_against,
                    abstentions=self.abstentions,
                    recused=self.recused,
                    revokes=self.revokes,
                    outcome=self.outcome,
                    reason=self.reason,
                    charter_version=self.charter_version,
                    seats=self.seats,
                )
            )
            if self.outcome is Outcome.ADOPTED and self.revokes:
                revoked = council.resolution(self.revokes)
                _swap(council.resolutions, revoked, replace(revoked, revoked_by=self.number))

    def __init__(self, community_id: UUID) -> None:
        self.community_id = community_id
        self.seats: list[Seat] = []
        self.meetings: list[Meeting] = []
        self.resolutions: list[Resolution] = []

    @classmethod
    def establish(cls, community_id: UUID, principal: str) -> Council:
        return cls._create(
            cls.Established,
            id=council_id_for(community_id),
            community_id=community_id,
            principal=principal,
        )

    # --- reading ----------------------------------------------------------------

    def open_seat(self, unit_id: UUID) -> Seat | None:
        for seat in reversed(self.seats):
            if seat.unit_id == unit_id and seat.until is None:
                return seat
        return None

    def seats_on(self, day: date) -> list[Seat]:
        return [s for s in self.seats if s.held_on(day)]

    def last_seat(self, unit_id: UUID) -> Seat | None:
        return next((s for s in reversed(self.seats) if s.unit_id == unit_id), None)

    @property
    def meetings_held(self) -> list[Meeting]:
        """The meetings that count: those not annulled."""
        return [m for m in self.meetings if m.annulled_because is None]

    def meeting(self, number: int) -> Meeting:
        for meeting in self.meetings:
            if meeting.number == number:
                return meeting
        raise MeetingNotFound(f"the council has no meeting {number}")

    def resolution(self, number: str) -> Resolution:
        for resolution in self.resolutions:
            if resolution.number == number:
                return resolution
        raise ResolutionNotFound(f"the council's register has no resolution {number}")

    # --- deciding ---------------------------------------------------------------

    def assign_seat(
        self,
        unit_id: UUID,
        unit_label: str,
        representative: str,
        office: Office,
        effective_on: date,
        principal: str,
    ) -> None:
        if self.open_seat(unit_id) is not None:
            raise SeatRuleBroken(f"{unit_label} already holds a council seat")
        last = next((s for s in reversed(self.seats) if s.unit_id == unit_id), None)
        if last is not None and last.until is not None and effective_on < last.until:
            raise EffectiveDateTooEarly(
                f"{unit_label}'s previous seat ended {last.until}; a new one cannot start "
                f"{effective_on}"
            )
        if office is Office.CHAIR:
            for seat in self.seats:
                if seat.office is Office.CHAIR and seat.until is None:
                    raise SeatRuleBroken(
                        f"the council already has a chair ({seat.representative}, since "
                        f"{seat.since}); vacate that seat first"
                    )
        self.trigger_event(
            self.SeatAssigned,
            unit_id=unit_id,
            representative=representative,
            office=office,
            effective_on=effective_on,
            principal=principal,
        )

    def vacate_seat(
        self,
        unit_id: UUID,
        unit_label: str,
        effective_on: date,
        principal: str,
        *,
        because_member_exited: bool = False,
    ) -> None:
        seat = self.open_seat(unit_id)
        if seat is None:
            raise SeatRuleBroken(f"{unit_label} holds no council seat")
        if effective_on <= seat.since:
            raise EffectiveDateTooEarly(
                f"{unit_label}'s seat was assigned effective {seat.since}; it can be "
                f"vacated only after that, not on {effective_on}"
            )
        self.trigger_event(
            self.SeatVacated,
            unit_id=unit_id,
            effective_on=effective_on,
            because_member_exited=because_member_exited,
            principal=principal,
        )

    def hold_meeting(
        self,
        held_on: date,
        present: list[UUID],
        principal: str,
        name: Names = str,
        again: bool = False,
    ) -> int:
        """``name``: a unit as the user knows it, for the errors. A second meeting on
        one day with the same seats present is most likely the first typed twice:
        refused unless ``again`` says the council did meet twice."""
        if len(set(present)) != len(present):
            twice = sorted({name(u) for u in present if present.count(u) > 1})
            raise InvalidInput(f"a seat is listed as present more than once: {', '.join(twice)}")
        holders = {s.unit_id for s in self.seats_on(held_on)}
        absent = [name(u) for u in present if u not in holders]
        if absent:
            raise SeatRuleBroken(
                f"held no council seat on {held_on}: {', '.join(absent)}; only seat "
                "holders can be recorded as present"
            )
        same = [
            m for m in self.meetings_held if m.held_on == held_on and set(m.present) == set(present)
        ]
        if same and not again:
            raise LikelyDuplicate(
                f"meeting {same[0].number} of this council, on {held_on} with the same "
                f"{len(present)} seats present, is already recorded; nothing was recorded. If "
                "the council met again that day, record it with --again (over HTTP, "
                '"again": true); `council meeting list` shows the meetings'
            )
        number = len(self.meetings) + 1
        self.trigger_event(
            self.MeetingHeld,
            meeting=number,
            held_on=held_on,
            present=tuple(present),
            principal=principal,
        )
        return number

    def record_resolution(
        self,
        *,
        meeting: int,
        matter: Matter,
        title: str,
        votes_for: int,
        votes_against: int,
        abstentions: int,
        recused: list[UUID],
        revokes: str | None,
        rules: Rules,
        charter_version: str | None,
        principal: str,
        name: Names = str,
    ) -> Resolution:
        tally, decision = self.judge(
            meeting=meeting,
            matter=matter,
            votes_for=votes_for,
            votes_against=votes_against,
            abstentions=abstentions,
            recused=recused,
            revokes=revokes,
            rules=rules,
            name=name,
        )
        number = None
        if decision.outcome is Outcome.ADOPTED:
            year = self.meeting(meeting).held_on.year
            taken = sum(1 for r in self.resolutions if r.number and r.number[:4] == str(year))
            number = f"{year}-{taken + 1:03d}"
        self.trigger_event(
            self.ResolutionRecorded,
            meeting=meeting,
            matter=matter,
            title=title,
            votes_for=votes_for,
            votes_against=votes_against,
            abstentions=abstentions,
            recused=tuple(recused),
            revokes=revokes,
            seats=tally.seats,
            charter_version=charter_version,
            outcome=decision.outcome,
            reason=decision.reason,
            number=number,
            principal=principal,
        )
        return self.resolutions[-1]

    def judge(
        self,
        *,
        meeting: int,
        matter: Matter,
        votes_for: int,
        votes_against: int,
        abstentions: int,
        recused: list[UUID],
        revokes: str | None,
        rules: Rules,
        name: Names = str,
    ) -> tuple[Tally, Decision]:
        """The tally of a motion at ``meeting`` and the outcome the rules give it, or
        why it cannot be recorded; records nothing (a form previews it with this)."""
        held = self.meeting(meeting)
        if held.annulled_because is not None:
            raise MeetingNotFound(
                f"meeting {meeting} of the council was annulled ({held.annulled_because}); "
                "no resolution can be recorded at it"
            )
        if len(set(recused)) != len(recused):
            twice = sorted({name(u) for u in recused if recused.count(u) > 1})
            raise InvalidInput(f"a seat is listed as recused more than once: {', '.join(twice)}")
        not_present = [name(u) for u in recused if u not in held.present]
        if not_present:
            raise InvalidInput(
                f"recused seats must have been present at meeting {meeting}: "
                f"{', '.join(not_present)} were not"
            )
        if revokes is not None:
            self._check_revocable(revokes, held.held_on)
        tally = Tally(
            votes_for=votes_for,
            votes_against=votes_against,
            abstentions=abstentions,
            present=len(held.present),
            recused=len(recused),
            seats=len(self.seats_on(held.held_on)),
        )
        return tally, decide(rules, matter, tally)

    def annul_last_seat_record(
        self, unit_id: UUID, unit_label: str, reason: str, principal: str
    ) -> SeatRecord:
        """Take back the unit's last seat record, made in error: a vacancy reopens the
        seat, an assignment removes it. Latest first, as membership records (ADR 0029);
        whether meetings and resolutions still hold is the rules' question (ADR 0016)."""
        seat = self.last_seat(unit_id)
        if seat is None or not seat.recorded:
            raise SeatRuleBroken(
                f"{unit_label} has no council seat recorded; there is nothing to annul"
            )
        record = SeatRecord.VACANCY if seat.until is not None else SeatRecord.ASSIGNMENT
        self.trigger_event(
            self.SeatRecordAnnulled,
            unit_id=unit_id,
            record=record,
            annulled=seat.recorded[-1],
            reason=reason,
            principal=principal,
        )
        return record

    def annul_meeting(self, number: int, reason: str, principal: str) -> Meeting:
        """Take back a meeting recorded in error. Not one with resolutions: their
        outcomes were decided with it, and a resolution stands until revoked."""
        meeting = self.meeting(number)
        if meeting.annulled_because is not None:
            raise InvalidInput(
                f"meeting {number} was already annulled ({meeting.annulled_because})"
            )
        decided = [r.number or f"'{r.title}'" for r in self.resolutions if r.meeting == number]
        if decided:
            raise MeetingHasResolutions(
                f"meeting {number} on {meeting.held_on} has resolutions recorded at it "
                f"({', '.join(decided)}); a meeting whose resolutions stand cannot be "
                "annulled (revoke an adopted one by a later resolution instead)"
            )
        self.trigger_event(self.MeetingAnnulled, meeting=number, reason=reason, principal=principal)
        return self.meeting(number)

    def _check_revocable(self, number: str, held_on: date) -> None:
        earlier = self.resolution(number)
        if earlier.revoked_by is not None:
            raise InvalidInput(f"resolution {number} was already revoked by {earlier.revoked_by}")
        if earlier.held_on > held_on:
            raise InvalidInput(
                f"resolution {number} was adopted on {earlier.held_on}, after this meeting"
            )


def _swap(records: list[Any], old: Any, new: Any) -> None:
    """Put ``new`` where ``old`` is: records are frozen, so a change replaces one."""
    records[next(i for i, r in enumerate(records) if r is old)] = new
