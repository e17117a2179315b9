"""The ledger's annual-cycle commands (domain.md, "The annual cycle"): a body's filings.

What the body cannot check itself is checked here: the date is not in the future, and
a reviewing resolution is in the body's own register (a number is given only to an
adopted resolution)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING
from uuid import UUID

from application.commands import command, effective, principal_name, resolution_number
from domain.annual import MONEY, Figure, Filing, FilingKind, Indicator, parse_year
from domain.errors import CouncilNotFound, InvalidInput, ResolutionNotFound, ResolutionNotUsable
from domain.values import parse_choice, parse_text, parse_yuan

if TYPE_CHECKING:
    from application.ledger import Ledger


class AnnualCommands:
    """Mixed into ``Ledger``; every method runs as one ledger command."""

    @command
    def record_filing(
        self: Ledger,
        community: str | UUID,
        *,
        kind: str,
        year: int | str,
        filed_on: str | date,
        title: str,
        sha256: str,
        size: int,
        resolution: str | None = None,
        principal: str,
    ) -> Filing:
        the_kind = parse_choice(FilingKind, kind, "filing kind")
        the_year = parse_year(year)
        day = effective(filed_on, "filing date")
        the_title = parse_text(title, "filing title")
        reviewed_by = resolution_number(resolution, "the reviewing resolution")
        who = principal_name(principal)
        body = self.community(community)
        if reviewed_by is not None:
            try:
                self.council(body).resolution(reviewed_by)
            except (CouncilNotFound, ResolutionNotFound):
                raise ResolutionNotUsable(
                    f"{body.name}'s register has no resolution {reviewed_by}"
                ) from None
        filing = body.file(
            the_kind, the_year, day, the_title, sha256, size, reviewed_by, principal=who
        )
        self.save(body)
        return filing

    @command
    def record_indicator(
        self: Ledger,
        community: str | UUID,
        *,
        indicator: str,
        year: int | str,
        value: int | str,
        evidence_sha256: str,
        unit: str | UUID | None = None,
        principal: str,
    ) -> Figure:
        """A yearly figure of a monitoring indicator: a count, or for money an amount
        in yuan as people write it (kept in fen)."""
        the_indicator = parse_choice(Indicator, indicator, "indicator")
        the_year = parse_year(year)
        amount = _figure(the_indicator, value)
        who = principal_name(principal)
        unit_id = self.unit_id(unit) if unit is not None and str(unit).strip() else None
        body = self.community(community)
        figure = body.report(
            the_indicator,
            the_year,
            amount,
            unit_id,
            self.label_of(unit_id) if unit_id else "",
            evidence_sha256,
            principal=who,
        )
        self.save(body)
        return figure


def _figure(indicator: Indicator, value: int | str) -> int:
    if indicator in MONEY:  # money is yuan as written, as everywhere in the ledger
        return parse_yuan(value if isinstance(value, str) else str(value))
    if isinstance(value, str):
        text = value.strip().replace(",", "")
        if not text.isdigit():
            raise InvalidInput(f"{indicator.value} must be a count, 0 or more; got {value!r}")
        return int(text)
    return value
