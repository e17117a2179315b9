"""The annual cycle: what each kind of body files, when, and the status of each
obligation on any date, whatever order the filings were recorded in."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import pytest
from freezegun import freeze_time
from hypothesis import given
from hypothesis import strategies as st

from bootstrap import Ledger
from domain.annual import Due, Filing, FilingKind, Status, duties, status_of, windows
from domain.errors import (
    CommunityDissolved,
    EffectiveDateTooEarly,
    InvalidInput,
    NotAMember,
    ResolutionNotUsable,
)
from domain.values import CommunityKind
from projections import annual
from tests.factories import credit_code

P = "secretary:zhou"
DIGEST = hashlib.sha256(b"2025 work plan").hexdigest()


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time("2025-12-20T02:00:00Z"):
        yield


def filing(kind: FilingKind, year: int, filed_on: date, version: int) -> Filing:
    return Filing(kind, year, filed_on, "t", DIGEST, 1, None, P, datetime.now(UTC), version)


def test_each_kind_of_body_has_the_obligations_the_texts_set() -> None:
    industry = {(d.kind, d.due_from, d.due_by) for d in duties(CommunityKind.INDUSTRY, 2025)}
    quarter = (date(2025, 1, 1), date(2025, 3, 31))
    assert industry == {
        (FilingKind.WORK_PLAN, *quarter),
        (FilingKind.INDUSTRY_ANALYSIS, *quarter),
        (FilingKind.TALENT_FORECAST, *quarter),
        (FilingKind.SUPPLY_DEMAND_LISTS, *quarter),
        (FilingKind.SUMMARY_REPORT, date(2025, 1, 1), date(2025, 12, 15)),
    }
    city = duties(CommunityKind.CITY, 2025)
    assert [d.kind for d in city] == [
        FilingKind.PRODUCT_LIST,
        FilingKind.TECHNOLOGY_DEMAND_LIST,
        FilingKind.TALENT_DEMAND_LIST,
    ]
    assert {d.due_by for d in city} == {date(2025, 12, 15)}
    assert duties(CommunityKind.DEVELOPMENT, 2025) == []


def test_statuses_on_time_late_missing_and_not_yet_due() -> None:
    plan = Due(FilingKind.WORK_PLAN, 2025, date(2025, 1, 1), date(2025, 3, 31))
    early = [filing(FilingKind.WORK_PLAN, 2025, date(2025, 3, 31), 2)]
    late = [filing(FilingKind.WORK_PLAN, 2025, date(2025, 4, 10), 2)]
    assert status_of(plan, [], date(2025, 3, 31)).status is Status.NOT_YET_DUE
    assert status_of(plan, [], date(2025, 4, 1)).status is Status.MISSING
    assert status_of(plan, early, date(2025, 3, 31)).status is Status.ON_TIME
    assert status_of(plan, early, date(2025, 3, 30)).status is Status.NOT_YET_DUE
    shown = status_of(plan, late, date(2025, 5, 1))
    assert (shown.status, shown.days_late, shown.filed_on) == (Status.LATE, 10, date(2025, 4, 10))
    assert status_of(plan, late, date(2025, 4, 9)).status is Status.MISSING
    other_year = [filing(FilingKind.WORK_PLAN, 2024, date(2025, 2, 1), 2)]
    assert status_of(plan, other_year, date(2025, 5, 1)).status is Status.MISSING


@given(
    st.lists(st.integers(min_value=0, max_value=400), min_size=0, max_size=4),
    st.integers(min_value=0, max_value=400),
    st.randoms(),
)
def test_a_status_depends_on_the_dates_never_on_the_order_of_recording(
    offsets: list[int], as_of: int, shuffle
) -> None:
    start = date(2025, 1, 1)
    plan = Due(FilingKind.WORK_PLAN, 2025, start, date(2025, 3, 31))
    made = [
        filing(FilingKind.WORK_PLAN, 2025, start + timedelta(days=d), i + 2)
        for i, d in enumerate(offsets)
    ]
    day = start + timedelta(days=as_of)
    shown = status_of(plan, made, day)
    again = list(made)
    shuffle.shuffle(again)
    assert (shown.status, shown.filed_on, shown.days_late) == (
        status_of(plan, again, day).status,
        status_of(plan, again, day).filed_on,
        status_of(plan, again, day).days_late,
    )
    filed = [f.filed_on for f in made if f.filed_on <= day]
    if not filed:
        expected = Status.MISSING if day > plan.due_by else Status.NOT_YET_DUE
    else:
        expected = Status.ON_TIME if min(filed) <= plan.due_by else Status.LATE
    assert shown.status is expected


def test_the_platforms_windows() -> None:
    registration, performance = windows(2025)
    assert (registration.opens, registration.closes) == (date(2025, 1, 1), date(2025, 10, 31))
    assert (performance.opens, performance.closes) == (date(2025, 11, 1), date(2025, 12, 15))
    assert windows(2023)[0].opens == date(2023, 7, 30)
    assert [w.state(date(2025, 11, 1)) for w in (registration, performance)] == [
        "closed",
        "open",
    ]
    assert performance.state(date(2025, 10, 31)) == "not_yet_open"


def industry_body(ledger: Ledger) -> object:
    return ledger.found_community(
        name="全国智能制造行业产教融合共同体",
        kind="industry",
        industry="智能制造",
        division="320506",
        founded_on="2024-01-01",
        principal=P,
    )


def test_a_body_files_supersedes_and_keeps_the_history(memory_ledger: Ledger) -> None:
    body = industry_body(memory_ledger)
    first = memory_ledger.record_filing(
        body.id,
        kind="work_plan",
        year=2025,
        filed_on="2025-03-20",
        title="2025 年度工作计划",
        sha256=DIGEST.upper(),
        size=1024,
        principal=P,
    )
    assert first.sha256 == DIGEST and first.size == 1024
    memory_ledger.record_filing(
        body.id,
        kind="年度工作计划",
        year="2025",
        filed_on="2025-05-01",
        title="2025 年度工作计划（修订）",
        sha256="a" * 64,
        size=2048,
        principal=P,
    )
    listed = annual.filings(memory_ledger, body.id, 2025)
    assert [(f.title, f.superseded) for f in listed.filings] == [
        ("2025 年度工作计划", True),
        ("2025 年度工作计划（修订）", False),
    ]
    due = annual.obligations(memory_ledger, body.id, 2025, "2025-12-20")
    plan = next(o for o in due.obligations if o.kind == "work_plan")
    assert (plan.status, plan.filed_on) == ("on_time", date(2025, 3, 20))  # the first decides
    assert plan.title == "2025 年度工作计划（修订）"  # the document in force
    assert due.due == 5 and due.on_time == 1 and due.timeliness == "20%"
    summary = next(o for o in due.obligations if o.kind == "summary_report")
    assert summary.status == "missing"
    assert annual.obligations(memory_ledger, body.id, 2025, "2025-03-01").due == 0


def test_a_filing_recorded_late_but_filed_on_time_is_on_time_and_known_at_says_when(
    memory_ledger: Ledger,
) -> None:
    body = industry_body(memory_ledger)
    with freeze_time("2025-04-20T02:00:00Z"):
        memory_ledger.record_filing(
            body.id,
            kind="industry_analysis",
            year=2025,
            filed_on="2025-03-28",
            title="行业发展分析报告",
            sha256=DIGEST,
            size=10,
            principal=P,
        )
    now = annual.obligations(memory_ledger, body.id, 2025, "2025-04-01")
    analysis = next(o for o in now.obligations if o.kind == "industry_analysis")
    assert analysis.status == "on_time"  # on 1 April, as it stands recorded now
    then = annual.obligations(memory_ledger, body.id, 2025, "2025-04-01", "2025-04-10")
    analysis = next(o for o in then.obligations if o.kind == "industry_analysis")
    assert analysis.status == "missing"  # as the ledger knew it on 10 April
    assert then.known_at is not None


def test_what_a_filing_may_not_be(memory_ledger: Ledger) -> None:
    body = industry_body(memory_ledger)
    city = memory_ledger.found_community(
        name="苏州市域产教联合体",
        kind="city",
        industry="电子信息",
        division="320506",
        founded_on="2024-01-01",
        principal=P,
    )
    ok = {"year": 2025, "filed_on": "2025-03-01", "title": "计划", "sha256": DIGEST, "size": 1}

    def refused(community, error, match, **change):
        with pytest.raises(error, match=match):
            memory_ledger.record_filing(
                community, **{"kind": "work_plan", **ok, **change}, principal=P
            )

    refused(city.id, InvalidInput, "it files product_list")
    refused(body.id, InvalidInput, "filing kind", kind="budget")
    refused(body.id, InvalidInput, "before the body was founded", year=2023)
    refused(body.id, InvalidInput, "at most for the year after", year=2027)
    refused(body.id, EffectiveDateTooEarly, "founded on 2024-01-01", filed_on="2023-12-01")
    refused(body.id, InvalidInput, "in the future", filed_on="2026-01-05")
    refused(body.id, InvalidInput, "64 hexadecimal digits", sha256="abc")
    refused(body.id, InvalidInput, "size", size=-1)
    refused(body.id, InvalidInput, "size", size=10**30)
    refused(body.id, InvalidInput, "filing title", title=" ")
    refused(body.id, ResolutionNotUsable, "has no resolution 2025-001", resolution="2025-001")
    memory_ledger.dissolve_community(body.id, effective_on="2025-06-01", principal=P)
    refused(body.id, CommunityDissolved, "dissolved", filed_on="2025-07-01")
    assert memory_ledger.community(body.id).filings == ()
    memory_ledger.record_filing(
        city.id, kind="product_list", principal=P, **ok
    )  # a city body's list
    assert annual.national(memory_ledger, 2025, "2025-12-20").by_kind["product_list"] == {
        "on_time": 1,
        "late": 0,
        "missing": 0,
        "not_yet_due": 0,
    }


def test_indicators_the_bodys_own_or_its_members_corrected_and_as_known_at(
    memory_ledger: Ledger,
) -> None:
    body = industry_body(memory_ledger)
    codes = []
    for i, (joined, left) in enumerate((("2024-03-01", None), ("2024-05-01", "2025-01-01"))):
        code = credit_code(700 + i)
        memory_ledger.register_unit(
            code=code, name=f"成员{i}", unit_type="enterprise", division="320506", principal=P
        )
        memory_ledger.admit_member(
            body.id, code, role="participant", effective_on=joined, principal=P
        )
        if left:
            memory_ledger.exit_member(
                body.id, code, reason="withdrawal", effective_on=left, principal=P
            )
        codes.append(code)

    def record(**given):
        return memory_ledger.record_indicator(
            body.id, **{"evidence_sha256": DIGEST, "principal": P, **given}
        )

    record(indicator="订单培养", year=2024, value="1,200", unit=codes[0])
    record(indicator="students_order_classes", year=2024, value=300, unit=codes[1])
    record(indicator="students_order_classes", year=2025, value=900, unit=codes[0])
    with freeze_time("2025-12-21T02:00:00Z"):
        record(indicator="students_order_classes", year=2025, value=1000, unit=codes[0])
    record(indicator="funds_invested", year=2025, value="12.5万")
    with pytest.raises(NotAMember, match=r"not a member .* at any time in 2025"):
        record(indicator="core_courses", year=2025, value=1, unit=codes[1])  # left 2025-01-01
    with pytest.raises(InvalidInput, match="must be a count"):
        record(indicator="core_courses", year=2025, value="3.5")
    with pytest.raises(InvalidInput, match="up to 1,000,000,000,000,000"):
        record(indicator="core_courses", year=2025, value="9" * 30)
    with pytest.raises(InvalidInput, match="indicator"):
        record(indicator="happiness", year=2025, value=1)
    with freeze_time("2025-12-22T02:00:00Z"):
        report = annual.indicators(memory_ledger, body.id, 2025)
        rows = {r.indicator: r for r in report.indicators}
        order = rows["students_order_classes"]
        assert (order.value, order.previous, order.source) == (1000, 1500, "members")
        assert [f.value for f in order.reported] == [1000]  # the correction in force
        assert rows["funds_invested"].value == "125000.00"
        assert rows["funds_invested"].source == "body"
        assert rows["core_courses"].value is None
        then = annual.indicators(memory_ledger, body.id, 2025, "2025-12-20T12:00:00+08:00")
        assert {r.indicator: r for r in then.indicators}["students_order_classes"].value == 900


@pytest.mark.parametrize(
    ("kind", "typed"), [("vocational_group", "职教集团"), ("alliance", "联盟")]
)
def test_the_provincial_plans_other_bodies_keep_a_development_bodys_rules(
    memory_ledger: Ledger, kind: str, typed: str
) -> None:
    body = memory_ledger.found_community(
        name=f"江苏{typed}",
        kind=typed,
        industry="装备制造",
        division="320506",
        founded_on="2024-01-01",
        principal=P,
    )
    assert body.kind.value == kind
    due = annual.obligations(memory_ledger, body.id, 2025, "2025-12-20")
    assert due.obligations == [] and due.timeliness is None
    with pytest.raises(InvalidInput, match="it files other"):
        memory_ledger.record_filing(
            body.id,
            kind="work_plan",
            year=2025,
            filed_on="2025-03-01",
            title="计划",
            sha256=DIGEST,
            size=1,
            principal=P,
        )
