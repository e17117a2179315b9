"""MemberUnit: an organisation that can belong to any number of bodies."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from domain.errors import (
    CorrectionTooLate,
    EffectiveDateTooEarly,
    InvalidInput,
    NothingToChange,
    QualificationRefused,
    UnitDeregistered,
)
from domain.events import LedgerAggregate, LedgerCreated, LedgerEvent
from domain.values import (
    HOLDERS,
    Qualification,
    UnitType,
    VocationalLevel,
    chinese_name,
    may_hold,
    province_of,
)

if TYPE_CHECKING:
    from domain.community import Community


@dataclass(frozen=True)
class Ending:
    """A qualification withdrawn or lapsed early: not held from ``on``."""

    on: date
    reason: str
    principal: str
    recorded_at: datetime


@dataclass(frozen=True)
class Held:
    """A period a unit held a qualification: from ``since`` to ``until`` (the last day,
    ``None``: open), as the list or notice ``source`` named it, with its document's
    SHA-256 if one was given; ``ending``, if it was ended early. The periods of one
    qualification never overlap, so whether a unit holds it on a day depends only on
    the periods recorded, never on the order they were recorded in."""

    qualification: Qualification
    since: date
    until: date | None
    source: str
    sha256: str | None
    principal: str
    recorded_at: datetime
    ending: Ending | None = None

    def last_day(self, known_at: datetime | None = None) -> date | None:
        """The last day held, as known at ``known_at`` (default: everything)."""
        end = self.ending
        if end is None or (known_at is not None and end.recorded_at > known_at):
            return self.until
        return end.on - timedelta(days=1)

    def holds_on(self, day: date, known_at: datetime | None = None) -> bool:
        if known_at is not None and self.recorded_at > known_at:
            return False
        last = self.last_day(known_at)
        return self.since <= day and (last is None or day <= last)


class MemberUnit(LedgerAggregate):
    TOPIC = "chanjiao.unit"

    class Event(LedgerEvent):
        pass

    class Created(Event, LedgerCreated):
        TOPIC = "chanjiao.unit.created"

    class Registered(Created):
        TOPIC = "chanjiao.unit.registered.v1"
        code: str
        name: str
        unit_type: UnitType
        level: VocationalLevel | None
        division: str

    class Renamed(Event):
        TOPIC = "chanjiao.unit.renamed.v1"
        name: str
        effective_on: date

        def apply(self, unit: MemberUnit) -> None:
            unit.names.append((self.effective_on, self.name))

    class Relocated(Event):
        TOPIC = "chanjiao.unit.relocated.v1"
        division: str
        effective_on: date

        def apply(self, unit: MemberUnit) -> None:
            unit.divisions.append((self.effective_on, self.division))

    class Deregistered(Event):
        TOPIC = "chanjiao.unit.deregistered.v1"
        effective_on: date

        def apply(self, unit: MemberUnit) -> None:
            unit.deregistered_on = self.effective_on

    class RegistrationCorrected(Event):
        """The registration's details, recorded in error, as they should have been: the
        unit is as if registered so (its credit code, its identity, stays)."""

        TOPIC = "chanjiao.unit.registration_corrected.v1"
        name: str
        unit_type: UnitType
        level: VocationalLevel | None
        division: str
        reason: str

        def apply(self, unit: MemberUnit) -> None:
            unit.names = [(date.min, self.name)]
            unit.divisions = [(date.min, self.division)]
            unit.unit_type, unit.level = self.unit_type, self.level

    class QualificationRecorded(Event):
        """A qualification held from ``since`` (to ``until``, its last day, if the
        list names one), as ``source`` named it."""

        TOPIC = "chanjiao.unit.qualification_recorded.v1"
        qualification: Qualification
        since: date
        until: date | None
        source: str
        sha256: str | None

        def apply(self, unit: MemberUnit) -> None:
            held = Held(
                qualification=self.qualification,
                since=self.since,
                until=self.until,
                source=self.source,
                sha256=self.sha256,
                principal=self.principal,
                recorded_at=self.timestamp,
            )
            unit.qualifications = (*unit.qualifications, held)

    class QualificationEnded(Event):
        """The period of ``qualification`` that began ``since`` ended early: not held
        from ``ended_on``."""

        TOPIC = "chanjiao.unit.qualification_ended.v1"
        qualification: Qualification
        since: date
        ended_on: date
        reason: str

        def apply(self, unit: MemberUnit) -> None:
            ending = Ending(self.ended_on, self.reason, self.principal, self.timestamp)
            unit.qualifications = tuple(
                replace(h, ending=ending)
                if (h.qualification, h.since) == (self.qualification, self.since)
                else h
                for h in unit.qualifications
            )

    def __init__(
        self,
        code: str,
        name: str,
        unit_type: UnitType,
        level: VocationalLevel | None,
        division: str,
    ) -> None:
        self.code = code
        self.unit_type = unit_type
        self.level = level
        # (effective from, value); the registered value holds from the beginning.
        self.names: list[tuple[date, str]] = [(date.min, name)]
        self.divisions: list[tuple[date, str]] = [(date.min, division)]
        self.deregistered_on: date | None = None
        self.qualifications: tuple[Held, ...] = ()  # in order of recording

    # --- reading ----------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.names[-1][1]

    @property
    def division(self) -> str:
        return self.divisions[-1][1]

    @property
    def province(self) -> str:
        return province_of(self.division)

    @property
    def is_deregistered(self) -> bool:
        return self.deregistered_on is not None

    def name_on(self, day: date) -> str:
        return _value_on(self.names, day)

    def division_on(self, day: date) -> str:
        return _value_on(self.divisions, day)

    def qualifications_on(self, day: date, known_at: datetime | None = None) -> list[Qualification]:
        """The qualifications held on ``day``, as recorded by ``known_at`` (default:
        everything), in the closed list's order."""
        held = {h.qualification for h in self.qualifications if h.holds_on(day, known_at)}
        return [q for q in Qualification if q in held]

    # --- deciding ---------------------------------------------------------------

    def rename(self, name: str, effective_on: date, principal: str) -> None:
        self._check_change(effective_on, self.names[-1][0], "renamed")
        if name == self.name:
            raise NothingToChange(f"unit {self.code} is already named {name!r}")
        self.trigger_event(self.Renamed, name=name, effective_on=effective_on, principal=principal)

    def relocate(self, division: str, effective_on: date, principal: str) -> None:
        self._check_change(effective_on, self.divisions[-1][0], "relocated")
        if division == self.division:
            raise NothingToChange(f"unit {self.code} is already located in {division}")
        self.trigger_event(
            self.Relocated, division=division, effective_on=effective_on, principal=principal
        )

    def deregister(self, effective_on: date, principal: str) -> None:
        latest = max(self.names[-1][0], self.divisions[-1][0])
        self._check_change(effective_on, latest, "deregistered")
        self.trigger_event(self.Deregistered, effective_on=effective_on, principal=principal)

    def qualify(
        self,
        qualification: Qualification,
        since: date,
        until: date | None,
        source: str,
        sha256: str | None,
        principal: str,
    ) -> None:
        name = chinese_name(qualification)
        if not may_hold(qualification, self.unit_type, self.level):
            raise QualificationRefused(
                f"{self.name} ({self.code}) is registered as {_kind(self.unit_type, self.level)}; "
                f"{name} is held only by {_holders(qualification)}"
            )
        if until is not None and until < since:
            raise InvalidInput(f"{name}: the last day held ({until}) is before the first ({since})")
        if self.deregistered_on is not None and since >= self.deregistered_on:
            raise UnitDeregistered(
                f"unit {self.code} ({self.name}) was deregistered on {self.deregistered_on}"
            )
        for h in self.qualifications:
            last = h.last_day()
            if h.qualification is qualification and _overlap(since, until, h.since, last):
                raise QualificationRefused(
                    f"{self.name} ({self.code}) is already recorded as {name} "
                    f"{_period(h.since, last)}, which overlaps {_period(since, until)}; "
                    "end that period first if it ended"
                )
        self.trigger_event(
            self.QualificationRecorded,
            qualification=qualification,
            since=since,
            until=until,
            source=source,
            sha256=sha256,
            principal=principal,
        )

    def end_qualification(
        self, qualification: Qualification, ended_on: date, reason: str, principal: str
    ) -> None:
        """Not held from ``ended_on``: ends the period that holds it the day before."""
        name = chinese_name(qualification)
        day_before = ended_on - timedelta(days=1)
        held = next(
            (
                h
                for h in self.qualifications
                if h.qualification is qualification and h.holds_on(day_before)
            ),
            None,
        )
        if held is None:
            raise QualificationRefused(
                f"{self.name} ({self.code}) is not recorded as {name} on {day_before}, "
                f"the day before {ended_on}: there is no period to end"
            )
        if held.last_day() == day_before:
            raise NothingToChange(
                f"{self.name} ({self.code}) holds {name} {_period(held.since, day_before)} already"
            )
        self.trigger_event(
            self.QualificationEnded,
            qualification=qualification,
            since=held.since,
            ended_on=ended_on,
            reason=reason,
            principal=principal,
        )

    def correct_registration(
        self,
        name: str,
        unit_type: UnitType,
        level: VocationalLevel | None,
        division: str,
        reason: str,
        principal: str,
        bodies: Sequence[Community],
    ) -> None:
        """Correct what was registered, before anything else is recorded about the unit:
        once it was renamed, relocated or deregistered, those records are built on the
        registration (ADR 0029). ``bodies``: those it is or was a member of, which
        recorded its type on admission and may have its province as their
        recommending province."""
        if self.deregistered_on is not None or len(self.names) > 1 or len(self.divisions) > 1:
            raise CorrectionTooLate(
                f"unit {self.code} ({self.name}) was renamed, relocated or deregistered since "
                "it was registered; its registration can no longer be corrected: record a "
                "renaming or a relocation instead"
            )
        if (unit_type, level) != (self.unit_type, self.level) and bodies:
            raise CorrectionTooLate(
                f"{self.name} ({self.code}) is recorded in {_listed(bodies)} as registered; "
                "its type can be corrected only while it belongs to no body: annul those "
                "admissions first (member annul), then admit it again"
            )
        kept = [
            chinese_name(h.qualification)
            for h in self.qualifications
            if not may_hold(h.qualification, unit_type, level)
        ]
        if kept:
            raise CorrectionTooLate(
                f"{self.name} ({self.code}) is recorded as {'、'.join(kept)}, which "
                f"{_kind(unit_type, level)} cannot hold; end or keep those periods, and "
                "correct the type only if they were recorded in error"
            )
        named = [b for b in bodies if any(r.unit_id == self.id for r in b.recommendations)]
        if province_of(division) != self.province and named:
            raise CorrectionTooLate(
                f"the recommending province of {_listed(named)} is that of {self.name} "
                f"({self.code}); its province can be corrected only once another "
                "recommending province is set"
            )
        if (name, unit_type, level, division) == (
            self.name,
            self.unit_type,
            self.level,
            self.division,
        ):
            raise NothingToChange(f"unit {self.code} is registered so already")
        self.trigger_event(
            self.RegistrationCorrected,
            name=name,
            unit_type=unit_type,
            level=level,
            division=division,
            reason=reason,
            principal=principal,
        )

    def _check_change(self, effective_on: date, latest: date, what: str) -> None:
        if self.deregistered_on is not None:
            raise UnitDeregistered(
                f"unit {self.code} ({self.name}) was deregistered on {self.deregistered_on}"
            )
        if effective_on < latest:
            raise EffectiveDateTooEarly(
                f"unit {self.code} cannot be {what} effective {effective_on}: "
                f"its record already holds a change effective {latest}"
            )


def _kind(unit_type: UnitType, level: VocationalLevel | None) -> str:
    return chinese_name(unit_type) + (f"（{chinese_name(level)}）" if level else "")


def _holders(qualification: Qualification) -> str:
    return "、".join(sorted(_kind(t, lv) for t, lv in HOLDERS[qualification]))


def _overlap(a: date, a_last: date | None, b: date, b_last: date | None) -> bool:
    return (a_last is None or b <= a_last) and (b_last is None or a <= b_last)


def _period(since: date, last: date | None) -> str:
    return f"from {since}" + (f" to {last}" if last is not None else "")


def _listed(bodies: Sequence[Community]) -> str:
    return "、".join(body.name for body in bodies)


def _value_on(history: list[tuple[date, str]], day: date) -> str:
    """The value in force on ``day``; before the first change, the first value."""
    current = history[0][1]
    for since, value in history:
        if since > day:
            break
        current = value
    return current
