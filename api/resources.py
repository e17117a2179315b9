"""The ledger's resources over HTTP (api.md, Resources): each route one ledger
call and one answer from the read side. A write route names its command
(``application.messages``), which its path and body make; it answers as ``api.answers``
says, the same as the command line, unless it names its own view."""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from adapters.audit import ConsistencyProof, InclusionProof
from adapters.chain import Verification
from adapters.signing import SigningKey
from api import bodies as b
from api.access import Access
from api.endpoint import Call, Download, Endpoint, performing, request_body
from application import messages as m
from application.commands import as_uuid
from bootstrap import Ledger
from domain import bundle
from domain.checkpoints import Checkpoint
from projections import (
    annual,
    cost_sharing,
    cost_sharing_model,
    governance,
    leads,
    membership,
    membership_model,
    provinces,
    quality,
    register_model,
)
from projections.history import entries as history_entries

log = logging.getLogger("chanjiao.audit")


def community(c: Call) -> UUID:
    return as_uuid(c.path["id"], "community id")


def agreement_community(c: Call) -> UUID:
    """An agreement never changes body, so the answer is kept (saving a replay of
    the agreement on every call that names it)."""
    agreement = as_uuid(c.path["id"], "agreement id")
    known = c.service.agreement_bodies
    if agreement not in known:
        known[agreement] = c.ledger.agreement(agreement).community_id
    return known[agreement]


def query_community(c: Call) -> UUID | None:
    value = c.raw_query.get("community_id")
    return as_uuid(value, "community id") if value else None


# --- units ------------------------------------------------------------------------


def unit_view(c: Call, ref: Any) -> membership.UnitView:
    unit = c.ledger.unit(ref)
    return membership.unit_view(
        c.ledger, unit.id, membership_model.unit_memberships(c.store, unit.id)
    )


# --- communities and members ------------------------------------------------------


def list_communities(c: Call) -> Any:
    if c.token.role == "secretary":
        return [membership.community_view(c.ledger.community(i)) for i in c.token.communities]
    return membership.communities(c.ledger)


def members(c: Call) -> Any:
    return membership_model.members(
        c.store, community(c), as_of=c.query.as_of, known_at=c.query.known_at
    )


# --- governance -------------------------------------------------------------------


def meeting(ledger: Ledger, store: Any, cmd: m.RecordMeeting, number: int) -> b.MeetingAnswer:
    community_id = as_uuid(cmd.community_id, "community id")
    return b.MeetingAnswer(number, community_id, cmd.held_on, len(set(cmd.present)))


# --- agreements -------------------------------------------------------------------


def list_agreements(c: Call) -> Any:
    return cost_sharing_model.agreements(c.store, c.query.community_id)


# --- history ----------------------------------------------------------------------


def history(kind: str) -> Any:
    def run(c: Call) -> b.History:
        ledger: Ledger = c.ledger
        lookup = {"unit": ledger.unit, "community": ledger.community, "agreement": ledger.agreement}
        record = lookup[kind](c.path["id"])
        return b.History(record.id, history_entries(ledger, record.id))

    return run


# --- audit ------------------------------------------------------------------------


def sign_checkpoint(c: Call) -> Checkpoint:
    key = SigningKey.load(c.service.settings.signing_key)
    if key.created:
        log.warning("%s", key.created_message())
    return c.ledger.checkpoint(key)


def export(c: Call) -> Download:
    key = SigningKey.load(c.service.settings.signing_key)
    if key.created:
        log.warning("%s", key.created_message())
    writer = c.ledger.export(c.query.community_id, key)
    scope = "all" if c.query.community_id is None else f"community-{c.query.community_id}"
    stamp = writer.anchor.recorded_at.strftime("%Y%m%dT%H%M%SZ")
    return Download(writer.lines(), f"chanjiao-{scope}-{writer.anchor.size}-{stamp}.jsonl")


# --- the route list ---------------------------------------------------------------

U, R, W, P, H = Access.UNITS_READ, Access.READ, Access.RECORD, Access.REPORT, Access.HISTORY
UW, UC = Access.UNITS_WRITE, Access.UNITS_CHANGE


def _e(method: str, path: str, run: Any, access: Access, summary: str, answer: Any, **kw: Any):
    status = 201 if method == "POST" and kw.pop("created", False) else 200
    scope = kw.pop("scope", community if "/communities/{id}" in path else None)
    return Endpoint(method, path, run, access, summary, answer, status, scope=scope, **kw)


def _w(path: str, command: type[m.Command], access: Access, answer: Any, **kw: Any) -> Endpoint:
    """A write: ``command`` made from the request, run, answered (``api.endpoint.performing``);
    ``view=`` gives a route its own answer."""
    run = performing(command, path, kw.pop("view", None))
    body = request_body(command)
    summary = m.summary(command)
    return _e("POST", path, run, access, summary, answer, body=body, command=command, **kw)


ENDPOINTS: list[Endpoint] = [
    _w("/units", m.RegisterUnit, UW, membership.UnitView, created=True),
    _e(
        "GET",
        "/units",
        lambda c: unit_view(c, c.query.code),
        U,
        "a unit by its credit code",
        membership.UnitView,
        query=b.UnitQuery,
    ),
    _e(
        "GET",
        "/units/{id}",
        lambda c: unit_view(c, c.path["id"]),
        U,
        "a unit, its names, locations and membership periods",
        membership.UnitView,
    ),
    _w("/units/{id}/rename", m.RenameUnit, UC, membership.UnitView),
    _w("/units/{id}/relocate", m.RelocateUnit, UC, membership.UnitView),
    _w("/units/{id}/deregister", m.DeregisterUnit, UC, membership.UnitView),
    _w("/units/{id}/correct", m.CorrectRegistration, UC, membership.UnitView),
    _w("/units/{id}/qualifications", m.QualifyUnit, UC, membership.UnitView),
    _w("/units/{id}/qualifications/end", m.EndQualification, UC, membership.UnitView),
    _w("/communities", m.FoundCommunity, Access.RECORD, membership.CommunityView, created=True),
    _e(
        "GET",
        "/communities",
        list_communities,
        R,
        "every community (a secretary's: its own)",
        list[membership.CommunityView],
        any_community=True,
    ),
    _e(
        "GET",
        "/communities/{id}",
        lambda c: leads.community_detail(c.store, community(c), as_of=c.query.as_of),
        R,
        "one community; an industry body's leads and recommending province on a date",
        leads.CommunityDetail,
        query=b.AsOf,
    ),
    _w(
        "/communities/{id}/recommending-province",
        m.SetRecommendingProvince,
        W,
        leads.CommunityDetail,
    ),
    _w("/communities/{id}/dissolve", m.DissolveCommunity, W, membership.CommunityView),
    _w("/communities/{id}/members", m.AdmitMember, W, membership.MemberList, created=True),
    _w("/communities/{id}/members/{unit_id}/exit", m.ExitMember, W, membership.MemberList),
    _w("/communities/{id}/members/{unit_id}/role", m.ChangeMemberRole, W, membership.MemberList),
    _w("/communities/{id}/members/{unit_id}/annul", m.AnnulMemberRecord, W, membership.UnitView),
    _e(
        "GET",
        "/communities/{id}/members",
        members,
        R,
        "members on a date, as recorded by a time",
        membership.MemberList,
        query=b.AsKnownAt,
    ),
    _w("/communities/{id}/charter", m.AdoptCharter, W, governance.CharterView, created=True),
    _e(
        "GET",
        "/communities/{id}/charter",
        lambda c: governance.charter(c.ledger, community(c), as_of=c.query.as_of),
        R,
        "the charter in force on a date",
        governance.CharterView,
        query=b.AsOf,
    ),
    _w("/communities/{id}/council/seats", m.AssignSeat, W, governance.SeatList, created=True),
    _e(
        "GET",
        "/communities/{id}/council/seats",
        lambda c: governance.seats(c.ledger, community(c), as_of=c.query.as_of),
        R,
        "the seats held on a date",
        governance.SeatList,
        query=b.AsOf,
    ),
    _w("/communities/{id}/council/seats/{unit_id}/vacate", m.VacateSeat, W, governance.SeatList),
    _w(
        "/communities/{id}/council/seats/{unit_id}/annul", m.AnnulSeatRecord, W, governance.SeatList
    ),
    _w(
        "/communities/{id}/council/meetings/{meeting}/annul",
        m.AnnulMeeting,
        W,
        governance.MeetingList,
    ),
    _w(
        "/communities/{id}/council/meetings",
        m.RecordMeeting,
        W,
        b.MeetingAnswer,
        created=True,
        view=meeting,
    ),
    _w(
        "/communities/{id}/council/resolutions",
        m.RecordResolution,
        W,
        governance.RegisterEntry,
        created=True,
    ),
    _e(
        "GET",
        "/communities/{id}/resolutions",
        lambda c: register_model.register(c.store, community(c), known_at=c.query.known_at),
        R,
        "the resolution register, in order, as recorded by a time",
        governance.Register,
        query=b.KnownAtQuery,
    ),
    _w(
        "/communities/{id}/agreements",
        m.DraftAgreement,
        W,
        cost_sharing.AgreementView,
        created=True,
    ),
    _e(
        "GET",
        "/communities/{id}/investment",
        lambda c: cost_sharing_model.investment(
            c.store, community(c), as_of=c.query.as_of, known_at=c.query.known_at
        ),
        P,
        "contributions by kind, source and province, as recorded by a time",
        cost_sharing.InvestmentSummary,
        query=b.AsKnownAt,
    ),
    _e(
        "GET",
        "/agreements",
        list_agreements,
        R,
        "every agreement, or one body's",
        cost_sharing.AgreementList,
        query=b.AgreementsQuery,
        scope=query_community,
    ),
    _e(
        "GET",
        "/agreements/{id}",
        lambda c: cost_sharing.agreement_view(c.ledger, c.path["id"]),
        R,
        "an agreement, its terms over time and its entries",
        cost_sharing.AgreementView,
        scope=agreement_community,
    ),
    _w(
        "/agreements/{id}/approve",
        m.ApproveAgreement,
        W,
        cost_sharing.AgreementView,
        scope=agreement_community,
    ),
    _w(
        "/agreements/{id}/amend",
        m.AmendAgreement,
        W,
        cost_sharing.AgreementView,
        scope=agreement_community,
    ),
    _w(
        "/agreements/{id}/terminate",
        m.TerminateAgreement,
        W,
        cost_sharing.AgreementView,
        scope=agreement_community,
    ),
    _w(
        "/agreements/{id}/contributions",
        m.RecordContribution,
        W,
        cost_sharing.EntryView,
        created=True,
        scope=agreement_community,
    ),
    _w(
        "/agreements/{id}/funding",
        m.RecordFunding,
        W,
        cost_sharing.EntryView,
        created=True,
        scope=agreement_community,
    ),
    _w(
        "/agreements/{id}/costs",
        m.RecordCost,
        W,
        cost_sharing.EntryView,
        created=True,
        scope=agreement_community,
    ),
    _w(
        "/agreements/{id}/benefits",
        m.RecordBenefit,
        W,
        cost_sharing.EntryView,
        created=True,
        scope=agreement_community,
    ),
    _w(
        "/agreements/{id}/entries/{entry}/reverse",
        m.ReverseEntry,
        W,
        cost_sharing.EntryView,
        scope=agreement_community,
    ),
    _e(
        "GET",
        "/agreements/{id}/report",
        lambda c: cost_sharing_model.report(
            c.store, c.path["id"], as_of=c.query.as_of, known_at=c.query.known_at
        ),
        P,
        "per party: costs due, contributed, balance, benefits due, as recorded by a time",
        cost_sharing.CostSharingReport,
        query=b.AsKnownAt,
        scope=agreement_community,
    ),
    _e(
        "GET",
        "/reports/provinces",
        lambda c: provinces.distribution(
            c.store, c.query.community_id, as_of=c.query.as_of, known_at=c.query.known_at
        ),
        P,
        "member units by province and type: one body's, or every body's",
        provinces.ProvinceDistribution,
        query=b.ProvincesQuery,
        scope=query_community,
    ),
    _e(
        "GET",
        "/reports/quality",
        lambda c: quality.quality(
            c.store, c.query.community_id, as_of=c.query.as_of, known_at=c.query.known_at
        ),
        P,
        "members by the qualifications they hold on a date (优质多元): one body's or every body's",
        quality.QualityReport,
        query=b.ProvincesQuery,
        scope=query_community,
    ),
    _w(
        "/communities/{id}/filings",
        m.RecordFiling,
        W,
        annual.FilingList,
        created=True,
    ),
    _e(
        "GET",
        "/communities/{id}/filings",
        lambda c: annual.filings(
            c.ledger, community(c), year=c.query.year, known_at=c.query.known_at
        ),
        R,
        "the documents a body filed (of a year), in the order recorded, as recorded by a time",
        annual.FilingList,
        query=b.FilingsQuery,
    ),
    _e(
        "GET",
        "/communities/{id}/obligations",
        lambda c: annual.obligations(
            c.ledger, community(c), c.query.year, c.query.as_of, c.query.known_at
        ),
        P,
        "what a body must file for a year, each on time, late, missing or not yet due on a "
        "date, and the platform's windows",
        annual.ObligationList,
        query=b.ObligationsQuery,
    ),
    _w(
        "/communities/{id}/indicators",
        m.RecordIndicator,
        W,
        annual.IndicatorReport,
        created=True,
    ),
    _e(
        "GET",
        "/communities/{id}/indicators",
        lambda c: annual.indicators(c.ledger, community(c), c.query.year, c.query.known_at),
        P,
        "a body's monitoring indicators for a year, the year before beside them, with the "
        "figures reported and their evidence, as recorded by a time",
        annual.IndicatorReport,
        query=b.IndicatorsQuery,
    ),
    _e(
        "GET",
        "/reports/indicators",
        lambda c: annual.national_indicators(c.ledger, c.query.year, c.query.known_at),
        P,
        "every indicator for a year summed over the bodies, by kind of body and province",
        annual.NationalIndicators,
        query=b.YearQuery,
    ),
    _e(
        "GET",
        "/reports/obligations",
        lambda c: annual.national(c.ledger, c.query.year, c.query.as_of, c.query.known_at),
        P,
        "every body's obligations for a year on a date: who is late with what",
        annual.ObligationReport,
        query=b.ObligationsQuery,
    ),
    _e(
        "GET",
        "/audit/verify",
        lambda c: c.ledger.verify(),
        Access.AUDIT,
        "every aggregate's hash chain recomputed: events altered, deleted, inserted or "
        "reordered behind the ledger's back",
        Verification,
    ),
    _e(
        "GET",
        "/audit/checkpoints",
        lambda c: c.ledger.checkpoints(),
        Access.AUDIT,
        "every signed checkpoint, oldest first",
        list[Checkpoint],
    ),
    _e(
        "POST",
        "/audit/checkpoints",
        sign_checkpoint,
        Access.AUDIT,
        "verify the log, then sign and keep the root of its Merkle tree (the latest "
        "checkpoint if the log has not grown)",
        Checkpoint,
    ),
    _e(
        "GET",
        "/audit/proofs/inclusion",
        lambda c: c.ledger.prove_inclusion(c.query.position, c.query.size),
        Access.AUDIT,
        "the audit path of an event in a checkpoint's tree (RFC 9162 §2.1.3)",
        InclusionProof,
        query=b.InclusionQuery,
    ),
    _e(
        "GET",
        "/audit/proofs/consistency",
        lambda c: c.ledger.prove_consistency(c.query.first, c.query.second),
        Access.AUDIT,
        "that a later checkpoint's tree extends an earlier one (RFC 9162 §2.1.4)",
        ConsistencyProof,
        query=b.ConsistencyQuery,
    ),
    _e(
        "GET",
        "/audit/export",
        export,
        Access.AUDIT,
        "a bundle of the log (or one body's part) that verifies offline: JSON Lines, one "
        "line of the shape shown each (docs/audit-bundle.md)",
        bundle.Line,
        query=b.ExportQuery,
        media="application/jsonl",
    ),
    _e("GET", "/units/{id}/history", history("unit"), H, "every event of a unit", b.History),
    _e(
        "GET",
        "/communities/{id}/history",
        history("community"),
        H,
        "every event of a community",
        b.History,
    ),
    _e(
        "GET",
        "/agreements/{id}/history",
        history("agreement"),
        H,
        "every event of an agreement",
        b.History,
        scope=agreement_community,
    ),
]
