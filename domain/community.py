"""Community: an industry–education body and who belongs to it, period by period.

Membership is kept as periods ``[admitted_on, exited_on)``: the exit date is the
first day the unit is no longer a member. A unit that re-joins opens a new period;
old periods are never edited. Each period also remembers when its facts were
recorded, so "members on D as the ledger knew it at T" can be answered.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from domain.annual import (
    FILINGS_OF,
    Figure,
    Filing,
    FilingKind,
    Indicator,
    check_digest,
    check_value,
    check_year,
)
from domain.charter import FOUNDING_RULES, Rules
from domain.errors import (
    AlreadyMember,
    CharterRuleBroken,
    CommunityDissolved,
    EffectiveDateTooEarly,
    InvalidInput,
    NotALead,
    NotAMember,
    NotAnIndustryBody,
    NothingToChange,
    ResolutionRequired,
    RoleNotAllowed,
)
from domain.events import LedgerAggregate, LedgerCreated, LedgerEvent
from domain.values import (
    LEAD_TYPES,
    CommunityKind,
    ExitReason,
    Role,
    UnitType,
    chinese,
    province_name,
)


@dataclass(frozen=True)
class Charter:
    version: str
    rules: Rules
    effective_on: date
    resolution: str | None


@dataclass(frozen=True)
class MembershipPeriod:
    unit_id: UUID
    unit_type: UnitType
    admitted_on: date
    admitted_by: str | None
    admitted_at: datetime
    roles: tuple[tuple[date, Role], ...]
    exited_on: date | None = None
    exit_reason: ExitReason | None = None
    exited_by: str | None = None
    exited_at: datetime | None = None
    recorded: tuple[int, ...] = ()
    """The versions, in the body's stream, of the facts that made the period: its
    admission, its role changes and its exit, in order."""

    @property
    def role(self) -> Role:
        return self.roles[-1][1]

    @property
    def is_open(self) -> bool:
        return self.exited_on is None

    def covers(self, day: date) -> bool:
        return self.admitted_on <= day and (self.exited_on is None or day < self.exited_on)

    def role_on(self, day: date) -> Role:
        current = self.roles[0][1]
        for since, role in self.roles:
            if since > day:
                break
            current = role
        return current

    @property
    def last_record(self) -> MemberRecord:
        """The fact recorded last about this period: the one an annulment takes back."""
        if self.exited_on is not None:
            return MemberRecord.EXIT
        return MemberRecord.ROLE_CHANGE if len(self.roles) > 1 else MemberRecord.ADMISSION

    def without_last_record(self) -> MembershipPeriod | None:
        """The period as it was before its last fact was recorded; None for an
        admission, which leaves no period."""
        recorded = self.recorded[:-1]
        match self.last_record:
            case MemberRecord.EXIT:
                return replace(
                    self,
                    exited_on=None,
                    exit_reason=None,
                    exited_by=None,
                    exited_at=None,
                    recorded=recorded,
                )
            case MemberRecord.ROLE_CHANGE:
                return replace(self, roles=self.roles[:-1], recorded=recorded)
        return None


class MemberRecord(StrEnum):
    """The facts about a membership that an annulment can take back."""

    ADMISSION = "admission"
    ROLE_CHANGE = "role_change"
    EXIT = "exit"


chinese(
    MemberRecord,
    {
        MemberRecord.ADMISSION: ("入会",),
        MemberRecord.ROLE_CHANGE: ("角色变更",),
        MemberRecord.EXIT: ("退出记录",),
    },
)


class Community(LedgerAggregate):
    TOPIC = "chanjiao.community"

    class Event(LedgerEvent):
        pass

    class Created(Event, LedgerCreated):
        TOPIC = "chanjiao.community.created"

    class Founded(Created):
        TOPIC = "chanjiao.community.founded.v1"
        name: str
        kind: CommunityKind
        industry: str
        division: str
        founded_on: date

    class MemberAdmitted(Event):
        TOPIC = "chanjiao.community.member_admitted.v1"
        unit_id: UUID
        unit_type: UnitType
        role: Role
        effective_on: date
        resolution: str | None

        def apply(self, community: Community) -> None:
            community.periods.append(
                MembershipPeriod(
                    unit_id=self.unit_id,
                    unit_type=self.unit_type,
                    admitted_on=self.effective_on,
                    admitted_by=self.resolution,
                    admitted_at=self.timestamp,
                    roles=((self.effective_on, self.role),),
                    recorded=(self.originator_version,),
                )
            )

    class MemberRoleChanged(Event):
        TOPIC = "chanjiao.community.member_role_changed.v1"
        unit_id: UUID
        role: Role
        effective_on: date

        def apply(self, community: Community) -> None:
            period = community.open_period(self.unit_id)
            assert period is not None
            community.replace_period(
                period,
                replace(
                    period,
                    roles=(*period.roles, (self.effective_on, self.role)),
                    recorded=(*period.recorded, self.originator_version),
                ),
            )

    class MemberExited(Event):
        TOPIC = "chanjiao.community.member_exited.v1"
        unit_id: UUID
        reason: ExitReason
        effective_on: date
        resolution: str | None

        def apply(self, community: Community) -> None:
            period = community.open_period(self.unit_id)
            assert period is not None
            community.replace_period(
                period,
                replace(
                    period,
                    exited_on=self.effective_on,
                    exit_reason=self.reason,
                    exited_by=self.resolution,
                    exited_at=self.timestamp,
                    recorded=(*period.recorded, self.originator_version),
                ),
            )

    class MemberRecordAnnulled(Event):
        """A fact about a membership recorded in error, taken back: the unit's last
        admission, role change or exit in the body (``record``, the event of version
        ``annulled``). The fact stays in the history; from now on the body is as if
        it had not been recorded."""

        TOPIC = "chanjiao.community.member_record_annulled.v1"
        unit_id: UUID
        record: MemberRecord
        annulled: int
        reason: str

        def apply(self, community: Community) -> None:
            period = community.last_period(self.unit_id)
            assert period is not None and period.recorded[-1] == self.annulled
            before = period.without_last_record()
            if before is None:
                community.periods.remove(period)
            else:
                community.replace_period(period, before)

    class CharterAdopted(Event):
        TOPIC = "chanjiao.community.charter_adopted.v1"
        version: str
        rules: Rules
        effective_on: date
        resolution: str | None

        def apply(self, community: Community) -> None:
            community.charters.append(
                Charter(self.version, self.rules.kept(), self.effective_on, self.resolution)
            )

    class FilingRecorded(Event):
        """A document of the annual cycle filed (domain.md, "The annual cycle"): a later
        filing of the same kind and year supersedes the earlier, which stays."""

        TOPIC = "chanjiao.community.filing_recorded.v1"
        kind: FilingKind
        year: int
        filed_on: date
        title: str
        sha256: str
        size: int
        resolution: str | None

        def apply(self, community: Community) -> None:
            filing = Filing(
                kind=self.kind,
                year=self.year,
                filed_on=self.filed_on,
                title=self.title,
                sha256=self.sha256,
                size=self.size,
                resolution=self.resolution,
                principal=self.principal,
                recorded_at=self.timestamp,
                version=self.originator_version,
            )
            community.filings = (*community.filings, filing)

    class IndicatorRecorded(Event):
        """A yearly figure of a monitoring indicator, the body's own or a member unit's,
        with its evidence's digest; a later one for the same indicator, year and unit
        corrects it."""

        TOPIC = "chanjiao.community.indicator_recorded.v1"
        indicator: Indicator
        year: int
        value: int
        unit_id: UUID | None
        evidence_sha256: str

        def apply(self, community: Community) -> None:
            figure = Figure(
                indicator=self.indicator,
                year=self.year,
                value=self.value,
                unit_id=self.unit_id,
                evidence_sha256=self.evidence_sha256,
                principal=self.principal,
                recorded_at=self.timestamp,
                version=self.originator_version,
            )
            community.figures = (*community.figures, figure)

    class Dissolved(Event):
        TOPIC = "chanjiao.community.dissolved.v1"
        effective_on: date
        resolution: str | None

        def apply(self, community: Community) -> None:
            community.dissolved_on = self.effective_on

    def __init__(
        self, name: str, kind: CommunityKind, industry: str, division: str, founded_on: date
    ) -> None:
        self.name = name
        self.kind = kind
        self.industry = industry
        self.division = division
        self.founded_on = founded_on
        self.periods: list[MembershipPeriod] = []
        self.charters: list[Charter] = []
        self.dissolved_on: date | None = None
        self.recommendations: tuple[Recommendation, ...] = ()  # in order of recording and effect
        self.filings: tuple[Filing, ...] = ()  # in order of recording
        self.figures: tuple[Figure, ...] = ()  # in order of recording

    # --- reading ----------------------------------------------------------------

    def open_period(self, unit_id: UUID) -> MembershipPeriod | None:
        for period in reversed(self.periods):
            if period.unit_id == unit_id:
                return period if period.is_open else None
        return None

    def replace_period(self, old: MembershipPeriod, new: MembershipPeriod) -> None:
        self.periods[next(i for i, p in enumerate(self.periods) if p is old)] = new

    def last_period(self, unit_id: UUID) -> MembershipPeriod | None:
        for period in reversed(self.periods):
            if period.unit_id == unit_id:
                return period
        return None

    def is_member_on(self, unit_id: UUID, day: date) -> bool:
        return any(p.unit_id == unit_id and p.covers(day) for p in self.periods)

    def members_on(self, day: date) -> list[MembershipPeriod]:
        """The periods covering ``day``, in order of admission."""
        return [p for p in self.periods if p.covers(day)]

    @property
    def active_members(self) -> list[MembershipPeriod]:
        return [p for p in self.periods if p.is_open]

    def charter_on(self, day: date) -> Charter | None:
        """The charter in force on ``day``; None in the founding phase."""
        in_force = None
        for charter in self.charters:
            if charter.effective_on <= day:
                in_force = charter
        return in_force

    def rules_on(self, day: date) -> Rules:
        charter = self.charter_on(day)
        return charter.rules if charter else FOUNDING_RULES

    def adopt_charter(
        self,
        version: str,
        rules: Rules,
        effective_on: date,
        resolution: str | None,
        principal: str,
    ) -> None:
        """Record a charter. Every charter after the founding one is adopted by a
        resolution (checked by the ledger, which sees the council)."""
        self.check_open(effective_on)
        if any(c.version == version for c in self.charters):
            raise CharterRuleBroken(f"{self.name} already has a charter version {version}")
        if self.charters and effective_on < self.charters[-1].effective_on:
            raise EffectiveDateTooEarly(
                f"{self.name}'s charter {self.charters[-1].version} took effect "
                f"{self.charters[-1].effective_on}; a later charter cannot take effect "
                f"{effective_on}"
            )
        if self.charters and resolution is None:
            raise ResolutionRequired(
                f"{self.name} has a charter already; a new one needs the register number "
                "of the charter resolution that adopted it"
            )
        self.trigger_event(
            self.CharterAdopted,
            version=version,
            rules=rules,
            effective_on=effective_on,
            resolution=resolution,
            principal=principal,
        )

    # --- deciding ---------------------------------------------------------------

    def admit(
        self,
        unit_id: UUID,
        unit_type: UnitType,
        unit_label: str,
        role: Role,
        effective_on: date,
        resolution: str | None,
        principal: str,
    ) -> None:
        self.check_open(effective_on)
        if self.open_period(unit_id) is not None:
            raise AlreadyMember(f"{unit_label} is already an active member of {self.name}")
        last = self.last_period(unit_id)
        if last is not None and last.exited_on is not None and effective_on < last.exited_on:
            raise EffectiveDateTooEarly(
                f"{unit_label} left {self.name} effective {last.exited_on}; "
                f"it cannot re-join effective {effective_on}, before it left"
            )
        if role is Role.LEAD:
            self._check_lead(unit_type, unit_label)
        self.trigger_event(
            self.MemberAdmitted,
            unit_id=unit_id,
            unit_type=unit_type,
            role=role,
            effective_on=effective_on,
            resolution=resolution,
            principal=principal,
        )

    def change_role(
        self, unit_id: UUID, unit_label: str, role: Role, effective_on: date, principal: str
    ) -> None:
        period = self._member(unit_id, unit_label, effective_on)
        if period.role is role:
            raise NothingToChange(f"{unit_label} is already a {role} member of {self.name}")
        since = period.roles[-1][0]
        if effective_on <= since:
            raise EffectiveDateTooEarly(
                f"{unit_label}'s role in {self.name} was last set effective {since}; "
                f"a change must take effect after that, not on {effective_on}"
            )
        if role is Role.LEAD:
            self._check_lead(period.unit_type, unit_label)
        self.trigger_event(
            self.MemberRoleChanged,
            unit_id=unit_id,
            role=role,
            effective_on=effective_on,
            principal=principal,
        )

    def exit(
        self,
        unit_id: UUID,
        unit_label: str,
        reason: ExitReason,
        effective_on: date,
        resolution: str | None,
        principal: str,
    ) -> None:
        period = self._member(unit_id, unit_label, effective_on)
        if effective_on <= period.roles[-1][0]:
            raise EffectiveDateTooEarly(
                f"{unit_label} became a member of {self.name} (or last changed role) "
                f"effective {period.roles[-1][0]}; its exit must take effect after that, "
                f"not on {effective_on}"
            )
        self.trigger_event(
            self.MemberExited,
            unit_id=unit_id,
            reason=reason,
            effective_on=effective_on,
            resolution=resolution,
            principal=principal,
        )

    def annul_last_record(
        self, unit_id: UUID, unit_label: str, reason: str, principal: str
    ) -> MemberRecord:
        """Take back the unit's last membership fact in this body, recorded in error.
        Only the last: the ones before it are annulled one after another, latest first,
        so the body passes only through states it has been in. A correction is an
        annulment followed by the fact as it should have been recorded."""
        if self.dissolved_on is not None:
            raise CommunityDissolved(
                f"{self.name} was dissolved effective {self.dissolved_on}; its membership "
                "records can no longer be annulled"
            )
        period = self.last_period(unit_id)
        if period is None or not period.recorded:
            raise NotAMember(
                f"{unit_label} has no membership recorded in {self.name}; there is nothing to annul"
            )
        record = period.last_record
        self.trigger_event(
            self.MemberRecordAnnulled,
            unit_id=unit_id,
            record=record,
            annulled=period.recorded[-1],
            reason=reason,
            principal=principal,
        )
        return record

    def dissolve(self, effective_on: date, resolution: str | None, principal: str) -> None:
        """Dissolution ends every open membership on the same date, then the body."""
        self.check_open(effective_on)
        for period in self.active_members:
            if effective_on <= period.roles[-1][0]:
                raise EffectiveDateTooEarly(
                    f"{self.name} cannot be dissolved effective {effective_on}: a member's "
                    f"admission or role change takes effect {period.roles[-1][0]}"
                )
        for period in self.active_members:
            self.trigger_event(
                self.MemberExited,
                unit_id=period.unit_id,
                reason=ExitReason.DISSOLUTION,
                effective_on=effective_on,
                resolution=resolution,
                principal=principal,
            )
        self.trigger_event(
            self.Dissolved, effective_on=effective_on, resolution=resolution, principal=principal
        )

    def file(
        self,
        kind: FilingKind,
        year: int,
        filed_on: date,
        title: str,
        sha256: str,
        size: int,
        resolution: str | None,
        principal: str,
    ) -> Filing:
        """Record a document the body filed for ``year`` (its reviewing resolution, if
        any, checked by the ledger, which sees the council)."""
        if kind not in FILINGS_OF[self.kind]:
            allowed = ", ".join(k.value for k in FILINGS_OF[self.kind])
            raise InvalidInput(
                f"{self.name} is a {self.kind.value} body; it files {allowed}, not {kind.value}"
            )
        if filed_on < self.founded_on:
            raise EffectiveDateTooEarly(
                f"{self.name} was founded on {self.founded_on}; nothing was filed on {filed_on}"
            )
        if self.dissolved_on is not None and filed_on >= self.dissolved_on:
            raise CommunityDissolved(
                f"{self.name} was dissolved effective {self.dissolved_on}; it filed nothing "
                f"on {filed_on}"
            )
        check_year(year, self.founded_on, filed_on)
        digest, size = check_digest(sha256, size)
        self.trigger_event(
            self.FilingRecorded,
            kind=kind,
            year=year,
            filed_on=filed_on,
            title=title,
            sha256=digest,
            size=size,
            resolution=resolution,
            principal=principal,
        )
        return self.filings[-1]

    def report(
        self,
        indicator: Indicator,
        year: int,
        value: int,
        unit_id: UUID | None,
        unit_label: str,
        evidence_sha256: str,
        principal: str,
    ) -> Figure:
        """Record ``indicator``'s figure for ``year``: the body's own, or (``unit_id``)
        that of a unit that was a member at some time in that year."""
        first, last = date(year, 1, 1), date(year, 12, 31)
        if year < self.founded_on.year or (self.dissolved_on and first >= self.dissolved_on):
            raise InvalidInput(f"{self.name} did not exist in {year}; it has no figures for it")
        if unit_id is not None and not any(
            p.unit_id == unit_id
            and p.admitted_on <= last
            and (p.exited_on is None or p.exited_on > first)
            for p in self.periods
        ):
            raise NotAMember(
                f"{unit_label} was not a member of {self.name} at any time in {year}; "
                "only members report figures for the body"
            )
        value = check_value(indicator, value)
        digest, _ = check_digest(evidence_sha256, 0)
        self.trigger_event(
            self.IndicatorRecorded,
            indicator=indicator,
            year=year,
            value=value,
            unit_id=unit_id,
            evidence_sha256=digest,
            principal=principal,
        )
        return self.figures[-1]

    def check_open(self, effective_on: date) -> None:
        if self.dissolved_on is not None:
            raise CommunityDissolved(f"{self.name} was dissolved effective {self.dissolved_on}")
        if effective_on < self.founded_on:
            raise EffectiveDateTooEarly(
                f"{self.name} was founded on {self.founded_on}; "
                f"nothing can take effect there on {effective_on}"
            )

    def _member(self, unit_id: UUID, unit_label: str, effective_on: date) -> MembershipPeriod:
        self.check_open(effective_on)
        period = self.open_period(unit_id)
        if period is None:
            raise NotAMember(f"{unit_label} is not an active member of {self.name}")
        return period

    def _check_lead(self, unit_type: UnitType, unit_label: str) -> None:
        """Only enterprises, universities and vocational schools lead an industry body.
        That one of each leads at a time, on every date, is a rule over the body's
        timeline, checked by the ledger (``domain.timeline``)."""
        if self.kind is CommunityKind.INDUSTRY and unit_type not in LEAD_TYPES:
            raise RoleNotAllowed(
                f"{unit_label} is registered as {unit_type.replace('_', ' ')}; an industry "
                "community is led only by an enterprise, a university and a vocational school"
            )

    # --- the recommending province (推荐省份) of an industry body ---------------------

    class RecommendingProvinceSet(Event):
        TOPIC = "chanjiao.community.recommending_province_set.v1"
        province: str
        unit_id: UUID
        effective_on: date

        def apply(self, community: Community) -> None:
            community.recommendations = (
                *community.recommendations,
                Recommendation(self.province, self.unit_id, self.effective_on),
            )

    def recommendation_on(self, day: date) -> Recommendation | None:
        """The recommending province in force on ``day``: the last one recorded that
        took effect by then."""
        in_force = None
        for recommendation in self.recommendations:
            if recommendation.effective_on <= day:
                in_force = recommendation
        return in_force

    def set_recommending_province(
        self, unit_id: UUID, unit_label: str, province: str, effective_on: date, principal: str
    ) -> None:
        """The body chooses the province of one of its leads, as it is on the date.
        A recommendation stays in force until the next one; it cannot be slipped in
        before the one in force, so the recorded order is the order of effect."""
        self.check_open(effective_on)
        if self.kind is not CommunityKind.INDUSTRY:
            raise NotAnIndustryBody(
                f"{self.name} is a {self.kind} community; only an industry community "
                "has a recommending province"
            )
        period = next(
            (p for p in self.periods if p.unit_id == unit_id and p.covers(effective_on)), None
        )
        if period is None or period.role_on(effective_on) is not Role.LEAD:
            being = "not a member" if period is None else "a participant, not a lead,"
            raise NotALead(
                f"{unit_label} is {being} of {self.name} on {effective_on}; the recommending "
                "province is the province of its lead enterprise, university or vocational "
                "school"
            )
        last = self.recommendations[-1] if self.recommendations else None
        if last is not None and effective_on < last.effective_on:
            raise EffectiveDateTooEarly(
                f"{self.name}'s recommending province {province_name(last.province)} "
                f"({last.province}) took effect {last.effective_on}; a new one cannot take "
                f"effect {effective_on}, before it"
            )
        current = self.recommendation_on(effective_on)
        if current is not None and (current.province, current.unit_id) == (province, unit_id):
            raise NothingToChange(
                f"{self.name}'s recommending province is already {province_name(province)} "
                f"({province}), that of {unit_label}, since {current.effective_on}"
            )
        self.trigger_event(
            self.RecommendingProvinceSet,
            province=province,
            unit_id=unit_id,
            effective_on=effective_on,
            principal=principal,
        )


@dataclass(frozen=True)
class Recommendation:
    province: str  # "320000"
    unit_id: UUID  # the lead whose province it is
    effective_on: date
