"""``chanjiao filing …`` and ``chanjiao obligations``: the annual cycle's documents and
what each body owes, on time or late (domain.md, "The annual cycle")."""

from __future__ import annotations

import argparse
import hashlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from adapters.codec import to_json
from adapters.signing import SigningKey
from application import messages as m
from bootstrap import Ledger
from cli.args import community_arg, digest, from_file, known_at_arg
from cli.commands import add_command
from cli.spreadsheet import spreadsheet_arg
from domain.annual import (
    PACKAGE_FORMAT,
    FilingKind,
    PackageSignature,
    package_statement,
    verify_package,
)
from domain.errors import InvalidInput, NotFound
from domain.values import parse_choice
from projections import annual
from projections.package import package
from projections.tables import xlsx_book


class FileCheck(msgspec.Struct, frozen=True):
    """Whether a file is the document a body filed."""

    community_id: str
    community_name: str
    kind: str
    year: int
    sha256: str
    size: int
    matches: str  # "current": the document in force; "superseded": an earlier one; "none"
    filing: annual.FilingView | None  # the filing it is


def filing_check(ledger: Ledger, a: argparse.Namespace) -> FileCheck:
    kind = parse_choice(FilingKind, a.kind, "filing kind")
    sha256, size = digest(a.file)
    listed = annual.filings(ledger, a.community, int(a.year), a.known_at)
    mine = [f for f in listed.filings if f.kind == kind.value]
    if not mine:
        raise NotFound(f"{listed.community_name} has filed no {kind.value} for {a.year}")
    same = [f for f in mine if f.sha256 == sha256 and f.size == size]
    found = same[-1] if same else None
    matches = "none" if found is None else "superseded" if found.superseded else "current"
    a.exit_code = 0 if matches == "current" else 6  # as a verification that fails
    return FileCheck(
        str(listed.community_id),
        listed.community_name,
        kind.value,
        int(a.year),
        sha256,
        size,
        matches,
        found,
    )


def indicator_report(ledger: Ledger, a: argparse.Namespace) -> Any:
    if a.community is None:
        return annual.national_indicators(ledger, a.year, a.known_at)
    return annual.indicators(ledger, a.community, a.year, a.known_at)


def annual_package(ledger: Ledger, a: argparse.Namespace) -> None:
    """The yearly package, written to ``--output``: JSON signed by the ledger's key, or
    xlsx (unsigned, for people) with a sheet per part."""
    made = package(a.store, a.community, a.year)
    if a.workbook:
        data = xlsx_book(
            [
                made.members,
                made.provinces,
                made.quality,
                made.filings,
                made.obligations,
                made.indicators,
                made.investment,
            ]
        )
        what = "a workbook (unsigned: the JSON package is the signed one)"
    else:
        key = SigningKey.load(a.settings.signing_key)
        if key.created:
            print(f"chanjiao: {key.created_message()}", file=sys.stderr)
        content = to_json(made)
        signature = PackageSignature(
            PACKAGE_FORMAT,
            hashlib.sha256(content).hexdigest(),
            key.id,
            key.public.hex(),
            key.sign_bytes(package_statement(content)),
        )
        data = content + b"\n" + msgspec.json.encode(signature) + b"\n"
        what = f"signed with key {key.id}"
    try:
        Path(a.output).write_bytes(data)
    except OSError as e:
        raise InvalidInput(f"cannot write {a.output}: {e.strerror or e}") from None
    print(
        f"chanjiao: wrote {a.output}: {made.community.name}, {made.year} as of {made.as_of}, "
        f"{what}",
        file=sys.stderr,
    )


def verify_annual(_: Ledger | None, a: argparse.Namespace) -> Any:
    try:
        data = Path(a.file).read_bytes()
    except OSError as e:
        raise InvalidInput(f"cannot read {a.file}: {e.strerror or e}") from None
    result = verify_package(data, a.key_id)
    a.exit_code = 6 if not result.ok else 0 if result.key_pinned else 7
    if a.exit_code == 7:
        print(
            f"chanjiao: {a.file} is only shown consistent with the key it carries "
            f"({result.key_id}); give the key id the ledger's operator published (--key-id)",
            file=sys.stderr,
        )
    return result


def filing_list(ledger: Ledger, a: argparse.Namespace) -> Any:
    return annual.filings(ledger, a.community, a.year, a.known_at)


def obligations(ledger: Ledger, a: argparse.Namespace) -> Any:
    if a.community is None:
        return annual.national(ledger, a.year, a.as_of, a.known_at)
    return annual.obligations(ledger, a.community, a.year, a.as_of, a.known_at)


def add_commands(
    group: Callable[..., Any],
    leaf: Callable[..., argparse.ArgumentParser],
    groups: Any,
    reports: Any,
) -> None:
    p = leaf(reports, "annual", annual_package, "a body's signed yearly package for the platform")
    community_arg(p)
    p.add_argument("--year", type=int, required=True, metavar="YEAR")
    p.add_argument("--output", "-o", required=True, metavar="FILE")
    p.add_argument(
        "--xlsx",
        dest="workbook",
        action="store_true",
        help="write the workbook for people instead (not signed)",
    )
    p = leaf(
        reports,
        "verify-annual",
        verify_annual,
        "check a yearly package with no database; exit code 6 if it does not hold, 7 if it "
        "holds but no --key-id was given",
    )
    p.add_argument("file", metavar="FILE")
    p.add_argument("--key-id", metavar="ID", help="the key id the ledger's operator published")
    p.set_defaults(offline=True)
    filings = group("filing", "the annual cycle's documents: plans, reports, lists")
    p = add_command(leaf, filings, "add", m.RecordFiling)
    p.add_argument("--file", metavar="FILE", help="the document: its SHA-256 and size are kept")
    p.set_defaults(run=from_file(p.get_default("run"), "file", ("sha256", "size")))
    p = leaf(filings, "list", filing_list, "a body's filings, in the order recorded", csv=True)
    community_arg(spreadsheet_arg(p))
    p.add_argument("--year", type=int, metavar="YEAR", help="only those for this year")
    known_at_arg(p)
    p = leaf(filings, "check", filing_check, "whether a file is the document a body filed")
    community_arg(p)
    p.add_argument("--kind", required=True, help="the kind of filing, e.g. work_plan")
    p.add_argument("--year", type=int, required=True, metavar="YEAR")
    p.add_argument("--file", required=True, metavar="FILE")
    known_at_arg(p)
    figures = group("indicator", "the monitoring indicators' yearly figures and their evidence")
    p = add_command(leaf, figures, "record", m.RecordIndicator)
    p.add_argument("--evidence", metavar="FILE", help="the evidence document: its SHA-256 is kept")
    p.set_defaults(run=from_file(p.get_default("run"), "evidence", ("evidence_sha256",)))
    p = leaf(
        figures,
        "report",
        indicator_report,
        "a body's indicators for a year, the year before beside them; without a body, "
        "every body's summed by kind and province",
        csv=True,
    )
    spreadsheet_arg(p)
    p.add_argument("community", metavar="COMMUNITY", nargs="?", help="default: every body")
    p.add_argument("--year", type=int, required=True, metavar="YEAR")
    known_at_arg(p)
    p = leaf(
        groups,
        "obligations",
        obligations,
        "what a body (or every body) must file for a year, on time, late or missing",
        csv=True,
    )
    p.add_argument("community", metavar="COMMUNITY", nargs="?", help="default: every body")
    p.add_argument("--year", type=int, metavar="YEAR", help="default: the as-of date's year")
    p.add_argument("--as-of", metavar="YYYY-MM-DD", help="status on this day (default: today)")
    known_at_arg(spreadsheet_arg(p))
