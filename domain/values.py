"""Value objects: parse the user's text into checked values, or refuse it.

Each parser raises an ``InvalidInput`` subclass whose message names the rule
broken, in terms a council secretary can act on. Aggregates receive only values
that passed through here.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time
from enum import StrEnum
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


class UnitType(StrEnum):
    ENTERPRISE = "enterprise"
    UNIVERSITY = "university"
    VOCATIONAL_SCHOOL = "vocational_school"
    INDUSTRY_ORGANIZATION = "industry_organization"
    RESEARCH_INSTITUTE = "research_institute"
    GOVERNMENT = "government"
    OTHER = "other"


class VocationalLevel(StrEnum):
    SECONDARY = "secondary"
    HIGHER = "higher"
    UNDERGRADUATE = "undergraduate"


class CommunityKind(StrEnum):
    INDUSTRY = "industry"
    CITY = "city"
    DEVELOPMENT = "development"


class Role(StrEnum):
    LEAD = "lead"
    PARTICIPANT = "participant"


class ExitReason(StrEnum):
    WITHDRAWAL = "withdrawal"
    REMOVAL = "removal"
    DISSOLUTION = "dissolution"


LEAD_TYPES = (UnitType.ENTERPRISE, UnitType.UNIVERSITY, UnitType.VOCATIONAL_SCHOOL)
"""An industry body is led by one enterprise, one university and one vocational school."""

E = TypeVar("E", bound=StrEnum)


def parse_choice(enum: type[E], value: str | E, what: str) -> E:
    try:
        return enum(value.strip().lower() if isinstance(value, str) else value)
    except (ValueError, AttributeError):
        allowed = ", ".join(m.value for m in enum)
        raise InvalidChoice(f"{what} must be one of {allowed}; got {value!r}") from None


def parse_level(unit_type: UnitType, level: str | None) -> VocationalLevel | None:
    """A vocational school has a level; no other unit type has one."""
    level = level.strip() if isinstance(level, str) else level
    if unit_type is UnitType.VOCATIONAL_SCHOOL:
        if not level:
            raise InvalidChoice(
                "a vocational school needs a level: secondary, higher or undergraduate"
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

_YUAN = re.compile(r"(-?)([0-9]+)(?:\.([0-9]{1,2}))?")


def parse_yuan(text: str, *, allow_negative: bool = False) -> int:
    """Parse a decimal string of yuan (``"1234.50"``) into integer fen.

    Floats are refused outright: ``0.1 + 0.2`` is not an amount of money.
    """
    if not isinstance(text, str):
        raise InvalidAmount(
            f'amount must be a decimal string of yuan such as "1234.50", '
            f"not a {type(text).__name__}"
        )
    match = _YUAN.fullmatch(text.strip())
    if not match:
        if re.fullmatch(r"-?[0-9]+\.[0-9]{3,}", text.strip()):
            raise InvalidAmount(
                f"amount {text.strip()!r} has more than two decimal places; "
                "amounts are exact to the fen (0.01 yuan)"
            )
        raise InvalidAmount(
            f"amount must be a decimal number of yuan with at most two decimal places, "
            f'such as "1234.50"; got {text!r}'
        )
    sign, whole, frac = match.groups()
    if len(whole.lstrip("0")) > len(str(MAX_FEN // 100)):
        # Checked before int(): Python refuses to convert over 4300 digits.
        raise InvalidAmount(
            f"amount {text.strip()[:24]!r}… is larger than the ledger accepts "
            "(999999999999.99 yuan)"
        )
    fen = int(whole) * 100 + int((frac or "").ljust(2, "0"))
    if sign and fen:
        if not allow_negative:
            raise InvalidAmount(f"amount must not be negative; got {text.strip()!r}")
        fen = -fen
    if abs(fen) > MAX_FEN:
        raise InvalidAmount(
            f"amount {text.strip()!r} is larger than the ledger accepts (999999999999.99 yuan)"
        )
    return fen


def format_fen(fen: int) -> str:
    """Integer fen as a decimal string of yuan: ``123450`` → ``"1234.50"``."""
    sign = "-" if fen < 0 else ""
    whole, part = divmod(abs(fen), 100)
    return f"{sign}{whole}.{part:02d}"


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


def parse_date(value: str | date, what: str = "date") -> date:
    """A business date as ``YYYY-MM-DD``."""
    if isinstance(value, datetime):
        raise InvalidDate(f"{what} must be a calendar date, not a timestamp")
    if isinstance(value, date):
        day = value
    elif isinstance(value, str):
        try:
            if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value.strip()):
                raise ValueError
            day = date.fromisoformat(value.strip())
        except ValueError:
            raise InvalidDate(
                f"{what} must be a calendar date written YYYY-MM-DD; got {value!r}"
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
    is China Standard Time; a bare date ``2025-07-15`` means the end of that day in
    China. Other ISO spellings (``20250715``, week dates) are refused, so a date is
    never silently read as the start of its day.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
                moment = datetime.combine(date.fromisoformat(text), time.max)
            elif _TIMESTAMP.fullmatch(text):
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            else:
                raise ValueError
        except ValueError:
            raise InvalidDate(
                f"{what} must be a timestamp such as 2025-07-15T09:30:00+08:00 "
                f"or a date YYYY-MM-DD; got {value!r}"
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
