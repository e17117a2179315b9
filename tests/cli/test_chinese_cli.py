"""A secretary who types Chinese: choices by their Chinese names, dates as people write
them (2024-3-15, 2024年3月15日), amounts with thousands separators or in 万. Through the
real entry point, on both stores; what the ledger recorded is read back as JSON."""

from __future__ import annotations

import csv
import io
import json

import pytest
from freezegun import freeze_time

from tests.factories import credit_code

FIRM, SCHOOL, COLLEGE = credit_code(701), credit_code(702, prefix="12"), credit_code(703)

pytestmark = pytest.mark.usefixtures("frozen")


@pytest.fixture
def frozen():
    with freeze_time("2025-07-15T02:00:00Z"):
        yield


def ok(run, *args: str) -> dict:
    code, out, err = run(*args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def test_a_body_is_recorded_from_chinese_choices_dates_and_amounts(run):
    firm = ok(
        run,
        "unit",
        "register",
        "--code",
        FIRM,
        "--name",
        "深圳某电子有限公司",
        "--type",
        "企业",
        "--division",
        "440305",
    )
    assert firm["type"] == "enterprise"
    school = ok(
        run,
        "unit",
        "register",
        "--code",
        SCHOOL,
        "--name",
        "深圳职业技术大学",
        "--type",
        "职业院校",
        "--level",
        "高职专科",
        "--division",
        "440305",
    )
    assert (school["type"], school["level"]) == ("vocational_school", "higher")
    college = ok(
        run,
        "unit",
        "register",
        "--code",
        COLLEGE,
        "--name",
        "深圳某研究院",
        "--type",
        " research institute ",
        "--division",
        "440305",
    )
    assert college["type"] == "research_institute"

    body = ok(
        run,
        "community",
        "found",
        "--name",
        "深圳电子信息市域产教联合体",
        "--kind",
        "市域",
        "--industry",
        "电子信息",
        "--division",
        "440300",
        "--founded-on",
        "2024-3-15",
    )
    assert (body["kind"], body["founded_on"]) == ("city", "2024-03-15")
    community = body["id"]

    for unit, role in ((FIRM, "牵头单位"), (SCHOOL, "成员单位"), (COLLEGE, "Participant")):
        ok(run, "member", "admit", community, unit, "--role", role, "--effective-on", "2024/4/1")
    members = ok(run, "member", "list", community, "--as-of", "2024年4月1日")["members"]
    assert {m["code"]: m["role"] for m in members} == {
        FIRM: "lead",
        SCHOOL: "participant",
        COLLEGE: "participant",
    }

    for unit, office in ((FIRM, "理事长"), (SCHOOL, "副理事长"), (COLLEGE, "秘书长")):
        ok(
            run,
            "council",
            "seat",
            "assign",
            community,
            unit,
            "--representative",
            "张三",
            "--office",
            office,
            "--effective-on",
            "2024.4.2",
        )
    seats = ok(run, "council", "seat", "list", community, "--as-of", "2024-04-02")["seats"]
    assert sorted(s["office"] for s in seats) == ["chair", "secretary_general", "vice_chair"]

    code, out, err = run(
        "council",
        "meeting",
        "record",
        community,
        "--held-on",
        "2024年5月6日",
        "--present",
        FIRM,
        SCHOOL,
        COLLEGE,
        "--format",
        "json",
    )
    assert code == 0, err
    meeting = json.loads(out)["meeting"]
    resolution = ok(
        run,
        "council",
        "resolution",
        "record",
        community,
        "--meeting",
        str(meeting),
        "--matter",
        "协议",
        "--title",
        "批准共建实训基地",
        "--for",
        "3",
        "--against",
        "0",
        "--abstain",
        "0",
    )
    assert (resolution["matter"], resolution["outcome"]) == ("agreement", "adopted")

    agreement = ok(
        run,
        "agreement",
        "draft",
        community,
        "--title",
        "电子信息共享实训基地",
        "--kind",
        "共享实训基地",
        "--party",
        f"{FIRM}:60%:50%",
        "--party",
        f"{SCHOOL}:40%:50%",
        "--drafted-on",
        "2024年5月1日",
    )
    assert agreement["kind"] == "training_base"
    ok(run, "agreement", "approve", agreement["id"], "--resolution", resolution["number"])

    recorded = []
    for unit, kind, amount, on in (
        (FIRM, "资金", "1,250,000.00", "2024年6月1日"),
        (FIRM, "设备", "125万", "2024-6-2"),
        (SCHOOL, "场地", "12.5万元", "2024/6/3"),
        (SCHOOL, "人员", "1，000元", "2024.6.4"),
    ):
        entry = ok(
            run,
            "agreement",
            "contribute",
            agreement["id"],
            unit,
            "--kind",
            kind,
            "--amount",
            amount,
            "--contributed-on",
            on,
            "--description",
            f"{kind}投入",
        )
        recorded.append((entry["kind"], entry["amount"], entry["on"]))
    assert recorded == [
        ("funds", "1250000.00", "2024-06-01"),
        ("equipment", "1250000.00", "2024-06-02"),
        ("site", "125000.00", "2024-06-03"),
        ("personnel", "1000.00", "2024-06-04"),
    ]

    # JSON and CSV keep the plain decimal, for machines; the table groups the thousands.
    summary = ok(run, "report", "investment", community, "--as-of", "2024年12月31日")
    assert summary["total_contributed"] == "2626000.00"
    assert {s["key"]: s["amount"] for s in summary["by_kind"]}["funds"] == "1250000.00"
    code, out, err = run(
        "report", "investment", community, "--as-of", "2024-12-31", "--format", "csv"
    )
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out.removeprefix("\ufeff"))))
    assert {r["key"]: r["amount"] for r in rows if r["dimension"] == "kind"}["funds"] == (
        "1250000.00"
    )
    code, out, err = run("report", "investment", community, "--as-of", "2024-12-31")
    assert code == 0, err
    assert "2,626,000.00" in out and "1,250,000.00" in out and "资金 funds" in out
    assert "2626000.00" not in out
    code, out, err = run("agreement", "show", agreement["id"])
    assert code == 0, err
    assert "1,250,000.00" in out and "125,000.00" in out

    # Tables head their columns in Chinese, the English under it, and show each choice
    # in both languages.
    code, out, err = run("member", "list", community, "--as-of", "2024-12-31")
    assert code == 0, err
    lines = out.splitlines()
    heads = next(i for i, line in enumerate(lines) if "名称" in line)
    assert [cell.strip() for cell in lines[heads].strip("┃ ").split("┃")] == [
        "信用代码",
        "名称",
        "类型",
        "省份",
        "角色",
        "起始",
    ]
    assert [cell.strip() for cell in lines[heads + 1].strip("┃ ").split("┃")] == [
        "code",
        "name",
        "type",
        "province",
        "role",
        "since",
    ]
    assert "牵头单位 lead" in out and "职业学校 vocational_school" in out
    code, out, err = run("council", "seat", "list", community, "--as-of", "2024-04-02")
    assert code == 0, err
    assert "理事长 chair" in out and "秘书长 secretary_general" in out
    code, out, err = run("community", "list")
    assert code == 0, err
    assert "市域产教联合体 city" in out
    code, out, err = run("council", "resolution", "list", community)
    assert code == 0, err
    assert "编号" in out and "协议 agreement" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--type", "公司"),
            "unit type must be one of enterprise (企业), university (高等学校), "
            "vocational_school (职业学校)",
        ),
        (("--type", "企业", "--level", "高职"), "only vocational schools have a level"),
    ],
)
def test_a_choice_that_is_not_one_is_refused_naming_the_chinese_choices(run, args, message):
    code, out, err = run(
        "unit", "register", "--code", FIRM, "--name", "某公司", "--division", "440305", *args
    )
    assert (code, out) == (2, "") and message in err


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("1,25,000", "amount '1,25,000' has its thousands separators in the wrong places"),
        ("1.2345678万", "has more than six decimal places of 万"),
        ("100.001元", "has more than two decimal places"),
    ],
)
def test_an_amount_people_would_not_write_is_refused_naming_the_rule(run, amount, message):
    code, _, err = run(
        "agreement",
        "cost",
        "00000000-0000-0000-0000-000000000000",
        "--amount",
        amount,
        "--incurred-on",
        "2024-3-15",
        "--description",
        "x",
    )
    assert code == 2 and message in err


def test_every_command_is_titled_in_chinese_before_its_english_summary(run, capsys):
    import argparse
    import unicodedata

    from cli.main import parser

    def commands(p: argparse.ArgumentParser, path: str = ""):
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                listed = {choice.dest: choice.help for choice in action._choices_actions}
                for name, sub in action.choices.items():
                    yield f"{path} {name}".strip(), listed[name], sub.description
                    yield from commands(sub, f"{path} {name}")

    found = list(commands(parser()))
    assert len(found) > 60
    for path, listed, description in found:
        title, _, english = listed.partition("：")
        assert english and listed == description, path
        assert all(unicodedata.east_asian_width(c) == "W" for c in title.replace("HTTP ", "")), path
    with pytest.raises(SystemExit) as done:
        run("member", "admit", "--help")
    assert done.value.code == 0
    assert "吸收成员：admit a unit to a community" in capsys.readouterr().out
