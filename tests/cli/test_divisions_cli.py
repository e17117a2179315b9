"""Divisions are checked against the published GB/T 2260 list (ADR 0026), through the
real entry point on both stores: a code that never existed is refused and records
nothing; a code abolished since is accepted for a date it was in force and refused,
naming its successors, for a later one; answers carry the division's name."""

from __future__ import annotations

import json

import pytest
from freezegun import freeze_time

from tests.factories import credit_code

FIRM, OTHER = credit_code(731, division="330106"), credit_code(732, division="330106")

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def frozen():
    with freeze_time("2025-07-15T02:00:00Z"):
        yield


def ok(run, *args: str) -> dict:
    code, out, err = run(*args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def register(run, code: str, division: str) -> tuple[int, str, str]:
    return run(
        "unit", "register", "--code", code, "--name", "杭州某公司", "--type", "enterprise",
        "--division", division, "--format", "json",
    )  # fmt: skip


def test_a_code_that_never_existed_is_refused_and_records_nothing(run):
    code, out, err = register(run, FIRM, "330299")
    assert code != 0 and out == ""
    assert "division 330299 does not exist in GB/T 2260 (330200 is 宁波市" in err
    assert "330203 海曙区" in err
    code, _, err = run("unit", "show", FIRM, "--format", "json")
    assert code != 0  # nothing was recorded


def test_a_development_zones_statistical_code_is_refused_saying_what_it_is(run):
    code, _, err = register(run, FIRM, "320576")  # 苏州工业园区 in the 统计用区划代码
    assert code != 0
    assert "development zone" in err and "320506 吴中区" in err


def test_a_unit_is_registered_with_its_divisions_name(run):
    unit = json.loads(register(run, FIRM, "330106")[1])
    assert (unit["division"], unit["division_name"]) == ("330106", "西湖区")
    assert unit["province_name"] == "浙江"  # every field kept


def test_an_abolished_code_is_accepted_for_a_date_it_was_in_force(run):
    register(run, FIRM, "330106")
    register(run, OTHER, "330106")
    moved = ok(
        run, "unit", "relocate", FIRM, "--division", "330104", "--effective-on", "2020-06-01"
    )
    assert moved["division"] == "330104"
    assert moved["division_name"] == "江干区"  # abolished in 2021: its last name

    code, _, err = run(
        "unit", "relocate", OTHER, "--division", "330104", "--effective-on", "2024-05-01"
    )
    assert code != 0
    assert "division 330104 (江干区) was abolished in 2021" in err
    assert "on 2024-05-01 use 330102 上城区 or 330114 钱塘区" in err
    assert ok(run, "unit", "show", OTHER)["division"] == "330106"


def test_a_body_is_founded_with_a_code_valid_on_its_founding_date(run):
    body = ok(
        run, "community", "found", "--name", "江干区产教联合体", "--kind", "city",
        "--industry", "电子商务", "--division", "330104", "--founded-on", "2019-03-01",
    )  # fmt: skip
    assert (body["division"], body["division_name"]) == ("330104", "江干区")
    code, _, err = run(
        "community", "found", "--name", "钱塘区产教联合体", "--kind", "city",
        "--industry", "电子商务", "--division", "330114", "--founded-on", "2019-03-01",
    )  # fmt: skip
    assert code != 0
    assert "division 330114 (钱塘区) was created in 2021; on 2019-03-01 it did not exist" in err


def test_member_lists_name_each_division_as_it_was_on_the_date(run):
    register(run, FIRM, "330106")
    body = ok(
        run, "community", "found", "--name", "杭州联合体", "--kind", "city",
        "--industry", "电子商务", "--division", "330100", "--founded-on", "2019-03-01",
    )  # fmt: skip
    ok(run, "member", "admit", body["id"], FIRM, "--role", "lead", "--effective-on", "2019-04-01")
    ok(run, "unit", "relocate", FIRM, "--division", "330104", "--effective-on", "2020-06-01")
    for day, division, name in (
        ("2020-01-01", "330106", "西湖区"),
        ("2020-07-01", "330104", "江干区"),
    ):
        (member,) = ok(run, "member", "list", body["id"], "--as-of", day)["members"]
        assert (member["division"], member["division_name"]) == (division, name)
        assert member["province_name"] == "浙江"
