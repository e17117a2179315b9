"""Cross-province distribution of a body's members (跨省域分布) and the mix of
their unit types (优质多元) on a date — one of the national monitoring indicators.

Two ways to the same answer, sharing one pure counting function:

- ``distribution_from_events``: from the aggregates' events
  (``projections.membership.members`` for each body);
- ``distribution``: from the membership read model's tables, with SQL — the
  national figure is one query over every body's membership periods, no replay.

Rules:

- **A unit's province** is that of its division *in force on the as-of date*
  (a unit that relocated counts where it was on that date).
- **Home province** is the province of the body's own division — except for an
  industry body with a recommending province (推荐省份) in force on the as-of date,
  whose cross-province indicators are measured against that. ``home_basis`` says
  which: ``recommending_province`` or ``division`` (``None`` nationally).
- **Outside-home share**: members whose province is not the home province, over
  all members on the date, given twice: ``outside_home_bp`` as whole basis points
  (1 bp = 0.01 %, 10000 = all) and ``outside_home_share`` as the same number written
  as a decimal fraction with four places (``4545`` bp ↔ ``"0.4545"``). The basis
  points are the exact fraction rounded half up (5 of 11 = 0.454545… → 4545;
  2 of 3 → 6667); the decimal string is derived from them, so the two never
  disagree. Both are ``None`` when there is nothing to divide (no members).
- **Local / non-local** (city bodies, 市域产教联合体, only; ``None`` for other
  kinds and nationally): a member is local when its division is in the same
  prefecture-level city as the body's division, i.e. the first four digits of the
  two GB/T 2260 codes are equal (``320506`` and ``320508`` are both 苏州 ``3205``).
  For the four province-level cities 北京 ``11``, 天津 ``12``, 上海 ``31`` and
  重庆 ``50`` the first two digits are compared instead, since their districts and
  counties (``5001xx``, ``5002xx``) all belong to the one city. Known limit of the
  rule: county-level cities administered directly by a province (``4290xx``
  仙桃/潜江/天门…, ``4190xx``, ``4690xx``, ``6590xx``) share their four-digit prefix
  and so count as local to each other.
- **Nationally** (no body given) every body is counted with its own members on
  the date, and each *membership* counts once per body: a unit that belongs to
  two bodies counts twice, once in each (``total`` is the sum of the bodies'
  totals). The outside-home share then compares each membership with the home
  province of the body it belongs to; ``home_province`` is ``None``.
- Provinces are listed by number of units (descending), then by code; unit types
  by number of units (descending), then by name. Only provinces and types with at
  least one unit are listed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple
from uuid import UUID

import msgspec

from application import names as named
from application.ledger import Ledger
from domain.community import Community
from domain.unit import MemberUnit
from domain.values import CommunityKind, parse_date, province_name, province_of, today
from projections.known_at import KnownAt, as_known_at, body_row
from projections.machinery import Store
from projections.membership import members
from projections.membership_model import OUTSIDE, Membership, in_force

MUNICIPALITIES = frozenset({"11", "12", "31", "50"})
"""Province-level cities (直辖市): the whole province is one city."""


class ProvinceCount(msgspec.Struct, frozen=True):
    province: str  # "320000"
    name: str  # "江苏"
    units: int


class TypeCount(msgspec.Struct, frozen=True):
    unit_type: str
    units: int


class ProvinceDistribution(msgspec.Struct, frozen=True):
    as_of: date
    community_id: UUID | None  # None: every body, nationally
    community_name: str | None
    kind: str | None
    home_province: str | None  # None nationally
    home_province_name: str | None
    total: int  # members (nationally: memberships, once per body)
    provinces: list[ProvinceCount]
    province_count: int
    outside_home: int
    outside_home_bp: int | None  # basis points, rounded half up; None without members
    outside_home_share: str | None  # the same as a decimal fraction: "0.4545"
    by_type: list[TypeCount]
    type_count: int
    local: int | None  # city bodies only: same prefecture-level city as the body
    non_local: int | None
    known_at: datetime | None = None  # None: everything recorded so far
    home_basis: str | None = None  # recommending_province or division; None nationally


class Body(NamedTuple):
    """What the counting needs to know about a body."""

    id: UUID
    name: str
    kind: str
    division: str
    home: str | None = None
    """An industry body's recommending province in force on the date, if it has one."""


RECOMMENDED, DIVISION = "recommending_province", "division"
"""What a body's home province is taken from (``home_basis``)."""

Holding = tuple[str, str]
"""A member on the date: (unit type, its division in force on that date)."""


# --- the counting, shared by both paths -------------------------------------------


def city_of(division: str) -> str:
    """The prefecture-level city a division belongs to, as a code prefix: the first
    four digits, or the first two for 北京, 天津, 上海 and 重庆."""
    return division[:2] if division[:2] in MUNICIPALITIES else division[:4]


def share_bp(part: int, whole: int) -> int | None:
    """``part / whole`` in whole basis points, rounded half up; None if ``whole`` is 0."""
    if whole == 0:
        return None
    return (part * 20_000 + whole) // (2 * whole)


def bp_text(bp: int | None) -> str | None:
    """Basis points as a decimal fraction with four places: ``4545`` → ``"0.4545"``."""
    return None if bp is None else f"{bp // 10_000}.{bp % 10_000:04d}"


def for_body(as_of: date, body: Body, holdings: Iterable[Holding]) -> ProvinceDistribution:
    """One body's distribution from its members on ``as_of``."""
    return _build(as_of, [(body, list(holdings))], nationally=False)


def national(as_of: date, bodies: Iterable[tuple[Body, Iterable[Holding]]]) -> ProvinceDistribution:
    """Every body's members together, each membership counted once per body."""
    return _build(as_of, [(b, list(h)) for b, h in bodies], nationally=True)


def _build(
    as_of: date, groups: Sequence[tuple[Body, list[Holding]]], *, nationally: bool
) -> ProvinceDistribution:
    provinces: Counter[str] = Counter()
    types: Counter[str] = Counter()
    total = outside = local = 0
    for body, holdings in groups:
        home, city = body.home or province_of(body.division), city_of(body.division)
        for unit_type, division in holdings:
            total += 1
            provinces[province_of(division)] += 1
            types[unit_type] += 1
            outside += province_of(division) != home
            local += city_of(division) == city
    one = None if nationally else groups[0][0]
    is_city = one is not None and one.kind == CommunityKind.CITY
    bp = share_bp(outside, total)
    return ProvinceDistribution(
        as_of=as_of,
        community_id=one.id if one else None,
        community_name=one.name if one else None,
        kind=one.kind if one else None,
        home_province=(one.home or province_of(one.division)) if one else None,
        home_province_name=province_name(one.home or one.division) if one else None,
        total=total,
        provinces=[
            ProvinceCount(code, province_name(code), n)
            for code, n in sorted(provinces.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        province_count=len(provinces),
        outside_home=outside,
        outside_home_bp=bp,
        outside_home_share=bp_text(bp),
        by_type=[TypeCount(t, n) for t, n in sorted(types.items(), key=lambda kv: (-kv[1], kv[0]))],
        type_count=len(types),
        local=local if is_city else None,
        non_local=total - local if is_city else None,
        home_basis=None if one is None else RECOMMENDED if one.home else DIVISION,
    )


def _from_counts(as_of: date, counts: dict[str, int]) -> ProvinceDistribution:
    """The national distribution from the counts on the date (item → units)."""
    provinces = {item[2:]: n for item, n in counts.items() if item.startswith("p:") and n}
    types = {item[2:]: n for item, n in counts.items() if item.startswith("t:") and n}
    total = sum(provinces.values())
    bp = share_bp(counts.get(OUTSIDE, 0), total)
    return ProvinceDistribution(
        as_of=as_of,
        community_id=None,
        community_name=None,
        kind=None,
        home_province=None,
        home_province_name=None,
        total=total,
        provinces=[
            ProvinceCount(code, province_name(code), n)
            for code, n in sorted(provinces.items(), key=lambda kv: (-kv[1], kv[0]))
        ],
        province_count=len(provinces),
        outside_home=counts.get(OUTSIDE, 0),
        outside_home_bp=bp,
        outside_home_share=bp_text(bp),
        by_type=[TypeCount(t, n) for t, n in sorted(types.items(), key=lambda kv: (-kv[1], kv[0]))],
        type_count=len(types),
        local=None,
        non_local=None,
    )


# --- from the events ----------------------------------------------------------------


def distribution_from_events(
    ledger: Ledger, community: str | UUID | None = None, as_of: str | date | None = None
) -> ProvinceDistribution:
    """The distribution of one body's members on ``as_of`` (default today in China),
    or of every body's (``community`` None), computed from the events."""
    day = parse_date(as_of, "as-of date") if as_of is not None else today()
    units: dict[UUID, MemberUnit] = {}

    def holdings(body: Community) -> list[Holding]:
        rows = []
        for m in members(ledger, body.id, as_of=day).members:
            unit = units.get(m.unit_id) or units.setdefault(m.unit_id, ledger.unit(m.unit_id))
            rows.append((m.type, unit.division_on(day)))
        return rows

    if community is not None:
        body = ledger.community(community)
        return for_body(day, _body(body, day), holdings(body))
    bodies = [ledger.community(c) for c in ledger.community_ids()]
    return national(day, [(_body(b, day), holdings(b)) for b in bodies])


def _body(body: Community, day: date) -> Body:
    chosen = body.recommendation_on(day) if body.kind is CommunityKind.INDUSTRY else None
    return Body(
        body.id, body.name, body.kind.value, body.division, chosen.province if chosen else None
    )


# --- from the membership read model ---------------------------------------------------

_HOLDINGS = """
SELECT p.community_id, p.unit_type, p.divisions FROM {periods} p
WHERE p.admitted_on <= ? AND p.admitted_at <= ?
  AND NOT (p.exited_on IS NOT NULL AND p.exited_on <= ? AND p.exited_at <= ?)
  AND (p.annulled_at IS NULL OR p.annulled_at > ?)
"""


_COUNTS = """
SELECT item, SUM(n) AS n FROM {counts}
WHERE (grain = 'Y' AND period < ?) OR (grain = 'M' AND period >= ? AND period < ?)
   OR (grain = 'D' AND period >= ? AND period <= ?)
GROUP BY item
"""


def distribution(
    store: Store,
    community: str | UUID | None = None,
    as_of: str | date | None = None,
    known_at: str | datetime | None = None,
) -> ProvinceDistribution:
    """The same answer as ``distribution_from_events``, from the membership read
    model, as recorded by ``known_at`` (default: everything). One body: a query for
    the body, one for its members on the date. Nationally: one query summing the
    kept changes of the national counts up to the date, whatever the number of
    bodies and members — those counts are of everything recorded, so a national
    figure as known at a time counts every body's members instead."""
    day = parse_date(as_of, "as-of date") if as_of is not None else today()
    at = as_known_at(known_at)
    community_id = (
        named.community_id(store.ledger.directory, community) if community is not None else None
    )
    store.ready()
    model = store.model(Membership)
    d = day.isoformat()
    if community_id is None and at.moment is None:
        counts = {
            r["item"]: int(r["n"])
            for r in store.query(
                model.sql(_COUNTS), (d[:4], d[:4] + "-01", d[:7], d[:7] + "-01", d)
            )
        }
        return _from_counts(day, counts)
    if community_id is None:
        return _national_as_known(store, model, day, at)
    with store.snapshot() as query:
        found = query(
            model.sql(
                "SELECT name, kind, division, recorded_at FROM {communities} WHERE community_id = ?"
            ),
            (str(community_id),),
        )
        rows = query(
            model.sql(_HOLDINGS + " AND p.community_id = ?"),
            (*_holding_params(d, at), str(community_id)),
        )
        homes = _homes(query, model, d, at, str(community_id))
    row = body_row(found, community_id, at)
    body = Body(
        community_id, row["name"], row["kind"], row["division"], homes.get(str(community_id))
    )
    answer = for_body(day, body, _holdings(rows, d, at))
    return msgspec.structs.replace(answer, known_at=at.moment)


def _holding_params(d: str, at: KnownAt) -> tuple[str, ...]:
    return (d, at.bound, d, at.bound, at.bound)


def _holdings(rows: list[Any], d: str, at: KnownAt) -> list[Holding]:
    """Each member's unit type and its division in force on the date, as recorded
    by the time (picked from the division history its period's row carries)."""
    return [(r["unit_type"], in_force(r["divisions"], d, at.bound)) for r in rows]


def _national_as_known(
    store: Store, model: Membership, day: date, at: KnownAt
) -> ProvinceDistribution:
    with store.snapshot() as query:
        found = query(
            model.sql(
                "SELECT community_id, name, kind, division FROM {communities} "
                "WHERE recorded_at <= ?"
            ),
            (at.bound,),
        )
        d = day.isoformat()
        rows = query(model.sql(_HOLDINGS), _holding_params(d, at))
        homes = _homes(query, model, d, at)
    holdings: dict[str, list[Holding]] = {r["community_id"]: [] for r in found}
    for r in rows:
        holdings[r["community_id"]].append((r["unit_type"], in_force(r["divisions"], d, at.bound)))
    bodies = [
        (
            Body(
                UUID(r["community_id"]),
                r["name"],
                r["kind"],
                r["division"],
                homes.get(r["community_id"]),
            ),
            holdings[r["community_id"]],
        )
        for r in found
    ]
    return msgspec.structs.replace(national(day, bodies), known_at=at.moment)


def _homes(
    query: Any, model: Membership, d: str, at: KnownAt, community: str | None = None
) -> dict[str, str]:
    """The recommending province in force on the date of each industry body that has
    one (of ``community`` only, if given), as recorded by the time: the last recorded
    of those in force, which is the latest in force (they are recorded in the order
    they take effect)."""
    rows = query(
        model.sql(
            "SELECT community_id, province FROM {recommendations} "
            "WHERE since <= ? AND recorded_at <= ?"
            + (" AND community_id = ?" if community else "")
            + " ORDER BY community_id, seq"
        ),
        (d, at.bound, community) if community else (d, at.bound),
    )
    return {r["community_id"]: r["province"] for r in rows}
