"""``chanjiao agreement …`` and ``chanjiao report cost-sharing|investment|provinces|quality``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from application import messages as m
from bootstrap import Ledger
from cli.args import community_arg, known_at_arg
from cli.commands import add_command
from cli.spreadsheet import spreadsheet_arg
from projections import cost_sharing, cost_sharing_model, provinces, quality


def show(ledger: Ledger, a: argparse.Namespace) -> Any:
    return cost_sharing.agreement_view(ledger, a.agreement)


def list_(ledger: Ledger, a: argparse.Namespace) -> Any:
    return cost_sharing_model.agreements(a.store, a.community)


def report_cost_sharing(ledger: Ledger, a: argparse.Namespace) -> Any:
    return cost_sharing_model.report(a.store, a.agreement, as_of=a.as_of, known_at=a.known_at)


def report_investment(ledger: Ledger, a: argparse.Namespace) -> Any:
    return cost_sharing_model.investment(a.store, a.community, as_of=a.as_of, known_at=a.known_at)


def report_provinces(ledger: Ledger, a: argparse.Namespace) -> Any:
    return provinces.distribution(a.store, a.community, as_of=a.as_of, known_at=a.known_at)


def report_quality(ledger: Ledger, a: argparse.Namespace) -> Any:
    return quality.quality(a.store, a.community, as_of=a.as_of, known_at=a.known_at)


def _agreement_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("agreement", metavar="AGREEMENT", help=m.AGREEMENT_WORDS)


def add_commands(group: Callable[..., Any], leaf: Callable[..., argparse.ArgumentParser]) -> Any:
    """The agreement and report commands; returns the report group, which others join."""
    agreements = group("agreement", "cost-sharing, benefit-sharing agreements and their entries")
    add_command(leaf, agreements, "draft", m.DraftAgreement)
    add_command(leaf, agreements, "approve", m.ApproveAgreement)
    add_command(leaf, agreements, "amend", m.AmendAgreement)
    add_command(leaf, agreements, "terminate", m.TerminateAgreement)
    _agreement_arg(
        spreadsheet_arg(
            leaf(
                agreements,
                "show",
                show,
                "an agreement, its shares over time and entries (CSV, xlsx: the entries)",
                csv=True,
            )
        )
    )
    p = spreadsheet_arg(leaf(agreements, "list", list_, "every agreement, or one body's", csv=True))
    p.add_argument("community", metavar="COMMUNITY", nargs="?", help="community id (optional)")
    add_command(leaf, agreements, "contribute", m.RecordContribution)
    add_command(leaf, agreements, "fund", m.RecordFunding)
    add_command(leaf, agreements, "cost", m.RecordCost)
    add_command(leaf, agreements, "benefit", m.RecordBenefit)
    add_command(leaf, agreements, "reverse", m.ReverseEntry)

    reports = group("report", "reports for councils and auditors (table, JSON, CSV or xlsx)")
    p = leaf(
        reports,
        "cost-sharing",
        report_cost_sharing,
        "per party: costs due, contributed, balance, benefits due",
        csv=True,
    )
    spreadsheet_arg(p)
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
    spreadsheet_arg(p)
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
    spreadsheet_arg(p)
    p.add_argument(
        "community",
        metavar="COMMUNITY",
        nargs="?",
        help="community id (default: every body, nationally)",
    )
    p.add_argument("--as-of", metavar="YYYY-MM-DD", help="default: today")
    known_at_arg(p)
    p = leaf(
        reports,
        "quality",
        report_quality,
        "members by the qualifications they hold (优质多元): one body's, or every body's",
        csv=True,
    )
    spreadsheet_arg(p)
    p.add_argument(
        "community", metavar="COMMUNITY", nargs="?", help="default: every body, nationally"
    )
    p.add_argument("--as-of", metavar="YYYY-MM-DD", help="default: today")
    known_at_arg(p)
    return reports
