"""The ledger service: one method per command, get → decide → save.

Every command parses its raw input through the value objects first (so bad input
is refused before anything is read or written), loads the aggregates it needs,
lets them decide, and saves. If another writer changed the same aggregate in the
meantime, the library refuses the save (optimistic concurrency) and the command is
run again from the start against the new state, re-checking every rule; only if
that keeps happening does the caller get ``ConcurrentChange``. Nothing is lost and
nothing is half-written: a command that changes several aggregates (an exit that
also vacates the member's council seat) saves them in one transaction.

Governance commands (charter, seats, meetings, resolutions) live in
``application/governance.py``; cost-sharing commands (agreements, contributions, costs,
benefits) in ``application/agreements.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from operator import attrgetter
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import Recording

from application import names
from application.agreements import AgreementCommands
from application.annual import AnnualCommands
from application.commands import (
    command,
    effective,
    label,
    listed_division,
    principal_name,
    resolution_number,
)
from application.governance import GovernanceCommands
from application.log_index import LogIndex
from application.names import Directory
from application.repository import READS, KeptAggregates
from application.timelines import CheckedTimelines
from domain.agreement import BenefitAgreement
from domain.annual import check_digest
from domain.charter import Matter
from domain.community import Community
from domain.errors import (
    AlreadyRegistered,
    CommunityNotFound,
    LikelyDuplicate,
    ResolutionRequired,
    UnitDeregistered,
    UnitNotFound,
)
from domain.timeline import Timeline, added, breaches
from domain.unit import MemberUnit
from domain.values import (
    CommunityKind,
    ExitReason,
    Qualification,
    Role,
    UnitType,
    parse_choice,
    parse_credit_code,
    parse_date,
    parse_level,
    parse_text,
    parse_timestamp,
    province_of,
    today,
    unit_id_for,
)

ALSO_IN_SAVE: ContextVar[Callable[[Any], None] | None] = ContextVar("also_in_save", default=None)
"""Set by an adapter around one command: called with the database cursor inside the
transaction that records the command's events, so that a row the adapter keeps about
the request (the HTTP API's Idempotency-Key) commits or rolls back with them."""

SAVED_AT: ContextVar[int | None] = ContextVar("saved_at", default=None)
"""The position the last save in this context reached: an adapter clears it before a
command and reads it after, to tell the writer how far the log reaches with its
events in it (the HTTP API's ``Chanjiao-Position``)."""


class Ledger(AgreementCommands, GovernanceCommands, AnnualCommands, Application[UUID]):
    name = "chanjiao"
    env = {
        # Aggregates stay in memory between commands; each read fetches only the events
        # recorded since (by any process) and hands out a copy, so a command that fails
        # leaves the kept one untouched (ADR 0020). Spares a long-running server
        # replaying every aggregate on every request.
        "AGGREGATE_CACHE_MAXSIZE": "5000",
    }

    def __init__(self, url: str, env: dict[str, str]) -> None:
        """``env``: the library's settings for the store ``url`` names, which the
        composition root (``bootstrap``) makes from it."""
        self.after_save: list[Callable[[int], None]] = []
        """Called with the last position after every save (read models catch up)."""
        self.checked_timelines = CheckedTimelines()
        """The breaches of timelines checked already (``rules_kept``)."""
        self.drafted = LogIndex(BenefitAgreement.Drafted.TOPIC, key=attrgetter("community_id"))
        """Each body's agreements (``agreement_ids``)."""
        self.founded = LogIndex(Community.Founded.TOPIC)
        """Every body, in the order founded (``community_ids``)."""
        self.admitted = LogIndex(Community.MemberAdmitted.TOPIC, key=attrgetter("unit_id"))
        """The bodies that ever admitted each unit (``communities_of``)."""
        self.directory: Directory | None = None
        """Where names are looked up (``application.names``): the read models give
        one when they are opened on this ledger; without it, ids and codes only."""
        self.url = url
        super().__init__(env=env)

    def construct_repository(self) -> KeptAggregates:
        """The library's repository and cache, copying a kept aggregate cheaply and
        under its own lock (``application.repository``)."""
        return KeptAggregates(
            event_store=self.events,
            snapshot_store=self.snapshots,
            cache_maxsize=int(self.env.get(self.AGGREGATE_CACHE_MAXSIZE) or 0) or None,
            checks_reads=getattr(self.recorder, "checks_reads", False),
        )

    @property
    def chain(self) -> Any:
        """The hash chain the store's recorder keeps (``adapters.chain``, ADR 0014);
        None on memory://."""
        return getattr(self.recorder, "chain", None)

    def save(self, *objs: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """As the library saves, and with the adapter's ``ALSO_IN_SAVE`` (if one is set
        around this command) handed to the recorder, to run inside the transaction, and
        the command's read set (``application.repository.ReadSet``), for the store to
        refuse the recording if any aggregate read has changed since."""
        also = ALSO_IN_SAVE.get()
        if also is not None:
            kwargs["in_transaction"] = also
        reads = READS.get()
        if reads is not None and reads.head is not None:
            kwargs["reads"] = reads.to_check(objs)
            kwargs["reads_head"] = reads.head
        with self.repository.saving(objs):
            recordings = super().save(*objs, **kwargs)
        if reads is not None and recordings:
            reads.saved = True
            self.checked_timelines.saved(reads.checked, objs)
        return recordings

    def event_hashes(self, aggregate: UUID) -> dict[int, str]:
        """The hash on record for each version of an aggregate (hex; ADR 0014);
        empty on memory://, which keeps none."""
        chain = self.chain
        if chain is None:
            return {}
        datastore: Any = getattr(self.factory, "datastore")  # noqa: B009
        with datastore.transaction(commit=False) as cursor:
            return chain.hashes(cursor, aggregate)

    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        """The library's hook after each save: tell the listeners how far the log
        now reaches."""
        if recordings:
            position = max(r.notification.id for r in recordings)
            SAVED_AT.set(position)
            for listener in self.after_save:
                listener(position)

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
        fields = {
            "code": code,
            "name": parse_text(name, "unit name"),
            "unit_type": kind,
            "level": parse_level(kind, level),
            # no effective date: where the unit is now, by the latest list shipped
            "division": listed_division(division, None),
            "principal": principal_name(principal),
        }
        unit_id = unit_id_for(code)
        try:
            existing = self._unit(unit_id, unknown_is_absent=True)
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
        day = effective(effective_on)
        who = principal_name(principal)
        record = self.unit(unit)
        record.rename(new_name, day, who)
        self.save(record)
        return record

    @command
    def relocate_unit(
        self, unit: str | UUID, *, division: str, effective_on: str | date, principal: str
    ) -> MemberUnit:
        day = effective(effective_on)
        new_division = listed_division(division, day)
        who = principal_name(principal)
        record = self.unit(unit)
        record.relocate(new_division, day, who)
        self.save(record)
        return record

    @command
    def qualify_unit(
        self,
        unit: str | UUID,
        *,
        qualification: str,
        since: str | date,
        until: str | date | None = None,
        source: str,
        sha256: str | None = None,
        principal: str,
    ) -> MemberUnit:
        """A qualification (``domain.values.Qualification``) held from ``since``, to
        ``until`` (its last day, which may be ahead) when the list names a term."""
        the_qualification = parse_choice(Qualification, qualification, "qualification")
        first = effective(since, "first day held")
        last = parse_date(until, "last day held") if until is not None and str(until) else None
        named_by = parse_text(source, "source (the list or notice that names it)")
        digest = check_digest(sha256, 0)[0] if sha256 is not None and sha256.strip() else None
        who = principal_name(principal)
        record = self.unit(unit)
        record.qualify(the_qualification, first, last, named_by, digest, who)
        self.save(record)
        return record

    @command
    def end_qualification(
        self,
        unit: str | UUID,
        *,
        qualification: str,
        ended_on: str | date,
        reason: str,
        principal: str,
    ) -> MemberUnit:
        """The unit no longer holds ``qualification`` from ``ended_on``."""
        the_qualification = parse_choice(Qualification, qualification, "qualification")
        day = effective(ended_on, "date it ended")
        why = parse_text(reason, "reason")
        who = principal_name(principal)
        record = self.unit(unit)
        record.end_qualification(the_qualification, day, why, who)
        self.save(record)
        return record

    @command
    def correct_registration(
        self,
        unit: str | UUID,
        *,
        name: str | None = None,
        unit_type: str | None = None,
        level: str | None = None,
        division: str | None = None,
        reason: str,
        principal: str,
    ) -> MemberUnit:
        """Correct a unit's registration details recorded in error (ADR 0029); what is
        not given stays as registered."""
        why = parse_text(reason, "reason for the correction")
        who = principal_name(principal)
        record = self.unit(unit)
        new_name = parse_text(name, "unit name") if name is not None else record.name
        kind = (
            parse_choice(UnitType, unit_type, "unit type")
            if unit_type is not None
            else record.unit_type
        )
        if level is not None or unit_type is not None:
            new_level = parse_level(kind, level)
        else:
            new_level = record.level
        new_division = listed_division(division, None) if division is not None else record.division
        bodies = list(self.communities_of(record.id))
        record.correct_registration(new_name, kind, new_level, new_division, why, who, bodies)
        self.save(record)
        return record

    @command
    def deregister_unit(
        self, unit: str | UUID, *, effective_on: str | date, principal: str
    ) -> MemberUnit:
        day = effective(effective_on)
        who = principal_name(principal)
        record = self.unit(unit)
        record.deregister(day, who)
        for body in self.communities_of(record.id):
            timeline = self.timeline(body)
            with self.rules_kept(timeline, record.id):
                timeline.deregistered[record.id] = day
        self.save(record)
        return record

    def unit_id(self, ref: str | UUID) -> UUID:
        """The id of the unit ``ref`` names: its id, its credit code, or its name or a
        part of its name that no other unit has (``application.names``)."""
        return names.unit_id(self.directory, ref)

    def unit(self, ref: str | UUID) -> MemberUnit:
        """A unit by its id, its credit code or its name."""
        try:
            return self._unit(self.unit_id(ref))
        except UnitNotFound:
            code = str(ref).strip()
            if len(code) == 18:  # name it as the user did, not by the id derived from it
                raise UnitNotFound(
                    f"no member unit with credit code {code} is registered"
                ) from None
            raise

    def _unit(self, unit_id: UUID, *, unknown_is_absent: bool = False) -> MemberUnit:
        try:
            record = self.repository.get(unit_id, unknown_is_absent=unknown_is_absent)
        except AggregateNotFoundError:
            record = None
        if not isinstance(record, MemberUnit):
            raise UnitNotFound(f"no member unit {unit_id} is registered")
        return record

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
        again: bool = False,
        principal: str,
    ) -> Community:
        the_name = parse_text(name, "community name")
        the_kind = parse_choice(CommunityKind, kind, "community kind")
        the_industry = parse_text(industry, "industry")
        founded = effective(founded_on, "founding date")
        the_division = listed_division(division, founded)
        who = principal_name(principal)
        if not again:
            self._refuse_a_second(the_name, the_division)
        community = Community._create(
            Community.Founded,
            name=the_name,
            kind=the_kind,
            industry=the_industry,
            division=the_division,
            founded_on=founded,
            principal=who,
        )
        self.save(community)
        return community

    def _refuse_a_second(self, name: str, division: str) -> None:
        """A body founded with the name and division of one already recorded is most
        likely that one typed twice. A check, not a guarantee: two such foundings at
        the same moment both pass; each is a body of its own, dissolved if wrong."""
        if self.directory is not None:
            candidates = [n.id for n in self.directory.communities(name)]
        else:
            candidates = list(self.community_ids())
        for candidate in candidates:
            body = self.community(candidate)
            if names.normal(body.name) == names.normal(name) and body.division == division:
                raise LikelyDuplicate(
                    f"{body.name} in {division} was already founded on {body.founded_on} "
                    f"(id {body.id}); nothing was recorded. If this is another body of the "
                    'same name, record it with --again (over HTTP, "again": true)'
                )

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
        day = effective(effective_on)
        reference = resolution_number(resolution)
        who = principal_name(principal)
        body = self.community(community)
        member = self.unit(unit)
        if member.is_deregistered:
            raise UnitDeregistered(
                f"{label(member)} was deregistered on {member.deregistered_on} "
                "and cannot be admitted"
            )
        self.check_authority(
            body,
            reference,
            Matter.ADMISSION,
            day,
            required=body.rules_on(day).admission_requires_resolution,
        )
        with self.rules_kept(Timeline(body), member.id):
            body.admit(member.id, member.unit_type, label(member), the_role, day, reference, who)
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
        day = effective(effective_on)
        who = principal_name(principal)
        body = self.community(community)
        member = self.unit(unit)
        with self.rules_kept(Timeline(body), member.id):
            body.change_role(member.id, label(member), the_role, day, who)
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
        day = effective(effective_on)
        reference = resolution_number(resolution)
        who = principal_name(principal)
        body = self.community(community)
        member = self.unit(unit)
        matter = {ExitReason.REMOVAL: Matter.REMOVAL, ExitReason.DISSOLUTION: Matter.DISSOLUTION}
        self.check_authority(
            body,
            reference,
            matter.get(the_reason, Matter.ORDINARY),
            day,
            required=the_reason is ExitReason.REMOVAL
            and body.rules_on(day).removal_requires_resolution,
        )
        timeline = self.timeline(body)
        with self.rules_kept(timeline, member.id):
            body.exit(member.id, label(member), the_reason, day, reference, who)
            vacated = self.vacate_on_exit(timeline.council, [member.id], day, who)
        self.save(body, *vacated)
        return body

    @command
    def annul_member_record(
        self, community: str | UUID, unit: str | UUID, *, reason: str, principal: str
    ) -> MemberUnit:
        """Take back the unit's last admission, role change or exit in the body,
        recorded in error; the rules over the body's dates are checked as for any
        change (a seat or an agreement share held by a unit whose admission is
        annulled is a breach, refused). Returns the unit."""
        why = parse_text(reason, "reason for the annulment")
        who = principal_name(principal)
        body = self.community(community)
        member = self.unit(unit)
        with self.rules_kept(self.timeline(body), member.id):
            body.annul_last_record(member.id, label(member), why, who)
        self.save(body)
        return member

    @command
    def dissolve_community(
        self,
        community: str | UUID,
        *,
        effective_on: str | date,
        resolution: str | None = None,
        principal: str,
    ) -> Community:
        day = effective(effective_on)
        reference = resolution_number(resolution)
        who = principal_name(principal)
        body = self.community(community)
        timeline = self.timeline(body)
        if reference is None and (body.charter_on(day) is not None or timeline.council):
            raise ResolutionRequired(
                f"{body.name} is governed by its council: its dissolution needs an adopted "
                "dissolution resolution (two-thirds of all seats unless the charter says "
                "otherwise); name it with its register number"
            )
        self.check_authority(body, reference, Matter.DISSOLUTION, day, required=False)
        members = [p.unit_id for p in body.active_members]
        with self.rules_kept(timeline):
            body.dissolve(day, reference, who)
            vacated = self.vacate_on_exit(timeline.council, members, day, who)
        self.save(body, *vacated)
        return body

    @command
    def set_recommending_province(
        self,
        community: str | UUID,
        *,
        lead: str | UUID,
        effective_on: str | date | None = None,
        principal: str,
    ) -> Community:
        """An industry body's recommending province: the province of the lead named,
        by its division on the date (default today)."""
        day = effective(effective_on if effective_on is not None else today())
        who = principal_name(principal)
        body = self.community(community)
        unit = self.unit(lead)
        province = province_of(unit.division_on(day))
        body.set_recommending_province(unit.id, label(unit), province, day, who)
        self.save(body)
        return body

    def community(self, ref: str | UUID | Community) -> Community:
        if isinstance(ref, Community):
            return ref
        community_id = names.community_id(self.directory, ref)
        try:
            record = self.repository.get(community_id)
        except AggregateNotFoundError:
            record = None
        if not isinstance(record, Community):
            raise CommunityNotFound(f"no community {community_id} has been founded")
        return record

    def communities_of(self, unit_id: UUID) -> Iterator[Community]:
        """Every body the unit is or was a member of, in the order founded."""
        founded = self.founded.positions(self)
        admitted = sorted(self.admitted.ids(self, unit_id), key=lambda b: founded.get(b, 0))
        for community_id in admitted:
            body = self.community(community_id)
            if body.last_period(unit_id) is not None:  # not if its admission was annulled
                yield body

    def timeline(self, body: Community) -> Timeline:
        """Everything of ``body`` whose dates a change of its membership can collide
        with: its council and its agreements."""
        council = self.council_if_any(body)
        return Timeline(body, council, [self.agreement(a) for a in self.agreement_ids(body.id)])

    def unit_names(self) -> Callable[[UUID], str]:
        """Units' labels as users know them (name and credit code), for the domain's
        errors; looked up once each."""
        known: dict[UUID, str] = {}

        def name(unit_id: UUID) -> str:
            if unit_id not in known:
                try:
                    known[unit_id] = label(self._unit(unit_id))
                except UnitNotFound:
                    known[unit_id] = str(unit_id)
            return known[unit_id]

        return name

    @contextmanager
    def rules_kept(self, timeline: Timeline, subject: UUID | None = None) -> Iterator[None]:
        """Refuse what the block decides if it breaks a rule on any date that was kept
        before it (ADR 0016). The block changes the timeline's aggregates in memory
        only; a refusal leaves nothing to save. The breaches before are usually known
        from the command before on the same body (``application.timelines``): then the
        rules are walked once, after the block."""
        name = self.unit_names()
        before = self.checked_timelines.known(timeline)
        if before is None:
            before = frozenset(breaches(timeline, name))
            self.checked_timelines.found(timeline, before)
        yield
        after = breaches(timeline, name)
        new = added(before, after)
        if new:
            raise new[0].error(new[0].explain(subject))
        pending = self.checked_timelines.found(timeline, frozenset(after))
        reads = READS.get()
        if pending is not None and reads is not None:
            reads.checked.append(pending)

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
        yield from self.founded.ids(self)
