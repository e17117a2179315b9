"""The lists and reports as files to download: CSV for programs, an xlsx workbook for
people (ADR 0028). The command line writes them (``--format csv`` and ``--format xlsx``,
``cli.render`` and ``cli.spreadsheet``), and the web console can offer the same files.

The CSV has English snake_case headers, ids first, money as yuan with two decimals and
shares in basis points (``csv_rows``). The workbook holds the same columns and rows,
typed (``workbook``): credit codes, division codes, ids and resolution numbers are text
cells (an all-digit code such as ``123300004700012347`` stays itself instead of becoming
``1.233E+17``), money is a number shown with two decimals and grouped thousands, shares are
percentages, dates are dates. The header row is Chinese with the CSV's English name beside
it, and is frozen.
"""

from __future__ import annotations

import csv
import unicodedata
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from io import BytesIO, StringIO
from typing import Any

from projections.annual import (
    FilingList,
    IndicatorReport,
    NationalIndicators,
    ObligationList,
    ObligationReport,
)
from projections.cost_sharing import (
    AgreementList,
    AgreementView,
    CostSharingReport,
    InvestmentSummary,
)
from projections.directory import UnitList
from projections.governance import MeetingList, Register, SeatList
from projections.membership import CommunityView, MemberList
from projections.provinces import ProvinceDistribution
from projections.quality import QualityReport

# --- CSV ------------------------------------------------------------------------------


def csv_rows(value: Any) -> list[list[str]]:
    """A header row and data rows; money as yuan with two decimals, shares in basis
    points, so a spreadsheet sums the columns exactly. The lists and reports: the cost
    sharing and investment reports, the agreement list, the member list, the provinces
    report, the resolution register, the seats, the meetings, an agreement's entries, the
    body and unit lists; TypeError for others."""
    match value:
        case CostSharingReport():
            rows = [
                [
                    "unit_id",
                    "code",
                    "name",
                    "cost_share_bp",
                    "cost_due",
                    "contributed",
                    "balance",
                    "benefit_share_bp",
                    "benefit_due",
                ]
            ]
            rows += [
                [
                    str(p.unit_id),
                    p.code,
                    p.name,
                    str(p.cost_share_bp),
                    p.cost_due,
                    p.contributed,
                    p.balance,
                    str(p.benefit_share_bp),
                    p.benefit_due,
                ]
                for p in value.parties
            ]
            rows.append(
                [
                    "",
                    "",
                    "total",
                    "10000",
                    value.total_costs,
                    value.total_contributed,
                    value.total_balance,
                    "10000",
                    value.total_benefits,
                ]
            )
            if value.outside_funding != "0.00":  # in no party's figures
                rows.append(["", "", "outside_funding", "", "", value.outside_funding, "", "", ""])
            return rows
        case InvestmentSummary():
            rows = [["dimension", "key", "name", "amount", "share_bp"]]
            for dimension, slices in (
                ("kind", value.by_kind),
                ("source", value.by_source),
                ("province", value.by_province),
                ("funder", value.by_funder),
            ):
                rows += [[dimension, s.key, s.name, s.amount, str(s.share_bp)] for s in slices]
            rows += [
                ["agreement", str(a.agreement_id), a.title, a.contributed, ""]
                for a in value.agreements
            ]
            rows += [
                ["outside_funding", str(a.agreement_id), a.title, a.outside_funding, ""]
                for a in value.agreements
                if a.outside_funding != "0.00"
            ]
            return rows
        case AgreementList():
            rows = [
                [
                    "id",
                    "title",
                    "kind",
                    "community_id",
                    "community",
                    "status",
                    "parties",
                    "approved_on",
                    "terminated_on",
                ]
            ]
            rows += [
                [
                    str(a.id),
                    a.title,
                    a.kind,
                    str(a.community_id),
                    a.community_name,
                    a.status,
                    str(a.parties),
                    str(a.approved_on or ""),
                    str(a.terminated_on or ""),
                ]
                for a in value.agreements
            ]
            return rows
        case MemberList():
            rows = [
                ["unit_id", "code", "name", "type", "province", "province_name", "role", "since"]
            ]
            rows += [
                [
                    str(m.unit_id),
                    m.code,
                    m.name,
                    m.type,
                    m.province,
                    m.province_name,
                    m.role,
                    str(m.since),
                ]
                for m in value.members
            ]
            return rows
        case ProvinceDistribution():
            # one row per province and per unit type, then the totals; the share is
            # the decimal fraction of members outside the home province ("0.4545")
            rows = [["dimension", "key", "name", "units", "share"]]
            rows += [["province", p.province, p.name, str(p.units), ""] for p in value.provinces]
            rows += [["type", t.unit_type, "", str(t.units), ""] for t in value.by_type]
            rows.append(["total", "", "", str(value.total), ""])
            rows.append(
                [
                    "outside_home",
                    value.home_province or "",
                    value.home_province_name or "",
                    str(value.outside_home),
                    value.outside_home_share or "",
                ]
            )
            if value.local is not None:
                rows.append(["local", "", "", str(value.local), ""])
                rows.append(["non_local", "", "", str(value.non_local), ""])
            return rows
        case QualityReport():
            # one row per qualification and per unit type, then the totals; the share
            # is the decimal fraction of members holding at least one ("0.2500")
            rows = [["dimension", "key", "name", "units", "share"]]
            rows += [
                ["qualification", q.qualification, q.name, str(q.units), ""]
                for q in value.by_qualification
            ]
            rows += [["type", t.unit_type, "", str(t.units), ""] for t in value.by_type]
            rows.append(["total", "", "", str(value.total), ""])
            rows.append(["qualified", "", "", str(value.qualified), value.qualified_share or ""])
            return rows
        # the lists that had no CSV before the workbooks (ADR 0028)
        case Register():
            rows = [
                [
                    "number",
                    "held_on",
                    "meeting",
                    "matter",
                    "title",
                    "votes_for",
                    "votes_against",
                    "abstentions",
                    "recused",
                    "outcome",
                    "reason",
                    "revokes",
                    "revoked_by",
                    "charter_version",
                ]
            ]
            rows += [
                [
                    r.number or "",
                    str(r.held_on),
                    str(r.meeting),
                    r.matter,
                    r.title,
                    str(r.votes_for),
                    str(r.votes_against),
                    str(r.abstentions),
                    str(r.recused),
                    r.outcome,
                    r.reason,
                    r.revokes or "",
                    r.revoked_by or "",
                    r.charter_version or "",
                ]
                for r in value.resolutions
            ]
            return rows
        case SeatList():
            rows = [["unit_id", "code", "name", "representative", "office", "since"]]
            rows += [
                [str(s.unit_id), s.code, s.unit_name, s.representative, s.office, str(s.since)]
                for s in value.seats
            ]
            return rows
        case AgreementView():
            rows = [
                [
                    "entry",
                    "date",
                    "type",
                    "unit_id",
                    "name",
                    "kind",
                    "amount",
                    "description",
                    "reversed_because",
                ]
            ]
            rows += [
                [
                    str(e.entry),
                    str(e.on),
                    e.type,
                    str(e.unit_id or ""),
                    e.unit_name or "",
                    e.kind or "",
                    e.amount,
                    e.description,
                    e.reversed_because or "",
                ]
                for e in value.entries
            ]
            return rows
        case [CommunityView(), *_] | []:
            rows = [
                [
                    "id",
                    "name",
                    "kind",
                    "industry",
                    "division",
                    "division_name",
                    "founded_on",
                    "dissolved_on",
                    "active_members",
                ]
            ]
            rows += [
                [
                    str(c.id),
                    c.name,
                    c.kind,
                    c.industry,
                    c.division,
                    c.division_name or "",
                    str(c.founded_on),
                    str(c.dissolved_on or ""),
                    str(c.active_members),
                ]
                for c in value
            ]
            return rows
        case MeetingList():
            rows = [
                [
                    "meeting",
                    "held_on",
                    "present_count",
                    "seats",
                    "present",
                    "resolutions",
                    "adopted",
                    "annulled",
                ]
            ]
            rows += [
                [
                    str(v.meeting),
                    str(v.held_on),
                    str(len(v.present)),
                    str(v.seats),
                    "、".join(v.present),
                    str(v.resolutions),
                    " ".join(v.adopted),
                    v.annulled or "",
                ]
                for v in value.meetings
            ]
            return rows
        case UnitList():
            rows = [
                [
                    "id",
                    "code",
                    "name",
                    "type",
                    "level",
                    "division",
                    "division_name",
                    "province_name",
                    "deregistered_on",
                ]
            ]
            rows += [
                [
                    str(u.id),
                    u.code,
                    u.name,
                    u.type,
                    u.level or "",
                    u.division,
                    u.division_name or "",
                    u.province_name,
                    str(u.deregistered_on or ""),
                ]
                for u in value.units
            ]
            return rows
        case FilingList():
            rows = [
                [
                    "year",
                    "kind",
                    "kind_name",
                    "filed_on",
                    "title",
                    "sha256",
                    "size",
                    "resolution",
                    "recorded_by",
                    "recorded_at",
                    "superseded",
                ]
            ]
            rows += [
                [
                    str(f.year),
                    f.kind,
                    f.kind_name,
                    str(f.filed_on),
                    f.title,
                    f.sha256,
                    str(f.size),
                    f.resolution or "",
                    f.recorded_by,
                    f.recorded_at.isoformat(),
                    "yes" if f.superseded else "",
                ]
                for f in value.filings
            ]
            return rows
        case ObligationList():
            rows = [
                [
                    "year",
                    "kind",
                    "kind_name",
                    "due_from",
                    "due_by",
                    "status",
                    "status_name",
                    "filed_on",
                    "days_late",
                    "title",
                    "sha256",
                ]
            ]
            rows += [
                [
                    str(o.year),
                    o.kind,
                    o.kind_name,
                    str(o.due_from),
                    str(o.due_by),
                    o.status,
                    o.status_name,
                    str(o.filed_on or ""),
                    "" if o.days_late is None else str(o.days_late),
                    o.title or "",
                    o.sha256 or "",
                ]
                for o in value.obligations
            ]
            return rows
        case ObligationReport():
            rows = [
                [
                    "community_id",
                    "community",
                    "type",
                    "on_time",
                    "late",
                    "missing",
                    "not_yet_due",
                    "late_or_missing",
                ]
            ]
            rows += [
                [
                    str(b.community_id),
                    b.community_name,
                    b.community_kind,
                    str(b.on_time),
                    str(b.late),
                    str(b.missing),
                    str(b.not_yet_due),
                    " ".join(b.late_or_missing),
                ]
                for b in value.bodies
            ]
            return rows
        case IndicatorReport():
            rows = [
                [
                    "year",
                    "indicator",
                    "name",
                    "group",
                    "measure",
                    "value",
                    "previous",
                    "source",
                    "unit_id",
                    "unit_name",
                    "reported",
                    "evidence_sha256",
                    "recorded_by",
                    "recorded_at",
                ]
            ]
            for row in value.indicators:
                common = [
                    str(value.year),
                    row.indicator,
                    row.name,
                    row.group,
                    row.measure,
                    "" if row.value is None else str(row.value),
                    "" if row.previous is None else str(row.previous),
                    row.source or "",
                ]
                if not row.reported:
                    rows.append([*common, "", "", "", "", "", ""])
                for f in row.reported:
                    rows.append(
                        [
                            *common,
                            str(f.unit_id or ""),
                            f.unit_name or "",
                            str(f.value),
                            f.evidence_sha256,
                            f.recorded_by,
                            f.recorded_at.isoformat(),
                        ]
                    )
            return rows
        case NationalIndicators():
            rows = [
                [
                    "year",
                    "indicator",
                    "name",
                    "group",
                    "measure",
                    "dimension",
                    "key",
                    "value",
                    "communities",
                ]
            ]
            for row in value.indicators:
                common = [str(value.year), row.indicator, row.name, row.group, row.measure]
                rows.append([*common, "total", "", str(row.total), str(row.bodies)])
                rows += [[*common, "type", k, str(v), ""] for k, v in row.by_kind.items()]
                rows += [[*common, "province", p, str(v), ""] for p, v in row.by_province.items()]
            return rows
    raise TypeError(f"no CSV form for {type(value).__name__}")


def csv_text(value: Any) -> str:
    """The CSV file of ``value`` (``csv_rows``) as text: a byte-order mark first, so that
    spreadsheet programs read the Chinese names as UTF-8 rather than the system code page;
    rows end in CRLF (RFC 4180)."""
    text = StringIO()
    text.write("\ufeff")
    csv.writer(text).writerows(csv_rows(value))
    return text.getvalue()


def csv_bytes(value: Any) -> bytes:
    """The CSV file of ``value`` as bytes: ``csv_text`` in UTF-8."""
    return csv_text(value).encode()


# --- xlsx -----------------------------------------------------------------------------

TEXT, MONEY, SHARE_BP, FRACTION, DATE, INTEGER = "text", "money", "bp", "fraction", "date", "int"

# The CSV's English header -> the Chinese header and how its cells are typed.
COLUMNS: dict[str, tuple[str, str]] = {
    "unit_id": ("单位标识", TEXT),
    "id": ("标识", TEXT),
    "community_id": ("共同体标识", TEXT),
    "code": ("统一社会信用代码", TEXT),
    "name": ("名称", TEXT),
    "title": ("标题", TEXT),
    "kind": ("类别", TEXT),
    "type": ("类型", TEXT),
    "community": ("共同体", TEXT),
    "status": ("状态", TEXT),
    "parties": ("协议方数", INTEGER),
    "approved_on": ("生效日期", DATE),
    "terminated_on": ("终止日期", DATE),
    "cost_share_bp": ("成本分摊比例", SHARE_BP),
    "benefit_share_bp": ("收益分配比例", SHARE_BP),
    "cost_due": ("应担成本（元）", MONEY),
    "contributed": ("已投入（元）", MONEY),
    "balance": ("差额（元）", MONEY),
    "benefit_due": ("应得收益（元）", MONEY),
    "dimension": ("维度", TEXT),
    "key": ("代码", TEXT),
    "amount": ("金额（元）", MONEY),
    "share_bp": ("占比", SHARE_BP),
    "share": ("占比", FRACTION),
    "units": ("单位数", INTEGER),
    "province": ("省份代码", TEXT),
    "province_name": ("省份", TEXT),
    "role": ("角色", TEXT),
    "since": ("起始日期", DATE),
    "number": ("决议编号", TEXT),
    "held_on": ("会议日期", DATE),
    "meeting": ("会议序号", INTEGER),
    "matter": ("事项", TEXT),
    "votes_for": ("赞成", INTEGER),
    "votes_against": ("反对", INTEGER),
    "abstentions": ("弃权", INTEGER),
    "recused": ("回避", INTEGER),
    "outcome": ("结果", TEXT),
    "reason": ("说明", TEXT),
    "revokes": ("撤销决议", TEXT),
    "revoked_by": ("被撤销于", TEXT),
    "charter_version": ("章程版本", TEXT),
    "representative": ("代表", TEXT),
    "office": ("职务", TEXT),
    "entry": ("条目", INTEGER),
    "date": ("日期", DATE),
    "description": ("摘要", TEXT),
    "reversed_because": ("冲销原因", TEXT),
    "industry": ("行业", TEXT),
    "division": ("行政区划代码", TEXT),
    "division_name": ("行政区划", TEXT),
    "founded_on": ("成立日期", DATE),
    "dissolved_on": ("解散日期", DATE),
    "active_members": ("成员数", INTEGER),
    "deregistered_on": ("注销日期", DATE),
    "level": ("层次", TEXT),
    "present": ("出席单位", TEXT),
    "present_count": ("出席数", INTEGER),
    "seats": ("席位数", INTEGER),
    "resolutions": ("决议数", INTEGER),
    "adopted": ("通过的决议", TEXT),
    "annulled": ("撤销原因", TEXT),
    "year": ("年度", INTEGER),
    "kind_name": ("类别名称", TEXT),
    "filed_on": ("报送日期", DATE),
    "sha256": ("SHA-256", TEXT),
    "size": ("大小（字节）", INTEGER),
    "resolution": ("决议", TEXT),
    "recorded_by": ("记录人", TEXT),
    "recorded_at": ("记录时间", TEXT),
    "superseded": ("已被替代", TEXT),
    "due_from": ("报送起始", DATE),
    "due_by": ("报送截止", DATE),
    "status_name": ("状态名称", TEXT),
    "days_late": ("逾期天数", INTEGER),
    "on_time": ("按时", INTEGER),
    "late": ("逾期", INTEGER),
    "missing": ("未报送", INTEGER),
    "not_yet_due": ("未到期", INTEGER),
    "late_or_missing": ("逾期或未报送", TEXT),
    "indicator": ("指标", TEXT),
    "group": ("指标组", TEXT),
    "measure": ("计量", TEXT),
    "value": ("数值", TEXT),
    "previous": ("上年数值", TEXT),
    "source": ("来源", TEXT),
    "unit_name": ("填报单位", TEXT),
    "reported": ("填报数值", TEXT),
    "evidence_sha256": ("佐证材料 SHA-256", TEXT),
    "communities": ("共同体数", INTEGER),
}

FORMATS = {TEXT: "@", MONEY: "#,##0.00", SHARE_BP: "0.00%", FRACTION: "0.00%", DATE: "yyyy-mm-dd"}

# The English beside the Chinese where the CSV's name reads badly.
ENGLISH = {"cost_share_bp": "cost share", "benefit_share_bp": "benefit share", "share_bp": "share"}


def sheet_title(value: Any) -> str:
    """The name of ``value``'s sheet, Chinese then English (``成本分摊 cost sharing``),
    within Excel's 31 characters; also a name for the file it is downloaded as."""
    names = {
        "CostSharingReport": "成本分摊 cost sharing",
        "InvestmentSummary": "投入汇总 investment",
        "AgreementList": "协议 agreements",
        "MemberList": "成员 members",
        "ProvinceDistribution": "省域分布 provinces",
        "QualityReport": "成员资质 quality",
        "Register": "决议 resolutions",
        "SeatList": "理事席位 seats",
        "AgreementView": "协议条目 entries",
        "UnitList": "单位 units",
        "MeetingList": "会议 meetings",
        "FilingList": "报送文件 filings",
        "ObligationList": "报送义务 obligations",
        "ObligationReport": "全国报送 obligations",
        "IndicatorReport": "监测指标 indicators",
        "NationalIndicators": "全国监测指标 indicators",
    }
    return names.get(type(value).__name__, "共同体 communities")


def header(english: str) -> str:
    chinese = COLUMNS.get(english, ("", TEXT))[0]
    shown = ENGLISH.get(english, english.replace("_", " "))
    return f"{chinese} {shown}".strip()


def cell_value(kind: str, text: str) -> Any:
    """A CSV cell as the workbook keeps it. Money: the exact yuan of the fen, as a
    Decimal (written as the decimal number itself, so the cell shows the fen exactly)."""
    if text == "":
        return None
    match kind:
        case "money":
            return Decimal(text)
        case "bp":
            return Decimal(int(text)) / 10000
        case "fraction":
            return Decimal(text)
        case "date":
            return date.fromisoformat(text)
        case "int":
            return int(text)
    return text


def width(text: str) -> int:
    """Display width: a Chinese character takes two columns."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def workbook(title: str, rows: Sequence[Sequence[str]]) -> Any:
    """A workbook of one sheet, ``rows`` typed (``COLUMNS``) under a frozen header."""
    from openpyxl import Workbook

    book = Workbook()
    _fill(book.active, title, rows)
    return book


def _fill(sheet: Any, title: str, rows: Sequence[Sequence[str]]) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    sheet.title = title[:31]
    english = list(rows[0])
    kinds = [COLUMNS.get(name, ("", TEXT))[1] for name in english]
    widths = [width(header(name)) for name in english]
    sheet.append([header(name) for name in english])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for r, row in enumerate(rows[1:], start=2):
        for c, (kind, text) in enumerate(zip(kinds, row, strict=True), start=1):
            cell = sheet.cell(row=r, column=c, value=cell_value(kind, text))
            if kind == TEXT and text != "":
                cell.data_type = "s"  # never read as a number, whatever it looks like
            if kind in FORMATS:
                cell.number_format = FORMATS[kind]
            shown = len(f"{cell.value:,.2f}") if kind == MONEY and text else width(text)
            widths[c - 1] = max(widths[c - 1], shown)
    for c, w in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = min(w + 2, 60)
    sheet.freeze_panes = "A2"


def xlsx_book(values: Sequence[Any]) -> bytes:
    """Several read models in one workbook, a sheet each (named by ``sheet_title``)."""
    book = workbook(sheet_title(values[0]), csv_rows(values[0]))
    for value in values[1:]:
        _fill(book.create_sheet(), sheet_title(value), csv_rows(value))
    data = BytesIO()
    book.save(data)
    return data.getvalue()


def xlsx_bytes(value: Any) -> bytes:
    """The workbook of ``value`` as the bytes of an xlsx file: its ``csv_rows``, typed, on
    a sheet named by ``sheet_title``; TypeError where there is no CSV form."""
    data = BytesIO()
    workbook(sheet_title(value), csv_rows(value)).save(data)
    return data.getvalue()
