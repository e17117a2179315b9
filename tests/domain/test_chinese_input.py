"""Chinese as a first language: every closed choice is read by its English value or
by any of its Chinese names (the table beside each enum), dates as people write them,
amounts with thousands separators, 元 and 万. Refusals name what is accepted."""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application import messages
from domain.agreement import AgreementKind, EntryKind, ResourceKind, Source, Status
from domain.charter import FOUNDING_RULES, Base, Majority, Matter, Outcome, Threshold, make_rules
from domain.council import Office
from domain.errors import InvalidAmount, InvalidChoice, InvalidDate
from domain.values import (
    EARLIEST_DATE,
    MAX_FEN,
    CommunityKind,
    ExitReason,
    Role,
    UnitType,
    VocationalLevel,
    bilingual,
    chinese,
    chinese_name,
    chinese_names,
    choices,
    format_fen,
    group_yuan,
    parse_choice,
    parse_date,
    parse_level,
    parse_yuan,
)
from projections.cost_sharing import KIND_NAMES, SOURCE_NAMES

quick = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ENUMS = [
    UnitType,
    VocationalLevel,
    CommunityKind,
    Role,
    ExitReason,
    AgreementKind,
    ResourceKind,
    Source,
    Status,
    EntryKind,
    Matter,
    Base,
    Threshold,
    Outcome,
    Office,
]
NAMES = [(member, name) for enum in ENUMS for member in enum for name in chinese_names(member)]


# --- closed choices -----------------------------------------------------------------------


@pytest.mark.parametrize("enum", ENUMS, ids=lambda e: e.__name__)
def test_every_member_of_every_choice_has_a_chinese_name_and_none_is_shared(enum):
    names = [name for member in enum for name in chinese_names(member)]
    assert all(chinese_names(member) for member in enum)
    assert len(names) == len(set(names))
    assert all((name == name.strip() and not name.isascii()) or "/" in name for name in names)


@pytest.mark.parametrize(("member", "name"), NAMES, ids=[n for _, n in NAMES])
def test_every_chinese_name_reads_as_its_member(member, name):
    enum = type(member)
    assert parse_choice(enum, name, "choice") is member
    assert parse_choice(enum, f" {name}\u3000", "choice") is member
    assert parse_choice(enum, "\u3000".join(name), "choice") is member


@pytest.mark.parametrize(
    ("enum", "text", "member"),
    [
        (UnitType, "企业", UnitType.ENTERPRISE),
        (UnitType, "职业院校", UnitType.VOCATIONAL_SCHOOL),
        (UnitType, "科研院所", UnitType.RESEARCH_INSTITUTE),
        (VocationalLevel, "中职", VocationalLevel.SECONDARY),
        (VocationalLevel, "高职", VocationalLevel.HIGHER),
        (VocationalLevel, "高等职业教育", VocationalLevel.HIGHER),
        (VocationalLevel, "高职专科", VocationalLevel.HIGHER),
        (VocationalLevel, "职业本科", VocationalLevel.UNDERGRADUATE),
        (VocationalLevel, "本科层次职业教育", VocationalLevel.UNDERGRADUATE),
        (CommunityKind, "行业产教融合共同体", CommunityKind.INDUSTRY),
        (CommunityKind, "共同体", CommunityKind.INDUSTRY),
        (CommunityKind, "市域产教联合体", CommunityKind.CITY),
        (CommunityKind, "市域", CommunityKind.CITY),
        (CommunityKind, "联合体", CommunityKind.CITY),
        (CommunityKind, "职业教育发展共同体", CommunityKind.DEVELOPMENT),
        (Office, "理事长", Office.CHAIR),
        (Office, "副理事长", Office.VICE_CHAIR),
        (Office, "秘书长", Office.SECRETARY_GENERAL),
        (Office, "常务理事", Office.EXECUTIVE_DIRECTOR),
        (Office, "理事", Office.DIRECTOR),
        (ResourceKind, "资金", ResourceKind.FUNDS),
        (ResourceKind, "设备", ResourceKind.EQUIPMENT),
        (ResourceKind, "场地", ResourceKind.SITE),
        (ResourceKind, "人员", ResourceKind.PERSONNEL),
        (ResourceKind, "技术", ResourceKind.TECHNOLOGY),
        (Source, "学校", Source.SCHOOL),
        (ExitReason, "清退", ExitReason.REMOVAL),
        (Matter, "清退", Matter.REMOVAL),
        (Threshold, "三分之二", Threshold.TWO_THIRDS),
    ],
)
def test_the_chinese_the_domain_uses_reads_as_its_member(enum, text, member):
    assert parse_choice(enum, text, "choice") is member


@pytest.mark.parametrize(
    ("enum", "text", "member"),
    [
        (UnitType, "vocational-school", UnitType.VOCATIONAL_SCHOOL),
        (UnitType, " Vocational School ", UnitType.VOCATIONAL_SCHOOL),
        (UnitType, "RESEARCH_INSTITUTE", UnitType.RESEARCH_INSTITUTE),
        (UnitType, "industry  organization", UnitType.INDUSTRY_ORGANIZATION),
        (Threshold, "more-than-half", Threshold.MORE_THAN_HALF),
        (Office, "Secretary General", Office.SECRETARY_GENERAL),
        (AgreementKind, "technology centre", AgreementKind.TECHNOLOGY_CENTRE),
        (UnitType, "ｅｎｔｅｒｐｒｉｓｅ", UnitType.ENTERPRISE),  # full-width, as an IME types it
    ],
)
def test_english_is_read_with_any_case_and_a_hyphen_or_space_for_the_underscore(enum, text, member):
    assert parse_choice(enum, text, "choice") is member


@pytest.mark.parametrize("enum", ENUMS, ids=lambda e: e.__name__)
def test_a_refusal_lists_every_choice_with_its_chinese_display_name(enum):
    with pytest.raises(InvalidChoice) as refused:
        parse_choice(enum, "xyz", "the choice")
    listed = ", ".join(f"{m.value} ({chinese_names(m)[0]})" for m in enum)
    assert str(refused.value) == f"the choice must be one of {listed}; got 'xyz'"


def test_the_unit_type_refusal_reads_as_a_secretary_would_want_it():
    with pytest.raises(InvalidChoice) as refused:
        parse_choice(UnitType, "公司", "unit type")
    assert str(refused.value).startswith(
        "unit type must be one of enterprise (企业), university (高等学校), "
        "vocational_school (职业学校), industry_organization (行业组织), "
    )
    assert str(refused.value).endswith("other (其他); got '公司'")


@pytest.mark.parametrize("text", ["", "  ", "企", "企业企业", "enter prise", "_", "资金"])
def test_text_that_names_no_member_is_refused(text):
    with pytest.raises(InvalidChoice):
        parse_choice(UnitType, text, "unit type")


def test_a_level_is_read_in_chinese():
    assert parse_level(UnitType.VOCATIONAL_SCHOOL, "中职") is VocationalLevel.SECONDARY
    assert parse_level(UnitType.VOCATIONAL_SCHOOL, " 职业本科 ") is VocationalLevel.UNDERGRADUATE


def test_a_majority_rule_is_read_in_chinese_with_either_colon():
    rules = make_rules(
        FOUNDING_RULES, majorities={"清退": "全体席位：三分之二", "一般事项": "出席:过半数"}
    )
    assert rules.majorities[Matter.REMOVAL] == Majority(Base.SEATS, Threshold.TWO_THIRDS)
    assert rules.majorities[Matter.ORDINARY] == Majority(Base.PRESENT, Threshold.MORE_THAN_HALF)


def test_the_chinese_names_are_registered_whole_and_once():
    class Colour(StrEnum):
        RED = "red"
        BLUE = "blue"

    with pytest.raises(ValueError, match="no Chinese name for blue"):
        chinese(Colour, {Colour.RED: ("红",)})
    with pytest.raises(ValueError, match="'红' is blank, padded or taken"):
        chinese(Colour, {Colour.RED: ("红",), Colour.BLUE: ("红",)})
    with pytest.raises(ValueError, match="padded"):
        chinese(Colour, {Colour.RED: (" 红",), Colour.BLUE: ("蓝",)})
    chinese(Colour, {Colour.RED: ("红", "红色"), Colour.BLUE: ("蓝",)})
    assert (chinese_name(Colour.RED), chinese_names(Colour.RED)) == ("红", ("红", "红色"))
    assert parse_choice(Colour, "红色", "colour") is Colour.RED


def test_the_reports_labels_and_the_help_come_from_the_same_table():
    assert KIND_NAMES[ResourceKind.FUNDS] == "资金 funds" == bilingual(ResourceKind.FUNDS)
    assert {s: f"{chinese_name(s)} {s.value}" for s in Source} == SOURCE_NAMES
    assert SOURCE_NAMES[Source.ENTERPRISE] == "企业 enterprise"
    assert choices(CommunityKind, last=" or ") == (
        "industry 行业产教融合共同体, city 市域产教联合体, development 职业教育发展共同体, "
        "vocational_group 职业教育集团 or alliance 产教融合联盟"
    )
    described = {
        f.name: f.description for f in messages.fields(messages.RegisterUnit) if f.description
    }
    assert described["type"].startswith("enterprise 企业, university 高等学校, ")
    assert "higher 高职" in described["level"]
    for command, field, enum in (
        (messages.FoundCommunity, "kind", CommunityKind),
        (messages.AdmitMember, "role", Role),
        (messages.ExitMember, "reason", ExitReason),
        (messages.AssignSeat, "office", Office),
        (messages.RecordResolution, "matter", Matter),
        (messages.DraftAgreement, "kind", AgreementKind),
        (messages.RecordContribution, "kind", ResourceKind),
    ):
        [description] = [f.description for f in messages.fields(command) if f.name == field]
        assert description == choices(enum, last=" or ")
        assert all(f"{m.value} {chinese_name(m)}" in description for m in enum)


# --- dates ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "2024-03-15",
        "2024-3-15",
        "2024-03-15",
        "2024/3/15",
        "2024/03/15",
        "2024.3.15",
        "2024年3月15日",
        "2024年03月15日",
        " 2024年3月15日 ",
        "2024 年 3 月 15 日",
        "\u30002024/3/15\u3000",
    ],
)
def test_a_date_is_read_as_people_write_it(text):
    assert parse_date(text) == date(2024, 3, 15)


@quick
@given(st.dates(min_value=EARLIEST_DATE, max_value=date(9999, 12, 31)))
def test_every_written_form_of_a_date_reads_as_that_date(day):
    y, m, d = day.year, day.month, day.day
    for text in (f"{y}-{m}-{d}", f"{y}/{m}/{d}", f"{y}.{m}.{d}", f"{y}年{m}月{d}日"):
        assert parse_date(text) == day


@pytest.mark.parametrize(
    "text", ["2024/2/30", "2023年2月29日", "2024.13.1", "2024-3/15", "2024年3月", "3/15/2024"]
)
def test_a_date_that_is_not_one_is_refused_naming_the_forms_accepted(text):
    with pytest.raises(InvalidDate) as refused:
        parse_date(text, "founding date")
    assert str(refused.value) == (
        "founding date must be a calendar date written YYYY-MM-DD (or as 2024-3-15, "
        f"2024/3/15, 2024.3.15 or 2024年3月15日); got {text!r}"
    )


def test_a_written_date_before_1949_is_still_refused():
    with pytest.raises(InvalidDate, match="is before 1949-10-01"):
        parse_date("1949年9月30日")


# --- amounts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("1,250,000.00", 125_000_000),
        ("1,250,000", 125_000_000),
        ("1，250，000.50", 125_000_050),
        ("999,999,999,999.99", MAX_FEN),
        ("1,000", 100_000),
        ("100", 10_000),
        ("100元", 10_000),
        ("1,234.5 元", 123_450),
        ("125万", 1_250_000_00),
        ("125万元", 1_250_000_00),
        ("12.5万", 125_000_00),
        ("12.5 万元", 125_000_00),
        ("0.000001万", 1),
        ("1,250万", 12_500_000_00),
        ("99999999.999999万", MAX_FEN),
        ("\u3000125万\u3000", 1_250_000_00),
    ],
)
def test_an_amount_is_read_as_people_write_it(text, fen):
    assert parse_yuan(text) == fen


@pytest.mark.parametrize(
    ("text", "fen"), [("-1,250,000.00", -125_000_000), ("-12.5万", -12_500_000), ("-0万", 0)]
)
def test_a_negative_amount_written_so_is_read_only_where_negatives_are_allowed(text, fen):
    assert parse_yuan(text, allow_negative=True) == fen
    if fen:
        with pytest.raises(InvalidAmount, match="amount must not be negative"):
            parse_yuan(text)


@pytest.mark.parametrize(
    "text", ["1,25,000", "12,50,000.00", "1,0000", "1000,000", ",100", "100,", "1,,000", "1，25万"]
)
def test_thousands_separators_out_of_their_groups_of_three_are_refused(text):
    with pytest.raises(InvalidAmount) as refused:
        parse_yuan(text)
    assert str(refused.value) == (
        f"amount {text!r} has its thousands separators in the wrong places: commas go "
        'between groups of three digits, as in "1,250,000.00"'
    )


@pytest.mark.parametrize("text", ["1.2345678万", "0.0000001万元"])
def test_an_amount_in_wan_finer_than_a_fen_is_refused(text):
    with pytest.raises(InvalidAmount, match="has more than six decimal places of 万"):
        parse_yuan(text)


@pytest.mark.parametrize("text", ["1.234元", "1,000.001"])
def test_an_amount_in_yuan_finer_than_a_fen_is_refused(text):
    with pytest.raises(InvalidAmount, match="has more than two decimal places"):
        parse_yuan(text)


@pytest.mark.parametrize(
    "text", ["100000000万", "1,000,000,000,000.00", "100000000.000001万", "-100000000万"]
)
def test_an_amount_over_the_maximum_is_refused_however_written(text):
    with pytest.raises(InvalidAmount, match="is larger than the ledger accepts"):
        parse_yuan(text, allow_negative=True)


@pytest.mark.parametrize(
    "text", ["万", "元", "万元", "125千", "1.5万万", "125元万", "¥125", "1e2万", ".5万", "5.万"]
)
def test_other_spellings_are_refused_with_examples_of_what_is_read(text):
    with pytest.raises(InvalidAmount) as refused:
        parse_yuan(text)
    assert re.search(
        r'such as "1234.50", "1,250,000.00", "125万" or "12.5万元"', str(refused.value)
    )


@pytest.mark.parametrize("value", [1.5, 125, None])
def test_an_amount_that_is_not_text_is_still_refused(value):
    with pytest.raises(InvalidAmount, match="amount must be a decimal string of yuan"):
        parse_yuan(value)


@quick
@given(st.integers(-MAX_FEN, MAX_FEN))
def test_grouped_and_wan_forms_of_every_amount_read_back_exactly(fen):
    assert parse_yuan(format_fen(fen, grouped=True), allow_negative=True) == fen
    sign = "-" if fen < 0 else ""
    wan, rest = divmod(abs(fen), 1_000_000)
    assert parse_yuan(f"{sign}{wan}.{rest:06d}万", allow_negative=True) == fen
    assert parse_yuan(f"{format_fen(fen)}元", allow_negative=True) == fen


@pytest.mark.parametrize(
    ("fen", "plain", "grouped"),
    [
        (0, "0.00", "0.00"),
        (99_999, "999.99", "999.99"),
        (100_000, "1000.00", "1,000.00"),
        (125_000_000, "1250000.00", "1,250,000.00"),
        (-125_000_050, "-1250000.50", "-1,250,000.50"),
        (MAX_FEN, "999999999999.99", "999,999,999,999.99"),
    ],
)
def test_amounts_are_grouped_in_thousands_only_when_asked(fen, plain, grouped):
    assert format_fen(fen) == plain
    assert format_fen(fen, grouped=True) == grouped
    assert group_yuan(plain) == grouped


@pytest.mark.parametrize("text", ["", "n/a", "1,000.00", "12.5万"])
def test_grouping_leaves_what_is_not_a_plain_amount_as_it_is(text):
    assert group_yuan(text) == text
