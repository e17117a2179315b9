"""MemberUnit through the ledger, in memory."""

from __future__ import annotations

from datetime import date

import pytest
from freezegun import freeze_time

from bootstrap import Ledger
from domain.errors import (
    AlreadyRegistered,
    EffectiveDateTooEarly,
    InvalidChoice,
    InvalidCreditCode,
    InvalidDate,
    InvalidDivision,
    NothingToChange,
    UnitDeregistered,
    UnitNotFound,
)
from domain.unit import MemberUnit
from domain.values import UnitType, VocationalLevel, unit_id_for
from tests.factories import credit_code, wrong_check

CODE = credit_code(1)


def register(ledger: Ledger, code: str = CODE, **overrides: str) -> MemberUnit:
    fields = {
        "code": code,
        "name": "苏州博世汽车部件有限公司",
        "unit_type": "enterprise",
        "division": "320506",
    }
    fields.update(overrides)
    return ledger.register_unit(**fields, principal="secretary:li")


def recorded(ledger: Ledger) -> int:
    return ledger.recorder.max_notification_id() or 0


def test_a_unit_is_registered_under_an_id_derived_from_its_credit_code(memory_ledger):
    unit = register(memory_ledger, code=CODE.lower())
    assert unit.id == unit_id_for(CODE)
    again = memory_ledger.unit(CODE)
    assert (again.code, again.name, again.unit_type, again.division) == (
        CODE,
        "苏州博世汽车部件有限公司",
        UnitType.ENTERPRISE,
        "320506",
    )
    assert memory_ledger.unit(str(unit.id)).code == CODE


def test_a_vocational_school_is_registered_with_its_level(memory_ledger):
    unit = register(
        memory_ledger, unit_type="vocational_school", level="Higher", name="苏州市职业大学"
    )
    assert unit.level is VocationalLevel.HIGHER


def test_registering_the_same_code_twice_is_refused_and_writes_nothing(memory_ledger):
    register(memory_ledger)
    before = recorded(memory_ledger)
    with pytest.raises(AlreadyRegistered, match=f"credit code {CODE} is already registered"):
        register(memory_ledger, name="另一个名字")
    assert recorded(memory_ledger) == before


@pytest.mark.parametrize(
    ("overrides", "error", "message"),
    [
        ({"code": wrong_check(CODE)}, InvalidCreditCode, "check character should be"),
        ({"division": "990101"}, InvalidDivision, "not one of the 34 provincial-level"),
        ({"unit_type": "company"}, InvalidChoice, "unit type must be one of enterprise"),
        ({"unit_type": "vocational_school"}, InvalidChoice, "a vocational school needs a level"),
        ({"level": "higher"}, InvalidChoice, "only vocational schools have a level"),
        ({"name": "  "}, InvalidChoice.__base__, "unit name must not be empty"),
    ],
)
def test_a_registration_with_bad_input_is_refused_naming_the_rule_and_writes_nothing(
    memory_ledger, overrides, error, message
):
    with pytest.raises(error, match=message):
        register(memory_ledger, **overrides)
    assert recorded(memory_ledger) == 0


@freeze_time("2025-07-15T02:00:00Z")
def test_rename_relocate_and_deregister_keep_the_history(memory_ledger):
    register(memory_ledger)
    memory_ledger.rename_unit(CODE, name="博世（苏州）", effective_on="2025-01-01", principal="p")
    memory_ledger.relocate_unit(CODE, division="320505", effective_on="2025-03-01", principal="p")
    memory_ledger.deregister_unit(CODE, effective_on="2025-06-30", principal="p")
    unit = memory_ledger.unit(CODE)
    assert unit.name_on(date(2024, 12, 31)) == "苏州博世汽车部件有限公司"
    assert unit.name_on(date(2025, 1, 1)) == "博世（苏州）"
    assert unit.division_on(date(2025, 2, 28)) == "320506"
    assert unit.province == "320000"
    assert unit.deregistered_on == date(2025, 6, 30)
    assert [type(e).__name__ for e in memory_ledger.events.get(unit.id)] == [
        "Registered",
        "Renamed",
        "Relocated",
        "Deregistered",
    ]


@freeze_time("2025-07-15T02:00:00Z")
def test_changes_to_a_unit_are_refused_when_they_cannot_be_true(memory_ledger):
    register(memory_ledger)
    memory_ledger.rename_unit(CODE, name="新名", effective_on="2025-03-01", principal="p")
    with pytest.raises(EffectiveDateTooEarly, match="already holds a change effective 2025-03-01"):
        memory_ledger.rename_unit(CODE, name="更新名", effective_on="2025-02-01", principal="p")
    with pytest.raises(NothingToChange, match="already named"):
        memory_ledger.rename_unit(CODE, name="新名", effective_on="2025-04-01", principal="p")
    with pytest.raises(InvalidDate, match="is in the future"):
        memory_ledger.rename_unit(CODE, name="未来", effective_on="2025-07-16", principal="p")
    memory_ledger.deregister_unit(CODE, effective_on="2025-06-30", principal="p")
    with pytest.raises(UnitDeregistered, match="was deregistered on 2025-06-30"):
        memory_ledger.relocate_unit(
            CODE, division="110105", effective_on="2025-07-01", principal="p"
        )


def test_an_unknown_unit_is_not_found(memory_ledger):
    code = credit_code(99)
    with pytest.raises(UnitNotFound, match=f"no member unit with credit code {code} "):
        memory_ledger.unit(code)  # named as typed, not by the id derived from it
    unit_id = "3f1c2d4e-0000-4000-8000-000000000000"
    with pytest.raises(UnitNotFound, match=f"no member unit {unit_id} is registered"):
        memory_ledger.unit(unit_id)
    with pytest.raises(InvalidCreditCode):
        memory_ledger.unit(wrong_check(credit_code(99)))
