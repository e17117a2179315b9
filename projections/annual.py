"""The annual cycle as reports: a body's filings, its obligations for a year with their
status on a date, and the national view of who is late with what (domain.md, "The annual
cycle"; ``domain.annual`` computes every status).

They are read from the bodies themselves (each body keeps its filings), as the ledger
knew them at ``known_at``: a filing recorded after that time is left out.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

import msgspec

from application.ledger import Ledger
from domain.annual import (
    FILINGS_OF,
    GROUPS,
    MONEY,
    Figure,
    Filing,
    Indicator,
    Status,
    latest,
    obligations_of,
    parse_year,
    windows,
)
from domain.community import Community
from domain.values import CommunityKind, chinese_name, format_fen, parse_date, province_of, today
from projections.known_at import as_known_at


class FilingView(msgspec.Struct, frozen=True):
    kind: str
    kind_name: str
    year: int
    filed_on: date
    title: str
    sha256: str
    size: int
    resolution: str | None
    recorded_by: str
    recorded_at: datetime
    superseded: bool  # a later filing of the same kind and year replaced its document


class FilingList(msgspec.Struct, frozen=True):
    community_id: UUID
    community_name: str
    year: int | None  # None: every year
    filings: list[FilingView]
    known_at: datetime | None = None


class ObligationView(msgspec.Struct, frozen=True):
    kind: str
    kind_name: str
    year: int
    due_from: date
    due_by: date
    status: str  # on_time, late, missing or not_yet_due
    status_name: str
    filed_on: date | None
    days_late: int | None
    title: str | None  # the document in force: the latest filing's
    sha256: str | None


class WindowView(msgspec.Struct, frozen=True):
    name: str  # registration or performance_data
    opens: date
    closes: date
    state: str  # not_yet_open, open or closed


class ObligationList(msgspec.Struct, frozen=True):
    community_id: UUID
    community_name: str
    community_kind: str
    year: int
    as_of: date
    obligations: list[ObligationView]
    due: int  # obligations whose deadline has passed by as_of
    on_time: int  # of those, filed on time
    timeliness: str | None  # on_time / due as a percentage; None while nothing is due
    windows: list[WindowView]
    known_at: datetime | None = None


class BodyObligations(msgspec.Struct, frozen=True):
    community_id: UUID
    community_name: str
    community_kind: str
    on_time: int
    late: int
    missing: int
    not_yet_due: int
    late_or_missing: list[str]  # the kinds filed late or missing


class ObligationReport(msgspec.Struct, frozen=True):
    year: int
    as_of: date
    bodies: list[BodyObligations]  # only bodies with obligations (industry and city)
    by_kind: dict[str, dict[str, int]]  # kind → status → bodies
    windows: list[WindowView]
    known_at: datetime | None = None


def _known(body: Community, known_at: str | None) -> tuple[list[Filing], datetime | None]:
    """The body's filings as recorded by ``known_at``."""
    at = as_known_at(known_at)
    if at.moment is None:
        return list(body.filings), None
    return [f for f in body.filings if f.recorded_at <= at.moment], at.moment


def filings(
    ledger: Ledger, community: str | UUID, year: int | None = None, known_at: str | None = None
) -> FilingList:
    """The body's filings (of ``year``), in the order recorded."""
    body = ledger.community(community)
    kept, moment = _known(body, known_at)
    latest = {(f.kind, f.year): f.version for f in kept}
    shown = [
        FilingView(
            f.kind.value,
            chinese_name(f.kind),
            f.year,
            f.filed_on,
            f.title,
            f.sha256,
            f.size,
            f.resolution,
            f.principal,
            f.recorded_at,
            latest[(f.kind, f.year)] != f.version,
        )
        for f in kept
        if year is None or f.year == year
    ]
    return FilingList(body.id, body.name, year, shown, moment)


def _year_and_day(year: int | str | None, as_of: str | date | None) -> tuple[int, date]:
    if isinstance(as_of, date):
        day = as_of
    else:
        day = parse_date(as_of, "as-of date") if as_of else today()
    return (day.year if year is None else parse_year(year)), day


def _windows(year: int, day: date) -> list[WindowView]:
    return [WindowView(w.name, w.opens, w.closes, w.state(day)) for w in windows(year)]


def obligations(
    ledger: Ledger,
    community: str | UUID,
    year: int | str | None = None,
    as_of: str | date | None = None,
    known_at: str | None = None,
) -> ObligationList:
    """Every obligation of the body for ``year`` (default: the as-of date's), with its
    status on ``as_of`` (default: today), as recorded by ``known_at``."""
    the_year, day = _year_and_day(year, as_of)
    body = ledger.community(community)
    kept, moment = _known(body, known_at)
    shown = obligations_of(body.kind, the_year, kept, day)
    views = [
        ObligationView(
            o.due.kind.value,
            chinese_name(o.due.kind),
            o.due.year,
            o.due.due_from,
            o.due.due_by,
            o.status.value,
            chinese_name(o.status),
            o.filed_on,
            o.days_late,
            o.current.title if o.current else None,
            o.current.sha256 if o.current else None,
        )
        for o in shown
    ]
    due = [o for o in shown if o.due.due_by < day or o.status in (Status.ON_TIME, Status.LATE)]
    on_time = sum(1 for o in due if o.status is Status.ON_TIME)
    timeliness = f"{100 * on_time / len(due):.0f}%" if due else None
    return ObligationList(
        body.id,
        body.name,
        body.kind.value,
        the_year,
        day,
        views,
        len(due),
        on_time,
        timeliness,
        _windows(the_year, day),
        moment,
    )


def national(
    ledger: Ledger,
    year: int | str | None = None,
    as_of: str | date | None = None,
    known_at: str | None = None,
) -> ObligationReport:
    """Every body's obligations for ``year`` on ``as_of``: per body, how many are on
    time, late, missing or not yet due; per kind, how many bodies are in each status."""
    the_year, day = _year_and_day(year, as_of)
    at = as_known_at(known_at)
    bodies: list[BodyObligations] = []
    by_kind: dict[str, dict[str, int]] = {}
    for community_id in ledger.community_ids():
        body = ledger.community(community_id)
        if not FILINGS_OF[body.kind] or body.founded_on.year > the_year:
            continue
        if at.moment is not None and body.created_on > at.moment:
            continue
        kept, _ = _known(body, known_at)
        shown = obligations_of(body.kind, the_year, kept, day)
        if not shown:
            continue
        counts = {s: sum(1 for o in shown if o.status is s) for s in Status}
        for o in shown:
            tally = by_kind.setdefault(o.due.kind.value, {s.value: 0 for s in Status})
            tally[o.status.value] += 1
        bodies.append(
            BodyObligations(
                body.id,
                body.name,
                body.kind.value,
                counts[Status.ON_TIME],
                counts[Status.LATE],
                counts[Status.MISSING],
                counts[Status.NOT_YET_DUE],
                [o.due.kind.value for o in shown if o.status in (Status.LATE, Status.MISSING)],
            )
        )
    bodies.sort(key=lambda b: (-(b.late + b.missing), b.community_name))
    return ObligationReport(the_year, day, bodies, by_kind, _windows(the_year, day), at.moment)


# --- indicators -------------------------------------------------------------------


class FigureView(msgspec.Struct, frozen=True):
    unit_id: UUID | None  # None: the body's own figure
    unit_name: str | None
    value: int | str  # a count, or yuan as a decimal string
    evidence_sha256: str
    recorded_by: str
    recorded_at: datetime


class IndicatorRow(msgspec.Struct, frozen=True):
    indicator: str
    name: str
    group: str  # talent_training, technology, teaching_resources or support
    measure: str  # count or yuan
    value: int | str | None  # the body's own figure, else the sum of its members'; None: none
    previous: int | str | None  # the same for the year before
    source: str | None  # body or members
    reported: list[FigureView]  # the figures in force for the year


class IndicatorReport(msgspec.Struct, frozen=True):
    community_id: UUID
    community_name: str
    year: int
    indicators: list[IndicatorRow]
    known_at: datetime | None = None


def _shown(indicator: Indicator, fen_or_count: int) -> int | str:
    return format_fen(fen_or_count) if indicator in MONEY else fen_or_count


def _year_figure(
    kept: dict[tuple[Indicator, int, UUID | None], Figure], indicator: Indicator, year: int
) -> tuple[int | None, str | None, list[Figure]]:
    """The body's own figure if it recorded one, else the sum of its members'."""
    mine = [f for (i, y, _), f in kept.items() if i is indicator and y == year]
    own = next((f for f in mine if f.unit_id is None), None)
    if own is not None:
        return own.value, "body", mine
    if mine:
        return sum(f.value for f in mine), "members", mine
    return None, None, mine


def indicators(
    ledger: Ledger, community: str | UUID, year: int | str, known_at: str | None = None
) -> IndicatorReport:
    """Every indicator of the guide for ``year``, with the year before beside it and the
    figures in force, as recorded by ``known_at``."""
    the_year = parse_year(year)
    body = ledger.community(community)
    at = as_known_at(known_at)
    figures = [f for f in body.figures if at.moment is None or f.recorded_at <= at.moment]
    kept = latest(figures)
    names: dict[UUID, str] = {}
    rows = []
    for group, members in GROUPS.items():
        for indicator in members:
            value, source, mine = _year_figure(kept, indicator, the_year)
            before, _, _ = _year_figure(kept, indicator, the_year - 1)
            reported = []
            for f in sorted(mine, key=lambda f: f.unit_id is not None):
                if f.unit_id is not None and f.unit_id not in names:
                    names[f.unit_id] = ledger.label_of(f.unit_id)
                reported.append(
                    FigureView(
                        f.unit_id,
                        names.get(f.unit_id) if f.unit_id else None,
                        _shown(indicator, f.value),
                        f.evidence_sha256,
                        f.principal,
                        f.recorded_at,
                    )
                )
            rows.append(
                IndicatorRow(
                    indicator.value,
                    chinese_name(indicator),
                    group,
                    "yuan" if indicator in MONEY else "count",
                    None if value is None else _shown(indicator, value),
                    None if before is None else _shown(indicator, before),
                    source,
                    reported,
                )
            )
    return IndicatorReport(body.id, body.name, the_year, rows, at.moment)


class NationalIndicator(msgspec.Struct, frozen=True):
    indicator: str
    name: str
    group: str
    measure: str  # count or yuan
    total: int | str  # over every body that reported it
    bodies: int  # how many bodies reported it
    by_kind: dict[str, int | str]  # the body's kind → total
    by_province: dict[str, int | str]  # the body's province (xx0000) → total


class NationalIndicators(msgspec.Struct, frozen=True):
    year: int
    indicators: list[NationalIndicator]
    known_at: datetime | None = None


def national_indicators(
    ledger: Ledger, year: int | str, known_at: str | None = None
) -> NationalIndicators:
    """Every indicator for ``year`` summed over the bodies, by kind of body and by the
    province of the body's division: each body counted once, with its own figure or
    else its members' sum, as recorded by ``known_at``."""
    the_year = parse_year(year)
    at = as_known_at(known_at)
    sums: dict[Indicator, list[tuple[CommunityKind, str, int]]] = {i: [] for i in Indicator}
    for community_id in ledger.community_ids():
        body = ledger.community(community_id)
        figures = [f for f in body.figures if at.moment is None or f.recorded_at <= at.moment]
        kept = latest(figures)
        for indicator in Indicator:
            value, _, _ = _year_figure(kept, indicator, the_year)
            if value is not None:
                sums[indicator].append((body.kind, province_of(body.division), value))
    rows = []
    for group, members in GROUPS.items():
        for indicator in members:
            reported = sums[indicator]
            by_kind: dict[str, int] = {}
            by_province: dict[str, int] = {}
            for kind, province, value in reported:
                by_kind[kind.value] = by_kind.get(kind.value, 0) + value
                by_province[province] = by_province.get(province, 0) + value
            rows.append(
                NationalIndicator(
                    indicator.value,
                    chinese_name(indicator),
                    group,
                    "yuan" if indicator in MONEY else "count",
                    _shown(indicator, sum(v for _, _, v in reported)),
                    len(reported),
                    {k: _shown(indicator, v) for k, v in by_kind.items()},
                    {p: _shown(indicator, v) for p, v in sorted(by_province.items())},
                )
            )
    return NationalIndicators(the_year, rows, at.moment)
