"""BenefitAgreement: a body's cost-sharing, benefit-sharing agreement (成本共担、利益共享).

An agreement (a shared training base, an industry college, a technology centre)
names its parties — member units of the body — each with a cost share and a
benefit share in basis points, each set adding up to exactly 10000. It is drafted,
approved by an adopted ``agreement`` resolution (from then on it is active),
possibly amended by later resolutions from an effective date, and terminated.
The shares in force on every date are kept: a cost is borne by the shares in force
on the day it was incurred, even when the shares changed later.

While active it records numbered entries: contributions of the parties (funds,
equipment, a site, personnel, technology — in kind at their agreed valuation),
shared costs incurred and benefits realised, all in integer fen; and funding from
outside the body (a government special fund, a donor: ``FundingReceived``), which
counts in the body's multi-source investment but bears no share and credits no
party. An entry is never edited; a mistake is corrected by reversing the entry (with a reason) and
recording the right one. What each party should bear and is due is computed by
``settle``, with the largest-remainder split of ``domain.allocation``.

The ledger service checks what the agreement cannot see itself: that parties are
members of the body on the dates concerned, and that the resolutions named are
adopted ``agreement`` resolutions of the same body's council.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Protocol, overload
from uuid import UUID

import msgspec

from domain.allocation import allocate
from domain.errors import (
    AgreementRuleBroken,
    EffectiveDateTooEarly,
    EntryNotFound,
    InvalidShares,
    NothingToChange,
)
from domain.events import LedgerAggregate, LedgerCreated, LedgerEvent, copied_with_aggregate
from domain.values import UnitType, chinese

WHOLE_BP = 10_000
"""100 % in basis points: every set of shares adds up to exactly this."""


class AgreementKind(StrEnum):
    TRAINING_BASE = "training_base"  # 共享实训基地
    INDUSTRY_COLLEGE = "industry_college"  # 产业学院
    TECHNOLOGY_CENTRE = "technology_centre"  # 技术创新中心
    OTHER = "other"


chinese(
    AgreementKind,
    {
        AgreementKind.TRAINING_BASE: ("共享实训基地", "实训基地"),
        AgreementKind.INDUSTRY_COLLEGE: ("产业学院",),
        AgreementKind.TECHNOLOGY_CENTRE: ("技术创新中心", "技术中心"),
        AgreementKind.OTHER: ("其他",),
    },
)


class ResourceKind(StrEnum):
    """What a party contributes; in-kind resources count at their agreed valuation."""

    FUNDS = "funds"
    EQUIPMENT = "equipment"
    SITE = "site"
    PERSONNEL = "personnel"
    TECHNOLOGY = "technology"


chinese(
    ResourceKind,
    {
        ResourceKind.FUNDS: ("资金", "资金投入", "经费"),
        ResourceKind.EQUIPMENT: ("设备", "设备捐赠"),
        ResourceKind.SITE: ("场地", "场地提供"),
        ResourceKind.PERSONNEL: ("人员", "师资", "人力"),
        ResourceKind.TECHNOLOGY: ("技术", "知识产权"),
    },
)


class Source(StrEnum):
    """Where an investment comes from, for the multi-source investment picture
    (多元投入): government, enterprises, schools, and everyone else."""

    GOVERNMENT = "government"
    ENTERPRISE = "enterprise"
    SCHOOL = "school"
    OTHER = "other"


chinese(
    Source,
    {
        Source.GOVERNMENT: ("政府",),
        Source.ENTERPRISE: ("企业",),
        Source.SCHOOL: ("院校", "学校"),
        Source.OTHER: ("其他",),
    },
)


_SOURCES = {
    UnitType.GOVERNMENT: Source.GOVERNMENT,
    UnitType.ENTERPRISE: Source.ENTERPRISE,
    UnitType.UNIVERSITY: Source.SCHOOL,
    UnitType.VOCATIONAL_SCHOOL: Source.SCHOOL,
}


def source_of(unit_type: UnitType) -> Source:
    """Industry organisations, research institutes and others count as ``other``."""
    return _SOURCES.get(unit_type, Source.OTHER)


class Funder(StrEnum):
    """Who funds an agreement from outside the body: not a member, so neither party
    to the agreement nor bearing a share (domain.md, "multi-source investment")."""

    GOVERNMENT_FUND = "government_fund"
    ENTERPRISE = "enterprise"
    SOCIAL = "social"
    FINANCIAL = "financial"
    OTHER = "other"


chinese(
    Funder,
    {
        Funder.GOVERNMENT_FUND: ("政府专项资金", "专项资金", "财政专项资金", "政府资金"),
        Funder.ENTERPRISE: ("非成员企业", "企业"),
        Funder.SOCIAL: ("社会捐赠", "社会组织", "基金会", "捐赠"),
        Funder.FINANCIAL: ("金融机构", "银行"),
        Funder.OTHER: ("其他",),
    },
)

_FUNDER_SOURCES = {Funder.GOVERNMENT_FUND: Source.GOVERNMENT, Funder.ENTERPRISE: Source.ENTERPRISE}


def source_of_funder(funder: Funder) -> Source:
    """A government special fund is government money, a non-member enterprise's is
    enterprise money; donors, banks and the rest count as ``other``."""
    return _FUNDER_SOURCES.get(funder, Source.OTHER)


class Status(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    TERMINATED = "terminated"


chinese(
    Status,
    {
        Status.DRAFT: ("草案", "草拟"),
        Status.ACTIVE: ("生效", "有效", "执行中"),
        Status.TERMINATED: ("已终止", "终止"),
    },
)


class EntryKind(StrEnum):
    CONTRIBUTION = "contribution"
    COST = "cost"
    BENEFIT = "benefit"
    FUNDING = "funding"  # from outside the body: no party's, no share


chinese(
    EntryKind,
    {
        EntryKind.CONTRIBUTION: ("投入", "出资"),
        EntryKind.COST: ("成本", "费用"),
        EntryKind.BENEFIT: ("收益", "利益"),
        EntryKind.FUNDING: ("外部投入", "外部资金"),
    },
)


class Party(msgspec.Struct, frozen=True):
    unit_id: UUID
    cost_share_bp: int
    benefit_share_bp: int


def check_shares(parties: Sequence[Party], labels: dict[UUID, str] | None = None) -> None:
    """A valid set of parties: at least one, each unit once, each share a whole number
    of basis points from 0 to 10000, each party with some share, and the cost shares
    and the benefit shares each adding up to exactly 10000."""
    name = (labels or {}).get
    if not parties:
        raise InvalidShares("an agreement needs at least one party")
    seen: set[UUID] = set()
    for party in parties:
        who = name(party.unit_id, str(party.unit_id))
        if party.unit_id in seen:
            raise InvalidShares(f"{who} is listed as a party more than once")
        seen.add(party.unit_id)
        for share, what in ((party.cost_share_bp, "cost"), (party.benefit_share_bp, "benefit")):
            if not 0 <= share <= WHOLE_BP:
                raise InvalidShares(
                    f"{who}'s {what} share is {share} basis points; a share is from 0 to "
                    f"{WHOLE_BP} (100%)"
                )
        if party.cost_share_bp == 0 and party.benefit_share_bp == 0:
            raise InvalidShares(f"{who} has neither a cost share nor a benefit share")
    check_totals([p.cost_share_bp for p in parties], [p.benefit_share_bp for p in parties])


def check_totals(cost_shares: Sequence[int], benefit_shares: Sequence[int]) -> None:
    """The cost shares and the benefit shares each add up to exactly 10000."""
    if not cost_shares:
        raise InvalidShares("an agreement needs at least one party")
    for what, total in (("cost", sum(cost_shares)), ("benefit", sum(benefit_shares))):
        if total != WHOLE_BP:
            raise InvalidShares(
                f"the {what} shares add up to {total} basis points ({total / 100:g}%); they "
                f"must add up to exactly {WHOLE_BP} (100%)"
            )


@dataclass(frozen=True)
class Terms:
    """The parties and shares in force from ``effective_on`` until the next terms."""

    effective_on: date
    parties: tuple[Party, ...]
    resolution: str

    def party(self, unit_id: UUID) -> Party | None:
        return next((p for p in self.parties if p.unit_id == unit_id), None)


class Entry(msgspec.Struct, frozen=True, gc=False):
    """One numbered entry. A Struct rather than a dataclass: a long agreement holds
    thousands, and a snapshot decodes into these about twice as fast (ADR 0024's
    amendment). Its fields are values only, so it can never be part of a reference
    cycle and needs no tracking by the garbage collector (``gc=False``)."""

    number: int
    kind: EntryKind
    on: date  # contributed, incurred or realised on
    amount_fen: int
    description: str
    unit_id: UUID | None = None  # the contributing party
    resource: ResourceKind | None = None
    reversed_because: str | None = None
    funder: str | None = None  # funding: who, from outside the body
    funder_kind: Funder | None = None

    @property
    def live(self) -> bool:
        return self.reversed_because is None


class Unread(Protocol):
    """Entries restored from storage and not read yet: how many, and how to read
    them (the same entries on every call)."""

    @property
    def count(self) -> int: ...

    def read(self) -> Sequence[Entry]: ...


@copied_with_aggregate
class Entries(Sequence[Entry]):
    """An agreement's entries, numbered from 1 in order.

    Those restored from a snapshot may stay unread until something asks for one of
    them: recording an entry needs only their count, so a command on a long agreement
    loaded cold costs about what one on a new agreement does (ADR 0024's second
    amendment). Once read they are held like the ones recorded since. The unread part
    and the list after it are one value (``_parts``), replaced whole when read, so
    no reader ever sees the entries counted twice or not at all."""

    __slots__ = ("_parts",)

    def __init__(self, held: Iterable[Entry] = (), unread: Unread | None = None) -> None:
        self._parts: tuple[Unread | None, list[Entry]] = (
            unread if unread is not None and unread.count else None,
            list(held),
        )

    @property
    def parts(self) -> tuple[Unread | None, Sequence[Entry]]:
        """The unread entries (None once read) and those held after them."""
        return self._parts

    def __len__(self) -> int:
        unread, held = self._parts
        return len(held) if unread is None else unread.count + len(held)

    @overload
    def __getitem__(self, index: int) -> Entry: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Entry]: ...

    def __getitem__(self, index: int | slice) -> Entry | Sequence[Entry]:
        unread, held = self._parts
        if unread is not None and isinstance(index, int):  # the latest need no reading
            position = index + len(self) if index < 0 else index
            if position >= unread.count:
                return held[position - unread.count]
        return self._read()[index]

    def __setitem__(self, index: int, entry: Entry) -> None:
        self._read()[index] = entry

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._read())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Entries):
            return NotImplemented
        return self._read() == other._read()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Entries({len(self)} entries)"

    def append(self, entry: Entry) -> None:
        self._parts[1].append(entry)

    def copy(self) -> Entries:
        """Another list of the same entries (the unread ones shared: they are read
        into each copy that asks)."""
        clone = object.__new__(Entries)
        unread, held = self._parts
        clone._parts = (unread, held.copy())
        return clone

    def _read(self) -> list[Entry]:
        unread, held = self._parts
        if unread is None:
            return held
        restored = list(unread.read())
        if len(restored) != unread.count:
            raise ValueError(f"{len(restored)} stored entries read where {unread.count} were")
        restored += held
        self._parts = (None, restored)
        return restored


@dataclass(frozen=True)
class Position:
    """One party's figures as of a date, in fen."""

    unit_id: UUID
    cost_share_bp: int
    benefit_share_bp: int
    costs_due: int
    contributed: int
    benefits_due: int

    @property
    def balance(self) -> int:
        """Over-contributed when positive, under-contributed when negative."""
        return self.contributed - self.costs_due


class BenefitAgreement(LedgerAggregate):
    TOPIC = "chanjiao.agreement"

    class Event(LedgerEvent):
        pass

    class Created(Event, LedgerCreated):
        TOPIC = "chanjiao.agreement.created"

    class Drafted(Created):
        TOPIC = "chanjiao.agreement.drafted.v1"
        community_id: UUID
        title: str
        kind: AgreementKind
        parties: tuple[Party, ...]
        drafted_on: date

    class Approved(Event):
        TOPIC = "chanjiao.agreement.approved.v1"
        effective_on: date
        resolution: str

        def apply(self, agreement: BenefitAgreement) -> None:
            agreement.terms.append(Terms(self.effective_on, agreement.draft, self.resolution))

    class Amended(Event):
        TOPIC = "chanjiao.agreement.amended.v1"
        parties: tuple[Party, ...]
        effective_on: date
        resolution: str

        def apply(self, agreement: BenefitAgreement) -> None:
            agreement.terms.append(Terms(self.effective_on, self.parties, self.resolution))

    class Terminated(Event):
        TOPIC = "chanjiao.agreement.terminated.v1"
        effective_on: date
        resolution: str

        def apply(self, agreement: BenefitAgreement) -> None:
            agreement.terminated_on = self.effective_on
            agreement.terminated_by = self.resolution

    class ContributionRecorded(Event):
        TOPIC = "chanjiao.agreement.contribution_recorded.v1"
        entry: int
        unit_id: UUID
        kind: ResourceKind
        amount_fen: int
        contributed_on: date
        description: str

        def apply(self, agreement: BenefitAgreement) -> None:
            agreement.entries.append(
                Entry(
                    self.entry,
                    EntryKind.CONTRIBUTION,
                    self.contributed_on,
                    self.amount_fen,
                    self.description,
                    self.unit_id,
                    self.kind,
                )
            )

    class CostIncurred(Event):
        TOPIC = "chanjiao.agreement.cost_incurred.v1"
        entry: int
        amount_fen: int
        incurred_on: date
        description: str

        def apply(self, agreement: BenefitAgreement) -> None:
            agreement.entries.append(
                Entry(
                    self.entry, EntryKind.COST, self.incurred_on, self.amount_fen, self.description
                )
            )

    class BenefitRealized(Event):
        TOPIC = "chanjiao.agreement.benefit_realized.v1"
        entry: int
        amount_fen: int
        realized_on: date
        description: str

        def apply(self, agreement: BenefitAgreement) -> None:
            agreement.entries.append(
                Entry(
                    self.entry,
                    EntryKind.BENEFIT,
                    self.realized_on,
                    self.amount_fen,
                    self.description,
                )
            )

    class FundingReceived(Event):
        """Funds or resources from outside the body (a government special fund, a
        donor): investment in the agreement that no party put in or owes."""

        TOPIC = "chanjiao.agreement.funding_received.v1"
        entry: int
        funder: str
        funder_kind: Funder
        kind: ResourceKind
        amount_fen: int
        received_on: date
        description: str

        def apply(self, agreement: BenefitAgreement) -> None:
            agreement.entries.append(
                Entry(
                    self.entry,
                    EntryKind.FUNDING,
                    self.received_on,
                    self.amount_fen,
                    self.description,
                    resource=self.kind,
                    funder=self.funder,
                    funder_kind=self.funder_kind,
                )
            )

    class EntryReversed(Event):
        TOPIC = "chanjiao.agreement.entry_reversed.v1"
        entry: int
        reason: str

        def apply(self, agreement: BenefitAgreement) -> None:
            entry = agreement.entry(self.entry)
            agreement.entries[entry.number - 1] = msgspec.structs.replace(
                entry, reversed_because=self.reason
            )

    def __init__(
        self,
        community_id: UUID,
        title: str,
        kind: AgreementKind,
        parties: tuple[Party, ...],
        drafted_on: date,
    ) -> None:
        self.community_id = community_id
        self.title = title
        self.kind = kind
        self.draft = parties
        self.drafted_on = drafted_on
        self.terms: list[Terms] = []
        self.entries = Entries()
        self.terminated_on: date | None = None
        self.terminated_by: str | None = None

    # --- reading ----------------------------------------------------------------

    @property
    def status(self) -> Status:
        if self.terminated_on is not None:
            return Status.TERMINATED
        return Status.ACTIVE if self.terms else Status.DRAFT

    @property
    def approved_on(self) -> date | None:
        return self.terms[0].effective_on if self.terms else None

    def active_on(self, day: date) -> bool:
        return (
            self.approved_on is not None
            and self.approved_on <= day
            and (self.terminated_on is None or day < self.terminated_on)
        )

    def terms_on(self, day: date) -> Terms | None:
        """The terms in force on ``day``; None before approval or from termination."""
        if not self.active_on(day):
            return None
        return [t for t in self.terms if t.effective_on <= day][-1]

    def shares_as_of(self, day: date) -> tuple[Party, ...]:
        """The shares in force on ``day``; before approval, the drafted ones; after
        termination, the last ones in force."""
        in_force = [t for t in self.terms if t.effective_on <= day]
        return in_force[-1].parties if in_force else self.draft

    @property
    def party_ids(self) -> list[UUID]:
        """Every unit that is or was a party, in the order first listed."""
        return self.parties_until(None)

    def parties_until(self, day: date | None) -> list[UUID]:
        """The units listed as parties by ``day`` (drafted, or in terms effective by
        then), in the order first listed."""
        listed = [p.unit_id for p in self.draft]
        for terms in self.terms:
            if day is None or terms.effective_on <= day:
                listed += [p.unit_id for p in terms.parties if p.unit_id not in listed]
        return listed

    def entry(self, number: int) -> Entry:
        if 1 <= number <= len(self.entries):
            return self.entries[number - 1]
        raise EntryNotFound(f"agreement '{self.title}' has no entry {number}")

    def live_entries(self, until: date | None = None) -> Iterable[Entry]:
        return (e for e in self.entries if e.live and (until is None or e.on <= until))

    def settle(self, as_of: date) -> list[Position]:
        """Each party's cost share and benefit share in force on ``as_of``, the costs it
        should bear and the benefits it is due — every cost and benefit up to then
        split by the shares in force on its own date — and what it contributed.

        Each cost is split exactly, so the parties' costs due add up to the total
        costs, and likewise for benefits."""
        parties = self.parties_until(as_of)
        costs_due = dict.fromkeys(parties, 0)
        benefits_due = dict.fromkeys(parties, 0)
        contributed = dict.fromkeys(parties, 0)
        for entry in self.live_entries(until=as_of):
            if entry.kind is EntryKind.CONTRIBUTION:
                assert entry.unit_id is not None
                contributed[entry.unit_id] += entry.amount_fen
                continue
            if entry.kind is EntryKind.FUNDING:
                continue  # no party's: it credits nobody and nobody owes it
            terms = self.terms_on(entry.on)
            assert terms is not None, "entries are recorded only while the agreement is active"
            due, weights = (
                (costs_due, [p.cost_share_bp for p in terms.parties])
                if entry.kind is EntryKind.COST
                else (benefits_due, [p.benefit_share_bp for p in terms.parties])
            )
            for party, part in zip(
                terms.parties, allocate(entry.amount_fen, weights), strict=False
            ):
                due[party.unit_id] += part
        shares = {p.unit_id: p for p in self.shares_as_of(as_of)}
        return [
            Position(
                unit_id=unit_id,
                cost_share_bp=shares[unit_id].cost_share_bp if unit_id in shares else 0,
                benefit_share_bp=shares[unit_id].benefit_share_bp if unit_id in shares else 0,
                costs_due=costs_due[unit_id],
                contributed=contributed[unit_id],
                benefits_due=benefits_due[unit_id],
            )
            for unit_id in parties
        ]

    # --- deciding ---------------------------------------------------------------

    def approve(self, effective_on: date, resolution: str, principal: str) -> None:
        if self.terms:
            raise AgreementRuleBroken(
                f"agreement '{self.title}' was already approved, effective "
                f"{self.approved_on} by resolution {self.terms[0].resolution}"
            )
        if effective_on < self.drafted_on:
            raise EffectiveDateTooEarly(
                f"agreement '{self.title}' was drafted on {self.drafted_on}; it cannot take "
                f"effect {effective_on}"
            )
        self.trigger_event(
            self.Approved, effective_on=effective_on, resolution=resolution, principal=principal
        )

    def amend(
        self,
        parties: tuple[Party, ...],
        effective_on: date,
        resolution: str,
        principal: str,
        labels: dict[UUID, str],
    ) -> None:
        self._check_changeable("amended", resolution)
        last = self.terms[-1]
        if effective_on <= last.effective_on:
            raise EffectiveDateTooEarly(
                f"the shares of agreement '{self.title}' were last set effective "
                f"{last.effective_on}; an amendment must take effect after that, not on "
                f"{effective_on}"
            )
        if set(parties) == set(last.parties):
            raise NothingToChange(f"agreement '{self.title}' already has exactly these shares")
        kept = {p.unit_id for p in parties}
        for entry in self.live_entries():
            if entry.unit_id is not None and entry.unit_id not in kept and entry.on >= effective_on:
                raise AgreementRuleBroken(
                    f"{labels.get(entry.unit_id, entry.unit_id)} contributed on {entry.on} "
                    f"(entry {entry.number}); an amendment that removes it as a party must "
                    f"take effect after that"
                )
        self.trigger_event(
            self.Amended,
            parties=parties,
            effective_on=effective_on,
            resolution=resolution,
            principal=principal,
        )

    def terminate(self, effective_on: date, resolution: str, principal: str) -> None:
        self._check_changeable("terminated", resolution)
        last = self.terms[-1]
        if effective_on <= last.effective_on:
            raise EffectiveDateTooEarly(
                f"the shares of agreement '{self.title}' took effect {last.effective_on}; it can "
                f"be terminated only after that, not on {effective_on}"
            )
        late = [e for e in self.live_entries() if e.on >= effective_on]
        if late:
            raise AgreementRuleBroken(
                f"agreement '{self.title}' has a {late[0].kind} recorded on {late[0].on} "
                f"(entry {late[0].number}); its termination must take effect after that"
            )
        self.trigger_event(
            self.Terminated,
            effective_on=effective_on,
            resolution=resolution,
            principal=principal,
        )

    def contribute(
        self,
        unit_id: UUID,
        unit_label: str,
        kind: ResourceKind,
        amount_fen: int,
        day: date,
        description: str,
        principal: str,
    ) -> Entry:
        terms = self._terms_for_entry(day, "a contribution")
        if terms.party(unit_id) is None:
            raise AgreementRuleBroken(
                f"{unit_label} is not a party to agreement '{self.title}' on {day}; only its "
                "parties contribute"
            )
        self.trigger_event(
            self.ContributionRecorded,
            entry=len(self.entries) + 1,
            unit_id=unit_id,
            kind=kind,
            amount_fen=amount_fen,
            contributed_on=day,
            description=description,
            principal=principal,
        )
        return self.entries[-1]

    def receive_funding(
        self,
        funder: str,
        funder_kind: Funder,
        kind: ResourceKind,
        amount_fen: int,
        day: date,
        description: str,
        principal: str,
    ) -> Entry:
        return self._enter(
            self.FundingReceived,
            "outside funding",
            day,
            funder=funder,
            funder_kind=funder_kind,
            kind=kind,
            amount_fen=amount_fen,
            received_on=day,
            description=description,
            principal=principal,
        )

    def incur_cost(self, amount_fen: int, day: date, description: str, principal: str) -> Entry:
        return self._enter(
            self.CostIncurred,
            "a shared cost",
            day,
            amount_fen=amount_fen,
            incurred_on=day,
            description=description,
            principal=principal,
        )

    def realize_benefit(
        self, amount_fen: int, day: date, description: str, principal: str
    ) -> Entry:
        return self._enter(
            self.BenefitRealized,
            "a benefit",
            day,
            amount_fen=amount_fen,
            realized_on=day,
            description=description,
            principal=principal,
        )

    def reverse(self, number: int, reason: str, principal: str) -> Entry:
        entry = self.entry(number)
        if not entry.live:
            raise AgreementRuleBroken(
                f"entry {number} of agreement '{self.title}' was already reversed "
                f"({entry.reversed_because})"
            )
        self.trigger_event(self.EntryReversed, entry=number, reason=reason, principal=principal)
        return self.entry(number)

    def _enter(
        self, event: type[BenefitAgreement.Event], what: str, day: date, **fields: object
    ) -> Entry:
        """Record the next numbered entry, while the agreement is in force on ``day``."""
        self._terms_for_entry(day, what)
        self.trigger_event(event, entry=len(self.entries) + 1, **fields)
        return self.entries[-1]

    def _terms_for_entry(self, day: date, what: str) -> Terms:
        terms = self.terms_on(day)
        if terms is not None:
            return terms
        if self.approved_on is None:
            raise AgreementRuleBroken(
                f"agreement '{self.title}' has not been approved yet; {what} can be recorded "
                "once an adopted agreement resolution approves it"
            )
        if day < self.approved_on:
            raise AgreementRuleBroken(
                f"agreement '{self.title}' took effect {self.approved_on}; {what} cannot be "
                f"recorded against it on {day}"
            )
        raise AgreementRuleBroken(
            f"agreement '{self.title}' was terminated effective {self.terminated_on}; {what} "
            f"cannot be recorded against it on {day}"
        )

    def _check_changeable(self, done: str, resolution: str) -> None:
        if self.status is Status.DRAFT:
            raise AgreementRuleBroken(
                f"agreement '{self.title}' is still a draft; approve it before it is {done}"
            )
        if self.status is Status.TERMINATED:
            raise AgreementRuleBroken(
                f"agreement '{self.title}' was terminated effective {self.terminated_on} by "
                f"resolution {self.terminated_by}"
            )
        used = next((t for t in self.terms if t.resolution == resolution), None)
        if used is not None:
            raise AgreementRuleBroken(
                f"resolution {resolution} already set this agreement's shares effective "
                f"{used.effective_on}; each change needs its own resolution"
            )
