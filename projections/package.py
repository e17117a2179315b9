"""A body's yearly package for the national platform (issue 20, step 6): the body, its
members, their provinces and the qualifications they hold, its filings with their
digests, its obligations, its indicators with their evidence digests and its
investment, all as of the year's last day (or today, for the year under way), in one
document the ledger's key signs.

The file is two lines: the content as JSON, then the signature of its SHA-256
(``domain.annual.package_statement``), so the province can check it was not edited
(``chanjiao report verify-annual``)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID

import msgspec

from domain.annual import PACKAGE_FORMAT, parse_year
from domain.values import today
from projections import annual, cost_sharing, membership, provinces, quality
from projections.cost_sharing_model import investment
from projections.machinery import Store
from projections.membership_model import members


class AnnualPackage(msgspec.Struct, frozen=True):
    format: str
    year: int
    as_of: date  # the year's last day, or today for the year under way
    made_at: datetime
    position: int  # the ledger's last event when it was made
    community: membership.CommunityView
    members: membership.MemberList
    provinces: provinces.ProvinceDistribution
    quality: quality.QualityReport
    filings: annual.FilingList
    obligations: annual.ObligationList
    indicators: annual.IndicatorReport
    investment: cost_sharing.InvestmentSummary


def package(store: Store, community: str | UUID, year: int | str) -> AnnualPackage:
    ledger = store.ledger
    the_year = parse_year(year)
    day = min(date(the_year, 12, 31), today())
    body = ledger.community(community)
    return AnnualPackage(
        PACKAGE_FORMAT,
        the_year,
        day,
        datetime.now(UTC),
        ledger.recorder.max_notification_id() or 0,
        membership.community_view(body),
        members(store, body.id, day),
        provinces.distribution(store, body.id, day),
        quality.quality(store, body.id, day),
        annual.filings(ledger, body.id, the_year),
        annual.obligations(ledger, body.id, the_year, day),
        annual.indicators(ledger, body.id, the_year),
        investment(store, body.id, day),
    )
