"""The ledger's governance commands: charter, seats, meetings, resolutions — and
the check that a change the charter reserves to the council names a resolution
that really authorises it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from application.commands import (
    command,
    effective,
    label,
    principal_name,
    resolution_number,
)
from domain.charter import Matter, Rules, make_rules
from domain.community import Community
from domain.council import Council, Office, Resolution, council_id_for
from domain.errors import (
    CouncilNotFound,
    InvalidInput,
    NotAMember,
    ResolutionNotFound,
    ResolutionNotUsable,
    ResolutionRequired,
    SeatRuleBroken,
    UnitNotFound,
)
from domain.timeline import Timeline
from domain.unit import MemberUnit
from domain.values import parse_choice, parse_text

if TYPE_CHECKING:
    from application.ledger import Ledger


class GovernanceCommands:
    """Mixed into ``Ledger``; every method runs as one ledger command."""

    # --- charter ----------------------------------------------------------------

    @command
    def adopt_charter(
        self: Ledger,
        community: str | UUID,
        *,
        version: str,
        effective_on: str | date | None = None,
        resolution: str | None = None,
        quorum: str | None = None,
        majorities: dict[str, str] | None = None,
        admission_requires_resolution: bool | None = None,
        removal_requires_resolution: bool | None = None,
        principal: str,
    ) -> Community:
        """Rules not given are kept from the charter in force (or the founding rules)."""
        the_version = parse_text(version, "charter version", max_length=40)
        reference = resolution_number(resolution)
        day = effective(effective_on, "charter effective date") if effective_on else None
        who = principal_name(principal)
        body = self.community(community)
        if reference is not None:
            adopted_by = self.authorising_resolution(body, reference, Matter.CHARTER, day)
            day = day or adopted_by.held_on
        if day is None:
            raise InvalidInput("a founding charter needs its effective date")
        base = body.charters[-1].rules if body.charters else body.rules_on(day)
        rules: Rules = make_rules(
            base,
            quorum=quorum,
            majorities=majorities,
            admission_requires_resolution=admission_requires_resolution,
            removal_requires_resolution=removal_requires_resolution,
        )
        with self.rules_kept(Timeline(body, self.council_if_any(body))):
            body.adopt_charter(the_version, rules, day, reference, who)
        self.save(body)
        return body

    # --- seats and meetings -----------------------------------------------------

    @command
    def assign_seat(
        self: Ledger,
        community: str | UUID,
        unit: str | UUID,
        *,
        representative: str,
        office: str,
        effective_on: str | date,
        principal: str,
    ) -> Council:
        person = parse_text(representative, "representative")
        the_office = parse_choice(Office, office, "office")
        day = effective(effective_on)
        who = principal_name(principal)
        body = self.community(community)
        member = self.unit(unit)
        if not body.is_member_on(member.id, day):
            raise NotAMember(
                f"{label(member)} is not an active member of {body.name} on {day}; "
                "only members hold council seats"
            )
        council = self.council_or_new(body, who)
        with self.rules_kept(Timeline(body, council), member.id):
            council.assign_seat(member.id, label(member), person, the_office, day, who)
        self.save(council)
        return council

    @command
    def vacate_seat(
        self: Ledger,
        community: str | UUID,
        unit: str | UUID,
        *,
        effective_on: str | date,
        principal: str,
    ) -> Council:
        day = effective(effective_on)
        who = principal_name(principal)
        return self._change_seat(
            community, unit, lambda council, m: council.vacate_seat(m.id, label(m), day, who)
        )

    @command
    def annul_seat_record(
        self: Ledger, community: str | UUID, unit: str | UUID, *, reason: str, principal: str
    ) -> Council:
        """Take back the unit's last seat assignment or vacancy, made in error (ADR 0029);
        refused if a meeting's present seats or a resolution's seat count needed it."""
        why = parse_text(reason, "reason for the annulment")
        who = principal_name(principal)
        return self._change_seat(
            community,
            unit,
            lambda council, m: council.annul_last_seat_record(m.id, label(m), why, who),
        )

    def _change_seat(
        self: Ledger,
        community: str | UUID,
        unit: str | UUID,
        change: Callable[[Council, MemberUnit], Any],
    ) -> Council:
        """``change`` to a unit's seat, kept only if the rules over the body's dates
        still hold (ADR 0016)."""
        body = self.community(community)
        council = self.council(body)
        member = self.unit(unit)
        with self.rules_kept(Timeline(body, council), member.id):
            change(council, member)
        self.save(council)
        return council

    @command
    def annul_meeting(
        self: Ledger, community: str | UUID, *, meeting: int | str, reason: str, principal: str
    ) -> Council:
        """Take back a meeting recorded in error, one with no resolution (ADR 0029)."""
        number = _count(meeting, "meeting number")
        why = parse_text(reason, "reason for the annulment")
        who = principal_name(principal)
        body = self.community(community)
        council = self.council(body.id)
        council.annul_meeting(number, why, who)
        self.save(council)
        return council

    @command
    def record_meeting(
        self: Ledger,
        community: str | UUID,
        *,
        held_on: str | date,
        present: list[str | UUID],
        again: bool = False,
        principal: str,
    ) -> int:
        """Returns the meeting's number in the council's sequence."""
        day = effective(held_on, "meeting date")
        seats = [self.unit_id(u) for u in present]
        who = principal_name(principal)
        body = self.community(community)
        body.check_open(day)
        council = self.council(body.id)
        number = council.hold_meeting(day, seats, who, self.unit_names(), again=again)
        self.save(council)
        return number

    @command
    def record_resolution(
        self: Ledger,
        community: str | UUID,
        *,
        meeting: int | str,
        matter: str,
        title: str,
        votes_for: int,
        votes_against: int,
        abstentions: int,
        recused: list[str | UUID] = (),  # type: ignore[assignment]
        revokes: str | None = None,
        principal: str,
    ) -> Resolution:
        motion = _motion(self, community, meeting, matter, votes_for, votes_against, abstentions)
        the_title = parse_text(title, "resolution title")
        recused_seats = [self.unit_id(u) for u in recused]
        revoked = resolution_number(revokes, "the resolution revoked")
        who = principal_name(principal)
        body, council, held_on = motion.body, motion.council, motion.held_on
        charter = body.charter_on(held_on)
        resolution = council.record_resolution(
            **motion.counts,
            title=the_title,
            recused=recused_seats,
            revokes=revoked,
            rules=body.rules_on(held_on),
            charter_version=charter.version if charter else None,
            principal=who,
            name=self.unit_names(),
        )
        self.save(council)
        return resolution

    def preview_resolution(
        self: Ledger,
        community: str | UUID,
        *,
        meeting: int | str,
        matter: str,
        votes_for: int,
        votes_against: int,
        abstentions: int,
        recused: list[str | UUID] = (),  # type: ignore[assignment]
        revokes: str | None = None,
    ) -> Preview:
        """The outcome ``record_resolution`` would record for this tally, and its reason,
        computed by the same rules; or the refusal it would give. Records nothing."""
        motion = _motion(self, community, meeting, matter, votes_for, votes_against, abstentions)
        body, held_on = motion.body, motion.held_on
        tally, decision = motion.council.judge(
            **motion.counts,
            recused=[self.unit_id(u) for u in recused],
            revokes=resolution_number(revokes, "the resolution revoked"),
            rules=body.rules_on(held_on),
            name=self.unit_names(),
        )
        charter = body.charter_on(held_on)
        return Preview(
            held_on,
            tally.seats,
            tally.present,
            decision.outcome.value,
            decision.reason,
            charter.version if charter else None,
        )

    # --- reading ----------------------------------------------------------------

    def council(self: Ledger, community: str | UUID | Community) -> Council:
        body = community if isinstance(community, Community) else self.community(community)
        try:
            return self.repository.get(council_id_for(body.id))
        except AggregateNotFoundError:
            raise CouncilNotFound(
                f"{body.name} has no council yet: assign its first seat to start one"
            ) from None

    def council_if_any(self: Ledger, body: Community) -> Council | None:
        try:
            return self.council(body)
        except CouncilNotFound:
            return None

    def council_or_new(self: Ledger, body: Community, principal: str) -> Council:
        try:
            return self.council(body)
        except CouncilNotFound:
            return Council.establish(body.id, principal)

    def authorising_resolution(
        self: Ledger, body: Community, number: str, matter: Matter, day: date | None
    ) -> Resolution:
        """The adopted, unrevoked resolution ``number`` of this body's council on
        ``matter``, passed on or before ``day``; otherwise a clear refusal."""
        try:
            resolution = self.council(body).resolution(number)
        except (CouncilNotFound, ResolutionNotFound):
            raise ResolutionNotUsable(
                f"{body.name}'s register has no resolution {number}"
            ) from None
        problem = None
        if not resolution.in_force:
            problem = (
                f"was revoked by {resolution.revoked_by}"
                if resolution.revoked_by
                else "was not adopted"
            )
        elif resolution.matter is not matter:
            problem = f"is on the matter '{resolution.matter}', not '{matter}'"
        elif day is not None and resolution.held_on > day:
            problem = f"was passed on {resolution.held_on}, after {day}"
        if problem:
            raise ResolutionNotUsable(f"resolution {number} of {body.name} {problem}")
        return resolution

    def check_authority(
        self: Ledger,
        body: Community,
        reference: str | None,
        matter: Matter,
        day: date,
        *,
        required: bool,
    ) -> None:
        if reference is None:
            if required:
                raise ResolutionRequired(
                    f"{body.name}'s charter requires an adopted {matter} resolution for "
                    f"this; name it with its register number"
                )
            return
        self.authorising_resolution(body, reference, matter, day)

    def vacate_on_exit(
        self: Ledger, council: Council | None, unit_ids: list[UUID], day: date, who: str
    ) -> list[Any]:
        """Members that leave give up their council seats on the same date; returns
        the council to save with the community, if it changed."""
        if council is None:
            return []
        leaving = [u for u in unit_ids if council.open_seat(u) is not None]
        for unit_id in leaving:
            seat = council.open_seat(unit_id)
            assert seat is not None
            if seat.since >= day:
                raise SeatRuleBroken(
                    f"{self.label_of(unit_id)} holds a council seat from {seat.since}; it "
                    f"cannot leave effective {day}, before that (vacate the seat first)"
                )
            council.vacate_seat(unit_id, str(unit_id), day, who, because_member_exited=True)
        return [council] if leaving else []

    def label_of(self: Ledger, unit_id: UUID) -> str:
        try:
            return label(self.unit(unit_id))
        except UnitNotFound:
            return str(unit_id)


@dataclass(frozen=True)
class Preview:
    """What the ledger would decide for a motion, before it is recorded."""

    held_on: date
    seats: int
    present: int
    outcome: str
    reason: str
    charter_version: str | None


@dataclass(frozen=True)
class _Motion:
    body: Community
    council: Council
    held_on: date
    counts: dict[str, Any]


def _motion(
    ledger: Ledger,
    community: str | UUID,
    meeting: int | str,
    matter: str,
    votes_for: int,
    votes_against: int,
    abstentions: int,
) -> _Motion:
    """A motion's matter and counts read, and the body, council and meeting it is put to."""
    the_matter = parse_choice(Matter, matter, "matter")
    counts = [
        _count(v, w)
        for v, w in (
            (votes_for, "votes for"),
            (votes_against, "votes against"),
            (abstentions, "abstentions"),
            (meeting, "meeting number"),
        )
    ]
    body = ledger.community(community)
    council = ledger.council(body.id)
    held_on = council.meeting(counts[3]).held_on
    return _Motion(
        body,
        council,
        held_on,
        {
            "meeting": counts[3],
            "matter": the_matter,
            "votes_for": counts[0],
            "votes_against": counts[1],
            "abstentions": counts[2],
        },
    )


def _count(value: int | str, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InvalidInput(f"{what} must be a whole number")
    try:
        number = int(value)
    except ValueError:
        raise InvalidInput(f"{what} must be a whole number; got {value!r}") from None
    if not 0 <= number <= 100_000:
        raise InvalidInput(f"{what} must be between 0 and 100000; got {number}")
    return number
