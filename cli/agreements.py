"""``chanjiao agreement …`` and ``chanjiao report cost-sharing|investment|provinces``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from bootstrap import Ledger
from cli.args import community_arg, known_at_arg, unit_arg
from domain.errors import InvalidShares
from projections import cost_sharing, cost_sharing_model, provinces


def draft(ledger: Ledger, a: argparse.Namespace) -> Any:
    record = ledger.draft_agreement(
        a.community,
        title=a.title,
        kind=a.kind,
        parties=_parties(a.party),
        drafted_on=a.drafted_on,
        principal=a.principal,
    )
    return cost_sharing.agreement_view(ledger, record)


def approve(ledger: Ledger, a: argparse.Namespace) -> Any:
    record = ledger.approve_agreement(
        a.agreement, resolution=a.resolution, effective_on=a.effective_on, principal=a.principal
    )
    return cost_sharing.agreement_view(ledger, record)


def amend(ledger: Ledger, a: argparse.Namespace) -> Any:
    record = ledger.amend_agreement(
        a.agreement,
        parties=_parties(a.party),
        resolution=a.resolution,
        effective_on=a.effective_on,
        principal=a.principal,
    )
    return cost_sharing.agreement_view(ledger, record)


def terminate(ledger: Ledger, a: argparse.Namespace) -> Any:
    record = ledger.terminate_agreement(
        a.agreement, effective_on=a.effective_on, resolution=a.resolution, principal=a.principal
    )
    return cost_sharing.agreement_view(ledger, record)


def show(ledger: Ledger, a: argparse.Namespace) -> Any:
    return cost_sharing.agreement_view(ledger, a.agreement)


def list_(ledger: Ledger, a: argparse.Namespace) -> Any:
    return cost_sharing_model.agreements(a.store, a.community)


def contribute(ledger: Ledger, a: argparse.Namespace) -> Any:
    entry = ledger.record_contribution(
        a.agreement,
        a.unit,
        kind=a.kind,
        amount=a.amount,
        contributed_on=a.contributed_on,
        description=a.description,
        principal=a.principal,
    )
    return cost_sharing.recorded_entry(ledger, a.agreement, entry)


def cost(ledger: Ledger, a: argparse.Namespace) -> Any:
    entry = ledger.record_cost(
        a.agreement,
        amount=a.amount,
        incurred_on=a.incurred_on,
        description=a.description,
        principal=a.principal,
    )
    return cost_sharing.recorded_entry(ledger, a.agreement, entry)


def benefit(ledger: Ledger, a: argparse.Namespace) -> Any:
    entry = ledger.record_benefit(
        a.agreement,
        amount=a.amount,
        realized_on=a.realized_on,
        description=a.description,
        principal=a.principal,
    )
    return cost_sharing.recorded_entry(ledger, a.agreement, entry)


def reverse(ledger: Ledger, a: argparse.Namespace) -> Any:
    entry = ledger.reverse_entry(a.agreement, entry=a.entry, reason=a.reason, principal=a.principal)
    return cost_sharing.recorded_entry(ledger, a.agreement, entry)


def report_cost_sharing(ledger: Ledger, a: argparse.Namespace) -> Any:
    return cost_sharing_model.report(a.store, a.agreement, as_of=a.as_of, known_at=a.known_at)


def report_investment(ledger: Ledger, a: argparse.Namespace) -> Any:
    return cost_sharing_model.investment(a.store, a.community, as_of=a.as_of, known_at=a.known_at)


def report_provinces(ledger: Ledger, a: argparse.Namespace) -> Any:
    return provinces.distribution(a.store, a.community, as_of=a.as_of, known_at=a.known_at)


def _parties(items: list[str]) -> list[dict[str, str]]:
    """``UNIT:COST:BENEFIT`` — shares in basis points (2500) or percent (25%)."""
    parties = []
    for item in items:
        parts = item.split(":")
        if len(parts) != 3:
            raise InvalidShares(
                f"--party takes UNIT:COST_SHARE:BENEFIT_SHARE, e.g. "
                f"91320571MA1XXXXXXX:3000:2500 or …:30%:25%; got {item!r}"
            )
        unit, cost_share, benefit_share = parts
        parties.append(
            {"unit_id": unit, "cost_share_bp": cost_share, "benefit_share_bp": benefit_share}
        )
    return parties


def _agreement_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("agreement", metavar="AGREEMENT", help="agreement id")


def _party_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--party",
        action="append",
        required=True,
        metavar="UNIT:COST:BENEFIT",
        help="a party and its cost and benefit shares, in basis points (3000) or percent "
        "(30%%); repeat for each party; each set of shares must add up to 10000 (100%%)",
    )


def _amount_args(p: argparse.ArgumentParser, date_flag: str, what: str) -> None:
    p.add_argument(
        "--amount",
        required=True,
        metavar="YUAN",
        help="in yuan, at most two decimals, e.g. 125000.50",
    )
    p.add_argument(date_flag, required=True, metavar="YYYY-MM-DD", help=what)
    p.add_argument("--description", required=True)


def add_commands(group: Callable[..., Any], leaf: Callable[..., argparse.ArgumentParser]) -> None:
    agreements = group("agreement", "cost-sharing, benefit-sharing agreements and their entries")
    p = leaf(agreements, "draft", draft, "draft an agreement of a body with its parties")
    community_arg(p)
    p.add_argument("--title", required=True)
    p.add_argument(
        "--kind",
        default="other",
        help="training_base, industry_college, technology_centre or other",
    )
    _party_arg(p)
    p.add_argument("--drafted-on", metavar="YYYY-MM-DD", help="default: today")
    p = leaf(agreements, "approve", approve, "approve a draft by an adopted agreement resolution")
    _agreement_arg(p)
    p.add_argument("--resolution", required=True, help="register number, e.g. 2025-007")
    p.add_argument(
        "--effective-on", metavar="YYYY-MM-DD", help="default: the resolution's meeting date"
    )
    p = leaf(agreements, "amend", amend, "new parties or shares from a date, by resolution")
    _agreement_arg(p)
    _party_arg(p)
    p.add_argument("--resolution", required=True, help="register number, e.g. 2025-011")
    p.add_argument(
        "--effective-on", metavar="YYYY-MM-DD", help="default: the resolution's meeting date"
    )
    p = leaf(agreements, "terminate", terminate, "end an agreement, by resolution")
    _agreement_arg(p)
    p.add_argument(
        "--effective-on",
        required=True,
        metavar="YYYY-MM-DD",
        help="the first day it is no longer in force",
    )
    p.add_argument("--resolution", required=True, help="register number, e.g. 2026-002")
    _agreement_arg(leaf(agreements, "show", show, "an agreement, its shares over time and entries"))
    p = leaf(agreements, "list", list_, "every agreement, or one body's", csv=True)
    p.add_argument("community", metavar="COMMUNITY", nargs="?", help="community id (optional)")
    p = leaf(agreements, "contribute", contribute, "record a party's contribution")
    _agreement_arg(p)
    unit_arg(p)
    p.add_argument("--kind", required=True, help="funds, equipment, site, personnel or technology")
    _amount_args(p, "--contributed-on", "when it was contributed")
    p = leaf(agreements, "cost", cost, "record a shared cost incurred")
    _agreement_arg(p)
    _amount_args(p, "--incurred-on", "when the cost was incurred")
    p = leaf(agreements, "benefit", benefit, "record a benefit realised")
    _agreement_arg(p)
    _amount_args(p, "--realized-on", "when the benefit was realised")
    p = leaf(agreements, "reverse", reverse, "take a mistaken entry out of the reports")
    _agreement_arg(p)
    p.add_argument("entry", metavar="ENTRY", help="the entry's number (agreement show)")
    p.add_argument("--reason", required=True)

    reports = group("report", "reports for councils and auditors (table, JSON or CSV)")
    p = leaf(
        reports,
        "cost-sharing",
        report_cost_sharing,
        "per party: costs due, contributed, balance, benefits due",
        csv=True,
    )
    _agreement_arg(p)
    p.add_argument("--as-of", metavar="YYYY-MM-DD", help="default: today")
    known_at_arg(p)
    p = leaf(
        reports,
        "investment",
        report_investment,
        "a body's contributions by kind, source and province",
        csv=True,
    )
    community_arg(p)
    p.add_argument("--as-of", metavar="YYYY-MM-DD", help="default: today")
    known_at_arg(p)
    p = leaf(
        reports,
        "provinces",
        report_provinces,
        "member units by province and type: one body's, or every body's",
        csv=True,
    )
    p.add_argument(
        "community",
        metavar="COMMUNITY",
        nargs="?",
        help="community id (default: every body, nationally)",
    )
    p.add_argument("--as-of", metavar="YYYY-MM-DD", help="default: today")
    known_at_arg(p)
