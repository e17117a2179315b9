"""An industry body's recommending province (推荐省份): the province of one of its
leads on the date, chosen by the body — through the ledger, in memory."""

from __future__ import annotations

from datetime import date

import pytest

from bootstrap import Ledger
from domain.community import Community, Recommendation
from domain.errors import (
    EffectiveDateTooEarly,
    InvalidDate,
    NotALead,
    NotAnIndustryBody,
    NothingToChange,
    UnitNotFound,
)
from tests.factories import credit_code

P = "secretary:li"
ENTERPRISE = credit_code(1, division="320506")  # 苏州
UNIVERSITY = credit_code(2, prefix="12", division="110108")  # 北京
SCHOOL = credit_code(3, prefix="12", division="440106")  # 广州
PARTICIPANT = credit_code(4, division="330106")  # 杭州
OUTSIDER = credit_code(5, division="370102")  # 济南


def industry_body(ledger: Ledger, kind: str = "industry") -> Community:
    for code, unit_type, level, division in [
        (ENTERPRISE, "enterprise", None, "320506"),
        (UNIVERSITY, "university", None, "110108"),
        (SCHOOL, "vocational_school", "higher", "440106"),
        (PARTICIPANT, "enterprise", None, "330106"),
        (OUTSIDER, "enterprise", None, "370102"),
    ]:
        ledger.register_unit(
            code=code,
            name=f"单位{code[-4:]}",
            unit_type=unit_type,
            level=level,
            division=division,
            principal=P,
        )
    body = ledger.found_community(
        name="全国集成电路行业产教融合共同体",
        kind=kind,
        industry="集成电路",
        division="320500",
        founded_on="2024-01-01",
        principal=P,
    )
    lead = "lead" if kind == "industry" else "participant"
    ledger.admit_member(body.id, ENTERPRISE, role=lead, effective_on="2024-02-01", principal=P)
    ledger.admit_member(body.id, UNIVERSITY, role=lead, effective_on="2024-03-01", principal=P)
    ledger.admit_member(
        body.id, PARTICIPANT, role="participant", effective_on="2024-03-01", principal=P
    )
    return body


def events(ledger: Ledger, body: Community) -> int:
    return len(list(ledger.events.get(body.id)))


def test_the_province_of_a_lead_on_the_date_is_recorded_with_the_lead_and_the_date(
    memory_ledger,
):
    body = industry_body(memory_ledger)
    memory_ledger.set_recommending_province(
        body.id, lead=UNIVERSITY, effective_on="2024-06-01", principal="secretary:wang"
    )
    event = list(memory_ledger.events.get(body.id))[-1]
    assert isinstance(event, Community.RecommendingProvinceSet)
    assert event.TOPIC == "chanjiao.community.recommending_province_set.v1"
    unit = memory_ledger.unit(UNIVERSITY)
    assert (event.province, event.unit_id, event.effective_on, event.principal) == (
        "110000",
        unit.id,
        date(2024, 6, 1),
        "secretary:wang",
    )
    body = memory_ledger.community(body.id)
    assert body.recommendation_on(date(2024, 5, 31)) is None
    assert body.recommendation_on(date(2025, 1, 1)) == Recommendation(
        "110000", unit.id, date(2024, 6, 1)
    )


def test_a_later_choice_replaces_it_from_its_date(memory_ledger):
    body = industry_body(memory_ledger)
    memory_ledger.set_recommending_province(
        body.id, lead=UNIVERSITY, effective_on="2024-06-01", principal=P
    )
    memory_ledger.set_recommending_province(
        body.id, lead=ENTERPRISE, effective_on="2025-01-01", principal=P
    )
    body = memory_ledger.community(body.id)
    days = [date(2024, 6, 1), date(2024, 12, 31), date(2025, 1, 1)]
    chosen = [body.recommendation_on(day) for day in days]
    assert [c.province if c else None for c in chosen] == ["110000", "110000", "320000"]


def test_the_province_is_that_of_the_leads_division_on_the_date(memory_ledger):
    body = industry_body(memory_ledger)
    memory_ledger.relocate_unit(
        ENTERPRISE, division="420106", effective_on="2024-09-01", principal=P
    )
    memory_ledger.set_recommending_province(
        body.id, lead=ENTERPRISE, effective_on="2024-08-31", principal=P
    )
    memory_ledger.set_recommending_province(
        body.id, lead=ENTERPRISE, effective_on="2024-09-01", principal=P
    )
    provinces = [
        e.province
        for e in memory_ledger.events.get(body.id)
        if isinstance(e, Community.RecommendingProvinceSet)
    ]
    assert provinces == ["320000", "420000"]


REFUSALS = {
    "a unit that is not a member": (
        OUTSIDER,
        "2024-06-01",
        NotALead,
        "单位{} ({}) is not a member of 全国集成电路行业产教融合共同体 on 2024-06-01; the "
        "recommending province is the province of its lead enterprise, university or "
        "vocational school",
    ),
    "a participant": (
        PARTICIPANT,
        "2024-06-01",
        NotALead,
        "单位{} ({}) is a participant, not a lead, of 全国集成电路行业产教融合共同体 on 2024-06-01",
    ),
    "a lead before it was admitted": (
        UNIVERSITY,
        "2024-02-15",
        NotALead,
        "单位{} ({}) is not a member of 全国集成电路行业产教融合共同体 on 2024-02-15",
    ),
}


@pytest.mark.parametrize("what", list(REFUSALS))
def test_only_a_lead_on_the_date_gives_its_province_and_a_refusal_writes_nothing(
    memory_ledger, what
):
    code, day, error, message = REFUSALS[what]
    body = industry_body(memory_ledger)
    before = events(memory_ledger, body)
    with pytest.raises(error) as refused:
        memory_ledger.set_recommending_province(body.id, lead=code, effective_on=day, principal=P)
    assert str(refused.value).startswith(message.format(code[-4:], code))
    assert events(memory_ledger, body) == before


def test_a_lead_that_has_left_gives_no_province(memory_ledger):
    body = industry_body(memory_ledger)
    memory_ledger.exit_member(
        body.id, UNIVERSITY, reason="withdrawal", effective_on="2025-03-01", principal=P
    )
    with pytest.raises(NotALead, match=r"is not a member of .* on 2025-03-01"):
        memory_ledger.set_recommending_province(
            body.id, lead=UNIVERSITY, effective_on="2025-03-01", principal=P
        )


def test_a_body_of_another_kind_has_no_recommending_province(memory_ledger):
    body = industry_body(memory_ledger, kind="city")
    before = events(memory_ledger, body)
    with pytest.raises(NotAnIndustryBody) as refused:
        memory_ledger.set_recommending_province(
            body.id, lead=ENTERPRISE, effective_on="2024-06-01", principal=P
        )
    assert str(refused.value) == (
        "全国集成电路行业产教融合共同体 is a city community; only an industry community has a "
        "recommending province"
    )
    assert events(memory_ledger, body) == before


def test_a_choice_cannot_take_effect_before_the_one_in_force_nor_repeat_it(memory_ledger):
    body = industry_body(memory_ledger)
    memory_ledger.set_recommending_province(
        body.id, lead=UNIVERSITY, effective_on="2024-06-01", principal=P
    )
    before = events(memory_ledger, body)
    with pytest.raises(EffectiveDateTooEarly) as early:
        memory_ledger.set_recommending_province(
            body.id, lead=ENTERPRISE, effective_on="2024-05-01", principal=P
        )
    assert str(early.value) == (
        "全国集成电路行业产教融合共同体's recommending province 北京 (110000) took effect "
        "2024-06-01; a new one cannot take effect 2024-05-01, before it"
    )
    with pytest.raises(
        NothingToChange,
        match=r"already 北京 \(110000\), that of 单位.*, since "
        r"2024-06-01",
    ):
        memory_ledger.set_recommending_province(
            body.id, lead=UNIVERSITY, effective_on="2024-07-01", principal=P
        )
    assert events(memory_ledger, body) == before


def test_bad_input_is_refused_before_anything_is_read(memory_ledger):
    body = industry_body(memory_ledger)
    with pytest.raises(InvalidDate, match="2999-01-01 is in the future"):
        memory_ledger.set_recommending_province(
            body.id, lead=UNIVERSITY, effective_on="2999-01-01", principal=P
        )
    with pytest.raises(UnitNotFound, match=f"no member unit with credit code {credit_code(99)}"):
        memory_ledger.set_recommending_province(
            body.id, lead=credit_code(99), effective_on="2024-06-01", principal=P
        )
