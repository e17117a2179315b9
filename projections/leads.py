"""An industry body's leads on a date, and its recommending province — from the
membership read model, as ``community show`` and ``GET /communities/{id}`` give them.

The guide asks for one leading enterprise, one high-level university and one
vocational school. Bodies fill these over time, so a missing lead is a status, not a
refusal: "lead university missing since 2025-03-01", the later of the body's
founding and the first day after the last lead of that kind held it. A lead held
is dated from when its unit began leading without a break (an exit and re-admission
as lead on the same day is no break). Other kinds of body have no lead status: the
fields are ``None``, as they are on a date before the founding.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any, NamedTuple
from uuid import UUID

import msgspec

from application import names as named
from domain.errors import CommunityNotFound
from domain.values import (
    LEAD_TYPES,
    CommunityKind,
    Role,
    parse_date,
    province_name,
    province_of,
    today,
)
from projections.machinery import Store, iso
from projections.membership import CommunityView, name_of_division
from projections.membership_model import Membership, history, in_force


class Lead(msgspec.Struct, frozen=True):
    unit_id: UUID
    code: str
    name: str  # on the as-of date
    province: str  # of its division on the as-of date
    province_name: str
    since: date


class Leads(msgspec.Struct, frozen=True):
    enterprise: Lead | None
    university: Lead | None
    vocational_school: Lead | None


class MissingLead(msgspec.Struct, frozen=True):
    type: str  # enterprise, university or vocational_school
    since: date


class RecommendingProvince(msgspec.Struct, frozen=True):
    province: str  # "320000"
    province_name: str
    unit_id: UUID  # the lead whose province it is
    code: str
    name: str
    since: date


class CommunityDetail(CommunityView, frozen=True):
    """One body as ``community show`` answers it: lead status and recommending
    province on ``as_of`` (industry bodies only; ``None`` for other kinds)."""

    as_of: date
    leads: Leads | None
    lead_trio_complete: bool | None
    missing: list[MissingLead] | None
    recommending_province: RecommendingProvince | None


class Span(NamedTuple):
    """A unit leading as ``unit_type`` over the days ``[start, end)``."""

    unit_id: str
    start: str
    end: str | None


def lead_status(founded_on: str, day: str, spans: list[Span]) -> tuple[Span | None, str]:
    """The span of one kind of lead covering ``day`` (merged with the same unit's
    spans that end where it starts), or None and the day it has been missing since."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: s.start):
        last = merged[-1] if merged else None
        if last is not None and last.unit_id == span.unit_id and last.end == span.start:
            merged[-1] = Span(span.unit_id, last.start, span.end)
        else:
            merged.append(span)
    for span in merged:
        if span.start <= day and (span.end is None or day < span.end):
            return span, span.start
    ended = [s.end for s in merged if s.end is not None and s.end <= day]
    return None, max([founded_on, *ended])


_BODY = """
SELECT name, kind, industry, division, founded_on, dissolved_on,
  (SELECT COUNT(*) FROM {periods} p WHERE p.community_id = c.community_id
     AND p.exited_on IS NULL AND p.annulled_at IS NULL) AS active
FROM {communities} c WHERE community_id = ?
"""

_LEAD_PERIODS = """
SELECT version, unit_id, unit_type, exited_on, code, roles, names, divisions FROM {periods}
WHERE community_id = ? AND admitted_on <= ? AND unit_type IN (?, ?, ?)
  AND annulled_at IS NULL
ORDER BY version
"""

_RECOMMENDATION = """
SELECT r.province, r.unit_id, r.since, u.code, u.names
FROM {recommendations} r JOIN {units} u ON u.unit_id = r.unit_id
WHERE r.community_id = ? AND r.since <= ? ORDER BY r.since DESC, r.seq DESC LIMIT 1
"""


def community_detail(
    store: Store, community: str | UUID, as_of: str | date | None = None
) -> CommunityDetail:
    """The body, and for an industry body its leads, the missing ones and its
    recommending province on ``as_of`` (default today in China)."""
    day = parse_date(as_of, "as-of date") if as_of is not None else today()
    community_id = named.community_id(store.ledger.directory, community)
    model = store.model(Membership)
    d, key = iso(day), str(community_id)
    with store.reading() as query:
        found = query(model.sql(_BODY), (key,))
        if not found:
            raise CommunityNotFound(f"no community {community_id} has been founded")
        b = found[0]
        industry = b["kind"] == CommunityKind.INDUSTRY and b["founded_on"] <= d
        periods = (
            query(model.sql(_LEAD_PERIODS), (key, d, *(t.value for t in LEAD_TYPES)))
            if industry
            else []
        )
        chosen = query(model.sql(_RECOMMENDATION), (key, d)) if industry else []
    view = {
        "id": community_id,
        "name": b["name"],
        "kind": b["kind"],
        "industry": b["industry"],
        "division": b["division"],
        "province": province_of(b["division"]),
        "founded_on": date.fromisoformat(b["founded_on"]),
        "dissolved_on": date.fromisoformat(b["dissolved_on"]) if b["dissolved_on"] else None,
        "active_members": int(b["active"]),
        "division_name": name_of_division(b["division"], day),
        "as_of": day,
    }
    if not industry:
        return CommunityDetail(
            **view, leads=None, lead_trio_complete=None, missing=None, recommending_province=None
        )
    leads, missing = _leads(b["founded_on"], d, _role_rows(periods, d))
    return CommunityDetail(
        **view,
        leads=Leads(**leads),
        lead_trio_complete=not missing,
        missing=missing,
        recommending_province=_recommending(chosen[0], d) if chosen else None,
    )


def _role_rows(periods: list[Any], day: str) -> list[dict[str, Any]]:
    """One row per role a period has had, in the order they take effect, with the
    unit's name and division on ``day``."""
    rows = []
    for p in periods:
        unit = {
            "period": p["version"],
            "unit_id": p["unit_id"],
            "unit_type": p["unit_type"],
            "exited_on": p["exited_on"],
            "code": p["code"],
            "name": in_force(p["names"], day),
            "division": in_force(p["divisions"], day),
        }
        for since, _, _, role in sorted(history(p["roles"]), key=lambda e: (e[0], e[1])):
            rows.append({**unit, "since": since, "role": role})
    return rows


def _leads(
    founded_on: str, day: str, rows: list[Any]
) -> tuple[dict[str, Lead | None], list[MissingLead]]:
    periods: dict[int, list[Any]] = defaultdict(list)
    for r in rows:
        periods[r["period"]].append(r)
    spans: dict[str, list[Span]] = defaultdict(list)
    holders: dict[str, Any] = {}
    for roles in periods.values():
        ends = [r["since"] for r in roles[1:]] + [roles[0]["exited_on"]]
        for r, end in zip(roles, ends, strict=True):
            if r["role"] == Role.LEAD and (end is None or r["since"] < end):
                spans[r["unit_type"]].append(Span(r["unit_id"], r["since"], end))
                holders[r["unit_id"]] = r
    leads: dict[str, Lead | None] = {}
    missing = []
    for unit_type in LEAD_TYPES:
        held, since = lead_status(founded_on, day, spans[unit_type])
        if held is None:
            leads[unit_type] = None
            missing.append(MissingLead(unit_type.value, date.fromisoformat(since)))
            continue
        r = holders[held.unit_id]
        leads[unit_type] = Lead(
            unit_id=UUID(r["unit_id"]),
            code=r["code"],
            name=r["name"],
            province=province_of(r["division"]),
            province_name=province_name(r["division"]),
            since=date.fromisoformat(since),
        )
    return leads, missing


def _recommending(r: Any, day: str) -> RecommendingProvince:
    return RecommendingProvince(
        province=r["province"],
        province_name=province_name(r["province"]),
        unit_id=UUID(r["unit_id"]),
        code=r["code"],
        name=in_force(r["names"], day),
        since=date.fromisoformat(r["since"]),
    )
