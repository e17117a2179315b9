"""The annual cycle (domain.md, "The annual cycle"): what a body files each year, when it
is due, and whether it was filed on time, as of any date.

Obligations are computed, never typed: from the body's kind, the year and its filings.
A filing counts from the day it was filed (``filed_on``), whatever day it was recorded,
so a filing recorded late but filed on time is on time on every date after it was filed.
The first filing of a kind and year decides timeliness; a later one supersedes its
document (a corrected plan) and keeps the earlier in the history.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

import msgspec

from domain.checkpoints import signed_by
from domain.errors import InvalidInput
from domain.values import CommunityKind, chinese


class FilingKind(StrEnum):
    WORK_PLAN = "work_plan"
    SUMMARY_REPORT = "summary_report"
    INDUSTRY_ANALYSIS = "industry_analysis"
    TALENT_FORECAST = "talent_forecast"
    SUPPLY_DEMAND_LISTS = "supply_demand_lists"
    PRODUCT_LIST = "product_list"
    TECHNOLOGY_DEMAND_LIST = "technology_demand_list"
    TALENT_DEMAND_LIST = "talent_demand_list"
    OTHER = "other"


chinese(
    FilingKind,
    {
        FilingKind.WORK_PLAN: ("年度工作计划", "工作计划"),
        FilingKind.SUMMARY_REPORT: ("年度总结报告", "总结报告"),
        FilingKind.INDUSTRY_ANALYSIS: ("行业发展分析报告", "行业分析报告"),
        FilingKind.TALENT_FORECAST: ("行业人才需求预测报告", "人才需求预测报告"),
        FilingKind.SUPPLY_DEMAND_LISTS: ("行业人才供需清单和技术供需清单", "供需清单"),
        FilingKind.PRODUCT_LIST: ("核心产品清单", "产品清单"),
        FilingKind.TECHNOLOGY_DEMAND_LIST: ("技术需求清单",),
        FilingKind.TALENT_DEMAND_LIST: ("人才需求清单",),
        FilingKind.OTHER: ("其他文件", "其他"),
    },
)

INDUSTRY_FILINGS = (
    FilingKind.WORK_PLAN,
    FilingKind.INDUSTRY_ANALYSIS,
    FilingKind.TALENT_FORECAST,
    FilingKind.SUPPLY_DEMAND_LISTS,
    FilingKind.SUMMARY_REPORT,
)
CITY_FILINGS = (
    FilingKind.PRODUCT_LIST,
    FilingKind.TECHNOLOGY_DEMAND_LIST,
    FilingKind.TALENT_DEMAND_LIST,
)
FILINGS_OF: dict[CommunityKind, tuple[FilingKind, ...]] = {
    CommunityKind.INDUSTRY: (*INDUSTRY_FILINGS, FilingKind.OTHER),
    CommunityKind.CITY: (*CITY_FILINGS, FilingKind.OTHER),
    CommunityKind.DEVELOPMENT: (FilingKind.OTHER,),
    CommunityKind.VOCATIONAL_GROUP: (FilingKind.OTHER,),
    CommunityKind.ALLIANCE: (FilingKind.OTHER,),
}
"""The kinds of filing each kind of body makes (the 2023 guide; the 2024 notice)."""

FIRST_YEAR = 2019  # the national pilot of industry–education integration began then


class Status(StrEnum):
    ON_TIME = "on_time"
    LATE = "late"
    MISSING = "missing"
    NOT_YET_DUE = "not_yet_due"


chinese(
    Status,
    {
        Status.ON_TIME: ("按时提交",),
        Status.LATE: ("逾期提交",),
        Status.MISSING: ("未提交",),
        Status.NOT_YET_DUE: ("未到期",),
    },
)


@dataclass(frozen=True)
class Filing:
    """A document a body filed: its kind and year, the day it was filed, its title, the
    SHA-256 and size of the file (the file stays where the body keeps it), the resolution
    that reviewed it if any, and who recorded it when."""

    kind: FilingKind
    year: int
    filed_on: date
    title: str
    sha256: str
    size: int
    resolution: str | None
    principal: str
    recorded_at: datetime
    version: int  # the body's event that recorded it


@dataclass(frozen=True)
class Due:
    """An obligation: a kind of filing for a year, due within [due_from, due_by]."""

    kind: FilingKind
    year: int
    due_from: date
    due_by: date


@dataclass(frozen=True)
class Obligation:
    due: Due
    status: Status
    filed_on: date | None  # the first filing's day, when filed
    days_late: int | None
    current: Filing | None  # the latest filing of the kind and year: the document in force


def duties(kind: CommunityKind, year: int) -> list[Due]:
    """What a body of ``kind`` must file for ``year``, with its window (domain.md, "The
    annual cycle"): an industry body's work plan and three analysis documents in the first
    quarter, its summary report by 15 December; a city body's three lists by 15 December,
    the end of the performance-data window (the 2024 notice sets no date of its own)."""
    quarter = (date(year, 1, 1), date(year, 3, 31))
    by_december = (date(year, 1, 1), date(year, 12, 15))
    if kind is CommunityKind.INDUSTRY:
        return [
            Due(k, year, *(by_december if k is FilingKind.SUMMARY_REPORT else quarter))
            for k in INDUSTRY_FILINGS
        ]
    if kind is CommunityKind.CITY:
        return [Due(k, year, *by_december) for k in CITY_FILINGS]
    return []


def status_of(due: Due, filings: Sequence[Filing], as_of: date) -> Obligation:
    """``due``'s status on ``as_of``: on time or late (by how many days) once filed,
    missing once the deadline has passed without a filing, else not yet due."""
    mine = [f for f in filings if f.kind is due.kind and f.year == due.year]
    filed = [f for f in mine if f.filed_on <= as_of]
    current = max(filed, key=lambda f: f.version) if filed else None
    if filed:
        first = min(f.filed_on for f in filed)
        late = (first - due.due_by).days
        if late > 0:
            return Obligation(due, Status.LATE, first, late, current)
        return Obligation(due, Status.ON_TIME, first, None, current)
    if as_of > due.due_by:
        return Obligation(due, Status.MISSING, None, None, None)
    return Obligation(due, Status.NOT_YET_DUE, None, None, None)


def obligations_of(
    kind: CommunityKind, year: int, filings: Sequence[Filing], as_of: date
) -> list[Obligation]:
    """Every obligation of a body of ``kind`` for ``year``, with its status on ``as_of``."""
    return [status_of(due, filings, as_of) for due in duties(kind, year)]


@dataclass(frozen=True)
class Window:
    """A window of the national platform: registration, or performance-data collection."""

    name: str
    opens: date
    closes: date

    def state(self, on: date) -> str:
        if on < self.opens:
            return "not_yet_open"
        return "open" if on <= self.closes else "closed"


def windows(year: int) -> list[Window]:
    """The platform's windows of ``year`` (the 2023 guide, 五、时间安排): registration
    1 January – 31 October (in 2023, its first year, from 30 July), performance data
    1 November – 15 December."""
    opens = date(2023, 7, 30) if year == 2023 else date(year, 1, 1)
    return [
        Window("registration", opens, date(year, 10, 31)),
        Window("performance_data", date(year, 11, 1), date(year, 12, 15)),
    ]


def parse_year(value: int | str) -> int:
    """A year of the annual cycle, as typed: 2000 to 2100."""
    if isinstance(value, bool):
        raise InvalidInput("year must be a year such as 2025")
    try:
        year = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"year must be a year such as 2025; got {value!r}") from None
    if not 2000 <= year <= 2100:
        raise InvalidInput(f"year must be a year from 2000 to 2100, such as 2025; got {value!r}")
    return year


def check_year(year: int, founded_on: date, filed_on: date) -> None:
    """A filing's year: not before the body was founded, nor after the day it was filed
    (a plan is filed for its year or the next; nothing is filed for a later year)."""
    if year < max(FIRST_YEAR, founded_on.year):
        raise InvalidInput(
            f"year {year} is before the body was founded ({founded_on.isoformat()}); "
            "a body files only for the years it exists"
        )
    if year > filed_on.year + 1:
        raise InvalidInput(
            f"a document filed on {filed_on.isoformat()} cannot be for {year}: at most for "
            f"the year after ({filed_on.year + 1})"
        )


def check_digest(sha256: str, size: int) -> tuple[str, int]:
    """A file's SHA-256 (64 hexadecimal digits, kept in lower case) and size in bytes."""
    text = sha256.strip().lower()
    if len(text) != 64 or any(c not in "0123456789abcdef" for c in text):
        raise InvalidInput(
            f"sha256 must be the file's SHA-256 as 64 hexadecimal digits; got {sha256!r}"
        )
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= LARGEST_FIGURE:
        raise InvalidInput(
            f"size must be the file's size in bytes, from 0 to {LARGEST_FIGURE:,}; got {size!r}"
        )
    return text, size


# --- monitoring indicators (the 2023 guide, 三、监测指标) ----------------------------


class Indicator(StrEnum):
    """A yearly figure of the guide's indicators (domain.md, "Monitoring indicators");
    each is a count, except ``funds_invested``, money in fen."""

    # 3. talent training
    STUDENTS_COMMISSIONED = "students_commissioned"
    STUDENTS_ORDER_CLASSES = "students_order_classes"
    STUDENTS_APPRENTICESHIP = "students_apprenticeship"
    MUTUAL_APPOINTMENTS = "mutual_appointments"
    GRADUATES_HIRED_BY_MEMBERS = "graduates_hired_by_members"
    GRADUATES_IN_INDUSTRY = "graduates_in_industry"
    TRAINING_PRE_JOB = "training_pre_job"
    TRAINING_ON_JOB = "training_on_job"
    TRAINING_CONTINUING = "training_continuing"
    ADMITTED_BACHELOR = "admitted_bachelor"
    ADMITTED_PROFESSIONAL_MASTER = "admitted_professional_master"
    # 4. technology
    FUNDS_INVESTED = "funds_invested"
    INNOVATION_CENTRES = "innovation_centres"
    TECHNICAL_UPGRADING_PROJECTS = "technical_upgrading_projects"
    PROCESS_IMPROVEMENT_PROJECTS = "process_improvement_projects"
    PRODUCT_UPGRADING_PROJECTS = "product_upgrading_projects"
    INNOVATION_RESULTS = "innovation_results"
    TECHNOLOGY_DEMANDS_TAKEN = "technology_demands_taken"
    TECHNOLOGY_DEMANDS_COMPLETED = "technology_demands_completed"
    # 5. teaching resources
    CORE_COURSES = "core_courses"
    PRACTICE_PROJECTS = "practice_projects"
    EQUIPMENT_DEVELOPED = "equipment_developed"
    EQUIPMENT_ADOPTED = "equipment_adopted"
    # 6. support
    SUPPORT_POLICIES = "support_policies"


chinese(
    Indicator,
    {
        Indicator.STUDENTS_COMMISSIONED: ("委托培养学生数", "委托培养"),
        Indicator.STUDENTS_ORDER_CLASSES: ("订单培养学生数", "订单培养"),
        Indicator.STUDENTS_APPRENTICESHIP: ("学徒制培养学生数", "学徒制培养"),
        Indicator.MUTUAL_APPOINTMENTS: ("校企师资互聘人数", "师资互聘"),
        Indicator.GRADUATES_HIRED_BY_MEMBERS: ("成员学校毕业生到成员企业就业人数",),
        Indicator.GRADUATES_IN_INDUSTRY: ("毕业生在本行业就业人数",),
        Indicator.TRAINING_PRE_JOB: ("岗前培训人次", "岗前培训"),
        Indicator.TRAINING_ON_JOB: ("在岗培训人次", "在岗培训"),
        Indicator.TRAINING_CONTINUING: ("继续教育人次", "继续教育"),
        Indicator.ADMITTED_BACHELOR: ("升入成员高校本科人数", "升本"),
        Indicator.ADMITTED_PROFESSIONAL_MASTER: ("升入成员高校专业硕士人数", "专硕"),
        Indicator.FUNDS_INVESTED: ("投入资金", "资金投入额"),
        Indicator.INNOVATION_CENTRES: ("建成技术创新中心数", "技术创新中心"),
        Indicator.TECHNICAL_UPGRADING_PROJECTS: ("技术改造项目数", "技术改造"),
        Indicator.PROCESS_IMPROVEMENT_PROJECTS: ("工艺改进项目数", "工艺改进"),
        Indicator.PRODUCT_UPGRADING_PROJECTS: ("产品升级项目数", "产品升级"),
        Indicator.INNOVATION_RESULTS: ("创新成果数", "创新成果"),
        Indicator.TECHNOLOGY_DEMANDS_TAKEN: ("承接技术需求数", "承接技术需求"),
        Indicator.TECHNOLOGY_DEMANDS_COMPLETED: ("完成技术需求数", "完成技术需求"),
        Indicator.CORE_COURSES: ("共同开发核心课程数", "核心课程"),
        Indicator.PRACTICE_PROJECTS: ("共同开发实践项目数", "实践项目"),
        Indicator.EQUIPMENT_DEVELOPED: ("研发教学装备数", "研发教学装备"),
        Indicator.EQUIPMENT_ADOPTED: ("应用教学装备数", "应用教学装备"),
        Indicator.SUPPORT_POLICIES: ("出台支持政策数", "支持政策"),
    },
)

GROUPS: dict[str, tuple[Indicator, ...]] = {
    "talent_training": tuple(Indicator)[:11],
    "technology": tuple(Indicator)[11:19],
    "teaching_resources": tuple(Indicator)[19:23],
    "support": tuple(Indicator)[23:],
}
"""The guide's groups 3 to 6, in its order (groups 1 and 2 are computed: the members'
spread and qualifications, and the filings' timeliness)."""

MONEY = frozenset({Indicator.FUNDS_INVESTED})
"""Indicators counted in fen; every other is a count."""


@dataclass(frozen=True)
class Figure:
    """A yearly figure of an indicator, for the body or for one member unit, with the
    digest of the document that evidences it and who recorded it when. A later figure
    for the same indicator, year and unit corrects the earlier, which stays."""

    indicator: Indicator
    year: int
    value: int  # a count, or fen
    unit_id: UUID | None  # None: the body's own figure
    evidence_sha256: str
    principal: str
    recorded_at: datetime
    version: int


LARGEST_FIGURE = 10**15
"""Above any count or amount in fen a body reports (ten trillion yuan), and within what
every store and JSON reader keeps exactly."""


def check_value(indicator: Indicator, value: int) -> int:
    what = "an amount in fen" if indicator in MONEY else "a count"
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput(f"{indicator.value} must be {what}, 0 or more; got {value!r}")
    if value > LARGEST_FIGURE:
        raise InvalidInput(f"{indicator.value} must be {what} up to {LARGEST_FIGURE:,}")
    return value


def latest(figures: Sequence[Figure]) -> dict[tuple[Indicator, int, UUID | None], Figure]:
    """Each indicator's figure in force per year and reporter: the latest recorded."""
    kept: dict[tuple[Indicator, int, UUID | None], Figure] = {}
    for f in figures:
        kept[(f.indicator, f.year, f.unit_id)] = f
    return kept


# --- the yearly package for the national platform -------------------------------------

PACKAGE_FORMAT = "chanjiao-annual-v1"


def package_statement(content: bytes) -> bytes:
    """What the ledger's key signs for a yearly package: its format and the SHA-256 of
    the content line exactly as written."""
    return f"{PACKAGE_FORMAT}\n{hashlib.sha256(content).hexdigest()}".encode()


class PackageSignature(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The package's second line."""

    format: str
    content_sha256: str
    key_id: str
    public_key: str
    signature: str


class PackageCheck(msgspec.Struct, frozen=True):
    ok: bool
    key_id: str | None
    key_pinned: bool  # checked against the key id the ledger's operator published
    problem: str | None


def verify_package(data: bytes, expected_key: str | None = None) -> PackageCheck:
    """Whether a yearly package is as the ledger signed it: two lines, the content and
    its signature by the key that ``expected_key`` (a key id, or the public key in hex)
    names; without it, only against the key the package carries."""
    lines = data.split(b"\n")
    if len(lines) == 3 and lines[2] == b"":
        lines = lines[:2]
    if len(lines) != 2:
        return PackageCheck(False, None, False, "a package is two lines: content, signature")
    content, signed = lines
    try:
        sig = msgspec.json.decode(signed, type=PackageSignature)
    except msgspec.ValidationError as e:
        return PackageCheck(False, None, False, f"the signature line cannot be read: {e}")
    if sig.format != PACKAGE_FORMAT:
        return PackageCheck(False, sig.key_id, False, f"not a {PACKAGE_FORMAT} package")
    if hashlib.sha256(content).hexdigest() != sig.content_sha256:
        return PackageCheck(False, sig.key_id, False, "the content was changed after signing")
    if not signed_by(sig.public_key, sig.key_id, sig.signature, package_statement(content)):
        return PackageCheck(False, sig.key_id, False, "the signature does not hold")
    if expected_key is not None:
        if expected_key not in (sig.key_id, sig.public_key):
            return PackageCheck(
                False, sig.key_id, False, f"signed by key {sig.key_id}, not {expected_key}"
            )
        return PackageCheck(True, sig.key_id, True, None)
    return PackageCheck(True, sig.key_id, False, None)
