"""Divisions over HTTP (ADR 0026): a code that is not in the published GB/T 2260 list
is a 422 problem that says why and records nothing; answers name the division."""

from __future__ import annotations

from freezegun import freeze_time

from tests.factories import credit_code


def _unit(division: str, serial: int = 741) -> dict[str, str]:
    return {
        "code": credit_code(serial, division="330106"),
        "name": "杭州某公司",
        "type": "enterprise",
        "division": division,
    }


@freeze_time("2025-07-15T02:00:00Z")
def test_a_code_that_never_existed_is_a_problem_and_records_nothing(api):
    before = api.position()
    problem = api.post("/units", _unit("330299"), status=422)
    assert problem["type"] == "urn:chanjiao:problem:invalid-division"
    assert problem["detail"].startswith("division 330299 does not exist in GB/T 2260")
    assert api.position() == before


@freeze_time("2025-07-15T02:00:00Z")
def test_an_abolished_code_follows_the_relocations_date(api):
    unit = api.post("/units", _unit("330106"))
    assert (unit["division"], unit["division_name"]) == ("330106", "西湖区")
    path = f"/units/{unit['id']}/relocate"
    before = api.position()
    problem = api.post(path, {"division": "330104", "effective_on": "2024-05-01"}, status=422)
    assert (
        "was abolished in 2021; on 2024-05-01 use 330102 上城区 or 330114 钱塘区"
        in (problem["detail"])
    )
    assert api.position() == before
    moved = api.post(path, {"division": "330104", "effective_on": "2020-06-01"}, status=200)
    assert (moved["division"], moved["division_name"]) == ("330104", "江干区")
    body = api.post(
        "/communities",
        {
            "name": "江干区产教联合体",
            "kind": "city",
            "industry": "电子商务",
            "division": "330104",
            "founded_on": "2019-03-01",
        },
    )
    assert (body["division"], body["division_name"]) == ("330104", "江干区")
    assert api.get(f"/communities/{body['id']}")["division_name"] == "江干区"
