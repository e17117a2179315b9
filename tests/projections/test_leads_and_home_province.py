"""An industry body's lead trio on a date, and its cross-province indicators measured
against its recommending province — from the membership read model, on SQLite and
PostgreSQL, with the exact figures of a worked history; the province report from the
read model equals the one from the events, for the body and nationally, however the
read model was caught up (event by event, forgetting what it remembers between
batches, or rebuilt in one batch)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from bootstrap import Ledger
from projections import leads, provinces
from projections.leads import Lead, Leads, MissingLead, RecommendingProvince
from projections.machinery import Store
from projections.membership_model import Membership
from tests.factories import credit_code

P = "secretary:test"
E1 = credit_code(1, division="320506")  # 江苏
E2 = credit_code(2, division="310110")  # 上海
U = credit_code(3, prefix="12", division="110108")  # 北京
V = credit_code(4, prefix="12", division="440106")  # 广东
X = credit_code(5, division="110105")  # 北京
UNITS = [
    (E1, "苏州芯片有限公司", "enterprise", None, "320506"),
    (E2, "上海微电子有限公司", "enterprise", None, "310110"),
    (U, "北京理工大学", "university", None, "110108"),
    (V, "广州番禺职业技术学院", "vocational_school", "higher", "440106"),
    (X, "北京封装有限公司", "enterprise", None, "110105"),
]


def history(ledger: Ledger, after: Callable[[], None]) -> tuple[Any, Any]:
    """An industry body in 江苏 (320500) founded 2024-01-01 and a city body, recorded
    command by command, ``after`` each. Returns the two bodies' ids."""
    for code, name, unit_type, level, division in UNITS:
        ledger.register_unit(
            code=code, name=name, unit_type=unit_type, level=level, division=division, principal=P
        )
        after()
    body = ledger.found_community(
        name="全国集成电路行业产教融合共同体",
        kind="industry",
        industry="集成电路",
        division="320500",
        founded_on="2024-01-01",
        principal=P,
    ).id
    city = ledger.found_community(
        name="苏州市域产教联合体",
        kind="city",
        industry="电子信息",
        division="320500",
        founded_on="2024-01-01",
        principal=P,
    ).id
    after()
    steps: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
        ("admit_member", (body, E1), {"role": "lead", "effective_on": "2024-02-01"}),
        ("admit_member", (body, U), {"role": "participant", "effective_on": "2024-03-01"}),
        ("admit_member", (body, X), {"role": "participant", "effective_on": "2024-03-01"}),
        ("admit_member", (city, E1), {"role": "participant", "effective_on": "2024-03-01"}),
        ("admit_member", (city, U), {"role": "participant", "effective_on": "2024-03-01"}),
        ("admit_member", (body, V), {"role": "lead", "effective_on": "2024-04-01"}),
        ("change_member_role", (body, U), {"role": "lead", "effective_on": "2024-05-01"}),
        ("set_recommending_province", (body,), {"lead": U, "effective_on": "2024-06-01"}),
        ("change_member_role", (body, E1), {"role": "participant", "effective_on": "2024-10-01"}),
        ("admit_member", (body, E2), {"role": "lead", "effective_on": "2024-11-01"}),
        ("set_recommending_province", (body,), {"lead": E2, "effective_on": "2024-12-01"}),
        ("exit_member", (body, V), {"reason": "withdrawal", "effective_on": "2025-01-01"}),
        ("admit_member", (body, V), {"role": "lead", "effective_on": "2025-01-01"}),
        ("relocate_unit", (E2,), {"division": "330212", "effective_on": "2025-02-01"}),
        ("exit_member", (body, U), {"reason": "withdrawal", "effective_on": "2025-03-01"}),
        ("relocate_unit", (X,), {"division": "310115", "effective_on": "2025-04-01"}),
    ]
    for method, args, kwargs in steps:
        getattr(ledger, method)(*args, **kwargs, principal=P)
        after()
    return body, city


def lead(code: str, name: str, province: str, province_name: str, since: str) -> Lead:
    return Lead(
        unit_id=_unit_ids[code],
        code=code,
        name=name,
        province=province,
        province_name=province_name,
        since=date.fromisoformat(since),
    )


_unit_ids: dict[str, Any] = {}


@pytest.fixture
def recorded(ledger: Ledger) -> tuple[Store, Any, Any]:
    store = Store(ledger, [Membership])
    body, city = history(ledger, lambda: None)
    _unit_ids.update({code: ledger.unit(code).id for code, *_ in UNITS})
    return store, body, city


ENTERPRISE_1 = (E1, "苏州芯片有限公司", "320000", "江苏")
ENTERPRISE_2 = (E2, "上海微电子有限公司", "310000", "上海")
UNIVERSITY = (U, "北京理工大学", "110000", "北京")
SCHOOL = (V, "广州番禺职业技术学院", "440000", "广东")

STATUS = {  # as of: (enterprise, university, vocational school); a lead or its missing since
    "2024-01-15": ("2024-01-01", "2024-01-01", "2024-01-01"),
    "2024-03-15": ((ENTERPRISE_1, "2024-02-01"), "2024-01-01", "2024-01-01"),
    "2024-06-01": (
        (ENTERPRISE_1, "2024-02-01"),
        (UNIVERSITY, "2024-05-01"),
        (SCHOOL, "2024-04-01"),
    ),
    "2024-10-15": ("2024-10-01", (UNIVERSITY, "2024-05-01"), (SCHOOL, "2024-04-01")),
    "2025-01-01": (
        (ENTERPRISE_2, "2024-11-01"),
        (UNIVERSITY, "2024-05-01"),
        (SCHOOL, "2024-04-01"),
    ),
    "2025-03-01": ((ENTERPRISE_2, "2024-11-01"), "2025-03-01", (SCHOOL, "2024-04-01")),
}


@pytest.mark.parametrize("as_of", list(STATUS))
def test_the_lead_trio_and_what_is_missing_since_when(recorded, as_of):
    store, body, _ = recorded
    detail = leads.community_detail(store, body, as_of=as_of)
    expected: dict[str, Lead | None] = {}
    missing = []
    for kind, status in zip(
        ("enterprise", "university", "vocational_school"), STATUS[as_of], strict=False
    ):
        if isinstance(status, str):
            expected[kind] = None
            missing.append(MissingLead(kind, date.fromisoformat(status)))
        else:
            (code, name, province, province_name), since = status
            # a relocated lead is shown where it is on the date
            if code == E2 and as_of >= "2025-02-01":
                province, province_name = "330000", "浙江"
            expected[kind] = lead(code, name, province, province_name, since)
    assert detail.leads == Leads(**expected)
    assert detail.missing == missing
    assert detail.lead_trio_complete is (not missing)
    assert detail.as_of == date.fromisoformat(as_of)


def test_the_recommending_province_in_force_on_the_date(recorded):
    store, body, _ = recorded
    assert leads.community_detail(store, body, as_of="2024-05-31").recommending_province is None
    assert leads.community_detail(store, body, as_of="2024-11-30").recommending_province == (
        RecommendingProvince("110000", "北京", _unit_ids[U], U, "北京理工大学", date(2024, 6, 1))
    )
    assert leads.community_detail(store, body, as_of="2025-06-30").recommending_province == (
        RecommendingProvince(
            "310000", "上海", _unit_ids[E2], E2, "上海微电子有限公司", date(2024, 12, 1)
        )
    )


def test_a_body_of_another_kind_shows_no_lead_status(recorded):
    store, _, city = recorded
    detail = leads.community_detail(store, city, as_of="2025-01-01")
    assert (detail.kind, detail.active_members) == ("city", 2)
    assert (
        detail.leads,
        detail.lead_trio_complete,
        detail.missing,
        detail.recommending_province,
    ) == (None, None, None, None)


def test_before_its_founding_an_industry_body_has_no_lead_status(recorded):
    store, body, _ = recorded
    detail = leads.community_detail(store, body, as_of="2023-12-31")
    assert (detail.leads, detail.lead_trio_complete, detail.missing) == (None, None, None)


REPORT = {  # as of: (home province, basis, members, outside home, bp, share)
    "2024-03-15": ("320000", "division", 3, 2, 6667, "0.6667"),  # E1 U X, home 江苏
    "2024-07-01": ("110000", "recommending_province", 4, 2, 5000, "0.5000"),  # + V, home 北京
    "2024-12-15": ("310000", "recommending_province", 5, 4, 8000, "0.8000"),  # + E2, home 上海
    "2025-04-01": ("310000", "recommending_province", 4, 3, 7500, "0.7500"),  # E2 moved; X came
}


@pytest.mark.parametrize("as_of", list(REPORT))
def test_an_industry_bodys_outside_home_share_is_measured_against_its_recommending_province(
    recorded, ledger, as_of
):
    store, body, _ = recorded
    answer = provinces.distribution(store, body, as_of=as_of)
    home, basis, total, outside, bp, share = REPORT[as_of]
    assert (
        answer.home_province,
        answer.home_basis,
        answer.total,
        answer.outside_home,
        answer.outside_home_bp,
        answer.outside_home_share,
    ) == (home, basis, total, outside, bp, share)
    assert answer == provinces.distribution_from_events(ledger, body, as_of=as_of)


def test_other_kinds_keep_their_divisions_province(recorded, ledger):
    store, _, city = recorded
    answer = provinces.distribution(store, city, as_of="2024-07-01")
    assert (
        answer.home_province,
        answer.home_basis,
        answer.outside_home,
        answer.outside_home_bp,
    ) == ("320000", "division", 1, 5000)


def test_nationally_each_membership_is_measured_against_its_bodys_home_on_the_date(recorded):
    store, _, _ = recorded
    answer = provinces.distribution(store, None, as_of="2024-07-01")
    # the industry body: E1 and V outside 北京 (U and X are in it); the city body: U
    # outside 江苏, E1 not. Against the industry body's division it would be 4 of 6.
    assert (answer.total, answer.outside_home, answer.outside_home_bp, answer.home_basis) == (
        6,
        3,
        5000,
        None,
    )


DAYS = [date(2024, 1, 1) + timedelta(days=15 * i) for i in range(36)] + [
    date(2024, 6, 1),
    date(2024, 12, 1),
    date(2025, 1, 1),
    date(2025, 2, 1),
    date(2025, 3, 1),
]


@pytest.mark.parametrize("mode", ["after each command", "forgetting between batches"])
def test_the_national_counts_kept_equal_the_events_however_they_were_caught_up(ledger, mode):
    store = Store(ledger, [Membership])
    model = store.model(Membership)

    def after() -> None:
        if mode == "forgetting between batches":
            model._forget()
        store.catch_up()

    history(ledger, after)
    for day in DAYS:
        assert provinces.distribution(store, None, day) == (
            provinces.distribution_from_events(ledger, None, day)
        ), day
    store.rebuild("membership")
    for day in DAYS:
        assert provinces.distribution(store, None, day) == (
            provinces.distribution_from_events(ledger, None, day)
        ), day
