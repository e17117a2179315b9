"""What a write command answers: the read side's view of what it recorded, the same
over HTTP and on the command line (``cli.commands`` uses this table too). A route or a
subcommand whose answer differs names its own: a meeting's, whose shapes over HTTP
(``meeting_id``) and on the command line (``meeting``) were published apart."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from application import messages as m
from bootstrap import Ledger
from projections import annual, cost_sharing, governance, leads, membership, membership_model
from projections.machinery import Store

Answer = Callable[[Ledger, Store, Any, Any], Any]
"""``(ledger, read models, the command, what its ledger method returned) → the answer``"""


def unit(ledger: Ledger, store: Store, cmd: Any, record: Any) -> membership.UnitView:
    periods = membership_model.unit_memberships(store, record.id)
    return membership.unit_view(ledger, record.id, periods)


def community(ledger: Ledger, store: Store, cmd: Any, body: Any) -> membership.CommunityView:
    return membership.community_view(body)


def recommending(ledger: Ledger, store: Store, cmd: Any, body: Any) -> leads.CommunityDetail:
    return leads.community_detail(store, body.id, as_of=body.recommendations[-1].effective_on)


def members(ledger: Ledger, store: Store, cmd: Any, body: Any) -> membership.MemberList:
    """The members on the day the change took effect."""
    return membership_model.members(store, body.id, as_of=cmd.effective_on)


def charter(ledger: Ledger, store: Store, cmd: Any, body: Any) -> governance.CharterView:
    return governance.charter(ledger, body.id, as_of=body.charters[-1].effective_on)


def seats(ledger: Ledger, store: Store, cmd: Any, council: Any) -> governance.SeatList:
    return governance.seats(ledger, cmd.community_id, as_of=cmd.effective_on)


def seats_now(ledger: Ledger, store: Store, cmd: Any, council: Any) -> governance.SeatList:
    """The seats held today, after an annulment (which has no date of its own)."""
    return governance.seats(ledger, cmd.community_id)


def meetings(ledger: Ledger, store: Store, cmd: Any, council: Any) -> governance.MeetingList:
    return governance.meetings(ledger, cmd.community_id)


def resolution(ledger: Ledger, store: Store, cmd: Any, r: Any) -> governance.RegisterEntry:
    return governance.entry(r)


def agreement(ledger: Ledger, store: Store, cmd: Any, record: Any) -> cost_sharing.AgreementView:
    return cost_sharing.agreement_view(ledger, record)


def entry(ledger: Ledger, store: Store, cmd: Any, entry: Any) -> cost_sharing.EntryView:
    return cost_sharing.recorded_entry(ledger, cmd.agreement_id, entry)


def filings(ledger: Ledger, store: Store, cmd: Any, filing: Any) -> annual.FilingList:
    return annual.filings(ledger, cmd.community_id, filing.year)


def indicators(ledger: Ledger, store: Store, cmd: Any, figure: Any) -> annual.IndicatorReport:
    return annual.indicators(ledger, cmd.community_id, figure.year)


ANSWERS: dict[type[m.Command], Answer] = {
    m.RegisterUnit: unit,
    m.RenameUnit: unit,
    m.RelocateUnit: unit,
    m.DeregisterUnit: unit,
    m.CorrectRegistration: unit,
    m.QualifyUnit: unit,
    m.EndQualification: unit,
    m.FoundCommunity: community,
    m.SetRecommendingProvince: recommending,
    m.DissolveCommunity: community,
    m.AdmitMember: members,
    m.ExitMember: members,
    m.ChangeMemberRole: members,
    m.AnnulMemberRecord: unit,
    m.AdoptCharter: charter,
    m.AssignSeat: seats,
    m.VacateSeat: seats,
    m.AnnulSeatRecord: seats_now,
    m.AnnulMeeting: meetings,
    # m.RecordMeeting: the API and the command line each answer in their own shape
    m.RecordResolution: resolution,
    m.DraftAgreement: agreement,
    m.ApproveAgreement: agreement,
    m.AmendAgreement: agreement,
    m.TerminateAgreement: agreement,
    m.RecordContribution: entry,
    m.RecordCost: entry,
    m.RecordFunding: entry,
    m.RecordBenefit: entry,
    m.ReverseEntry: entry,
    m.RecordFiling: filings,
    m.RecordIndicator: indicators,
}
