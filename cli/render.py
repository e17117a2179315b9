"""Output for people (rich tables), for scripts (JSON and CSV) and for spreadsheets (xlsx,
``cli.spreadsheet``); the CSV and the workbook are those of ``projections.tables``."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import date, datetime
from enum import Enum
from typing import Any

import msgspec
from rich import table as rich_table
from rich.console import Console

from adapters.audit import ConsistencyProof, InclusionProof
from adapters.chain import Verification
from adapters.codec import to_json
from adapters.webhooks import Delivery, Endpoint
from api.tokens import TokenInfo
from cli.annual import FileCheck
from cli.projections import Rebuilt, Status
from cli.relay import RelayStatus
from cli.spreadsheet import write_xlsx
from domain.agreement import AgreementKind
from domain.agreement import Status as AgreementStatus
from domain.annual import FilingKind, PackageCheck
from domain.annual import Status as FilingStatus
from domain.bundle import BundleVerification
from domain.charter import Matter
from domain.checkpoints import Checkpoint
from domain.council import Office
from domain.errors import InvalidInput
from domain.values import (
    SHANGHAI,
    CommunityKind,
    ExitReason,
    Role,
    UnitType,
    VocationalLevel,
    bilingual,
    chinese_name,
    group_yuan,
    province_name,
)
from projections.annual import (
    FilingList,
    IndicatorReport,
    NationalIndicators,
    ObligationList,
    ObligationReport,
    WindowView,
)
from projections.cost_sharing import (
    AgreementList,
    AgreementView,
    CostSharingReport,
    EntryView,
    InvestmentSummary,
)
from projections.directory import UnitList
from projections.governance import (
    CharterView,
    MeetingList,
    MeetingRecorded,
    Register,
    RegisterEntry,
    SeatList,
)
from projections.history import AggregateHistory
from projections.leads import CommunityDetail
from projections.membership import CommunityView, MemberList, UnitView
from projections.provinces import ProvinceDistribution
from projections.quality import QualityReport
from projections.replay import Replay
from projections.tables import csv_text

HEADINGS = {
    "indicator": "指标",
    "reported by": "填报方",
    "year": "年度",
    "filed on": "报送日期",
    "size (bytes)": "大小（字节）",
    "sha256": "SHA-256",
    "in force": "现行",
    "due": "报送期限",
    "days late": "逾期天数",
    "on time": "按时",
    "late": "逾期",
    "missing": "未报送",
    "not yet due": "未到期",
    "late or missing": "逾期或未报送",
    "window": "填报窗口",
    "opens": "开始",
    "closes": "结束",
    "state": "状态",
    "aggregate": "聚合",
    "agreement": "协议",
    "amount (yuan)": "金额（元）",
    "balance": "差额",
    "behind": "落后",
    "benefit due": "应得收益",
    "benefit share": "收益比例",
    "benefits": "收益",
    "by": "签发人",
    "code": "信用代码",
    "communities": "共同体",
    "community": "共同体",
    "contributed": "已投入",
    "cost due": "应担成本",
    "cost share": "成本比例",
    "costs": "成本",
    "date": "日期",
    "deregistered": "注销",
    "detail": "详情",
    "division": "行政区划",
    "effective": "生效",
    "entry": "条目",
    "events": "事件数",
    "exit reason": "退出原因",
    "outside funding": "外部投入",
    "funder": "出资方",
    "ended because": "终止原因",
    "qualification": "资质",
    "source": "来源",
    "expires": "到期",
    "for/against/abstain": "赞成/反对/弃权",
    "founded": "成立",
    "from": "起",
    "hash": "哈希",
    "held on": "会议日期",
    "id": "标识",
    "industry": "行业",
    "issued": "签发",
    "key id": "密钥标识",
    "kind": "类别",
    "lead": "牵头类型",
    "matter": "事项",
    "meeting": "会议",
    "members": "成员数",
    "name": "名称",
    "number": "编号",
    "office": "职务",
    "outcome": "结果",
    "parties": "协议方",
    "party": "协议方",
    "position": "位置",
    "present": "出席",
    "principal": "操作人",
    "problem": "问题",
    "province": "省份",
    "read model": "读模型",
    "webhook": "回调",
    "url": "地址",
    "added": "添加",
    "removed": "移除",
    "attempts": "尝试次数",
    "last result": "最近结果",
    "last attempt": "最近尝试",
    "next attempt": "下次尝试",
    "relay": "转发",
    "target": "目标",
    "published up to": "已转发至",
    "published": "已转发",
    "last seen": "最近活动",
    "only": "范围",
    "recorded": "记录时间",
    "representative": "代表",
    "resolution": "决议",
    "resolutions": "决议",
    "revoked": "吊销",
    "revoked by": "被撤销于",
    "role": "角色",
    "root": "根哈希",
    "rule": "规则",
    "share": "占比",
    "shares from": "比例起始",
    "signed at": "签名时间",
    "since": "起始",
    "status": "状态",
    "title": "标题",
    "to": "止",
    "type": "类型",
    "unit": "单位",
    "units": "单位数",
    "units present": "出席单位",
    "until": "至",
    "up to position": "截至位置",
    "value": "值",
    "version": "版本",
    "what": "项目",
}
"""Table headings in Chinese, the English under them, as the spreadsheets' have the
English beside: the secretaries read Chinese; scripts read ``--format json``."""


class Table(rich_table.Table):
    """A rich table whose column headings are given in English and shown under their
    Chinese (``HEADINGS``), which keeps the columns as narrow as the English alone."""

    def add_column(self, header: Any = "", *args: Any, **kwargs: Any) -> None:
        if isinstance(header, str) and header in HEADINGS:
            header = f"{HEADINGS[header]}\n{header}"
        super().add_column(header, *args, **kwargs)


def console() -> Console:
    # Wide enough that Chinese names are not wrapped when output goes to a file.
    return Console(width=None if sys.stdout.isatty() else 160, highlight=False)


def emit(value: Any, fmt: str, *, wide: bool = False) -> None:
    """``value`` in ``fmt``; ``wide``: tables show ids in full (lists show names, which
    people use, and leave ids to ``--wide`` and ``--format json``)."""
    if fmt == "json":
        sys.stdout.write(msgspec.json.format(to_json(value).decode(), indent=2))
        sys.stdout.write("\n")
        return
    if fmt == "csv":
        sys.stdout.write(csv_text(value))
        return
    if fmt == "xlsx":  # a list of cli/main.py's own, without --output (cli.spreadsheet)
        try:
            write_xlsx(value, None)
        except InvalidInput as e:
            print(f"chanjiao: {e}", file=sys.stderr)
            raise SystemExit(2) from None
        return
    out = console()
    match value:
        case MemberList():
            out.print(member_table(value))
        case UnitView():
            out.print(unit_table(value))
            if value.qualifications:
                out.print(qualification_table(value))
        case CommunityDetail():
            out.print(community_table([value], title=value.name))
            if value.leads is not None:
                out.print(leads_table(value))
        case CommunityView():
            out.print(community_table([value], title=value.name))
        case [CommunityView(), *_] | []:
            out.print(community_table(value, wide=wide))
        case UnitList():
            out.print(unit_list_table(value, wide=wide))
        case Register():
            title = value.community_name + recorded_by(value.known_at)
            out.print(register_table(title, value.resolutions))
        case RegisterEntry():
            out.print(register_table("resolution recorded", [value]))
        case SeatList():
            out.print(seat_table(value))
        case MeetingList():
            out.print(meeting_table(value))
        case CharterView():
            out.print(charter_table(value))
        case AgreementView():
            out.print(agreement_table(value))
            out.print(entries_table(value.title, value.entries))
        case AgreementList():
            out.print(agreement_list_table(value))
        case EntryView():
            out.print(entries_table("entry recorded", [value]))
        case CostSharingReport():
            out.print(cost_sharing_table(value))
        case InvestmentSummary():
            for table in investment_tables(value):
                out.print(table)
        case ProvinceDistribution():
            for table in province_tables(value):
                out.print(table)
        case QualityReport():
            out.print(quality_table(value))
        case FilingList():
            out.print(filing_table(value))
        case ObligationList():
            for table in obligation_tables(value):
                out.print(table)
        case ObligationReport():
            for table in obligation_report_tables(value):
                out.print(table)
        case IndicatorReport():
            out.print(indicator_table(value))
        case NationalIndicators():
            out.print(national_indicator_table(value))
        case FileCheck():
            out.print(file_check_line(value))
        case PackageCheck():
            if value.ok:
                pinned = "the published key" if value.key_pinned else "the key it carries"
                out.print(f"OK: signed by key {value.key_id}, checked against {pinned}")
            else:
                out.print(f"NOT AS SIGNED: {value.problem}")
        case Status():
            out.print(status_table(value))
        case RelayStatus():
            out.print(relay_table(value))
        case [Endpoint(), *_] | Endpoint():
            out.print(webhook_table(value if isinstance(value, list) else [value]))
        case [Delivery(), *_]:
            out.print(delivery_table(value))
        case Verification() | BundleVerification():
            out.print(verification_table(value))
        case Checkpoint():
            out.print(checkpoint_table([value], "checkpoint signed"))
        case [Checkpoint(), *_]:
            out.print(checkpoint_table(value, "signed checkpoints"))
        case InclusionProof() | ConsistencyProof():
            out.print(proof_table(value))
        case AggregateHistory():
            out.print(history_table(value))
        case Replay():
            for table in replay_tables(value):
                out.print(table)
        case [TokenInfo(), *_] | TokenInfo():
            out.print(token_table(value if isinstance(value, list) else [value]))
        case [Rebuilt(), *_]:
            for r in value:
                out.print(
                    f"{r.name}: rebuilt to position {r.position} in {r.seconds:.1f} s "
                    f"({r.events_per_second:,.0f} events/s)"
                )
        case MeetingRecorded():
            out.print(
                f"Meeting {value.meeting} held on {value.held_on} recorded with "
                f"{value.present} seats present; record its resolutions with --meeting "
                f"{value.meeting}."
            )
        case _:
            out.print(value)


def member_table(view: MemberList) -> Table:
    known = recorded_by(view.known_at)
    table = Table(title=f"{view.community_name}: members on {view.as_of}{known}")
    for column in ("code", "name", "type", "province", "role", "since"):
        table.add_column(column)
    for m in view.members:
        table.add_row(
            m.code,
            m.name,
            _shown(UnitType, m.type),
            m.province_name,
            _shown(Role, m.role),
            str(m.since),
        )
    table.caption = f"{len(view.members)} members"
    return table


def recorded_by(known_at: datetime | None) -> str:
    """A title's note that an answer leaves out what was recorded after a time."""
    return f", as recorded by {known_at.isoformat()}" if known_at else ""


def unit_table(view: UnitView) -> Table:
    level = f" ({view.level})" if view.level else ""
    status = f", deregistered {view.deregistered_on}" if view.deregistered_on else ""
    table = Table(
        title=f"{view.name} · {view.code} · {view.type}{level} · "
        f"{view.province_name} {view.division_name or ''} {view.division}{status}",
        caption=f"id {view.id}",
    )
    for column in ("community", "role", "from", "to", "exit reason", "resolutions"):
        table.add_column(column)
    for p in view.memberships:
        resolutions = " / ".join(r for r in (p.admitted_by, p.exited_by) if r)
        table.add_row(
            p.community_name,
            _shown(Role, p.role),
            str(p.admitted_on),
            str(p.exited_on or ""),
            _shown(ExitReason, p.exit_reason),
            resolutions,
        )
    return table


def qualification_table(view: UnitView) -> Table:
    table = Table(title=f"{view.name}: qualifications")
    for column in ("qualification", "from", "to", "source", "ended because"):
        table.add_column(column)
    for q in view.qualifications:
        table.add_row(q.name, str(q.since), str(q.until or ""), q.source, q.ended_because or "")
    return table


def community_table(
    views: Sequence[CommunityView], title: str = "communities", *, wide: bool = True
) -> Table:
    table = Table(title=title)
    columns = ("name", "kind", "industry", "division", "founded", "members")
    for column in ("id", *columns) if wide else columns:
        table.add_column(column, no_wrap=column == "id")
    for c in views:
        name = c.name + (f" (dissolved {c.dissolved_on})" if c.dissolved_on else "")
        row = [
            name,
            _shown(CommunityKind, c.kind),
            c.industry,
            _division(c.division, c.division_name),
            str(c.founded_on),
            str(c.active_members),
        ]
        table.add_row(*([str(c.id), *row] if wide else row))
    return table


def unit_list_table(view: UnitList, *, wide: bool = False) -> Table:
    shown = len(view.units)
    title = f"units matching {view.search!r}" if view.search else "registered units"
    caption = (
        f"{view.total} units"
        if shown == view.total
        else (
            f"the first {shown} of {view.total} units by credit code; narrow the search or "
            "raise --limit"
        )
    )
    table = Table(title=title, caption=caption)
    columns = ("code", "name", "type", "division", "province", "deregistered")
    for column in ("id", *columns) if wide else columns:
        table.add_column(column, no_wrap=column in ("id", "code"))
    for u in view.units:
        kind = _shown(UnitType, u.type) + (
            f" ({_shown(VocationalLevel, u.level)})" if u.level else ""
        )
        row = [
            u.code,
            u.name,
            kind,
            _division(u.division, u.division_name),
            u.province_name,
            str(u.deregistered_on or ""),
        ]
        table.add_row(*([str(u.id), *row] if wide else row))
    return table


def _shown(choice: type[Enum], value: str | None) -> str:
    """A closed choice as a table shows it: ``牵头 lead`` (``domain.values.bilingual``)."""
    if value is None:
        return ""
    try:
        return bilingual(choice(value))
    except ValueError:
        return value


def _division(code: str, name: str | None) -> str:
    return f"{code} {name}" if name else code


def leads_table(view: CommunityDetail) -> Table:
    assert view.leads is not None
    trio = "complete" if view.lead_trio_complete else "incomplete"
    chosen = view.recommending_province
    table = Table(
        title=f"{view.name}: leads on {view.as_of} (trio {trio})",
        caption=f"recommending province {chosen.province_name} ({chosen.province}), that of "
        f"{chosen.name}, since {chosen.since}"
        if chosen
        else "no recommending province",
    )
    for column in ("lead", "code", "name", "province", "since"):
        table.add_column(column)
    missing = {m.type: m.since for m in view.missing or ()}
    for kind in ("enterprise", "university", "vocational_school"):
        lead = getattr(view.leads, kind)
        if lead is None:
            table.add_row(_shown(UnitType, kind), "", "missing", "", str(missing[kind]))
        else:
            table.add_row(
                _shown(UnitType, kind), lead.code, lead.name, lead.province_name, str(lead.since)
            )
    return table


def filing_table(value: FilingList) -> Table:
    years = f" {value.year}" if value.year is not None else ""
    table = Table(title=f"{value.community_name}{years}: filings{recorded_by(value.known_at)}")
    for column in ("year", "kind", "filed on", "title", "in force", "resolution", "recorded"):
        table.add_column(column)
    table.add_column("sha256")  # its start: the whole is in --format json and csv
    table.add_column("size (bytes)", justify="right")
    for f in value.filings:
        table.add_row(
            str(f.year),
            _shown(FilingKind, f.kind),
            str(f.filed_on),
            f.title,
            "superseded" if f.superseded else "yes",
            f.resolution or "",
            f"{f.recorded_at:%Y-%m-%d %H:%M} {f.recorded_by}",
            f.sha256[:12] + "…",
            f"{f.size:,}",
        )
    return table


def _windows_table(windows: Sequence[WindowView], as_of: date) -> Table:
    year = windows[0].closes.year if windows else as_of.year
    table = Table(title=f"the national platform's {year} windows on {as_of}")
    for column in ("window", "opens", "closes", "state"):
        table.add_column(column)
    for w in windows:
        table.add_row(
            w.name.replace("_", " "), str(w.opens), str(w.closes), w.state.replace("_", " ")
        )
    return table


def obligation_tables(value: ObligationList) -> list[Table]:
    timely = (
        f"{value.on_time} of {value.due} due filed on time ({value.timeliness})"
        if value.timeliness
        else "nothing due yet"
    )
    table = Table(
        title=f"{value.community_name}: obligations for {value.year} on {value.as_of}"
        f"{recorded_by(value.known_at)}: {timely}"
    )
    for column in ("kind", "due", "status", "filed on", "days late", "title"):
        table.add_column(column)
    for o in value.obligations:
        table.add_row(
            _shown(FilingKind, o.kind),
            f"{o.due_from} – {o.due_by}",
            _shown(FilingStatus, o.status),
            str(o.filed_on or ""),
            "" if o.days_late is None else str(o.days_late),
            o.title or "",
        )
    return [table, _windows_table(value.windows, value.as_of)]


def obligation_report_tables(value: ObligationReport) -> list[Table]:
    table = Table(
        title=f"every body's obligations for {value.year} on {value.as_of}"
        f"{recorded_by(value.known_at)}"
    )
    for column in ("community", "type", "on time", "late", "missing", "not yet due"):
        table.add_column(column, justify="right" if column not in ("community", "type") else None)
    table.add_column("late or missing")
    for b in value.bodies:
        table.add_row(
            b.community_name,
            _shown(CommunityKind, b.community_kind),
            str(b.on_time),
            str(b.late),
            str(b.missing),
            str(b.not_yet_due),
            "、".join(chinese_name(FilingKind(k)) for k in b.late_or_missing),
        )
    by_kind = Table(title="bodies by kind of filing and status")
    for column in ("kind", "on time", "late", "missing", "not yet due"):
        by_kind.add_column(column)
    for kind, counts in value.by_kind.items():
        by_kind.add_row(
            _shown(FilingKind, kind),
            *(str(counts[s]) for s in ("on_time", "late", "missing", "not_yet_due")),
        )
    return [table, by_kind, _windows_table(value.windows, value.as_of)]


def indicator_table(value: IndicatorReport) -> Table:
    table = Table(
        title=f"{value.community_name}: indicators for {value.year}{recorded_by(value.known_at)}"
    )
    table.add_column("indicator")
    table.add_column("value", justify="right")
    table.add_column(str(value.year - 1), justify="right")
    table.add_column("reported by")
    for row in value.indicators:
        shown = (
            ""
            if row.value is None
            else f"{row.value:,}"
            if isinstance(row.value, int)
            else row.value
        )
        before = (
            ""
            if row.previous is None
            else f"{row.previous:,}"
            if isinstance(row.previous, int)
            else row.previous
        )
        reporters = "、".join(r.unit_name or "共同体" for r in row.reported)
        table.add_row(f"{row.name} {row.indicator}", shown, before, reporters)
    return table


def national_indicator_table(value: NationalIndicators) -> Table:
    table = Table(title=f"every body's indicators for {value.year}{recorded_by(value.known_at)}")
    for column in ("indicator", "value", "communities", "type", "province"):
        table.add_column(column, justify="right" if column in ("value", "communities") else None)
    for row in value.indicators:
        total = f"{row.total:,}" if isinstance(row.total, int) else row.total
        kinds = "、".join(f"{chinese_name(CommunityKind(k))} {v}" for k, v in row.by_kind.items())
        places = "、".join(f"{province_name(p)} {v}" for p, v in row.by_province.items())
        table.add_row(f"{row.name} {row.indicator}", total, str(row.bodies), kinds, places)
    return table


def file_check_line(value: FileCheck) -> str:
    what = f"{value.kind} {value.year} of {value.community_name}"
    if value.filing is None:
        return (
            f"NOT FILED: this file (SHA-256 {value.sha256}, {value.size:,} bytes) is no "
            f"document filed as {what}"
        )
    when = f"filed on {value.filing.filed_on}, recorded {value.filing.recorded_at:%Y-%m-%d}"
    if value.matches == "superseded":
        return f"SUPERSEDED: this file is an earlier {what} ({when}); a later one is in force"
    return f"MATCHES: this file is the {what} in force ({when})"


def register_table(title: str, entries: Sequence[RegisterEntry]) -> Table:
    table = Table(title=f"{title}: resolution register")
    for column in (
        "number",
        "date",
        "matter",
        "title",
        "for/against/abstain",
        "outcome",
        "revoked by",
    ):
        table.add_column(column)
    for r in entries:
        tally = f"{r.votes_for}/{r.votes_against}/{r.abstentions}"
        if r.recused:
            tally += f" ({r.recused} recused)"
        outcome = r.reason if r.outcome == "rejected" else "adopted"
        if r.revokes:
            outcome += f", revokes {r.revokes}"
        table.add_row(
            r.number or "—",
            str(r.held_on),
            _shown(Matter, r.matter),
            r.title,
            tally,
            outcome,
            r.revoked_by or "",
        )
    return table


def seat_table(view: SeatList) -> Table:
    table = Table(title=f"{view.community_name}: council seats on {view.as_of}")
    for column in ("office", "representative", "unit", "code", "since"):
        table.add_column(column)
    for seat in view.seats:
        table.add_row(
            _shown(Office, seat.office),
            seat.representative,
            seat.unit_name,
            seat.code,
            str(seat.since),
        )
    table.caption = f"{len(view.seats)} seats"
    return table


def meeting_table(view: MeetingList) -> Table:
    table = Table(
        title=f"{view.community_name}: council meetings",
        caption=f"{len(view.meetings)} meetings; a resolution names its meeting by number",
    )
    for column in ("meeting", "held on", "present", "units present", "resolutions"):
        table.add_column(column, justify="right" if column == "meeting" else "left")
    for v in view.meetings:
        decided = str(v.resolutions) + (f" ({', '.join(v.adopted)})" if v.adopted else "")
        if v.annulled:
            decided = f"annulled: {v.annulled}"
        table.add_row(
            str(v.meeting),
            f"[strike]{v.held_on}[/strike]" if v.annulled else str(v.held_on),
            f"{len(v.present)} of {v.seats}",
            "、".join(v.present),
            decided,
        )
    return table


def charter_table(view: CharterView) -> Table:
    if view.version is None:
        title = f"{view.community_name}: founding-phase rules (no charter adopted) on {view.as_of}"
    else:
        by = f", adopted by {view.adopted_by}" if view.adopted_by else ""
        title = (
            f"{view.community_name}: charter {view.version} in force since {view.effective_on}{by}"
        )
    table = Table(title=title)
    table.add_column("rule")
    table.add_column("value")
    table.add_row("quorum", f"{view.quorum} of all seats present")
    for matter, majority in view.majorities.items():
        words = "more than half" if majority.threshold == "more_than_half" else "two-thirds"
        table.add_row(f"majority: {matter}", f"{words} of {majority.base}")
    table.add_row(
        "admission needs a resolution", "yes" if view.admission_requires_resolution else "no"
    )
    table.add_row("removal needs a resolution", "yes" if view.removal_requires_resolution else "no")
    return table


def agreement_table(view: AgreementView) -> Table:
    status = view.status
    if view.approved_on:
        status += f", in force from {view.approved_on}"
    if view.terminated_on:
        status += f" until {view.terminated_on} (terminated by {view.terminated_by})"
    table = Table(
        title=f"{view.title} · {view.kind.replace('_', ' ')} · {view.community_name} · {status}",
        caption=f"id {view.id}; shares in basis points (10000 = 100%)",
    )
    for column in ("shares from", "resolution", "party", "code", "cost share", "benefit share"):
        table.add_column(column)
    for terms in view.terms:
        when = str(terms.effective_on) if terms.effective_on else f"draft {view.drafted_on}"
        for i, share in enumerate(terms.parties):
            table.add_row(
                when if i == 0 else "",
                (terms.resolution or "") if i == 0 else "",
                share.name,
                share.code,
                str(share.cost_share_bp),
                str(share.benefit_share_bp),
            )
    return table


def entries_table(title: str, entries: Sequence[EntryView]) -> Table:
    table = Table(title=f"{title}: entries")
    for column in ("entry", "date", "type", "party", "kind", "amount (yuan)", "description"):
        table.add_column(column, justify="right" if column == "amount (yuan)" else "left")
    for e in entries:
        description = e.description
        if e.reversed_because:
            description = f"[strike]{e.description}[/strike] reversed: {e.reversed_because}"
        table.add_row(
            str(e.entry),
            str(e.on),
            e.type,
            e.unit_name or (f"{e.funder} (outside)" if e.funder else ""),
            e.kind or "",
            group_yuan(e.amount),
            description,
        )
    table.caption = f"{len(entries)} entries"
    return table


def agreement_list_table(view: AgreementList) -> Table:
    table = Table(title=f"{view.community_name or 'all communities'}: agreements")
    for column in ("id", "title", "kind", "community", "status", "parties", "from", "until"):
        table.add_column(column)
    for a in view.agreements:
        table.add_row(
            str(a.id),
            a.title,
            _shown(AgreementKind, a.kind),
            a.community_name,
            _shown(AgreementStatus, a.status),
            str(a.parties),
            str(a.approved_on or ""),
            str(a.terminated_on or ""),
        )
    table.caption = f"{len(view.agreements)} agreements"
    return table


def cost_sharing_table(view: CostSharingReport) -> Table:
    table = Table(
        title=f"{view.title} ({view.community_name}): cost sharing as of {view.as_of}"
        f"{recorded_by(view.known_at)}",
        caption="shares in basis points in force on that date; each cost and benefit is "
        "split by the shares in force when it was incurred or realised; balance = "
        "contributed − cost due",
    )
    columns = (
        "party",
        "code",
        "cost share",
        "cost due",
        "contributed",
        "balance",
        "benefit share",
        "benefit due",
    )
    for column in columns:
        table.add_column(column, justify="left" if column in ("party", "code") else "right")
    for p in view.parties:
        table.add_row(
            p.name,
            p.code,
            str(p.cost_share_bp),
            group_yuan(p.cost_due),
            group_yuan(p.contributed),
            group_yuan(p.balance),
            str(p.benefit_share_bp),
            group_yuan(p.benefit_due),
        )
    table.add_section()
    table.add_row(
        "total",
        "",
        "10000",
        group_yuan(view.total_costs),
        group_yuan(view.total_contributed),
        group_yuan(view.total_balance),
        "10000",
        group_yuan(view.total_benefits),
    )
    if view.outside_funding != "0.00":
        table.add_row(
            "outside funding, no party's",
            "",
            "",
            "",
            group_yuan(view.outside_funding),
            "",
            "",
            "",
        )
    return table


def investment_tables(view: InvestmentSummary) -> list[Table]:
    head = f"{view.community_name}: investment as of {view.as_of}{recorded_by(view.known_at)}"
    agreements = Table(title=f"{head}, by agreement")
    for column in ("agreement", "status", "contributed", "outside funding", "costs", "benefits"):
        agreements.add_column(
            column, justify="left" if column in ("agreement", "status") else "right"
        )
    for a in view.agreements:
        agreements.add_row(
            a.title,
            a.status,
            group_yuan(a.contributed),
            group_yuan(a.outside_funding),
            group_yuan(a.costs),
            group_yuan(a.benefits),
        )
    tables = [agreements]
    for title, slices in (
        ("by kind", view.by_kind),
        ("by source", view.by_source),
        ("by province", view.by_province),
        ("by funder", view.by_funder),
    ):
        table = Table(title=f"{head}, {title}")
        table.add_column(title.removeprefix("by "))
        table.add_column("amount (yuan)", justify="right")
        table.add_column("share", justify="right")
        for piece in slices:
            table.add_row(piece.name, group_yuan(piece.amount), f"{piece.share_bp / 100:.2f}%")
        table.add_section()
        table.add_row(
            "total",
            group_yuan(view.total_invested),
            "100.00%" if slices and view.total_invested != "0.00" else "",
        )
        tables.append(table)
    return tables


def province_tables(view: ProvinceDistribution) -> list[Table]:
    head = f"{view.community_name or 'all communities'}: members on {view.as_of}"
    head += recorded_by(view.known_at)
    provinces = Table(title=f"{head}, by province", caption=f"{view.province_count} provinces")
    provinces.add_column("province")
    provinces.add_column("code")
    provinces.add_column("units", justify="right")
    for p in view.provinces:
        provinces.add_row(p.name, p.province, str(p.units))
    provinces.add_section()
    provinces.add_row("total", "", str(view.total))
    share = f" ({view.outside_home_bp / 100:.2f}%)" if view.outside_home_bp is not None else ""
    where = view.home_province_name or "their body's province"
    provinces.add_row(f"outside {where}", view.home_province or "", f"{view.outside_home}{share}")
    if view.local is not None:
        provinces.add_row("in the body's city", "", str(view.local))
        provinces.add_row("from elsewhere", "", str(view.non_local))
    types = Table(title=f"{head}, by unit type", caption=f"{view.type_count} unit types")
    types.add_column("type")
    types.add_column("units", justify="right")
    for t in view.by_type:
        types.add_row(t.unit_type.replace("_", " "), str(t.units))
    return [provinces, types]


def quality_table(view: QualityReport) -> Table:
    head = f"{view.community_name or 'all communities'}: members on {view.as_of}"
    table = Table(title=f"{head}{recorded_by(view.known_at)}, by qualification held")
    table.add_column("qualification")
    table.add_column("units", justify="right")
    for q in view.by_qualification:
        table.add_row(q.name, str(q.units))
    table.add_section()
    share = f" ({view.qualified_bp / 100:.2f}%)" if view.qualified_bp is not None else ""
    table.add_row("holding at least one", f"{view.qualified}{share}")
    table.add_row("members", str(view.total))
    return table


def verification_table(view: Verification | BundleVerification) -> Table:
    verdict = "untouched" if view.ok else f"{len(view.problems)} problems"
    what = f"{view.events_checked} events and {view.checkpoints_checked} checkpoints"
    if isinstance(view, BundleVerification):
        what = f"bundle ({view.scope}, key {view.key_id}): {what}"
        if view.ok and not view.key_pinned:
            verdict = "consistent with the key it carries, which was not checked"
    table = Table(title=f"{what} verified: {verdict}")
    for column in ("problem", "aggregate", "version", "position", "detail"):
        table.add_column(column)
    for p in view.problems:
        table.add_row(
            p.kind,
            "" if p.aggregate is None else str(p.aggregate),
            "" if p.version is None else str(p.version),
            "" if p.position is None else str(p.position),
            p.detail,
        )
    return table


def china_time(moment: datetime | None) -> str:
    """A recorded time in China, to the microsecond: it can be given back to
    ``--known-at`` or ``replay --until`` as it is."""
    return moment.astimezone(SHANGHAI).isoformat() if moment else ""


def history_table(view: AggregateHistory) -> Table:
    table = Table(
        title=f"{view.name} · {view.kind} · {view.id}",
        caption=f"{len(view.events)} events; recorded times in China; hashes "
        "shortened (--format json gives them whole)",
    )
    for column in ("version", "type", "effective", "recorded", "principal", "hash"):
        table.add_column(column, justify="right" if column == "version" else "left")
    for e in view.events:
        table.add_row(
            str(e.version),
            e.type,
            str(e.effective_on or ""),
            china_time(e.recorded_at),
            e.principal,
            f"{e.hash[:16]}…" if e.hash else "",
        )
    return table


def replay_tables(view: Replay) -> list[Table]:
    c = view.cutoff
    asked = (
        f"position {c.until_position}" if c.until_position is not None else china_time(c.until_time)
    )
    cutoff = Table(title=f"the ledger as it stood at {asked}", show_header=False)
    cutoff.add_column("what")
    cutoff.add_column("value")
    cutoff.add_row("events replayed", str(c.events))
    cutoff.add_row("last position replayed", str(c.position))
    cutoff.add_row("last event recorded at", china_time(c.last_recorded_at) or "—")
    cutoff.add_row("reports as of", str(c.as_of))
    aggregates = Table(
        title=f"aggregates at {asked}",
        caption=", ".join(
            f"{n} {kind if n == 1 else kind[:-1] + 'ies' if kind.endswith('y') else kind + 's'}"
            for kind, n in view.counts.items()
        ),
    )
    for column in ("kind", "id", "name", "version"):
        aggregates.add_column(column, justify="right" if column == "version" else "left")
    for a in view.aggregates:
        aggregates.add_row(a.kind, str(a.id), a.name, str(a.version))
    tables = [cutoff, aggregates, *map(member_table, view.members)]
    tables += province_tables(view.provinces)
    tables += map(cost_sharing_table, view.cost_sharing)
    return tables


def checkpoint_table(checkpoints: Sequence[Checkpoint], title: str) -> Table:
    table = Table(title=title)
    for column in ("events", "up to position", "root", "signed at", "key id"):
        table.add_column(column)
    for c in checkpoints:
        table.add_row(str(c.size), str(c.position), c.root, c.recorded_at.isoformat(), c.key_id)
    return table


def proof_table(proof: InclusionProof | ConsistencyProof) -> Table:
    if isinstance(proof, InclusionProof):
        verdict = "included" if proof.verified else "NOT included"
        title = (
            f"event at position {proof.position} ({proof.aggregate} v{proof.version}): "
            f"{verdict} as leaf {proof.index} of the checkpoint of "
            f"{proof.checkpoint.size} events"
        )
        head = [("event hash", proof.event_hash), ("root", proof.checkpoint.root)]
    else:
        verdict = {
            True: "extends it",
            False: "does NOT extend it",
            None: "(no checkpoint of that size on record to check against)",
        }[proof.verified]
        title = (
            f"the checkpoint of {proof.second.size} events {verdict}: the log of "
            f"{proof.first_size} events"
        )
        head = [
            ("root then", proof.first.root if proof.first else ""),
            ("root now", proof.second.root),
        ]
    table = Table(title=title)
    table.add_column("")
    table.add_column("hash")
    for name, value in head:
        table.add_row(name, value)
    for i, h in enumerate(proof.proof):
        table.add_row(f"proof {i + 1}", h)
    return table


def token_table(tokens: Sequence[TokenInfo]) -> Table:
    table = Table(title="API tokens (only their digests are kept)")
    for column in ("id", "name", "role", "communities", "issued", "by", "expires", "revoked"):
        table.add_column(column)
    for t in tokens:
        table.add_row(
            t.id,
            t.name,
            t.role,
            "\n".join(map(str, t.communities)) or "all",
            f"{t.issued_at:%Y-%m-%d %H:%M}",
            t.issued_by,
            f"{t.expires_at:%Y-%m-%d %H:%M}" if t.expires_at else "never",
            f"{t.revoked_at:%Y-%m-%d %H:%M}" if t.revoked_at else "",
        )
    return table


def status_table(view: Status) -> Table:
    table = Table(title=f"read models (the log reaches position {view.head})")
    for column in ("read model", "position", "behind"):
        table.add_column(column, justify="left" if column == "read model" else "right")
    for m in view.read_models:
        table.add_row(m.name, str(m.position), str(m.behind))
    return table


def relay_table(view: RelayStatus) -> Table:
    title = f"relays (the log reaches position {view.head})"
    if not view.relays:
        title += ": none has run on this ledger; start one with chanjiao relay nats"
    table = Table(title=title)
    for column in (
        "relay",
        "target",
        "only",
        "published up to",
        "behind",
        "published",
        "last seen",
    ):
        table.add_column(column, justify="right" if column in ("behind", "published") else "left")
    for r in view.relays:
        table.add_row(
            r.name,
            r.target,
            r.filters.replace("; ", "\n") or "every event",
            str(r.position),
            str(r.behind),
            f"{r.published:,} since {r.started_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M:%S}",
            f"{r.updated_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M:%S}",
        )
    return table


def _moment(moment: datetime | None) -> str:
    return f"{moment.astimezone(SHANGHAI):%Y-%m-%d %H:%M:%S}" if moment else ""


def webhook_table(endpoints: Sequence[Endpoint]) -> Table:
    table = Table(title="webhooks (signed per Standard Webhooks; secrets stay in their files)")
    for column in ("id", "url", "only", "added", "by", "removed"):
        table.add_column(column)
    for e in endpoints:
        only = [*e.types, *map(str, e.communities)]
        table.add_row(
            e.id,
            e.url,
            "\n".join(only) or "every event",
            _moment(e.added_at),
            e.added_by,
            _moment(e.removed_at),
        )
    return table


def delivery_table(deliveries: Sequence[Delivery]) -> Table:
    table = Table(title="webhook deliveries, latest first")
    for column in ("webhook", "position", "type", "status", "attempts", "last result"):
        table.add_column(column, justify="right" if column in ("position", "attempts") else "left")
    table.add_column("last attempt")
    table.add_column("next attempt")
    for d in deliveries:
        table.add_row(
            d.endpoint,
            str(d.position),
            d.type,
            d.status,
            str(d.attempts),
            d.last_result,
            _moment(d.last_attempt_at),
            _moment(d.next_attempt_at),
        )
    return table
