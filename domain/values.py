"""Value objects: parse the user's text into checked values, or refuse it.

Each parser raises an ``InvalidInput`` subclass whose message names the rule
broken, in terms a council secretary can act on. Aggregates receive only values
that passed through here.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from enum import Enum, StrEnum
from typing import TypeVar
from uuid import UUID, uuid5
from zoneinfo import ZoneInfo

from domain.errors import (
    InvalidAmount,
    InvalidChoice,
    InvalidCreditCode,
    InvalidDate,
    InvalidDivision,
    InvalidShares,
    InvalidText,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
"""Business dates are calendar days in China Standard Time."""


# --- closed choices -------------------------------------------------------------


E = TypeVar("E", bound=StrEnum)

_NAMES: dict[type[Enum], dict[Enum, tuple[str, ...]]] = {}
"""Each closed choice's Chinese names, by enum and member: display name first."""
_BY_NAME: dict[type[Enum], dict[str, Enum]] = {}
"""Each closed choice's members by their Chinese names."""

_SPACES = re.compile(r"\s+")


def chinese(enum: type[E], names: Mapping[E, tuple[str, ...]]) -> None:
    """Give every member of ``enum`` its Chinese names: the first is the one shown,
    the others are synonyms also read. Called right beside the enum's definition, so
    its Chinese lives next to its English; a name may mean only one member."""
    if set(names) != set(enum):
        missing = ", ".join(m.value for m in enum if m not in names)
        raise ValueError(f"{enum.__name__}: no Chinese name for {missing}")
    by_name: dict[str, Enum] = {}
    values = {m.value for m in enum}
    for member, member_names in names.items():
        if not member_names:
            raise ValueError(f"{enum.__name__}.{member.name} has no Chinese name")
        for name in member_names:
            key = _chinese_key(name)
            if key != name or not key or key in by_name or _english_key(key) in values:
                raise ValueError(f"{enum.__name__}: {name!r} is blank, padded or taken")
            by_name[key] = member
    _NAMES[enum] = {m: tuple(names[m]) for m in enum}
    _BY_NAME[enum] = by_name


def _chinese_key(text: str) -> str:
    """Chinese is read as typed, spaces (full-width ones too) taken out."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text))


def _english_key(text: str) -> str:
    """English is read case-insensitively, ``-`` or spaces standing for ``_``."""
    return re.sub(r"[\s_-]+", "_", unicodedata.normalize("NFKC", text).strip().lower())


def chinese_names(member: Enum) -> tuple[str, ...]:
    """A member's Chinese names, display name first (none if its enum has none)."""
    return _NAMES.get(type(member), {}).get(member, ())


def chinese_name(member: Enum) -> str:
    """The Chinese a member is shown by; its English value if it has none."""
    names = chinese_names(member)
    return names[0] if names else str(member.value)


def bilingual(member: Enum) -> str:
    """``资金 funds``: how a report labels a member for readers of either language."""
    return f"{chinese_name(member)} {member.value}"


def choices(enum: type[Enum], *, last: str = ", ") -> str:
    """The choices of ``enum`` for a help text: ``enterprise 企业, university 高等学校, …``;
    ``last`` joins the final two (``" or "``)."""
    items = [f"{m.value} {chinese_name(m)}" if chinese_names(m) else str(m.value) for m in enum]
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + last + items[-1]


def parse_choice(enum: type[E], value: str | E, what: str) -> E:
    """One of ``enum``'s members, by its English value (any case; ``-`` or a space for
    ``_``) or by one of its Chinese names (spaces aside)."""
    if isinstance(value, enum):
        return value
    if isinstance(value, str):
        english = _english_key(value)
        if english in {m.value for m in enum}:
            return enum(english)
        found = _BY_NAME.get(enum, {}).get(_chinese_key(value))
        if found is not None:
            return found  # type: ignore[return-value]
    allowed = ", ".join(
        f"{m.value} ({chinese_name(m)})" if chinese_names(m) else m.value for m in enum
    )
    raise InvalidChoice(f"{what} must be one of {allowed}; got {value!r}")


class UnitType(StrEnum):
    ENTERPRISE = "enterprise"
    UNIVERSITY = "university"
    VOCATIONAL_SCHOOL = "vocational_school"
    INDUSTRY_ORGANIZATION = "industry_organization"
    RESEARCH_INSTITUTE = "research_institute"
    GOVERNMENT = "government"
    OTHER = "other"


chinese(
    UnitType,
    {
        UnitType.ENTERPRISE: ("企业",),
        UnitType.UNIVERSITY: ("高等学校", "普通高等学校", "本科高校", "高校", "大学"),
        UnitType.VOCATIONAL_SCHOOL: ("职业学校", "职业院校", "职校"),
        UnitType.INDUSTRY_ORGANIZATION: ("行业组织", "行业协会"),
        UnitType.RESEARCH_INSTITUTE: ("科研机构", "科研院所", "研究机构"),
        UnitType.GOVERNMENT: ("政府部门", "政府", "政府机构", "园区管委会", "管委会"),
        UnitType.OTHER: ("其他",),
    },
)


class VocationalLevel(StrEnum):
    SECONDARY = "secondary"
    HIGHER = "higher"
    UNDERGRADUATE = "undergraduate"


chinese(
    VocationalLevel,
    {
        VocationalLevel.SECONDARY: ("中职", "中等职业教育", "中等职业学校"),
        VocationalLevel.HIGHER: ("高职", "高等职业教育", "高职专科"),
        VocationalLevel.UNDERGRADUATE: ("职业本科", "本科层次职业教育", "本科层次职业学校"),
    },
)


class Qualification(StrEnum):
    """A recognition that makes a member unit count as high-quality in the "diverse,
    high-quality" indicator (优质多元): a closed list, each held for dated periods
    (``domain.unit.Held``), each by the unit types in ``HOLDERS``."""

    INTEGRATION_ENTERPRISE = "integration_enterprise"
    CENTRAL_SOE = "central_soe"
    LISTED_COMPANY = "listed_company"
    LITTLE_GIANT = "little_giant"
    HIGH_TECH = "high_tech"
    DOUBLE_HIGH = "double_high"
    DOUBLE_EXCELLENT = "double_excellent"
    DOUBLE_FIRST_CLASS = "double_first_class"


chinese(
    Qualification,
    {
        Qualification.INTEGRATION_ENTERPRISE: ("产教融合型企业", "产教融合型企业建设培育"),
        Qualification.CENTRAL_SOE: ("中央企业", "央企"),
        Qualification.LISTED_COMPANY: ("上市公司", "上市企业"),
        Qualification.LITTLE_GIANT: ("专精特新小巨人企业", "专精特新小巨人", "小巨人企业"),
        Qualification.HIGH_TECH: ("高新技术企业", "高企"),
        Qualification.DOUBLE_HIGH: ("双高计划学校", "双高", "双高校", "双高计划"),
        Qualification.DOUBLE_EXCELLENT: ("双优计划学校", "双优", "双优校", "双优计划"),
        Qualification.DOUBLE_FIRST_CLASS: ("双一流建设高校", "双一流", "双一流高校"),
    },
)

_ENTERPRISES = frozenset({(UnitType.ENTERPRISE, None)})
HOLDERS: dict[Qualification, frozenset[tuple[UnitType, VocationalLevel | None]]] = {
    Qualification.INTEGRATION_ENTERPRISE: _ENTERPRISES,
    Qualification.CENTRAL_SOE: _ENTERPRISES,
    Qualification.LISTED_COMPANY: _ENTERPRISES,
    Qualification.LITTLE_GIANT: _ENTERPRISES,
    Qualification.HIGH_TECH: _ENTERPRISES,
    # 中国特色高水平高职学校和专业建设计划: higher vocational schools, some since
    # raised to undergraduate level
    Qualification.DOUBLE_HIGH: frozenset(
        {
            (UnitType.VOCATIONAL_SCHOOL, VocationalLevel.HIGHER),
            (UnitType.VOCATIONAL_SCHOOL, VocationalLevel.UNDERGRADUATE),
        }
    ),
    # 中等职业教育"双优计划": secondary vocational schools
    Qualification.DOUBLE_EXCELLENT: frozenset(
        {(UnitType.VOCATIONAL_SCHOOL, VocationalLevel.SECONDARY)}
    ),
    Qualification.DOUBLE_FIRST_CLASS: frozenset({(UnitType.UNIVERSITY, None)}),
}
"""Which units may hold each qualification: (unit type, vocational level)."""


def may_hold(
    qualification: Qualification, unit_type: UnitType, level: VocationalLevel | None
) -> bool:
    return (unit_type, level) in HOLDERS[qualification]


class CommunityKind(StrEnum):
    INDUSTRY = "industry"
    CITY = "city"
    DEVELOPMENT = "development"
    # the provincial plan's other bodies (domain.md, "Other bodies the provincial plan
    # names"): the texts set them no rules of their own, so they keep a development
    # body's: no lead trio, measured against their own division, no yearly filings due
    VOCATIONAL_GROUP = "vocational_group"
    ALLIANCE = "alliance"


chinese(
    CommunityKind,
    {
        CommunityKind.INDUSTRY: ("行业产教融合共同体", "行业", "共同体"),
        CommunityKind.CITY: ("市域产教联合体", "市域", "联合体"),
        CommunityKind.DEVELOPMENT: ("职业教育发展共同体", "发展共同体", "发展"),
        CommunityKind.VOCATIONAL_GROUP: ("职业教育集团", "职教集团"),
        CommunityKind.ALLIANCE: ("产教融合联盟", "联盟"),
    },
)


class Role(StrEnum):
    LEAD = "lead"
    PARTICIPANT = "participant"


chinese(
    Role,
    {
        Role.LEAD: ("牵头单位", "牵头"),
        Role.PARTICIPANT: ("成员单位", "成员", "参与单位", "参与"),
    },
)


class ExitReason(StrEnum):
    WITHDRAWAL = "withdrawal"
    REMOVAL = "removal"
    DISSOLUTION = "dissolution"


chinese(
    ExitReason,
    {
        ExitReason.WITHDRAWAL: ("主动退出", "退出"),
        ExitReason.REMOVAL: ("清退",),
        ExitReason.DISSOLUTION: ("解散",),
    },
)


LEAD_TYPES = (UnitType.ENTERPRISE, UnitType.UNIVERSITY, UnitType.VOCATIONAL_SCHOOL)
"""An industry body is led by one enterprise, one university and one vocational school."""


def parse_level(unit_type: UnitType, level: str | None) -> VocationalLevel | None:
    """A vocational school has a level; no other unit type has one."""
    level = level.strip() if isinstance(level, str) else level
    if unit_type is UnitType.VOCATIONAL_SCHOOL:
        if not level:
            raise InvalidChoice(
                f"a vocational school needs a level: {choices(VocationalLevel, last=' or ')}"
            )
        return parse_choice(VocationalLevel, level, "vocational level")
    if level:
        raise InvalidChoice(f"only vocational schools have a level; a {unit_type} has none")
    return None


# --- unified social credit code (GB 32100-2015) -----------------------------------

CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_CODE_INDEX = {c: i for i, c in enumerate(CREDIT_CODE_ALPHABET)}
_CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_check_character(first17: str) -> str:
    """The 18th character of a unified social credit code, from its first 17."""
    total = sum(
        _CREDIT_CODE_INDEX[c] * w for c, w in zip(first17, _CREDIT_CODE_WEIGHTS, strict=True)
    )
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def parse_credit_code(text: str) -> str:
    """Check a unified social credit code; returns it upper-cased without spaces."""
    if not isinstance(text, str):
        raise InvalidCreditCode(f"credit code must be text, got {type(text).__name__}")
    # Only ASCII is upper-cased: "ß".upper() is "SS" and would change the length.
    code = "".join(c.upper() if c.isascii() else c for c in text.strip())
    if len(code) != 18:
        raise InvalidCreditCode(
            f"credit code must have 18 characters, got {len(code)} in {text.strip()!r}"
        )
    for position, char in enumerate(code, start=1):
        if char not in _CREDIT_CODE_INDEX:
            raise InvalidCreditCode(
                f"credit code character {char!r} at position {position} is not allowed: "
                "GB 32100-2015 uses the digits and the capital letters except I, O, S, V, Z"
            )
    expected = credit_code_check_character(code[:17])
    if code[17] != expected:
        raise InvalidCreditCode(
            f"credit code {code} fails its check: check character should be "
            f"{expected!r}, got {code[17]!r}"
        )
    return code


UNIT_NAMESPACE = UUID("6f1d3a52-2c7e-5b0e-9a51-6e6a0c1d2b30")


def unit_id_for(code: str) -> UUID:
    """A member unit's id is derived from its credit code, so a code registers once."""
    return uuid5(UNIT_NAMESPACE, code)


# --- GB/T 2260 administrative divisions -------------------------------------------

PROVINCES: dict[str, str] = {
    "11": "北京",
    "12": "天津",
    "13": "河北",
    "14": "山西",
    "15": "内蒙古",
    "21": "辽宁",
    "22": "吉林",
    "23": "黑龙江",
    "31": "上海",
    "32": "江苏",
    "33": "浙江",
    "34": "安徽",
    "35": "福建",
    "36": "江西",
    "37": "山东",
    "41": "河南",
    "42": "湖北",
    "43": "湖南",
    "44": "广东",
    "45": "广西",
    "46": "海南",
    "50": "重庆",
    "51": "四川",
    "52": "贵州",
    "53": "云南",
    "54": "西藏",
    "61": "陕西",
    "62": "甘肃",
    "63": "青海",
    "64": "宁夏",
    "65": "新疆",
    "71": "台湾",
    "81": "香港",
    "82": "澳门",
}

_DIVISION = re.compile(r"[0-9]{6}")


def parse_division(text: str) -> str:
    """Check a 6-digit GB/T 2260 division code with a known provincial prefix."""
    if not isinstance(text, str):
        raise InvalidDivision(f"division code must be text, got {type(text).__name__}")
    code = text.strip()
    if not _DIVISION.fullmatch(code):
        raise InvalidDivision(f"division code must be 6 digits (GB/T 2260), got {text.strip()!r}")
    if code[:2] not in PROVINCES:
        raise InvalidDivision(
            f"division code {code} starts with {code[:2]}, which is not one of the 34 "
            "provincial-level divisions of GB/T 2260"
        )
    return code


def province_of(division: str) -> str:
    """The provincial-level division containing ``division``: ``320506`` → ``320000``."""
    return division[:2] + "0000"


def province_name(division: str) -> str:
    return PROVINCES[division[:2]]


# --- money ------------------------------------------------------------------------

MAX_FEN = 99_999_999_999_999
"""Just under one trillion yuan: larger amounts are typing mistakes, not contributions."""

_GROUPED = r"[0-9]{1,3}(?:[,，][0-9]{3})+"
_YUAN = re.compile(
    rf"(-?)([0-9]+|{_GROUPED})(?:\.([0-9]+))?[ \u3000]*(万元|万|元)?",
)
_WAN_FEN = 1_000_000
"""1万 (ten thousand yuan) in fen: a 万 amount is exact to six decimals."""
_MAX_YUAN = "999999999999.99 yuan"


def parse_yuan(text: str, *, allow_negative: bool = False) -> int:
    """Parse a decimal string of yuan into integer fen, as people write it:
    ``"1234.50"``, ``"1,250,000.00"`` (commas, full-width ones too, in groups of three),
    ``"1234.50元"``, or in 万 (ten thousand yuan): ``"125万"``, ``"12.5万元"``.

    Floats are refused outright: ``0.1 + 0.2`` is not an amount of money. So are
    fractions of a fen: nothing is rounded.
    """
    if not isinstance(text, str):
        raise InvalidAmount(
            f'amount must be a decimal string of yuan such as "1234.50", '
            f"not a {type(text).__name__}"
        )
    shown = text.strip()
    match = _YUAN.fullmatch(shown)
    if not match:
        if _YUAN.fullmatch(shown.replace(",", "").replace("，", "")):
            raise InvalidAmount(
                f"amount {shown!r} has its thousands separators in the wrong places: "
                'commas go between groups of three digits, as in "1,250,000.00"'
            )
        raise InvalidAmount(
            f"amount must be a decimal number of yuan with at most two decimal places, "
            f'such as "1234.50", "1,250,000.00", "125万" or "12.5万元"; got {text!r}'
        )
    sign, grouped, frac, unit = match.groups()
    whole, frac = grouped.replace(",", "").replace("，", ""), frac or ""
    wan = unit in ("万", "万元")
    if wan and len(frac) > 6:
        raise InvalidAmount(
            f"amount {shown!r} has more than six decimal places of 万 (ten thousand yuan); "
            "amounts are exact to the fen (0.01 yuan)"
        )
    if not wan and len(frac) > 2:
        raise InvalidAmount(
            f"amount {shown!r} has more than two decimal places; "
            "amounts are exact to the fen (0.01 yuan)"
        )
    if len(whole.lstrip("0")) > len(str(MAX_FEN // (_WAN_FEN if wan else 100))):
        # Checked before int(): Python refuses to convert over 4300 digits.
        cut = f"{shown[:24]!r}…" if len(shown) > 24 else repr(shown)
        raise InvalidAmount(f"amount {cut} is larger than the ledger accepts ({_MAX_YUAN})")
    if wan:
        fen = int(whole) * _WAN_FEN + int(frac.ljust(6, "0"))
    else:
        fen = int(whole) * 100 + int(frac.ljust(2, "0"))
    if sign and fen:
        if not allow_negative:
            raise InvalidAmount(f"amount must not be negative; got {shown!r}")
        fen = -fen
    if abs(fen) > MAX_FEN:
        raise InvalidAmount(f"amount {shown!r} is larger than the ledger accepts ({_MAX_YUAN})")
    return fen


def format_fen(fen: int, *, grouped: bool = False) -> str:
    """Integer fen as a decimal string of yuan: ``123450`` → ``"1234.50"``; with
    ``grouped``, thousands separated for people to read: ``"1,234.50"``."""
    sign = "-" if fen < 0 else ""
    whole, part = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{part:02d}" if grouped else f"{sign}{whole}.{part:02d}"


def group_yuan(text: str) -> str:
    """A plain decimal string of yuan (``format_fen``'s) with its thousands separated:
    ``"1250000.00"`` → ``"1,250,000.00"``; anything else is returned as it is."""
    match = re.fullmatch(r"(-?)([0-9]+)(\.[0-9]+)?", text)
    if not match:
        return text
    sign, whole, frac = match.groups()
    return f"{sign}{int(whole):,}{frac or ''}"


_BP = re.compile(r"([0-9]{1,5})|([0-9]{1,3})(?:\.([0-9]{1,2}))?%")


def parse_bp(value: int | str, what: str = "share") -> int:
    """A share in basis points: ``3000``, or as a percentage ``"30%"`` / ``"33.33%"``.

    Whole basis points only (0.01 %): finer shares are refused, never rounded.
    """
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InvalidShares(f"{what} must be a whole number of basis points such as 2500")
    if isinstance(value, int):
        bp = value
    else:
        match = _BP.fullmatch(value.strip())
        if not match:
            raise InvalidShares(
                f"{what} must be whole basis points (2500) or a percentage with at most two "
                f"decimals (25%, 33.33%); got {value!r}"
            )
        whole_bp, percent, hundredths = match.groups()
        bp = (
            int(whole_bp)
            if whole_bp
            else int(percent) * 100 + int((hundredths or "").ljust(2, "0"))
        )
    if not 0 <= bp <= 10_000:
        raise InvalidShares(f"{what} must be from 0 to 10000 basis points (100%); got {value!r}")
    return bp


# --- dates and text ---------------------------------------------------------------

EARLIEST_DATE = date(1949, 10, 1)


_DATE = re.compile(
    r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})"
    r"|([0-9]{4})/([0-9]{1,2})/([0-9]{1,2})"
    r"|([0-9]{4})\.([0-9]{1,2})\.([0-9]{1,2})"
    r"|([0-9]{4})\s*年\s*([0-9]{1,2})\s*月\s*([0-9]{1,2})\s*日"
)
DATE_FORMS = "YYYY-MM-DD (or as 2024-3-15, 2024/3/15, 2024.3.15 or 2024年3月15日)"
"""The ways a business date may be written, for messages and help."""


def _calendar_date(text: str) -> date:
    """``text`` in one of the ``DATE_FORMS``; ValueError if it is not a date so written."""
    match = _DATE.fullmatch(text)
    if not match:
        raise ValueError(text)
    year, month, day_of_month = (int(n) for n in match.groups() if n is not None)
    return date(year, month, day_of_month)


def parse_date(value: str | date, what: str = "date") -> date:
    """A business date as ``YYYY-MM-DD``, or as people write it: ``2024-3-15``,
    ``2024/3/15``, ``2024.3.15``, ``2024年3月15日``."""
    if isinstance(value, datetime):
        raise InvalidDate(f"{what} must be a calendar date, not a timestamp")
    if isinstance(value, date):
        day = value
    elif isinstance(value, str):
        try:
            day = _calendar_date(value.strip())
        except ValueError:
            raise InvalidDate(
                f"{what} must be a calendar date written {DATE_FORMS}; got {value!r}"
            ) from None
    else:
        raise InvalidDate(f"{what} must be a date written YYYY-MM-DD")
    if day < EARLIEST_DATE:
        raise InvalidDate(f"{what} {day} is before {EARLIEST_DATE}, which the ledger refuses")
    return day


def today() -> date:
    """Today's calendar date in China Standard Time."""
    return datetime.now(SHANGHAI).date()


_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})?"
)


def parse_timestamp(value: str | datetime, what: str = "time") -> datetime:
    """A recorded-time bound, as a timezone-aware UTC datetime.

    ``2025-07-15T09:30:00+08:00`` is taken as written; a timestamp without an offset
    is China Standard Time; a bare date ``2025-07-15`` (or written as ``parse_date``
    reads it: ``2025-7-15``, ``2025年7月15日``) means the end of that day in China.
    Other ISO spellings (``20250715``, week dates) are refused, so a date is never
    silently read as the start of its day.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            if _DATE.fullmatch(text):
                moment = datetime.combine(_calendar_date(text), time.max)
            elif _TIMESTAMP.fullmatch(text):
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            else:
                raise ValueError
        except ValueError:
            raise InvalidDate(
                f"{what} must be a timestamp such as 2025-07-15T09:30:00+08:00 "
                f"or a date {DATE_FORMS}; got {value!r}"
            ) from None
    else:
        raise InvalidDate(f"{what} must be a timestamp")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=SHANGHAI)
    if moment.date() < EARLIEST_DATE:
        raise InvalidDate(f"{what} {value} is before {EARLIEST_DATE}, which the ledger refuses")
    return moment.astimezone(UTC)


MAX_TEXT = 200


def parse_text(value: str, what: str, *, max_length: int = MAX_TEXT) -> str:
    """A name or title: trimmed, not empty, no control characters, bounded length."""
    if not isinstance(value, str):
        raise InvalidText(f"{what} must be text")
    text = unicodedata.normalize("NFC", value.strip())
    if not text:
        raise InvalidText(f"{what} must not be empty")
    if len(text) > max_length:
        raise InvalidText(f"{what} must be at most {max_length} characters, got {len(text)}")
    for char in text:
        if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            raise InvalidText(
                f"{what} contains the control or unassigned character U+{ord(char):04X}"
            )
    return text
