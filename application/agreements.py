"""The ledger's cost-sharing commands: draft, approve, amend and terminate a
benefit agreement; record contributions, shared costs and benefits; reverse an
entry recorded by mistake.

What the agreement cannot check itself is checked here, against the body: its
parties must be members of the body on the dates concerned, and every approval,
amendment and termination must name an adopted, unrevoked ``agreement``
resolution of the same body's council passed by then."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from application import names
from application.commands import (
    command,
    effective,
    label,
    principal_name,
    resolution_number,
)
from application.log_index import EVERY
from domain.agreement import (
    AgreementKind,
    BenefitAgreement,
    Entry,
    Funder,
    Party,
    ResourceKind,
    check_shares,
    check_totals,
)
from domain.charter import Matter
from domain.community import Community
from domain.errors import (
    AgreementNotFound,
    AgreementRuleBroken,
    InvalidAmount,
    InvalidInput,
    InvalidShares,
    NotAMember,
    ResolutionRequired,
)
from domain.timeline import Timeline
from domain.values import parse_bp, parse_choice, parse_text, parse_yuan, today

if TYPE_CHECKING:
    from application.ledger import Ledger

PartyInput = Mapping[str, Any]
"""``{"unit_id": id or credit code, "cost_share_bp": …, "benefit_share_bp": …}``"""


class AgreementCommands:
    """Mixed into ``Ledger``; every method runs as one ledger command."""

    @command
    def draft_agreement(
        self: Ledger,
        community: str | UUID,
        *,
        title: str,
        parties: Sequence[PartyInput],
        kind: str = "other",
        drafted_on: str | date | None = None,
        principal: str,
    ) -> BenefitAgreement:
        the_title = parse_text(title, "agreement title")
        the_kind = parse_choice(AgreementKind, kind, "agreement kind")
        shares = _parties(parties, self.unit_id)
        day = effective(drafted_on, "drafting date") if drafted_on else today()
        who = principal_name(principal)
        body = self.community(community)
        body.check_open(day)
        labels = self._party_labels(body, shares, day)
        check_shares(shares, labels)
        agreement = BenefitAgreement._create(
            BenefitAgreement.Drafted,
            community_id=body.id,
            title=the_title,
            kind=the_kind,
            parties=shares,
            drafted_on=day,
            principal=who,
        )
        self.save(agreement)
        return agreement

    @command
    def approve_agreement(
        self: Ledger,
        agreement: str | UUID,
        *,
        resolution: str,
        effective_on: str | date | None = None,
        principal: str,
    ) -> BenefitAgreement:
        """Effective from the approving resolution's meeting date unless told otherwise."""
        reference = _required_resolution(resolution, "approving")
        day = effective(effective_on) if effective_on else None
        who = principal_name(principal)
        record = self.agreement(agreement)
        body = self.community(record.community_id)
        day = day or self.authorising_resolution(body, reference, Matter.AGREEMENT, None).held_on
        self.authorising_resolution(body, reference, Matter.AGREEMENT, day)
        body.check_open(day)
        self._party_labels(body, record.draft, day)
        with self.rules_kept(Timeline(body, agreements=[record])):
            record.approve(day, reference, who)
        self.save(record)
        return record

    @command
    def amend_agreement(
        self: Ledger,
        agreement: str | UUID,
        *,
        parties: Sequence[PartyInput],
        resolution: str,
        effective_on: str | date | None = None,
        principal: str,
    ) -> BenefitAgreement:
        """New parties or shares from an effective date (by default the amending
        resolution's meeting date); the shares before it stay as they were."""
        shares = _parties(parties, self.unit_id)
        reference = _required_resolution(resolution, "amending")
        day = effective(effective_on) if effective_on else None
        who = principal_name(principal)
        record = self.agreement(agreement)
        body = self.community(record.community_id)
        day = day or self.authorising_resolution(body, reference, Matter.AGREEMENT, None).held_on
        self.authorising_resolution(body, reference, Matter.AGREEMENT, day)
        body.check_open(day)
        labels = self._party_labels(body, shares, day)
        check_shares(shares, labels)
        # Parties the amendment drops are named too, should it be refused because of them.
        for unit_id in record.party_ids:
            labels.setdefault(unit_id, label(self.unit(unit_id)))
        with self.rules_kept(Timeline(body, agreements=[record])):
            record.amend(shares, day, reference, who, labels)
        self.save(record)
        return record

    @command
    def terminate_agreement(
        self: Ledger,
        agreement: str | UUID,
        *,
        effective_on: str | date,
        resolution: str,
        principal: str,
    ) -> BenefitAgreement:
        """The termination date is the first day the agreement is no longer in force."""
        day = effective(effective_on)
        reference = _required_resolution(resolution, "terminating")
        who = principal_name(principal)
        record = self.agreement(agreement)
        body = self.community(record.community_id)
        self.authorising_resolution(body, reference, Matter.AGREEMENT, day)
        record.terminate(day, reference, who)
        self.save(record)
        return record

    @command
    def record_contribution(
        self: Ledger,
        agreement: str | UUID,
        unit: str | UUID,
        *,
        kind: str,
        amount: str,
        contributed_on: str | date,
        description: str,
        principal: str,
    ) -> Entry:
        """``amount`` in yuan (``"1234.50"``); in-kind resources at their agreed value."""
        resource = parse_choice(ResourceKind, kind, "contribution kind")
        fen = _amount(amount)
        day = effective(contributed_on, "contribution date")
        text = parse_text(description, "description")
        who = principal_name(principal)
        record = self.agreement(agreement)
        body = self.community(record.community_id)
        body.check_open(day)
        member = self.unit(unit)
        if not body.is_member_on(member.id, day):
            raise NotAMember(
                f"{label(member)} is not an active member of {body.name} on {day}; only "
                "members contribute to the body's agreements"
            )
        entry = record.contribute(member.id, label(member), resource, fen, day, text, who)
        self.save(record)
        return entry

    @command
    def record_funding(
        self: Ledger,
        agreement: str | UUID,
        *,
        funder: str,
        funder_kind: str,
        kind: str,
        amount: str,
        received_on: str | date,
        description: str,
        principal: str,
    ) -> Entry:
        """Funding from outside the body, ``amount`` in yuan: a funder that is a member
        of the body on the day puts money in as a party, by contribution."""
        who_funds = parse_text(funder, "funder")
        funder_is = parse_choice(Funder, funder_kind, "kind of funder")
        resource = parse_choice(ResourceKind, kind, "kind of funding")
        fen = _amount(amount)
        day = effective(received_on, "date the funding was received")
        text = parse_text(description, "description")
        who = principal_name(principal)
        record = self.agreement(agreement)
        body = self.community(record.community_id)
        body.check_open(day)
        if self.directory is not None:
            candidates = [n.id for n in self.directory.units(who_funds)]
        else:
            candidates = [p.unit_id for p in body.members_on(day)]
        for unit_id in candidates:
            unit = self.unit(unit_id)
            if names.normal(unit.name_on(day)) == names.normal(who_funds) and body.is_member_on(
                unit_id, day
            ):
                raise AgreementRuleBroken(
                    f"{label(unit)} is a member of {body.name} on {day}: what a member puts "
                    "in is recorded as a party's contribution, not as outside funding"
                )
        entry = record.receive_funding(who_funds, funder_is, resource, fen, day, text, who)
        self.save(record)
        return entry

    @command
    def record_cost(
        self: Ledger,
        agreement: str | UUID,
        *,
        amount: str,
        incurred_on: str | date,
        description: str,
        principal: str,
    ) -> Entry:
        fen = _amount(amount)
        day = effective(incurred_on, "date the cost was incurred")
        text = parse_text(description, "description")
        who = principal_name(principal)
        record = self.agreement(agreement)
        self.community(record.community_id).check_open(day)
        entry = record.incur_cost(fen, day, text, who)
        self.save(record)
        return entry

    @command
    def record_benefit(
        self: Ledger,
        agreement: str | UUID,
        *,
        amount: str,
        realized_on: str | date,
        description: str,
        principal: str,
    ) -> Entry:
        fen = _amount(amount)
        day = effective(realized_on, "date the benefit was realised")
        text = parse_text(description, "description")
        who = principal_name(principal)
        record = self.agreement(agreement)
        self.community(record.community_id).check_open(day)
        entry = record.realize_benefit(fen, day, text, who)
        self.save(record)
        return entry

    @command
    def reverse_entry(
        self: Ledger, agreement: str | UUID, *, entry: int | str, reason: str, principal: str
    ) -> Entry:
        """Take a mistaken entry out of every report; the entry itself stays on record."""
        number = _entry_number(entry)
        why = parse_text(reason, "reason for the reversal")
        who = principal_name(principal)
        record = self.agreement(agreement)
        reversed_entry = record.reverse(number, why, who)
        self.save(record)
        return reversed_entry

    # --- reading ----------------------------------------------------------------

    def agreement(self: Ledger, ref: str | UUID) -> BenefitAgreement:
        """An agreement by its id, or by its title or a part of it no other has."""
        agreement_id = names.agreement_id(self.directory, ref)
        try:
            record = self.repository.get(agreement_id)
        except AggregateNotFoundError:
            record = None
        if not isinstance(record, BenefitAgreement):
            raise AgreementNotFound(f"no agreement {agreement_id} has been drafted")
        return record

    def agreement_ids(self: Ledger, community: UUID | None = None) -> Iterator[UUID]:
        """Every agreement (of one body, if given), in the order drafted."""
        yield from self.drafted.ids(self, EVERY if community is None else community)

    def _party_labels(
        self: Ledger, body: Community, parties: Sequence[Party], day: date
    ) -> dict[UUID, str]:
        """Each party's label; refuses a party that is not a member of ``body`` on ``day``."""
        labels = {}
        for party in parties:
            member = self.unit(party.unit_id)
            labels[member.id] = label(member)
            if not body.is_member_on(member.id, day):
                raise NotAMember(
                    f"{label(member)} is not a member of {body.name} on {day}; an agreement's "
                    "parties are member units of the body"
                )
        return labels


def _parties(
    parties: Sequence[PartyInput], unit_id: Callable[[str | UUID], UUID]
) -> tuple[Party, ...]:
    if isinstance(parties, (str, bytes)) or not isinstance(parties, Sequence):
        raise InvalidShares("parties must be a list of {unit_id, cost_share_bp, benefit_share_bp}")
    shares = []
    for i, item in enumerate(parties, 1):
        if not isinstance(item, Mapping) or "unit_id" not in item:
            raise InvalidShares(f"party {i} must name its unit_id and both shares")
        cost = parse_bp(item.get("cost_share_bp"), f"party {i}'s cost share")
        benefit = parse_bp(item.get("benefit_share_bp"), f"party {i}'s benefit share")
        shares.append((item["unit_id"], cost, benefit))
    # What the input alone shows is refused before anything is looked up: shares that
    # do not add up are the mistake to report, not a party that is no member.
    check_totals([cost for _, cost, _ in shares], [benefit for _, _, benefit in shares])
    return tuple(
        Party(unit_id=unit_id(ref), cost_share_bp=cost, benefit_share_bp=benefit)
        for ref, cost, benefit in shares
    )


def _required_resolution(reference: str, what: str) -> str:
    number = resolution_number(reference, f"the {what} resolution")
    if number is None:
        raise ResolutionRequired(
            f"name the {what} resolution: an adopted agreement resolution of the body's "
            "council, by its register number such as 2025-007"
        )
    return number


def _amount(text: str) -> int:
    fen = parse_yuan(text)
    if fen == 0:
        raise InvalidAmount("amount must be more than 0 yuan")
    return fen


def _entry_number(value: int | str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"entry must be an entry number such as 3; got {value!r}") from None
    if isinstance(value, bool) or number < 1:
        raise InvalidInput(f"entry must be an entry number such as 3; got {value!r}")
    return number
