"""``--format xlsx``: the lists and reports as a workbook people open in Excel or WPS
(ADR 0028), and the CSV rows of the lists that had none.

The workbook holds the same columns and rows as the CSV (``cli.render.csv_rows``), typed:
credit codes, division codes, ids and resolution numbers are text cells (an all-digit code
such as ``123300004700012347`` stays itself instead of becoming ``1.233E+17``), money is a
number shown with two decimals and grouped thousands, shares are percentages, dates are
dates. The header row is Chinese with the CSV's English name beside it, and is frozen.
"""

from __future__ import annotations

import argparse
import sys
import unicodedata
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from io import BytesIO
from typing import Any

from domain.errors import InvalidInput
from projections.cost_sharing import AgreementView
from projections.directory import UnitList
from projections.governance import MeetingList, Register, SeatList
from projections.membership import CommunityView

TERMINAL_REFUSAL = "xlsx is a binary file: redirect it (> report.xlsx) or pass --output FILE"

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
}

FORMATS = {TEXT: "@", MONEY: "#,##0.00", SHARE_BP: "0.00%", FRACTION: "0.00%", DATE: "yyyy-mm-dd"}

# The English beside the Chinese where the CSV's name reads badly.
ENGLISH = {"cost_share_bp": "cost share", "benefit_share_bp": "benefit share", "share_bp": "share"}


def more_csv_rows(value: Any) -> list[list[str]] | None:
    """The CSV of the lists ``cli.render.csv_rows`` does not know: the resolution
    register, the seats, the meetings, an agreement's entries, the body and unit lists; None
    for others."""
    match value:
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
    return None


def sheet_title(value: Any) -> str:
    names = {
        "CostSharingReport": "成本分摊 cost sharing",
        "InvestmentSummary": "投入汇总 investment",
        "AgreementList": "协议 agreements",
        "MemberList": "成员 members",
        "ProvinceDistribution": "省域分布 provinces",
        "Register": "决议 resolutions",
        "SeatList": "理事席位 seats",
        "AgreementView": "协议条目 entries",
        "UnitList": "单位 units",
        "MeetingList": "会议 meetings",
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
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
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
    from openpyxl.utils import get_column_letter

    for c, w in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(c)].width = min(w + 2, 60)
    sheet.freeze_panes = "A2"
    return book


def write_xlsx(value: Any, rows: Sequence[Sequence[str]], output: str | None) -> None:
    """The workbook to ``output``, or to stdout when that is not a terminal."""
    book = workbook(sheet_title(value), rows)
    if output:
        book.save(output)
        return
    if sys.stdout.isatty():
        raise InvalidInput(TERMINAL_REFUSAL)
    data = BytesIO()
    book.save(data)
    sys.stdout.flush()
    sys.stdout.buffer.write(data.getvalue())
    sys.stdout.buffer.flush()


def spreadsheet_arg(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``--format xlsx`` and ``--output FILE`` on a list or report (a ``csv=True`` leaf).

    The leaf's answer is written here as a workbook, so that the command runs inside the
    command line's error handling (a refusal on a terminal is exit code 2)."""
    from cli.render import csv_rows

    fmt = p._option_string_actions["--format"]
    if "xlsx" not in (fmt.choices or ()):
        # The --format option is the one of every csv leaf (argparse shares a parent's
        # actions): every list and report offers xlsx.
        fmt.choices = (*(fmt.choices or ()), "xlsx")
    if "--output" not in p._option_string_actions:
        p.add_argument("--output", "-o", metavar="FILE", help="write the xlsx to FILE")
    run: Callable[..., Any] = p.get_default("run")

    def run_then_write(ledger: Any, a: argparse.Namespace) -> Any:
        result = run(ledger, a)
        if a.format != "xlsx":
            return result
        write_xlsx(result, csv_rows(result), a.output)
        return None

    p.set_defaults(run=run_then_write)
    return p
