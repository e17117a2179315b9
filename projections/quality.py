"""How diverse and of what quality a body's members are on a date (优质多元, the first
of the national monitoring indicators): their unit types, and the qualifications of the
closed list (``domain.values.Qualification``) they hold that day.

- A member counts under each qualification it holds on the date, as recorded by
  ``known_at``: a period recorded later, or an early end recorded later, is left out.
- ``qualified``: members holding at least one; its share is given as basis points
  rounded half up and as a four-place decimal, as the province report gives its shares.
- **Nationally** every body counts its own members, each membership once per body, as
  the cross-province distribution does (a unit in two bodies counts twice).

The members come from the membership read model; each member's qualifications from its
unit, whose periods are few.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from uuid import UUID

import msgspec

from domain.unit import MemberUnit
from domain.values import Qualification, chinese_name, parse_date, today
from projections.known_at import as_known_at
from projections.machinery import Store
from projections.membership_model import members
from projections.provinces import TypeCount, bp_text, share_bp


class QualificationCount(msgspec.Struct, frozen=True):
    qualification: str
    name: str  # 产教融合型企业
    units: int


class QualityReport(msgspec.Struct, frozen=True):
    as_of: date
    community_id: UUID | None  # None: every body, nationally
    community_name: str | None
    total: int  # members (nationally: memberships, once per body)
    qualified: int  # members holding at least one qualification on the date
    qualified_bp: int | None  # basis points, rounded half up; None without members
    qualified_share: str | None  # the same as a decimal fraction: "0.2500"
    by_qualification: list[QualificationCount]  # every qualification, in the list's order
    by_type: list[TypeCount]
    type_count: int
    known_at: datetime | None = None  # None: everything recorded so far


def quality(
    store: Store,
    community: str | UUID | None = None,
    as_of: str | date | None = None,
    known_at: str | datetime | None = None,
) -> QualityReport:
    """One body's members on ``as_of`` (default today in China), or every body's."""
    day = parse_date(as_of, "as-of date") if as_of is not None else today()
    at = as_known_at(known_at)
    ledger = store.ledger
    if community is not None:
        lists = [members(store, community, day, known_at)]
    else:
        lists = [
            members(store, body_id, day, known_at)
            for body_id in ledger.community_ids()
            if at.moment is None or ledger.community(body_id).created_on <= at.moment
        ]
    units: dict[UUID, MemberUnit] = {}
    held: Counter[Qualification] = Counter()
    types: Counter[str] = Counter()
    total = qualified = 0
    for listed in lists:
        for m in listed.members:
            unit = units.get(m.unit_id) or units.setdefault(m.unit_id, ledger.unit(m.unit_id))
            holds = unit.qualifications_on(day, at.moment)
            total += 1
            qualified += bool(holds)
            held.update(holds)
            types[m.type] += 1
    one = lists[0] if community is not None else None
    bp = share_bp(qualified, total)
    return QualityReport(
        as_of=day,
        community_id=one.community_id if one else None,
        community_name=one.community_name if one else None,
        total=total,
        qualified=qualified,
        qualified_bp=bp,
        qualified_share=bp_text(bp),
        by_qualification=[
            QualificationCount(q.value, chinese_name(q), held[q]) for q in Qualification
        ],
        by_type=[TypeCount(t, n) for t, n in sorted(types.items(), key=lambda kv: (-kv[1], kv[0]))],
        type_count=len(types),
        known_at=at.moment,
    )
