"""MemberUnit: an organisation that can belong to any number of bodies."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING

from domain.errors import (
    CorrectionTooLate,
    EffectiveDateTooEarly,
    NothingToChange,
    UnitDeregistered,
)
from domain.events import LedgerAggregate, LedgerCreated, LedgerEvent
from domain.values import UnitType, VocationalLevel, province_of

if TYPE_CHECKING:
    from domain.community import Community


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
