"""The ledger service: one method per command, get → decide → save.

Every command parses its raw input through the value objects first (so bad input
is refused before anything is read or written), loads the aggregates it needs,
lets them decide, and saves. If another writer changed the same aggregate in the
meantime, the library refuses the save (optimistic concurrency) and the command is
run again from the start against the new state, re-checking every rule; only if
that keeps happening does the caller get ``ConcurrentChange``. Nothing is lost and
nothing is half-written.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime
from typing import Any, ParamSpec, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import ApplicationRecorder, IntegrityError
from eventsourcing.utils import get_topic

from domain.codec import MsgspecMapper
from domain.community import Community
from domain.errors import (
    AlreadyRegistered,
    CommunityNotFound,
    ConcurrentChange,
    InvalidDate,
    InvalidInput,
    UnitDeregistered,
    UnitNotFound,
)
from domain.settings import database_url, store_env
from domain.unit import MemberUnit
from domain.values import (
    CommunityKind,
    ExitReason,
    Role,
    UnitType,
    parse_choice,
    parse_credit_code,
    parse_date,
    parse_division,
    parse_level,
    parse_text,
    parse_timestamp,
    today,
    unit_id_for,
)

P = ParamSpec("P")
R = TypeVar("R")

MAX_ATTEMPTS = 8
_TABLE_CREATION_LOCK = 0x6368616E6A69616F  # "chanjiao"


def command(method: Callable[P, R]) -> Callable[P, R]:
    """Re-run a command whose aggregate changed underneath it (see module docstring)."""

    @functools.wraps(method)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        for attempt in range(MAX_ATTEMPTS):
            try:
                return method(*args, **kwargs)
            except IntegrityError:
                time.sleep(random.uniform(0, 0.005 * 2**attempt))
        raise ConcurrentChange(
            f"the record kept changing while {method.__name__.replace('_', ' ')} "
            f"was being recorded ({MAX_ATTEMPTS} attempts); nothing was recorded, try again"
        )

    return run


class Ledger(Application[UUID]):
    name = "chanjiao"
    env = {"MAPPER_TOPIC": get_topic(MsgspecMapper)}  # noqa: RUF012 (library's own API)

    def __init__(self, url: str | None = None, env: dict[str, str] | None = None) -> None:
        self.url = database_url(url)
        settings = store_env(self.url)
        self._serialise_table_creation = settings["PERSISTENCE_MODULE"].endswith("postgres")
        if self._serialise_table_creation:
            settings["CREATE_TABLE"] = "no"
        super().__init__(env={**settings, **(env or {})})

    def construct_recorder(self) -> ApplicationRecorder:
        """On PostgreSQL, tables are created under an advisory lock: processes that
        start together on an empty database would otherwise collide in the catalog
        ("tuple concurrently updated") while creating the same table and types."""
        recorder = super().construct_recorder()
        if self._serialise_table_creation:
            datastore: Any = getattr(self.factory, "datastore")  # noqa: B009
            with datastore.get_connection() as conn:
                conn.execute("SELECT pg_advisory_lock(%s)", (_TABLE_CREATION_LOCK,))
                try:
                    recorder.create_table()  # type: ignore[attr-defined]
                finally:
                    conn.execute("SELECT pg_advisory_unlock(%s)", (_TABLE_CREATION_LOCK,))
        return recorder

    # --- member units -----------------------------------------------------------

    @command
    def register_unit(
        self,
        *,
        code: str,
        name: str,
        unit_type: str,
        division: str,
        level: str | None = None,
        principal: str,
    ) -> MemberUnit:
        code = parse_credit_code(code)
        kind = parse_choice(UnitType, unit_type, "unit type")
        fields = dict(
            code=code,
            name=parse_text(name, "unit name"),
            unit_type=kind,
            level=parse_level(kind, level),
            division=parse_division(division),
            principal=_principal(principal),
        )
        unit_id = unit_id_for(code)
        try:
            existing = self._unit(unit_id)
        except UnitNotFound:
            pass
        else:
            raise AlreadyRegistered(
                f"credit code {code} is already registered, as {existing.name} ({unit_id})"
            )
        unit = MemberUnit._create(MemberUnit.Registered, id=unit_id, **fields)
        self.save(unit)
        return unit

    @command
    def rename_unit(
        self, unit: str | UUID, *, name: str, effective_on: str | date, principal: str
    ) -> MemberUnit:
        new_name = parse_text(name, "unit name")
        day = _effective(effective_on)
        who = _principal(principal)
        record = self.unit(unit)
        record.rename(new_name, day, who)
        self.save(record)
        return record

    @command
    def relocate_unit(
        self, unit: str | UUID, *, division: str, effective_on: str | date, principal: str
    ) -> MemberUnit:
        new_division = parse_division(division)
        day = _effective(effective_on)
        who = _principal(principal)
        record = self.unit(unit)
        record.relocate(new_division, day, who)
        self.save(record)
        return record

    @command
    def deregister_unit(
        self, unit: str | UUID, *, effective_on: str | date, principal: str
    ) -> MemberUnit:
        day = _effective(effective_on)
        who = _principal(principal)
        record = self.unit(unit)
        record.deregister(day, who)
        self.save(record)
        return record

    def unit(self, ref: str | UUID) -> MemberUnit:
        """A unit by its id or its credit code."""
        return self._unit(unit_ref(ref))

    def _unit(self, unit_id: UUID) -> MemberUnit:
        try:
            return self.repository.get(unit_id)
        except AggregateNotFoundError:
            raise UnitNotFound(f"no member unit {unit_id} is registered") from None

    # --- communities and membership ---------------------------------------------

    @command
    def found_community(
        self,
        *,
        name: str,
        kind: str,
        industry: str,
        division: str,
        founded_on: str | date,
        principal: str,
    ) -> Community:
        community = Community._create(
            Community.Founded,
            name=parse_text(name, "community name"),
            kind=parse_choice(CommunityKind, kind, "community kind"),
            industry=parse_text(industry, "industry"),
            division=parse_division(division),
            founded_on=_effective(founded_on, "founding date"),
            principal=_principal(principal),
        )
        self.save(community)
        return community

    @command
    def admit_member(
        self,
        community: str | UUID,
        unit: str | UUID,
        *,
        role: str,
        effective_on: str | date,
        resolution: str | None = None,
        principal: str,
    ) -> Community:
        the_role = parse_choice(Role, role, "role")
        day = _effective(effective_on)
        reference = _resolution(resolution)
        who = _principal(principal)
        body = self.community(community)
        member = self.unit(unit)
        if member.is_deregistered:
            raise UnitDeregistered(
                f"{_label(member)} was deregistered on {member.deregistered_on} "
                "and cannot be admitted"
            )
        body.admit(member.id, member.unit_type, _label(member), the_role, day, reference, who)
        self.save(body)
        return body

    @command
    def change_member_role(
        self,
        community: str | UUID,
        unit: str | UUID,
        *,
        role: str,
        effective_on: str | date,
        principal: str,
    ) -> Community:
        the_role = parse_choice(Role, role, "role")
        day = _effective(effective_on)
        who = _principal(principal)
        body = self.community(community)
        member = self.unit(unit)
        body.change_role(member.id, _label(member), the_role, day, who)
        self.save(body)
        return body

    @command
    def exit_member(
        self,
        community: str | UUID,
        unit: str | UUID,
        *,
        reason: str,
        effective_on: str | date,
        resolution: str | None = None,
        principal: str,
    ) -> Community:
        the_reason = parse_choice(ExitReason, reason, "exit reason")
        day = _effective(effective_on)
        reference = _resolution(resolution)
        who = _principal(principal)
        body = self.community(community)
        member = self.unit(unit)
        body.exit(member.id, _label(member), the_reason, day, reference, who)
        self.save(body)
        return body

    @command
    def dissolve_community(
        self,
        community: str | UUID,
        *,
        effective_on: str | date,
        resolution: str | None = None,
        principal: str,
    ) -> Community:
        day = _effective(effective_on)
        reference = _resolution(resolution)
        who = _principal(principal)
        body = self.community(community)
        body.dissolve(day, reference, who)
        self.save(body)
        return body

    def community(self, ref: str | UUID) -> Community:
        community_id = _uuid(ref, "community id")
        try:
            return self.repository.get(community_id)
        except AggregateNotFoundError:
            raise CommunityNotFound(f"no community {community_id} has been founded") from None

    def community_as_known_at(self, ref: str | UUID, known_at: str | datetime) -> Community:
        """The community as the ledger knew it at a recorded time: a fold of the
        events recorded up to then. Before its founding was recorded: not found."""
        moment = parse_timestamp(known_at, "known-at time")
        community = self.community(ref)
        state: Any = None
        for event in self.events.get(community.id):
            if event.timestamp > moment:
                break
            state = event.mutate(state)
        if state is None:
            raise CommunityNotFound(
                f"community {community.id} had not been recorded yet at {moment.isoformat()}"
            )
        return state

    def community_ids(self) -> Iterator[UUID]:
        """Every community, in the order their founding was recorded."""
        start = 1
        while True:
            page = self.recorder.select_notifications(
                start=start, limit=500, topics=[Community.Founded.TOPIC]
            )
            for notification in page:
                yield notification.originator_id
            if len(page) < 500:
                return
            start = page[-1].id + 1


def unit_ref(ref: str | UUID) -> UUID:
    """A unit is named by its id or by its 18-character credit code."""
    if isinstance(ref, UUID):
        return ref
    text = str(ref).strip()
    if len(text) == 18:
        return unit_id_for(parse_credit_code(text))
    return _uuid(text, "unit (an id or an 18-character credit code)")


def _uuid(ref: str | UUID, what: str) -> UUID:
    if isinstance(ref, UUID):
        return ref
    try:
        return UUID(str(ref).strip())
    except ValueError:
        raise InvalidInput(f"{what} must be a UUID such as 8c0e…; got {ref!r}") from None


def _effective(value: str | date, what: str = "effective date") -> date:
    day = parse_date(value, what)
    if day > today():
        raise InvalidDate(f"{what} {day} is in the future (today is {today()} in China)")
    return day


def _resolution(reference: str | None) -> str | None:
    return parse_text(reference, "resolution reference", max_length=40) if reference else None


def _principal(principal: str) -> str:
    return parse_text(principal, "principal", max_length=120)


def _label(unit: MemberUnit) -> str:
    return f"{unit.name} ({unit.code})"
