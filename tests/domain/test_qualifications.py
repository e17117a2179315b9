"""A unit's qualifications (产教融合型企业, 双高…): who may hold which, dated periods that
never overlap, early ends, answers as known at a time, and the same answer on every
date whatever order the periods were recorded in."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import pytest
from freezegun import freeze_time
from hypothesis import given, settings
from hypothesis import strategies as st

from bootstrap import Ledger
from domain.errors import (
    CorrectionTooLate,
    InvalidChoice,
    InvalidDate,
    InvalidInput,
    NothingToChange,
    QualificationRefused,
    UnitDeregistered,
)
from domain.unit import Held, MemberUnit
from domain.values import Qualification, UnitType
from tests.factories import credit_code

P = "secretary:li"
LIST = hashlib.sha256(b"the first list").hexdigest()


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time("2025-06-30T02:00:00Z"):
        yield


def enterprise(ledger: Ledger, serial: int = 1) -> MemberUnit:
    return ledger.register_unit(
        code=credit_code(serial),
        name=f"苏州智能装备{serial}号有限公司",
        unit_type="enterprise",
        division="320506",
        principal=P,
    )


def qualify(ledger: Ledger, unit: MemberUnit, q: str, since: str, **more: str) -> MemberUnit:
    return ledger.qualify_unit(
        unit.id, qualification=q, since=since, source="第一批名单", principal=P, **more
    )


def test_a_period_is_recorded_with_its_source_and_document(memory_ledger):
    unit = enterprise(memory_ledger)
    qualify(memory_ledger, unit, "产教融合型企业", "2021-06-01", sha256=LIST.upper())
    [held] = memory_ledger.unit(unit.id).qualifications
    assert (held.qualification, held.since, held.until, held.source, held.sha256) == (
        Qualification.INTEGRATION_ENTERPRISE,
        date(2021, 6, 1),
        None,
        "第一批名单",
        LIST,
    )
    assert held.principal == P
    again = memory_ledger.unit(unit.id)
    assert again.qualifications_on(date(2021, 5, 31)) == []
    assert again.qualifications_on(date(2021, 6, 1)) == [Qualification.INTEGRATION_ENTERPRISE]


def test_only_the_unit_types_the_list_names_hold_a_qualification(memory_ledger):
    unit = enterprise(memory_ledger)
    before = memory_ledger.recorder.max_notification_id()
    with pytest.raises(QualificationRefused) as refused:
        qualify(memory_ledger, unit, "双高", "2019-12-10")
    assert str(refused.value) == (
        f"苏州智能装备1号有限公司 ({unit.code}) is registered as 企业; 双高计划学校 is held "
        "only by 职业学校（职业本科）、职业学校（高职）"
    )
    secondary = memory_ledger.register_unit(
        code=credit_code(2),
        name="苏州工业园区工业技术学校",
        unit_type="vocational_school",
        level="secondary",
        division="320506",
        principal=P,
    )
    with pytest.raises(QualificationRefused):
        qualify(memory_ledger, secondary, "double_high", "2019-12-10")
    assert memory_ledger.recorder.max_notification_id() == before + 1  # the registration
    qualify(memory_ledger, secondary, "双优", "2023-01-01")
    assert memory_ledger.unit(secondary.id).qualifications_on(date(2024, 1, 1)) == [
        Qualification.DOUBLE_EXCELLENT
    ]


@pytest.mark.parametrize(
    "given, error, words",
    [
        ({"qualification": "金牌企业"}, InvalidChoice, "qualification"),
        ({"since": "2030-01-01"}, InvalidDate, "first day held"),
        ({"until": "2021-05-31"}, InvalidInput, "is before the first"),
        ({"source": "  "}, InvalidInput, "source"),
        ({"sha256": "abc"}, InvalidInput, "64 hexadecimal digits"),
    ],
)
def test_bad_input_is_refused_in_words_and_writes_nothing(memory_ledger, given, error, words):
    unit = enterprise(memory_ledger)
    before = memory_ledger.recorder.max_notification_id()
    fields = {
        "qualification": "产教融合型企业",
        "since": "2021-06-01",
        "source": "第一批名单",
        **given,
    }
    with pytest.raises(error) as refused:
        memory_ledger.qualify_unit(unit.id, principal=P, **fields)
    assert words in str(refused.value)
    assert memory_ledger.recorder.max_notification_id() == before


def test_periods_of_one_qualification_never_overlap(memory_ledger):
    unit = enterprise(memory_ledger)
    qualify(memory_ledger, unit, "高新技术企业", "2019-01-01", until="2021-12-31")
    qualify(memory_ledger, unit, "上市公司", "2020-01-01")  # another qualification: fine
    with pytest.raises(QualificationRefused) as refused:
        qualify(memory_ledger, unit, "高企", "2021-12-31")
    assert "already recorded as 高新技术企业 from 2019-01-01 to 2021-12-31" in str(refused.value)
    qualify(memory_ledger, unit, "高企", "2022-01-01", until="2024-12-31")  # renewed
    qualify(memory_ledger, unit, "高企", "2015-01-01", until="2017-12-31")  # recorded late
    held = memory_ledger.unit(unit.id)
    assert [
        d
        for d in (2016, 2018, 2020, 2023, 2025)
        if Qualification.HIGH_TECH in held.qualifications_on(date(d, 6, 1))
    ] == [2016, 2020, 2023]


def test_an_early_end_closes_the_period_that_holds_the_day_before(memory_ledger):
    unit = enterprise(memory_ledger)
    qualify(memory_ledger, unit, "产教融合型企业", "2021-06-01")
    with pytest.raises(QualificationRefused) as refused:
        memory_ledger.end_qualification(
            unit.id, qualification="央企", ended_on="2024-07-01", reason="x", principal=P
        )
    assert "is not recorded as 中央企业 on 2024-06-30" in str(refused.value)
    memory_ledger.end_qualification(
        unit.id, qualification="产教融合型企业", ended_on="2024-07-01", reason="复核", principal=P
    )
    held = memory_ledger.unit(unit.id)
    assert held.qualifications_on(date(2024, 6, 30)) == [Qualification.INTEGRATION_ENTERPRISE]
    assert held.qualifications_on(date(2024, 7, 1)) == []
    with pytest.raises(NothingToChange):
        memory_ledger.end_qualification(
            unit.id, qualification="产教融合型企业", ended_on="2024-07-01", reason="x", principal=P
        )
    # a later period may now start once the first has ended
    qualify(memory_ledger, unit, "产教融合型企业", "2025-01-01")
    assert memory_ledger.unit(unit.id).qualifications_on(date(2025, 6, 1)) == [
        Qualification.INTEGRATION_ENTERPRISE
    ]


def test_answers_as_known_at_a_time_leave_out_what_was_recorded_later(memory_ledger):
    unit = enterprise(memory_ledger)
    with freeze_time("2024-01-10T02:00:00Z"):
        qualify(memory_ledger, unit, "上市公司", "2020-01-01")
    with freeze_time("2025-03-01T02:00:00Z"):
        memory_ledger.end_qualification(
            unit.id, qualification="上市公司", ended_on="2024-07-01", reason="退市", principal=P
        )
    held = memory_ledger.unit(unit.id)
    day = date(2024, 12, 31)
    assert held.qualifications_on(day) == []
    before_the_end = datetime(2025, 1, 1, tzinfo=UTC)
    assert held.qualifications_on(day, before_the_end) == [Qualification.LISTED_COMPANY]
    assert held.qualifications_on(day, datetime(2023, 1, 1, tzinfo=UTC)) == []


def test_a_deregistered_unit_gains_no_period_after_it_ended(memory_ledger):
    unit = enterprise(memory_ledger)
    memory_ledger.deregister_unit(unit.id, effective_on="2024-12-31", principal=P)
    with pytest.raises(UnitDeregistered):
        qualify(memory_ledger, unit, "上市公司", "2025-01-01")
    qualify(memory_ledger, unit, "上市公司", "2010-01-01", until="2024-12-30")


def test_a_type_correction_that_would_orphan_a_qualification_is_refused(memory_ledger):
    unit = enterprise(memory_ledger)
    qualify(memory_ledger, unit, "央企", "2020-01-01")
    with pytest.raises(CorrectionTooLate) as refused:
        memory_ledger.correct_registration(
            unit.id, unit_type="research_institute", reason="登记有误", principal=P
        )
    assert "is recorded as 中央企业, which 科研机构 cannot hold" in str(refused.value)


# --- the same answer on every date, whatever order the periods were recorded in -----

START = date(2018, 1, 1)


@st.composite
def periods(draw):
    """Non-overlapping periods of one qualification: (first day, last day or None)."""
    cuts = sorted(draw(st.sets(st.integers(0, 2000), min_size=2, max_size=8)))
    found = []
    for first, after in zip(cuts[::2], cuts[1::2], strict=False):
        last = None if after == cuts[-1] and draw(st.booleans()) else after - 1
        found.append((START + timedelta(first), None if last is None else START + timedelta(last)))
    return found


@settings(max_examples=40, deadline=None)
@given(periods(), st.randoms(use_true_random=False))
def test_whether_a_unit_holds_it_on_a_day_never_depends_on_recording_order(spans, random):
    unit = MemberUnit._create(
        MemberUnit.Registered,
        code=credit_code(1),
        name="x",
        unit_type=UnitType.ENTERPRISE,
        level=None,
        division="320506",
        principal=P,
    )
    shuffled = list(spans)
    random.shuffle(shuffled)
    for first, last in shuffled:
        unit.qualify(Qualification.HIGH_TECH, first, last, "名单", None, P)
    for offset in range(0, 2100, 7):
        day = START + timedelta(offset)
        expected = any(f <= day and (last is None or day <= last) for f, last in spans)
        assert (Qualification.HIGH_TECH in unit.qualifications_on(day)) is expected


def test_the_held_period_reads_its_last_day_as_known():
    held = Held(
        Qualification.LISTED_COMPANY,
        date(2020, 1, 1),
        None,
        "s",
        None,
        P,
        datetime(2021, 1, 1, tzinfo=UTC),
    )
    assert held.last_day() is None and held.holds_on(date(2030, 1, 1))
    assert not held.holds_on(date(2020, 6, 1), datetime(2020, 12, 31, tzinfo=UTC))
