"""Cost sharing and benefit sharing, as answers for people and scripts.

Computed from the events: each agreement's ``settle`` splits every cost and
benefit by the shares in force on its own date. Money leaves here as decimal
strings of yuan (``"1234.50"``), never floats; shares as integer basis points.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from uuid import UUID

import msgspec

from application import names
from application.ledger import Ledger
from domain.agreement import (
    BenefitAgreement,
    Entry,
    EntryKind,
    Funder,
    Party,
    ResourceKind,
    Source,
    source_of,
    source_of_funder,
)
from domain.allocation import allocate
from domain.unit import MemberUnit
from domain.values import (
    UnitType,
    bilingual,
    format_fen,
    parse_date,
    province_name,
    province_of,
    today,
)


class PartyFigures(msgspec.Struct, frozen=True):
    unit_id: UUID
    code: str
    name: str
    cost_share_bp: int
    cost_due: str
    contributed: str
    balance: str
    benefit_share_bp: int
    benefit_due: str


class CostSharingReport(msgspec.Struct, frozen=True):
    agreement_id: UUID
    title: str
    community_id: UUID
    community_name: str
    status: str
    as_of: date
    total_costs: str
    total_contributed: str
    total_balance: str
    total_benefits: str
    outside_funding: str  # from funders outside the body: in no party's figures
    parties: list[PartyFigures]
    known_at: datetime | None = None  # None: everything recorded so far


class Share(msgspec.Struct, frozen=True):
    unit_id: UUID
    code: str
    name: str
    cost_share_bp: int
    benefit_share_bp: int


class TermsView(msgspec.Struct, frozen=True):
    effective_on: date | None  # None for the draft
    resolution: str | None
    parties: list[Share]


class EntryView(msgspec.Struct, frozen=True):
    agreement_id: UUID
    entry: int
    type: str  # contribution, cost or benefit
    on: date
    amount: str
    description: str
    unit_id: UUID | None
    unit_name: str | None
    kind: str | None  # what was contributed
    reversed_because: str | None
    funder: str | None = None  # funding from outside the body: who
    funder_kind: str | None = None


class AgreementView(msgspec.Struct, frozen=True):
    id: UUID
    title: str
    kind: str
    community_id: UUID
    community_name: str
    status: str
    drafted_on: date
    approved_on: date | None
    terminated_on: date | None
    terminated_by: str | None
    terms: list[TermsView]  # the draft first, then each approval and amendment
    entries: list[EntryView]


class AgreementSummary(msgspec.Struct, frozen=True):
    id: UUID
    title: str
    kind: str
    community_id: UUID
    community_name: str
    status: str
    parties: int
    approved_on: date | None
    terminated_on: date | None


class AgreementList(msgspec.Struct, frozen=True):
    community_id: UUID | None  # None: every body's agreements
    community_name: str | None
    agreements: list[AgreementSummary]


class Slice(msgspec.Struct, frozen=True):
    key: str
    name: str
    amount: str
    share_bp: int  # of all contributions; the slices' shares add up to exactly 10000


class AgreementTotals(msgspec.Struct, frozen=True):
    agreement_id: UUID
    title: str
    status: str
    contributed: str
    costs: str
    benefits: str
    outside_funding: str


class InvestmentSummary(msgspec.Struct, frozen=True):
    community_id: UUID
    community_name: str
    as_of: date
    total_contributed: str  # by members, as parties
    outside_funding: str  # by funders outside the body
    total_invested: str  # both: what the slices below add up to
    agreements: list[AgreementTotals]
    by_kind: list[Slice]
    by_source: list[Slice]
    by_province: list[Slice]  # outside funders under OUTSIDE
    by_funder: list[Slice]  # members, then each kind of outside funder
    known_at: datetime | None = None  # None: everything recorded so far


# --- answers --------------------------------------------------------------------


def report(
    ledger: Ledger, agreement: str | UUID, as_of: str | date | None = None
) -> CostSharingReport:
    """Per party as of a date: its shares then, the costs it should bear, what it
    contributed, the balance, the benefits it is due; and the totals."""
    day = parse_date(as_of, "as-of date") if as_of else today()
    record = ledger.agreement(agreement)
    units = _units(ledger, record.party_ids)
    positions = record.settle(day)
    rows = [
        PartyFigures(
            unit_id=p.unit_id,
            code=units[p.unit_id].code,
            name=units[p.unit_id].name_on(day),
            cost_share_bp=p.cost_share_bp,
            cost_due=format_fen(p.costs_due),
            contributed=format_fen(p.contributed),
            balance=format_fen(p.balance),
            benefit_share_bp=p.benefit_share_bp,
            benefit_due=format_fen(p.benefits_due),
        )
        for p in positions
    ]
    totals = _totals(record.live_entries(until=day))
    return CostSharingReport(
        agreement_id=record.id,
        title=record.title,
        community_id=record.community_id,
        community_name=ledger.community(record.community_id).name,
        status=record.status,
        as_of=day,
        total_costs=format_fen(totals[EntryKind.COST]),
        total_contributed=format_fen(totals[EntryKind.CONTRIBUTION]),
        total_balance=format_fen(sum(p.balance for p in positions)),
        total_benefits=format_fen(totals[EntryKind.BENEFIT]),
        outside_funding=format_fen(totals[EntryKind.FUNDING]),
        parties=rows,
    )


def agreement_view(ledger: Ledger, agreement: str | UUID | BenefitAgreement) -> AgreementView:
    record = agreement if isinstance(agreement, BenefitAgreement) else ledger.agreement(agreement)
    units = _units(ledger, record.party_ids)
    terms = [TermsView(None, None, _shares(record.draft, units))] + [
        TermsView(t.effective_on, t.resolution, _shares(t.parties, units)) for t in record.terms
    ]
    return AgreementView(
        id=record.id,
        title=record.title,
        kind=record.kind,
        community_id=record.community_id,
        community_name=ledger.community(record.community_id).name,
        status=record.status,
        drafted_on=record.drafted_on,
        approved_on=record.approved_on,
        terminated_on=record.terminated_on,
        terminated_by=record.terminated_by,
        terms=terms,
        entries=[entry_view(record.id, e, units) for e in record.entries],
    )


def entry_view(
    agreement_id: UUID, entry: Entry, units: dict[UUID, MemberUnit] | None = None
) -> EntryView:
    unit = (units or {}).get(entry.unit_id) if entry.unit_id else None
    return EntryView(
        agreement_id=agreement_id,
        entry=entry.number,
        type=entry.kind,
        on=entry.on,
        amount=format_fen(entry.amount_fen),
        description=entry.description,
        unit_id=entry.unit_id,
        unit_name=unit.name_on(entry.on) if unit else None,
        kind=entry.resource,
        reversed_because=entry.reversed_because,
        funder=entry.funder,
        funder_kind=entry.funder_kind,
    )


def recorded_entry(ledger: Ledger, agreement: str | UUID, entry: Entry) -> EntryView:
    """The answer to the command that recorded (or reversed) ``entry``: the entry as the
    command left it, without reading the agreement back from the store."""
    units = _units(ledger, [entry.unit_id] if entry.unit_id else [])
    return entry_view(names.agreement_id(ledger.directory, agreement), entry, units)


def agreements(ledger: Ledger, community: str | UUID | None = None) -> AgreementList:
    """Every agreement (of one body, if given), in the order drafted."""
    body = ledger.community(community) if community is not None else None
    body_id = body.id if body else None
    names: dict[UUID, str] = {}
    result = []
    for agreement_id in ledger.agreement_ids(body_id):
        record = ledger.agreement(agreement_id)
        if record.community_id not in names:
            names[record.community_id] = ledger.community(record.community_id).name
        current = record.terms[-1].parties if record.terms else record.draft
        result.append(
            AgreementSummary(
                id=record.id,
                title=record.title,
                kind=record.kind,
                community_id=record.community_id,
                community_name=names[record.community_id],
                status=record.status,
                parties=len(current),
                approved_on=record.approved_on,
                terminated_on=record.terminated_on,
            )
        )
    return AgreementList(body_id, body.name if body else None, result)


OUTSIDE = "outside"
"""The slice of ``by_province`` for funders outside the body, who have no province."""
MEMBERS = "members"
"""The slice of ``by_funder`` for what members put in."""
FUNDER_NAMES = {
    MEMBERS: "成员单位 members",
    **{funder.value: bilingual(funder) for funder in Funder},
}

SOURCE_NAMES = {source: bilingual(source) for source in Source}
"""``企业 enterprise``: the names of the sources, from their Chinese beside the enum."""
KIND_NAMES = {kind: bilingual(kind) for kind in ResourceKind}
"""``资金 funds``: the names of the kinds of contribution, likewise."""


def investment(
    ledger: Ledger, community: str | UUID, as_of: str | date | None = None
) -> InvestmentSummary:
    """The body's multi-source investment picture: every live contribution and outside
    funding of any of its agreements up to ``as_of``, by kind, by source (a member's
    registered type, an outside funder's kind), by the contributor's province on the
    contribution date (outside funders apart) and by funder."""
    day = parse_date(as_of, "as-of date") if as_of else today()
    body = ledger.community(community)
    records = [ledger.agreement(a) for a in ledger.agreement_ids(body.id)]
    units = _units(ledger, {u for r in records for u in r.party_ids})
    parts = Investment()
    totals = []
    for record in records:
        live = list(record.live_entries(until=day))
        sums = _totals(live)
        for entry in live:
            if entry.kind is EntryKind.CONTRIBUTION:
                assert entry.unit_id is not None and entry.resource is not None
                unit = units[entry.unit_id]
                division = unit.division_on(entry.on)
                parts.add(entry.resource, unit.unit_type, division, entry.amount_fen)
            elif entry.kind is EntryKind.FUNDING:
                assert entry.funder_kind is not None and entry.resource is not None
                parts.add_outside(entry.resource, entry.funder_kind, entry.amount_fen)
        totals.append(
            AgreementTotals(
                agreement_id=record.id,
                title=record.title,
                status=record.status,
                contributed=format_fen(sums[EntryKind.CONTRIBUTION]),
                costs=format_fen(sums[EntryKind.COST]),
                benefits=format_fen(sums[EntryKind.BENEFIT]),
                outside_funding=format_fen(sums[EntryKind.FUNDING]),
            )
        )
    return parts.summary(body.id, body.name, day, totals)


class Investment:
    """The sums of an investment summary, added up entry by entry (or group by group,
    from the read model): the one place its slices are made."""

    def __init__(self) -> None:
        self.by_kind: dict[str, int] = dict.fromkeys(ResourceKind, 0)
        self.by_source: dict[str, int] = dict.fromkeys(Source, 0)
        self.by_province: dict[str, int] = defaultdict(int)
        self.by_funder: dict[str, int] = dict.fromkeys([MEMBERS, *Funder], 0)

    def add(self, resource: str, unit_type: str, division: str, fen: int) -> None:
        """A member's contribution: its type and its division on the day."""
        self.by_kind[resource] += fen
        self.by_source[source_of(UnitType(unit_type))] += fen
        self.by_province[province_of(division)] += fen
        self.by_funder[MEMBERS] += fen

    def add_outside(self, resource: str, funder: str, fen: int) -> None:
        self.by_kind[resource] += fen
        self.by_source[source_of_funder(Funder(funder))] += fen
        self.by_province[OUTSIDE] += fen
        self.by_funder[funder] += fen

    def summary(
        self,
        community_id: UUID,
        community_name: str,
        day: date,
        totals: list[AgreementTotals],
        known_at: datetime | None = None,
    ) -> InvestmentSummary:
        members = self.by_funder[MEMBERS]
        invested = sum(self.by_kind.values())
        provinces = sorted(
            self.by_province.items(), key=lambda kv: (kv[0] == OUTSIDE, -kv[1], kv[0])
        )
        return InvestmentSummary(
            community_id=community_id,
            community_name=community_name,
            as_of=day,
            total_contributed=format_fen(members),
            outside_funding=format_fen(invested - members),
            total_invested=format_fen(invested),
            agreements=totals,
            by_kind=_slices([(k, KIND_NAMES[ResourceKind(k)], v) for k, v in self.by_kind.items()]),
            by_source=_slices([(k, SOURCE_NAMES[Source(k)], v) for k, v in self.by_source.items()]),
            by_province=_slices(
                [
                    (k, "成员以外 outside the body" if k == OUTSIDE else province_name(k), v)
                    for k, v in provinces
                ]
            ),
            by_funder=_slices([(k, FUNDER_NAMES[k], v) for k, v in self.by_funder.items()]),
            known_at=known_at,
        )


# --- helpers --------------------------------------------------------------------


def _totals(entries: Iterable[Entry]) -> dict[EntryKind, int]:
    sums = dict.fromkeys(EntryKind, 0)
    for entry in entries:
        sums[entry.kind] += entry.amount_fen
    return sums


def _slices(parts: list[tuple[str, str, int]]) -> list[Slice]:
    """Each part's share of the whole, split so the shares add up to exactly 100 %."""
    total = sum(amount for _, _, amount in parts)
    shares = allocate(10_000, [a for _, _, a in parts]) if total > 0 else [0] * len(parts)
    return [
        Slice(key=key, name=name, amount=format_fen(amount), share_bp=share)
        for (key, name, amount), share in zip(parts, shares, strict=False)
    ]


def _units(ledger: Ledger, unit_ids: Iterable[UUID]) -> dict[UUID, MemberUnit]:
    return {unit_id: ledger.unit(unit_id) for unit_id in unit_ids}


def _shares(parties: Iterable[Party], units: dict[UUID, MemberUnit]) -> list[Share]:
    return [
        Share(
            p.unit_id,
            units[p.unit_id].code,
            units[p.unit_id].name,
            p.cost_share_bp,
            p.benefit_share_bp,
        )
        for p in parties
    ]
