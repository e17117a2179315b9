"""Value objects: every parser either returns a checked value or refuses the text
with an ``InvalidInput`` whose message names the rule broken.

The credit-code tests check ``domain.values`` against an independent oracle written
out here (alphabet and weights copied from GB 32100-2015 / docs/domain.md), and
against codes published by real organisations.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from domain.errors import (
    InvalidAmount,
    InvalidChoice,
    InvalidCreditCode,
    InvalidDate,
    InvalidDivision,
    InvalidInput,
    InvalidText,
)
from domain.values import (
    EARLIEST_DATE,
    MAX_FEN,
    MAX_TEXT,
    PROVINCES,
    CommunityKind,
    ExitReason,
    Role,
    UnitType,
    VocationalLevel,
    credit_code_check_character,
    format_fen,
    parse_choice,
    parse_credit_code,
    parse_date,
    parse_division,
    parse_level,
    parse_text,
    parse_timestamp,
    parse_yuan,
    province_name,
    province_of,
    unit_id_for,
)

UTC = UTC
CHINA = ZoneInfo("Asia/Shanghai")

quick = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
few = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- the independent oracle (GB 32100-2015, written out, not imported) ------------------

GB32100_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, S, V, Z
GB32100_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]  # 3**i mod 31
REFUSED_LETTERS = "IOSVZ"


def oracle_check_character(first17: str) -> str:
    total = 0
    for char, weight in zip(first17, GB32100_WEIGHTS, strict=True):
        total += GB32100_ALPHABET.index(char) * weight
    return GB32100_ALPHABET[(31 - total % 31) % 31]


code_bodies = st.text(alphabet=GB32100_ALPHABET, min_size=17, max_size=17)
valid_codes = code_bodies.map(lambda body: body + oracle_check_character(body))

# Published unified social credit codes of well-known organisations.
REAL_CODES = {
    "914403001922038216": "华为技术有限公司",
    "91440300708461136T": "深圳市腾讯计算机系统有限公司",
    "91330100716105852F": "阿里巴巴（中国）有限公司",
    "12100000400000624D": "清华大学",
    "12100000400002259P": "北京大学",
}


def test_the_oracle_alphabet_and_weights_match_the_standard():
    assert len(GB32100_ALPHABET) == 31
    assert not set(REFUSED_LETTERS) & set(GB32100_ALPHABET)
    assert [pow(3, i, 31) for i in range(17)] == GB32100_WEIGHTS


# --- unified social credit code ------------------------------------------------------------


@pytest.mark.parametrize("code", REAL_CODES, ids=REAL_CODES.values())
def test_a_published_credit_code_of_a_real_organisation_is_accepted(code):
    assert oracle_check_character(code[:17]) == code[17]
    assert credit_code_check_character(code[:17]) == code[17]
    assert parse_credit_code(code) == code


@pytest.mark.parametrize(
    ("first17", "expected"),
    [
        # 9*1 + 1*3 + 4*9 + 4*27 + 0*19 + 3*26 + 0*16 + 0*17 + 1*20 + 9*29 + 2*25 + 2*13
        #   + 0*8 + 3*24 + 8*10 + 2*30 + 1*28 = 831; 831 % 31 = 25; 31 - 25 = 6 -> "6"
        ("91440300192203821", "6"),
        # 1*1 + 2*3 + 1*9 + 4*20 + 6*10 + 2*30 + 4*28 = 328; 328 % 31 = 18; 31 - 18 = 13 -> "D"
        ("12100000400000624", "D"),
        # every character 0: sum 0; (31 - 0) % 31 = 0 -> "0"
        ("00000000000000000", "0"),
        # a single 1 in position 17 (weight 28): 28; 31 - 28 = 3 -> "3"
        ("00000000000000001", "3"),
        # a single Y (index 30) in position 1 (weight 1): 30; 31 - 30 = 1 -> "1"
        ("Y0000000000000000", "1"),
    ],
)
def test_the_check_character_is_the_one_computed_by_hand(first17, expected):
    assert credit_code_check_character(first17) == expected
    assert parse_credit_code(first17 + expected) == first17 + expected


@quick
@given(code_bodies)
def test_the_check_character_agrees_with_the_independent_oracle(body):
    assert credit_code_check_character(body) == oracle_check_character(body)


@quick
@given(valid_codes)
def test_any_seventeen_allowed_characters_followed_by_their_check_character_parse(code):
    assert parse_credit_code(code) == code


@pytest.mark.parametrize(
    ("code", "expected", "got"),
    [
        ("914403001922038217", "6", "7"),
        ("12100000400000624E", "D", "E"),
        ("000000000000000001", "0", "1"),
    ],
)
def test_a_credit_code_with_a_wrong_check_character_is_refused_naming_the_expected_one(
    code, expected, got
):
    with pytest.raises(
        InvalidCreditCode,
        match=rf"credit code {code} fails its check: check character should be "
        rf"'{expected}', got '{got}'",
    ):
        parse_credit_code(code)


@few
@given(valid_codes)
def test_changing_any_single_character_to_another_allowed_character_fails_the_check(code):
    # Holds at every position: the weights 3**i mod 31 are all non-zero modulo the prime
    # 31, so a substitution at positions 1-17 always changes the sum mod 31, and a
    # substitution at position 18 changes the check character itself.
    for position in range(18):
        for replacement in GB32100_ALPHABET:
            if replacement == code[position]:
                continue
            altered = code[:position] + replacement + code[position + 1 :]
            with pytest.raises(InvalidCreditCode, match="check character should be"):
                parse_credit_code(altered)


@few
@given(valid_codes, st.data())
def test_swapping_two_different_characters_among_the_first_seventeen_fails_the_check(code, data):
    # The weights are 17 distinct powers of the primitive root 3 mod 31, so any
    # transposition of two different characters in positions 1-17 is detected.
    i, j = data.draw(st.lists(st.integers(0, 16), min_size=2, max_size=2, unique=True).map(sorted))
    assume(code[i] != code[j])
    swapped = code[:i] + code[j] + code[i + 1 : j] + code[i] + code[j + 1 :]
    with pytest.raises(InvalidCreditCode, match="check character should be"):
        parse_credit_code(swapped)


@quick
@given(valid_codes, st.sampled_from(["", " ", "  ", "\t", "\n"]))
def test_a_lower_case_credit_code_with_surrounding_spaces_is_normalised(code, padding):
    assert parse_credit_code(padding + code.lower() + padding) == code


@quick
@given(valid_codes, st.integers(0, 17), st.sampled_from(REFUSED_LETTERS + REFUSED_LETTERS.lower()))
def test_the_letters_i_o_s_v_z_are_refused_naming_their_position(code, index, letter):
    bad = code[:index] + letter + code[index + 1 :]
    with pytest.raises(
        InvalidCreditCode,
        match=rf"credit code character '{letter.upper()}' at position {index + 1} is not "
        r"allowed: GB 32100-2015 uses the digits and the capital letters except I, O, S, V, Z",
    ):
        parse_credit_code(bad)


@pytest.mark.parametrize(
    ("char", "shown"),
    [("-", "'-'"), ("*", r"'\*'"), ("Ａ", "'Ａ'"), ("中", "'中'"), (" ", "' '")],
)
def test_any_other_character_inside_a_credit_code_is_refused_naming_its_position(char, shown):
    code = "91440300" + char + "92203821" + "6"
    with pytest.raises(InvalidCreditCode, match=rf"character {shown} at position 9 is not allowed"):
        parse_credit_code(code)


@pytest.mark.parametrize(
    ("text", "length"),
    [("", 0), ("   ", 0), ("91440300192203821", 17), ("9144030019220382166", 19)],
)
def test_a_credit_code_of_the_wrong_length_is_refused_naming_the_length(text, length):
    with pytest.raises(
        InvalidCreditCode, match=rf"credit code must have 18 characters, got {length} in"
    ):
        parse_credit_code(text)


@pytest.mark.parametrize("value", [None, 914403001922038216, b"914403001922038216"])
def test_a_credit_code_that_is_not_text_is_refused(value):
    with pytest.raises(InvalidCreditCode, match="credit code must be text, got"):
        parse_credit_code(value)


def test_a_units_id_is_derived_from_its_credit_code_alone():
    huawei, tsinghua = "914403001922038216", "12100000400000624D"
    assert isinstance(unit_id_for(huawei), UUID)
    assert unit_id_for(huawei) == unit_id_for(parse_credit_code(huawei.lower()))
    assert unit_id_for(huawei) != unit_id_for(tsinghua)


# --- GB/T 2260 divisions ------------------------------------------------------------------

# The 34 provincial-level prefixes, written out from docs/domain.md.
PROVINCIAL_PREFIXES = {
    "11",
    "12",
    "13",
    "14",
    "15",
    "21",
    "22",
    "23",
    "31",
    "32",
    "33",
    "34",
    "35",
    "36",
    "37",
    "41",
    "42",
    "43",
    "44",
    "45",
    "46",
    "50",
    "51",
    "52",
    "53",
    "54",
    "61",
    "62",
    "63",
    "64",
    "65",
    "71",
    "81",
    "82",
}


def test_there_are_exactly_the_thirty_four_provincial_level_divisions():
    assert len(PROVINCIAL_PREFIXES) == 34
    assert set(PROVINCES) == PROVINCIAL_PREFIXES


@pytest.mark.parametrize("prefix", [f"{n:02d}" for n in range(100)])
def test_a_division_code_is_accepted_only_under_one_of_the_34_provinces(prefix):
    code = prefix + "0506"
    if prefix in PROVINCIAL_PREFIXES:
        assert parse_division(code) == code
    else:
        with pytest.raises(
            InvalidDivision,
            match=rf"division code {code} starts with {prefix}, which is not one of the 34 "
            "provincial-level divisions of GB/T 2260",
        ):
            parse_division(code)


@quick
@given(st.text(alphabet="0123456789", min_size=6, max_size=6))
def test_every_six_digit_code_parses_iff_its_prefix_is_a_province(code):
    if code[:2] in PROVINCIAL_PREFIXES:
        assert parse_division(code) == code
        assert province_of(code) == code[:2] + "0000"
        assert parse_division(province_of(code)) == code[:2] + "0000"
    else:
        with pytest.raises(InvalidDivision, match="not one of the 34 provincial-level"):
            parse_division(code)


@pytest.mark.parametrize(
    ("division", "province", "name"),
    [
        ("320506", "320000", "江苏"),
        ("110105", "110000", "北京"),
        ("650102", "650000", "新疆"),
        ("820000", "820000", "澳门"),
        ("100000", None, None),  # "registered centrally": not a provincial-level division
    ],
)
def test_a_division_belongs_to_the_province_named_by_its_first_two_digits(division, province, name):
    if province is None:
        with pytest.raises(InvalidDivision):
            parse_division(division)
        return
    assert province_of(parse_division(division)) == province
    assert province_name(division) == name


def test_a_division_code_with_surrounding_spaces_is_trimmed():
    assert parse_division("  320506 ") == "320506"


@pytest.mark.parametrize(
    "text", ["", "32050", "3205061", "32O506", "32-506", "３２０５０６", "320 506", "+32050"]
)
def test_a_division_code_that_is_not_six_ascii_digits_is_refused(text):
    with pytest.raises(InvalidDivision, match=r"division code must be 6 digits \(GB/T 2260\)"):
        parse_division(text)


@pytest.mark.parametrize("value", [None, 320506])
def test_a_division_code_that_is_not_text_is_refused(value):
    with pytest.raises(InvalidDivision, match="division code must be text"):
        parse_division(value)


# --- money --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("0", 0),
        ("0.00", 0),
        ("1", 100),
        ("1.5", 150),
        ("1234.50", 123450),
        ("0.01", 1),
        ("007.10", 710),
        (" 88.88 ", 8888),
        ("999999999999.99", MAX_FEN),
    ],
)
def test_a_decimal_string_of_yuan_is_parsed_into_exact_fen(text, fen):
    assert parse_yuan(text) == fen


@pytest.mark.parametrize(
    ("fen", "text"),
    [(0, "0.00"), (5, "0.05"), (123450, "1234.50"), (-5, "-0.05"), (-100, "-1.00")],
)
def test_fen_are_formatted_as_yuan_with_two_decimals(fen, text):
    assert format_fen(fen) == text


@quick
@given(st.integers(-MAX_FEN, MAX_FEN))
def test_formatting_fen_and_parsing_the_yuan_back_round_trips(fen):
    assert parse_yuan(format_fen(fen), allow_negative=True) == fen
    if fen >= 0:
        assert parse_yuan(format_fen(fen)) == fen


@quick
@given(st.integers(1, MAX_FEN))
def test_a_negative_amount_is_refused_unless_negatives_are_allowed(fen):
    text = format_fen(-fen)
    with pytest.raises(InvalidAmount, match=rf"amount must not be negative; got '{text}'"):
        parse_yuan(text)
    assert parse_yuan(text, allow_negative=True) == -fen


@quick
@given(
    st.from_regex(r"-?[0-9]{1,12}", fullmatch=True),
    st.text(alphabet="0123456789", min_size=3, max_size=8),
)
def test_an_amount_with_three_or_more_decimal_places_is_refused(whole, decimals):
    text = f"{whole}.{decimals}"
    with pytest.raises(
        InvalidAmount, match="has more than two decimal places; amounts are exact to the fen"
    ):
        parse_yuan(text, allow_negative=True)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "1e3",
        "1E3",
        "1.5e2",
        "NaN",
        "nan",
        "inf",
        "-Infinity",
        "+1",
        ".5",
        "5.",
        "1 000",
        "¥100",
        "100 yuan",
        "元",
        "万",
        "1.5万万",
        "0x10",
        "１２",
        "1.2.3",
        "--1",
    ],
)
def test_a_string_that_is_not_a_plain_decimal_of_yuan_is_refused(text):
    with pytest.raises(
        InvalidAmount,
        match=r"amount must be a decimal number of yuan with at most two decimal places",
    ):
        parse_yuan(text, allow_negative=True)


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (1.5, "float"),
        (0.1 + 0.2, "float"),
        (float("nan"), "float"),
        (100, "int"),
        (Decimal("1.50"), "Decimal"),
        (None, "NoneType"),
    ],
)
def test_an_amount_that_is_not_a_string_is_refused_naming_its_type(value, kind):
    with pytest.raises(
        InvalidAmount, match=rf"amount must be a decimal string of yuan .* not a {kind}"
    ):
        parse_yuan(value)


@pytest.mark.parametrize(
    ("text", "allow_negative"),
    [
        ("1000000000000", False),
        ("1000000000000.00", False),
        ("999999999999.991", False),
        ("-1000000000000", True),
        ("99999999999999999999", False),
    ],
)
def test_an_amount_over_the_ledger_maximum_is_refused(text, allow_negative):
    with pytest.raises(InvalidAmount):
        parse_yuan(text, allow_negative=allow_negative)


@quick
@given(st.integers(MAX_FEN + 1, 10**30))
def test_every_amount_beyond_max_fen_is_refused_as_larger_than_the_ledger_accepts(fen):
    for text, allow in [(format_fen(fen), False), (format_fen(-fen), True)]:
        with pytest.raises(
            InvalidAmount, match=r"is larger than the ledger accepts \(999999999999.99 yuan\)"
        ):
            parse_yuan(text, allow_negative=allow)


@pytest.mark.parametrize("digits", [4300, 4301, 5000])
def test_an_absurdly_long_amount_is_refused_as_an_invalid_amount_not_a_crash(digits):
    # Python refuses int() of more than 4300 digits with a bare ValueError; the parser
    # must still answer with InvalidAmount (an adapter would otherwise report a 500).
    with pytest.raises(InvalidAmount):
        parse_yuan("1" * digits)


# --- text -----------------------------------------------------------------------------------


def test_text_is_trimmed_and_normalised_to_nfc():
    assert parse_text("  苏州博世汽车部件有限公司 \n", "name") == "苏州博世汽车部件有限公司"
    assert parse_text("Cafe\u0301", "name") == "Caf\u00e9"


@pytest.mark.parametrize(
    "char",
    [
        "\x00",
        "\x01",
        "\x07",
        "\x1b",
        "\x7f",
        "\x85",
        "\t",
        "\n",
        "\r",
        "\u200b",
        "\u202e",
        "\ufeff",
        "\ud800",
        "\ue000",
        "\U000e0001",
    ],
)
def test_text_with_a_control_or_invisible_character_inside_is_refused_naming_it(char):
    with pytest.raises(
        InvalidText,
        match=rf"name contains the control or unassigned character U\+{ord(char):04X}",
    ):
        parse_text(f"苏州{char}博世", "name")


@quick
@given(
    st.characters(categories=["Cc"]),
    st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=20),
)
def test_any_control_character_between_letters_is_refused(char, word):
    with pytest.raises(InvalidText, match="contains the control or unassigned character"):
        parse_text(word + char + word, "title")


def test_an_unassigned_code_point_is_refused():
    unassigned = next(
        chr(c) for c in range(0x0378, 0x10000) if unicodedata.category(chr(c)) == "Cn"
    )
    with pytest.raises(InvalidText, match=rf"U\+{ord(unassigned):04X}"):
        parse_text("a" + unassigned + "b", "title")


@pytest.mark.parametrize("text", ["", " ", "\t\n", "\u3000", "\u00a0 \u2003"])
def test_empty_or_whitespace_only_text_is_refused(text):
    with pytest.raises(InvalidText, match="name must not be empty"):
        parse_text(text, "name")


def test_text_up_to_the_maximum_length_is_accepted_and_longer_is_refused():
    assert parse_text("x" * MAX_TEXT, "name") == "x" * MAX_TEXT
    with pytest.raises(
        InvalidText, match=rf"name must be at most {MAX_TEXT} characters, got {MAX_TEXT + 1}"
    ):
        parse_text("x" * (MAX_TEXT + 1), "name")
    with pytest.raises(InvalidText, match="description must be at most 10 characters, got 11"):
        parse_text("长" * 11, "description", max_length=10)


@quick
@given(st.text(min_size=1, max_size=MAX_TEXT + 50))
def test_accepted_text_is_never_empty_too_long_or_carrying_control_characters(value):
    try:
        text = parse_text(value, "name")
    except InvalidText:
        return
    assert text and len(text) <= MAX_TEXT and text == text.strip()
    assert all(unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co", "Cn") for c in text)


@pytest.mark.parametrize("value", [None, 42, b"name"])
def test_text_that_is_not_a_string_is_refused(value):
    with pytest.raises(InvalidText, match="name must be text"):
        parse_text(value, "name")


# --- dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-01-02", date(2025, 1, 2)),
        (" 2024-02-29 ", date(2024, 2, 29)),
        ("1949-10-01", EARLIEST_DATE),
        (date(2025, 6, 30), date(2025, 6, 30)),
    ],
)
def test_a_business_date_is_read_as_yyyy_mm_dd(value, expected):
    assert parse_date(value) == expected


@quick
@given(st.dates(min_value=EARLIEST_DATE))
def test_every_date_since_1949_round_trips_through_its_iso_form(day):
    assert parse_date(day.isoformat()) == day
    assert parse_date(day) == day


@pytest.mark.parametrize(
    "text",
    [
        "2025-02-30",
        "2025/2/30",
        "2025年2月30日",
        "2025-1/2",
        "2025/1-2",
        "2025年1月2",
        "2025年1-2",
        "25-1-2",
        "2025-001-02",
        "2023-02-29",
        "2025-13-01",
        "2025-00-10",
        "20250102",
        "02/01/2025",
        "2025-01-02T00:00:00",
        "2025-01-02 10:00",
        "2025-01-02T00:00:00+08:00",
        "2025-W01-4",
        "２０２５-０１-０２",
        "today",
        "",
    ],
)
def test_a_date_not_written_as_iso_yyyy_mm_dd_is_refused(text):
    with pytest.raises(
        InvalidDate,
        match=r"effective date must be a calendar date written YYYY-MM-DD \(or as 2024-3-15, "
        r"2024/3/15, 2024\.3\.15 or 2024年3月15日\); got",
    ):
        parse_date(text, "effective date")


@quick
@given(st.datetimes())
def test_a_datetime_is_refused_as_a_date(moment):
    with pytest.raises(
        InvalidDate, match="effective date must be a calendar date, not a timestamp"
    ):
        parse_date(moment, "effective date")


@pytest.mark.parametrize("value", [None, 20250102, 1.5])
def test_a_date_of_another_type_is_refused(value):
    with pytest.raises(InvalidDate, match="date must be a date written YYYY-MM-DD"):
        parse_date(value)


@pytest.mark.parametrize("value", ["1949-09-30", "1900-01-01", date(1, 1, 1)])
def test_a_date_before_the_founding_of_the_prc_is_refused(value):
    with pytest.raises(
        InvalidDate, match=r"effective date .* is before 1949-10-01, which the ledger refuses"
    ):
        parse_date(value, "effective date")


# --- timestamps ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a bare date: the last microsecond of that day in China (UTC+8)
        ("2025-07-15", datetime(2025, 7, 15, 15, 59, 59, 999999, tzinfo=UTC)),
        ("2024-12-31", datetime(2024, 12, 31, 15, 59, 59, 999999, tzinfo=UTC)),
        # no offset: China Standard Time
        ("2025-07-15T09:30:00", datetime(2025, 7, 15, 1, 30, tzinfo=UTC)),
        ("2025-07-15 09:30", datetime(2025, 7, 15, 1, 30, tzinfo=UTC)),
        ("2025-07-15T00:00:00", datetime(2025, 7, 14, 16, 0, tzinfo=UTC)),
        # an offset is taken as written
        ("2025-07-15T09:30:00+08:00", datetime(2025, 7, 15, 1, 30, tzinfo=UTC)),
        ("2025-07-15T09:30:00+00:00", datetime(2025, 7, 15, 9, 30, tzinfo=UTC)),
        ("2025-07-15T09:30:00Z", datetime(2025, 7, 15, 9, 30, tzinfo=UTC)),
        ("2025-07-15T09:30:00-05:00", datetime(2025, 7, 15, 14, 30, tzinfo=UTC)),
    ],
)
def test_a_timestamp_is_read_as_china_time_unless_it_carries_an_offset(text, expected):
    moment = parse_timestamp(text)
    assert moment == expected
    assert moment.tzinfo is UTC


@quick
@given(st.dates(min_value=date(1949, 10, 1), max_value=date(2200, 12, 30)))
def test_a_bare_date_means_the_end_of_that_day_in_shanghai(day):
    moment = parse_timestamp(day.isoformat())
    assert moment.tzinfo is UTC
    local = moment.astimezone(CHINA)
    assert local.date() == day
    assert (local + timedelta(microseconds=1)).date() == day + timedelta(days=1)
    assert local.time().isoformat() == "23:59:59.999999"


@quick
@given(st.datetimes(min_value=datetime(1950, 1, 1), max_value=datetime(2200, 1, 1)))
def test_a_naive_timestamp_is_taken_as_china_time(moment):
    expected = moment.replace(tzinfo=CHINA).astimezone(UTC)
    assert parse_timestamp(moment.isoformat()) == expected
    assert parse_timestamp(moment) == expected


@quick
@given(
    st.datetimes(min_value=datetime(1950, 1, 1), max_value=datetime(2200, 1, 1)),
    st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m))),
)
def test_a_timestamp_with_an_offset_is_the_same_instant_in_utc(moment, offset):
    aware = moment.replace(tzinfo=offset)
    for value in (aware.isoformat(), aware):
        parsed = parse_timestamp(value)
        assert parsed == aware
        assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    [
        "2025-02-30",
        "2025/7/15 09:30",
        "15/07/2025 09:30",
        "2025-07-15T25:00",
        "yesterday",
        "",
        "2025-07-15T09:30:00+08:00 CST",
    ],
)
def test_a_timestamp_that_is_not_iso_is_refused(text):
    with pytest.raises(
        InvalidDate,
        match=r"as of must be a timestamp such as 2025-07-15T09:30:00\+08:00 or a date YYYY-MM-DD",
    ):
        parse_timestamp(text, "as of")


@pytest.mark.parametrize("text", ["2025-7-15", "2025/07/15", "2025.7.15", "2025年7月15日"])
def test_a_bare_date_written_as_people_write_it_means_the_end_of_that_day(text):
    assert parse_timestamp(text) == parse_timestamp("2025-07-15")


@pytest.mark.parametrize("value", [None, 1752543000, date(2025, 7, 15)])
def test_a_timestamp_of_another_type_is_refused(value):
    with pytest.raises(InvalidDate, match="as of must be a timestamp"):
        parse_timestamp(value, "as of")


@pytest.mark.parametrize("text", ["20250715", "2025-W29-2", "2025-196"])
def test_a_bare_date_in_another_iso_spelling_is_not_taken_as_the_start_of_the_day(text):
    # Each of these names 2025-07-15. It must either be refused or mean the same bound
    # as "2025-07-15" (end of the day); it must never silently mean a day earlier.
    try:
        moment = parse_timestamp(text)
    except InvalidDate:
        return
    assert moment == parse_timestamp("2025-07-15")


def test_the_last_representable_day_means_its_end_in_china():
    assert parse_timestamp("9999-12-31") == datetime(9999, 12, 31, 15, 59, 59, 999999, tzinfo=UTC)


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00", "0001-01-01T07:59:59"])
def test_a_china_time_that_falls_before_the_calendar_in_utc_is_refused_as_invalid_input(text):
    with pytest.raises(InvalidInput):
        parse_timestamp(text)


# --- closed choices -------------------------------------------------------------------------

ENUMS = [UnitType, VocationalLevel, CommunityKind, Role, ExitReason]


@quick
@given(st.sampled_from([m for e in ENUMS for m in e]), st.data())
def test_a_choice_is_read_case_insensitively_and_trimmed(member, data):
    size = len(member.value)
    flips = data.draw(st.lists(st.booleans(), min_size=size, max_size=size))
    spelled = "".join(c.upper() if f else c for c, f in zip(member.value, flips, strict=True))
    padding = data.draw(st.sampled_from(["", " ", "\t"]))
    assert parse_choice(type(member), padding + spelled + padding, "choice") is member
    assert parse_choice(type(member), member, "choice") is member


@pytest.mark.parametrize(
    ("enum", "what", "allowed"),
    [
        (Role, "role", "lead (牵头单位), participant (成员单位)"),
        (ExitReason, "exit reason", "withdrawal (主动退出), removal (清退), dissolution (解散)"),
        (
            CommunityKind,
            "kind",
            "industry (行业产教融合共同体), city (市域产教联合体), "
            "development (职业教育发展共同体), vocational_group (职业教育集团), "
            "alliance (产教融合联盟)",
        ),
        (
            VocationalLevel,
            "vocational level",
            "secondary (中职), higher (高职), undergraduate (职业本科)",
        ),
        (
            UnitType,
            "unit type",
            "enterprise (企业), university (高等学校), vocational_school (职业学校), "
            "industry_organization (行业组织), research_institute (科研机构), "
            "government (政府部门), other (其他)",
        ),
    ],
)
@pytest.mark.parametrize("value", ["chair", "", "leader", None, 3])
def test_an_unknown_choice_is_refused_listing_the_allowed_values(enum, what, allowed, value):
    with pytest.raises(InvalidChoice) as refused:
        parse_choice(enum, value, what)
    assert str(refused.value) == f"{what} must be one of {allowed}; got {value!r}"


@pytest.mark.parametrize("text", ["secondary", "HIGHER", " Undergraduate "])
def test_a_vocational_school_is_given_its_level(text):
    assert parse_level(UnitType.VOCATIONAL_SCHOOL, text) is VocationalLevel(text.strip().lower())


@pytest.mark.parametrize("level", [None, ""])
def test_a_vocational_school_without_a_level_is_refused(level):
    with pytest.raises(
        InvalidChoice,
        match="a vocational school needs a level: "
        "secondary 中职, higher 高职 or undergraduate 职业本科",
    ):
        parse_level(UnitType.VOCATIONAL_SCHOOL, level)


def test_a_vocational_school_with_an_unknown_level_is_refused_listing_the_levels():
    with pytest.raises(
        InvalidChoice,
        match=r"vocational level must be one of secondary \(中职\), higher \(高职\), "
        r"undergraduate \(职业本科\); got 'doctoral'",
    ):
        parse_level(UnitType.VOCATIONAL_SCHOOL, "doctoral")


OTHER_TYPES = [t for t in UnitType if t is not UnitType.VOCATIONAL_SCHOOL]


@pytest.mark.parametrize("unit_type", OTHER_TYPES)
def test_a_unit_that_is_not_a_vocational_school_has_no_level(unit_type):
    assert parse_level(unit_type, None) is None
    assert parse_level(unit_type, "") is None


@pytest.mark.parametrize("unit_type", OTHER_TYPES)
@pytest.mark.parametrize("level", ["higher", "secondary", "anything"])
def test_a_level_given_for_a_unit_that_is_not_a_vocational_school_is_refused(unit_type, level):
    with pytest.raises(
        InvalidChoice, match=rf"only vocational schools have a level; a {unit_type.value} has none"
    ):
        parse_level(unit_type, level)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ﬀ" + "0" * 16, "must have 18 characters, got 17"),
        ("ß" + "0" * 17, "character 'ß' at position 1 is not allowed"),
    ],
)
def test_non_ascii_letters_are_not_case_folded_into_a_credit_code(text, message):
    with pytest.raises(InvalidCreditCode, match=message):
        parse_credit_code(text)


@pytest.mark.parametrize("separator", ["\u2028", "\u2029"])
def test_line_and_paragraph_separators_are_refused_in_names(separator):
    with pytest.raises(InvalidText, match=f"U\\+{ord(separator):04X}"):
        parse_text(f"苏州{separator}工业园区", "unit name")


def test_a_blank_level_for_a_unit_without_levels_counts_as_none():
    assert parse_level(UnitType.ENTERPRISE, "   ") is None
