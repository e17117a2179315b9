"""`community show --as-of` (an industry body's lead trio) and `community recommend`
(its recommending province), on both stores."""

from __future__ import annotations

import json

import pytest

from tests.factories import credit_code

ENTERPRISE = credit_code(1, division="320506")
UNIVERSITY = credit_code(2, prefix="12", division="110108")
PARTICIPANT = credit_code(3, division="330106")


@pytest.fixture
def body(run) -> str:
    for code, name, unit_type, division in [
        (ENTERPRISE, "苏州芯片有限公司", "enterprise", "320506"),
        (UNIVERSITY, "北京理工大学", "university", "110108"),
        (PARTICIPANT, "杭州封装有限公司", "enterprise", "330106"),
    ]:
        assert (
            run(
                "unit",
                "register",
                "--code",
                code,
                "--name",
                name,
                "--type",
                unit_type,
                "--division",
                division,
            )[0]
            == 0
        )
    code, out, err = run(
        "community",
        "found",
        "--name",
        "全国集成电路行业产教融合共同体",
        "--kind",
        "industry",
        "--industry",
        "集成电路",
        "--division",
        "320500",
        "--founded-on",
        "2024-01-01",
        "--format",
        "json",
    )
    assert code == 0, err
    body = json.loads(out)["id"]
    for unit, role, on in [
        (ENTERPRISE, "lead", "2024-02-01"),
        (UNIVERSITY, "lead", "2024-03-01"),
        (PARTICIPANT, "participant", "2024-03-01"),
    ]:
        assert run("member", "admit", body, unit, "--role", role, "--effective-on", on)[0] == 0
    return body


def test_show_gives_the_leads_and_what_is_missing_since_when(run, body):
    code, out, err = run("community", "show", body, "--as-of", "2024-02-15", "--format", "json")
    assert code == 0, err
    shown = json.loads(out)
    assert (shown["as_of"], shown["lead_trio_complete"]) == ("2024-02-15", False)
    assert (shown["leads"]["enterprise"]["code"], shown["leads"]["enterprise"]["since"]) == (
        ENTERPRISE,
        "2024-02-01",
    )
    assert shown["leads"]["university"] is None and shown["leads"]["vocational_school"] is None
    assert shown["missing"] == [
        {"type": "university", "since": "2024-01-01"},
        {"type": "vocational_school", "since": "2024-01-01"},
    ]
    assert shown["recommending_province"] is None
    code, out, _ = run("community", "show", body, "--as-of", "2024-02-15")
    assert code == 0
    assert "leads on 2024-02-15 (trio incomplete)" in out
    assert "苏州芯片有限公司" in out and "missing" in out
    assert "牵头类型" in out and "企业 enterprise" in out and "高等学校 university" in out


def test_recommend_records_the_leads_province_and_show_answers_it(run, body):
    code, out, err = run(
        "community",
        "recommend",
        body,
        "--lead",
        UNIVERSITY,
        "--effective-on",
        "2024-06-01",
        "--format",
        "json",
    )
    assert code == 0, err
    answer = json.loads(out)
    assert answer["as_of"] == "2024-06-01"
    chosen = answer["recommending_province"]
    assert (chosen["province"], chosen["province_name"], chosen["code"], chosen["since"]) == (
        "110000",
        "北京",
        UNIVERSITY,
        "2024-06-01",
    )
    code, out, _ = run("report", "provinces", body, "--as-of", "2024-06-01", "--format", "json")
    report = json.loads(out)
    assert (
        report["home_province"],
        report["home_basis"],
        report["outside_home"],
        report["outside_home_bp"],
    ) == ("110000", "recommending_province", 2, 6667)
    code, out, _ = run("community", "show", body, "--as-of", "2024-06-01")
    assert "recommending province 北京 (110000), that of 北京理工大学, since 2024-06-01" in out
    # the lead's province was recorded as the body's: not corrected away underneath it
    code, out, err = run(
        "unit", "correct", UNIVERSITY, "--division", "320506", "--reason", "区划录错"
    )
    assert (code, out) == (4, "")
    assert (
        "the recommending province of 全国集成电路行业产教融合共同体 is that of 北京理工大学" in err
    )
    code, _, err = run(
        "unit", "correct", UNIVERSITY, "--division", "110105", "--reason", "区划录错"
    )
    assert code == 0, err  # another district of Beijing: the province stays


def test_a_participant_is_a_conflict_and_a_bad_date_invalid_input(run, body):
    code, out, err = run(
        "community", "recommend", body, "--lead", PARTICIPANT, "--effective-on", "2024-06-01"
    )
    assert (code, out) == (4, "")
    assert err == (
        f"chanjiao: 杭州封装有限公司 ({PARTICIPANT}) is a participant, not a lead, of "
        "全国集成电路行业产教融合共同体 on 2024-06-01; the recommending province is the "
        "province of its lead enterprise, university or vocational school\n"
    )
    code, _, err = run(
        "community", "recommend", body, "--lead", UNIVERSITY, "--effective-on", "2024-13-01"
    )
    assert code == 2
    assert "effective date must be a calendar date written YYYY-MM-DD (or as 2024-3-15, " in err
    assert err.endswith("; got '2024-13-01'\n")
    code, out, _ = run("history", body, "--format", "json")
    assert "recommending_province_set" not in out
