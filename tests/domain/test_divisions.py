"""GB/T 2260 codes checked against the shipped list of divisions (ADR 0026)."""

from __future__ import annotations

from datetime import date

import pytest

from domain.divisions import (
    check_division,
    counties,
    coverage,
    division_name,
    full_name,
    history,
    is_valid,
)
from domain.errors import InvalidDivision, InvalidInput


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("110000", "北京市"),
        ("320500", "苏州市"),
        ("440300", "深圳市"),
        ("330106", "西湖区"),
        ("310115", "浦东新区"),
        ("810000", "香港特别行政区"),
    ],
)
def test_known_divisions_have_their_names(code, name):
    assert division_name(code) == name
    assert division_name(code, date(2024, 5, 1)) == name
    assert is_valid(code, date(2010, 1, 1))
    assert check_division(code, date(2024, 5, 1)) == name


def test_the_list_runs_from_1981_to_2024_at_least():
    first, last = coverage()
    assert first == 1981
    assert last >= 2024


def test_reports_show_the_province_and_prefecture():
    assert full_name("330106") == "浙江省杭州市西湖区"
    assert full_name("110101") == "北京市东城区"  # a municipality: no prefecture between
    assert full_name("320500") == "江苏省苏州市"
    assert full_name("110000") == "北京市"
    assert full_name("330299") is None


def test_a_county_created_recently_is_valid_from_its_year_only():
    # 临平区 was carved out of 余杭区 in 2021
    assert is_valid("330113", date(2021, 4, 9))
    assert division_name("330113", date(2024, 5, 1)) == "临平区"
    assert not is_valid("330113", date(2015, 3, 1))
    with pytest.raises(InvalidDivision) as refused:
        check_division("330113", date(2015, 3, 1))
    assert str(refused.value) == (
        "division 330113 (临平区) was created in 2021; on 2015-03-01 it did not exist yet "
        "(its area was in 330110 余杭区)"
    )


def test_a_provinces_counties_are_those_in_use_on_the_day():
    before, after = counties("33", date(2015, 6, 1)), counties("33", date(2024, 5, 1))
    assert "330104" in before and "330104" not in after  # 江干区, merged in 2021
    assert "330113" in after and "330113" not in before  # 临平区, created in 2021
    assert not any(code.endswith("00") for code in after)  # no prefectures, no province
    assert all(code.startswith("33") for code in after) and after == sorted(after)
    assert counties("81") == []  # Hong Kong has no counties in GB/T 2260


def test_an_abolished_code_is_valid_before_and_refused_after():
    # 江干区 was merged into 上城区 (and 钱塘区) in 2021
    assert division_name("330104", date(2015, 6, 1)) == "江干区"
    assert is_valid("330104", date(2021, 1, 1))  # the year of the change: either code
    assert not is_valid("330104", date(2022, 1, 1))
    assert not is_valid("330104")
    with pytest.raises(InvalidDivision) as refused:
        check_division("330104", date(2024, 5, 1))
    assert str(refused.value) == (
        "division 330104 (江干区) was abolished in 2021; on 2024-05-01 use 330102 上城区 "
        "or 330114 钱塘区"
    )


def test_an_older_abolition_points_to_the_division_in_force():
    # 崇文区 was merged into 东城区 in 2010
    assert division_name("110103", date(2005, 1, 1)) == "崇文区"
    with pytest.raises(
        InvalidDivision, match=r"110103 \(崇文区\) was abolished in 2010; .* 东城区"
    ):
        check_division("110103", date(2012, 1, 1))


def test_a_renamed_division_keeps_its_code_and_takes_the_name_of_the_day():
    # 邢台市桥西区 became 信都区 in 2020, keeping 130503
    assert division_name("130503", date(2019, 1, 1)) == "桥西区"
    assert division_name("130503", date(2020, 12, 31)) == "信都区"
    assert division_name("130503", date(2024, 5, 1)) == "信都区"
    assert [listing.name for listing in history("130503")] == ["桥西区", "信都区"]


def test_a_code_that_never_existed_is_refused_with_its_neighbours():
    assert not is_valid("330299")
    assert not is_valid("330299", date(2005, 1, 1))
    assert division_name("330299", date(2005, 1, 1)) is None
    with pytest.raises(InvalidDivision) as refused:
        check_division("330299", date(2024, 5, 1))
    message = str(refused.value)
    assert message.startswith(
        "division 330299 does not exist in GB/T 2260 (330200 is 宁波市; its counties are "
        "330203 海曙区, 330205 江北区, "
    )
    assert message.endswith(", …)")
    assert isinstance(refused.value, InvalidInput)  # the API answers 422


def test_an_unknown_province_and_a_malformed_code():
    with pytest.raises(InvalidDivision, match="no province has the code 99"):
        check_division("990000")
    with pytest.raises(InvalidDivision, match="must be 6 digits"):
        check_division("33029")
    assert not is_valid("33029")


def test_groupings_of_the_standard_are_not_divisions():
    # 110100 市辖区 groups Beijing's districts in the standard's tables; no unit is in it
    with pytest.raises(InvalidDivision, match="110000 is 北京市; its divisions are 110101 东城区"):
        check_division("110100")


def test_a_code_only_in_a_revision_of_the_standard_is_accepted_in_its_years():
    # the 2002-2006 revisions numbered Hainan's directly administered counties 4690xx
    assert division_name("469034", date(2004, 1, 1)) == "陵水黎族自治县"
    with pytest.raises(InvalidDivision, match=r"469034 \(陵水黎族自治县\) was in GB/T 2260 only"):
        check_division("469034", date(2015, 1, 1))


def test_dates_after_the_last_list_accept_the_divisions_in_use():
    assert is_valid("330113", date(2030, 1, 1))
    with pytest.raises(InvalidDivision, match="the GB/T 2260 list shipped ends with"):
        check_division("339999", date(2030, 1, 1))


def test_dates_before_the_first_list_accept_the_codes_of_the_first():
    assert division_name("110101", date(1949, 10, 1)) == "东城区"


def test_a_development_zones_statistical_code_is_refused_saying_what_it_is():
    # 苏州工业园区: 320576 in the statistics bureau's 2023 tables, 320571 in older ones
    for code in ("320576", "320571"):
        with pytest.raises(InvalidDivision) as refused:
            check_division(code, date(2024, 5, 1))
        message = str(refused.value)
        assert message.startswith(f"division {code} does not exist in GB/T 2260 (320500 is 苏州市")
        assert "statistics bureau's 统计用区划代码 number a development zone" in message
        assert "record the district or county the unit lies in" in message
    with pytest.raises(InvalidDivision) as refused:
        check_division("330299", date(2024, 5, 1))
    assert "development zone" not in str(refused.value)
