"""The console's pages (ADR 0032): server-rendered HTML in Chinese, for council
secretaries and auditors, served by ``chanjiao serve`` beside the API.

Sign-in takes an API token; the session cookie names it (``console.session``). A
secretary sees only the bodies on its token, an auditor and an admin every body; an
integrator is pointed to the API's documents. Every answer comes from the same read
models as the API's."""

from __future__ import annotations

import hmac
import json
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from itertools import zip_longest
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote
from uuid import UUID

import msgspec
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from api.access import Access, Forbidden, check
from api.bodies import ExportQuery
from api.endpoint import Call, Service, request_body
from api.events import event_types
from api.feed import EventStreamResponse, resume_from, sse_messages
from api.request_bodies import decode_query as read_query
from api.resources import export
from api.tokens import Role, TokenInfo, TokenRequired
from application import messages as m
from application.messages import Command, fields
from console.session import COOKIE, LIFETIME, Session, Sessions
from domain.agreement import AgreementKind, Funder, ResourceKind
from domain.agreement import Status as AgreementStatus
from domain.annual import FILINGS_OF, Indicator
from domain.charter import Matter, Outcome
from domain.council import Office
from domain.errors import Conflict, CouncilNotFound, InvalidInput, NotFound, TamperedRecord
from domain.values import (
    SHANGHAI,
    CommunityKind,
    ExitReason,
    Qualification,
    UnitType,
    VocationalLevel,
    chinese_name,
    group_yuan,
    parse_bp,
    parse_date,
    today,
)
from domain.values import Role as MemberRole
from projections import (
    annual,
    cost_sharing,
    cost_sharing_model,
    directory,
    leads,
    membership,
    membership_model,
    provinces,
    quality,
    register_model,
)
from projections.governance import (
    MeetingList,
    Register,
    SeatList,
    charter,
    meetings,
    seats,
)
from projections.history import history as aggregate_history
from projections.tables import csv_bytes, xlsx_bytes

STATIC = Path(__file__).with_name("static")
ROLES = {
    "admin": "管理员",
    "secretary": "理事会秘书处",
    "auditor": "审计人员",
    "integrator": "系统集成方",
}

templates = Environment(
    loader=PackageLoader("console", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _label(enum: Any, value: str | None) -> str:
    if value is None:
        return ""
    try:
        return chinese_name(enum(value))
    except ValueError:
        return value


templates.filters["kind"] = lambda v: _label(CommunityKind, v)
templates.filters["unit_type"] = lambda v: _label(UnitType, v)
templates.filters["member_role"] = lambda v: _label(MemberRole, v)
templates.filters["day"] = lambda d: d.isoformat() if d else ""
templates.filters["yuan"] = group_yuan
templates.filters["bp"] = lambda bp: f"{bp / 100:g}%"
templates.filters["resource"] = lambda v: _label(ResourceKind, v)
templates.filters["figure"] = lambda v: (
    "" if v is None else f"{v:,}" if isinstance(v, int) else group_yuan(v)
)
templates.filters["pct"] = lambda bp: f"{bp / 100:g}"


def _lead_last(role: MemberRole) -> bool:
    """Most units join as members: the role a form offers first."""
    return role.value == "lead"


def _options(members: Iterable[Any]) -> list[tuple[str, str]]:
    return [(member.value, chinese_name(member)) for member in members]


templates.globals["options"] = {
    "role": _options(sorted(MemberRole, key=_lead_last)),
    "reason": _options(ExitReason),
    "unit_type": _options(UnitType),
    "level": [("", "（非职业院校不填）"), *_options(VocationalLevel)],
    "community_kind": _options(CommunityKind),
    "office": _options(sorted(Office, key=lambda o: o is not Office.DIRECTOR)),
    "matter": _options(Matter),
    "agreement_kind": _options(AgreementKind),
    "resource": _options(ResourceKind),
    "funder": _options(Funder),
    "indicator": _options(Indicator),
    "qualification": _options(Qualification),
    "requires": [("", "沿用现行规定"), ("yes", "需要决议"), ("no", "不需要决议")],
}
"""The choices the recording forms offer, in Chinese; each sends the ledger's value."""
templates.globals["entry_types"] = {
    "contribution": "投入",
    "cost": "成本",
    "benefit": "收益",
    "funding": "外部投入",
}


def pages(service: Service, key_file: Path) -> list[BaseRoute]:
    """The console's routes on the server's ``service``; the session key in ``key_file``."""
    console = Console(service, Sessions(Sessions.key_from(key_file)))
    return [
        Route("/", console.home),
        Route("/signin", console.signin, methods=["GET", "POST"]),
        Route("/signout", console.signout, methods=["POST"]),
        Route("/bodies/{id}", console.body),
        Route("/bodies/{id}/resolutions", console.resolutions),
        Route("/bodies/{id}/council", console.council),
        Route("/bodies/{id}/annual", console.annual),
        Route("/bodies/{id}/download/{what}", console.download),
        Route("/bodies", console.record, methods=["POST"]),
        Route("/bodies/{id}/agreements/{agreement}", console.agreement),
        Route("/bodies/{id}/agreements/{agreement}/{action}", console.record, methods=["POST"]),
        Route("/bodies/{id}/{action}", console.record, methods=["POST"]),
        Route("/search/units", console.search_units),
        Route("/audit", console.audit, methods=["GET", "POST"]),
        Route("/audit/bundle", console.bundle),
        Route("/history/{ref}", console.history),
        Route("/feed", console.feed),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]


class Form(dict[str, str]):
    """A posted form: each field's first value, trimmed; ``every(name)``: all of a
    field's values (ticked boxes, the rows of a table of inputs)."""

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        super().__init__()
        self.many: dict[str, list[str]] = {}
        for name, value in pairs:
            self.setdefault(name, value.strip())
            self.many.setdefault(name, []).append(value.strip())

    def every(self, name: str) -> list[str]:
        return self.many.get(name, [])

    def nth(self, name: str, i: int) -> str:
        values = self.every(name)
        return values[i] if i < len(values) else ""


def _percent(text: str, what: str) -> int:
    """A share typed in percent (``30``, ``33.33``, ``30%``) in basis points."""
    return parse_bp(text if text.endswith("%") else f"{text}%", what)


def _meeting(form: Form, given: dict[str, Any]) -> None:
    given["present"] = [u for u in form.every("present") if u]
    given["again"] = "again" in given


def _resolution(form: Form, given: dict[str, Any]) -> None:
    given["votes"] = {
        "for": given.pop("votes_for", "0"),
        "against": given.pop("votes_against", "0"),
        "abstain": given.pop("abstain", "0"),
    }
    given["recused"] = [u for u in form.every("recused") if u]


def _parties(form: Form, given: dict[str, Any]) -> None:
    """The rows of the parties table: a unit, its cost share and its benefit share."""
    rows = zip_longest(
        form.every("party_unit"),
        form.every("party_cost"),
        form.every("party_benefit"),
        fillvalue="",
    )
    given["parties"] = [
        {
            "unit_id": unit,
            "cost_share_bp": _percent(cost, f"{unit or '协议方'}的成本分担比例"),
            "benefit_share_bp": _percent(benefit, f"{unit or '协议方'}的收益分享比例"),
        }
        for unit, cost, benefit in rows
        if unit or cost or benefit
    ]
    for name in ("party_unit", "party_cost", "party_benefit"):
        given.pop(name, None)


def _rules(form: Form, given: dict[str, Any]) -> None:
    """The charter form's rules: those left blank are kept from the charter in force."""
    rules: dict[str, Any] = {}
    if quorum := given.pop("quorum", None):
        rules["quorum"] = quorum
    for name in ("admission_requires_resolution", "removal_requires_resolution"):
        if (choice := given.pop(name, None)) in ("yes", "no"):
            rules[name] = choice == "yes"
    given["rules"] = rules


@dataclass(frozen=True)
class Action:
    """A recording form: the command it runs (the API's, ``application.messages``), its
    title, the page it sits on and returns to, who may send it, and how its fields
    that are not the command's own (a table of parties, ticked seats) become them."""

    command: type[Command]
    title: str
    page: str = "body"  # "home", "body", "council", "agreement" or "annual"
    access: Access = Access.RECORD
    shape: Callable[[Form, dict[str, Any]], None] | None = None


ACTIONS: dict[str, Action] = {
    "found": Action(m.FoundCommunity, "成立共同体", "home"),
    "register": Action(m.RegisterUnit, "登记单位", access=Access.UNITS_WRITE),
    "admit": Action(m.AdmitMember, "吸收成员"),
    "exit": Action(m.ExitMember, "成员退出"),
    "role": Action(m.ChangeMemberRole, "变更成员角色"),
    "draft": Action(m.DraftAgreement, "起草协议", shape=_parties),
    "charter": Action(m.AdoptCharter, "通过章程", "council", shape=_rules),
    "seat": Action(m.AssignSeat, "分配理事会席位", "council"),
    "vacate": Action(m.VacateSeat, "席位空缺", "council"),
    "meeting": Action(m.RecordMeeting, "记录会议", "council", shape=_meeting),
    "resolution": Action(m.RecordResolution, "记录决议", "council", shape=_resolution),
    "approve": Action(m.ApproveAgreement, "批准协议", "agreement"),
    "amend": Action(m.AmendAgreement, "修订协议", "agreement", shape=_parties),
    "terminate": Action(m.TerminateAgreement, "终止协议", "agreement"),
    "contribution": Action(m.RecordContribution, "记录投入", "agreement"),
    "funding": Action(m.RecordFunding, "记录外部投入", "agreement"),
    "cost": Action(m.RecordCost, "记录成本", "agreement"),
    "benefit": Action(m.RecordBenefit, "记录收益", "agreement"),
    "reverse": Action(m.ReverseEntry, "冲销条目", "agreement"),
    "filing": Action(m.RecordFiling, "登记报送文件", "annual"),
    "indicator": Action(m.RecordIndicator, "填报指标数据", "annual"),
    # a unit's qualification holds in every body it belongs to: as renaming, admins only
    "qualify": Action(m.QualifyUnit, "记录单位资质", "annual", Access.UNITS_CHANGE),
    "unqualify": Action(m.EndQualification, "记录资质终止", "annual", Access.UNITS_CHANGE),
}
"""Every recording form of the console, by the last part of the path it posts to."""

FIELD_NAMES = {"unit_id": "单位", "entry": "条目"}
PROBLEMS = {
    "altered": "被修改",
    "deleted": "被删除",
    "inserted": "被插入",
    "reordered": "顺序被调换",
    "checkpoint": "检查点不符",
}


def _fen(yuan: str) -> int:
    """A decimal string of yuan in fen, for the charts' bar lengths."""
    whole, _, part = yuan.lstrip("-").partition(".")
    fen = int(whole or 0) * 100 + int((part + "00")[:2])
    return -fen if yuan.startswith("-") else fen


def _council(ledger: Any, community: UUID, as_of: str | None) -> tuple[SeatList, MeetingList]:
    """The seats on ``as_of`` and the meetings; empty while the body has no council."""
    body = ledger.community(community)  # NotFound for an unknown body
    day = parse_date(as_of, "as-of date") if as_of else today()
    try:
        return seats(ledger, community, day), meetings(ledger, community)
    except NotFound:
        return SeatList(body.id, body.name, day, []), MeetingList(body.id, body.name, [])


def _register(store: Any, community: UUID, known_at: str | None) -> Register:
    """The body's register as recorded by ``known_at``; empty while it has no council."""
    body = store.ledger.community(community)  # NotFound for an unknown body
    try:
        return register_model.register(store, community, known_at)
    except CouncilNotFound:
        return Register(body.id, body.name, [])


@dataclass(frozen=True)
class Query:
    """A download's question: the body, and the date and time its page asked about."""

    store: Any
    community: UUID
    as_of: str | None
    known_at: str | None
    agreement: str | None
    year: int | None = None

    def day(self) -> date:
        return parse_date(self.as_of, "as-of date") if self.as_of else today()


def _agreement_report(q: Query) -> Any:
    report = cost_sharing_model.report(q.store, q.agreement or "", q.as_of, q.known_at)
    if report.community_id != q.community:  # another body's: not reachable from here
        raise NotFound("no such agreement")
    return report


DOWNLOADS: dict[str, tuple[str, Access, Callable[[Query], Any]]] = {
    "members": (
        "成员名单",
        Access.READ,
        lambda q: membership_model.members(q.store, q.community, q.as_of, q.known_at),
    ),
    "provinces": (
        "成员省份分布",
        Access.READ,
        lambda q: provinces.distribution(q.store, q.community, q.day(), q.known_at),
    ),
    "quality": (
        "成员资质",
        Access.READ,
        lambda q: quality.quality(q.store, q.community, q.day(), q.known_at),
    ),
    "investment": (
        "多元投入",
        Access.REPORT,
        lambda q: cost_sharing_model.investment(q.store, q.community, q.day(), q.known_at),
    ),
    "resolutions": (
        "决议登记簿",
        Access.READ,
        lambda q: _register(q.store, q.community, q.known_at),
    ),
    "seats": (
        "理事会席位",
        Access.READ,
        lambda q: _council(q.store.ledger, q.community, q.as_of)[0],
    ),
    "meetings": ("会议", Access.READ, lambda q: _council(q.store.ledger, q.community, None)[1]),
    "report": ("成本分摊", Access.READ, _agreement_report),
    "obligations": (
        "报送义务",
        Access.REPORT,
        lambda q: annual.obligations(q.store.ledger, q.community, q.year, q.as_of, q.known_at),
    ),
    "filings": (
        "报送文件",
        Access.READ,
        lambda q: annual.filings(q.store.ledger, q.community, q.year, q.known_at),
    ),
    "indicators": (
        "监测指标",
        Access.REPORT,
        lambda q: annual.indicators(
            q.store.ledger, q.community, q.year or today().year, q.known_at
        ),
    ),
}
"""What a body's pages offer to download as CSV or xlsx (``projections.tables``, the
command line's ``--format csv|xlsx``): its name in the file's, who may, and the read."""

DOWNLOAD_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _asked(request: Request, name: str) -> str | None:
    """A query parameter as typed, or None when it is missing or blank."""
    return request.query_params.get(name, "").strip() or None


def _done(request: Request) -> str | None:
    """What the form just sent recorded, to say so at the top of the page."""
    action = ACTIONS.get(request.query_params.get("done", ""))
    return action.title if action is not None else None


def _auditors_only(what: str) -> str:
    return f"只有审计人员和管理员可以{what}。"


def _forged(csrf: str, session: Session) -> bool:
    """A form without the session's CSRF token: it came from elsewhere, or is stale."""
    return not hmac.compare_digest(csrf, session.csrf)


def _community(request: Request) -> UUID | None:
    try:
        return UUID(request.path_params["id"])
    except ValueError:
        return None


def _may(token: TokenInfo, access: Access, community: UUID) -> bool:
    try:
        check(token, access, community)
    except Forbidden:
        return False
    return True


NOT_YOURS = "您的令牌不包含这个共同体，无权查看。"
FORGED = "表单已过期或来源不明，未执行任何操作。请刷新页面后重试。"

FORM = "application/x-www-form-urlencoded"
FORM_LIMIT = 64 * 1024


async def _form(request: Request) -> Form:
    """A posted form (``application/x-www-form-urlencoded``, what the pages' forms
    send); an oversized or other body reads as empty."""
    if request.headers.get("content-type", "").split(";")[0].strip() != FORM:
        return Form()
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > FORM_LIMIT:
            return Form()
    return Form(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))


def _command(action: Action, community: UUID | None, agreement: str | None, form: Form) -> Command:
    """The form's command: the body and agreement from the page's path, the rest from
    the fields, read as the API reads a query string (dates as people write them)."""
    command = action.command
    names = {f.name for f in fields(command)}
    ids: dict[str, Any] = {}
    if "community_id" in names:
        ids["community_id"] = str(community)
    if "agreement_id" in names:
        ids["agreement_id"] = agreement
    given: dict[str, Any] = {k: v for k, v in form.items() if v}
    if action.shape is not None:
        action.shape(form, given)
    targets = {
        f.name: given.pop(f.name, "") for f in fields(command) if f.path and f.name not in ids
    }
    for name, value in targets.items():
        if not value:
            raise InvalidInput(f"{FIELD_NAMES.get(name, name)}不能为空")
    body = read_query(given, request_body(command))
    return command(**ids, **targets, **msgspec.structs.asdict(body))


class Console:
    def __init__(self, service: Service, sessions: Sessions) -> None:
        self.service = service
        self.sessions = sessions

    # --- signing in and out -------------------------------------------------------

    async def signin(self, request: Request) -> Response:
        if request.method == "GET":
            return self._page("signin.html", request, None, status=200)
        form = await _form(request)
        secret = form.get("token", "").strip()
        try:
            token = await run_in_threadpool(self.service.tokens.check, secret)
        except TokenRequired:
            error = "令牌无效、已吊销或已过期；请向管理员索取新的令牌。"
            return self._page("signin.html", request, None, status=401, error=error)
        if token.role == Role.INTEGRATOR.value:
            return self._page("integrator.html", request, None, status=200)
        _, cookie = self.sessions.open(token.id)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            COOKIE,
            cookie,
            max_age=LIFETIME,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/",
        )
        return response

    async def signout(self, request: Request) -> Response:
        signed = await self._signed_in(request)
        if isinstance(signed, Response):
            return signed
        session, _ = signed
        form = await _form(request)
        if _forged(form.get("csrf", ""), session):
            return self._error(request, 403, FORGED)
        response = RedirectResponse("/signin", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    # --- pages --------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        signed = await self._signed_in(request)
        if isinstance(signed, Response):
            return signed
        return await self._home(request, signed, done=_done(request))

    async def _home(
        self, request: Request, signed: tuple[Session, TokenInfo], *, status: int = 200, **more: Any
    ) -> Response:
        _, token = signed
        bodies = await run_in_threadpool(membership.communities, self.service.ledger)
        if token.role == Role.SECRETARY.value:
            bodies = [b for b in bodies if b.id in token.communities]
        live = _may(token, Access.EVENTS, None)
        head = await run_in_threadpool(self.service.ledger.recorder.max_notification_id)
        return self._page(
            "home.html",
            request,
            signed,
            status=status,
            bodies=bodies,
            live=live,
            head=head or 0,
            types=json.dumps(event_types()),
            can_found=_may(token, Access.RECORD, None),
            key=uuid.uuid4().hex,
            **more,
        )

    async def bundle(self, request: Request) -> Response:
        """Auditors and admins: the whole log as a bundle that verifies offline
        (``chanjiao audit verify-bundle``), exactly as ``GET /audit/export`` gives it."""
        entered = await self._entered(request, Access.AUDIT, refused=_auditors_only("导出审计包"))
        if isinstance(entered, Response):
            return entered
        signed, _ = entered
        _, token = signed
        call = Call(self.service, token, {}, None, ExportQuery())
        try:
            download = await run_in_threadpool(export, call)
        except TamperedRecord as e:
            return self._error(request, 409, f"账本校验未通过，不能导出：{e}", signed)
        return StreamingResponse(
            iterate_in_threadpool(download.chunks),
            media_type="application/jsonl",
            headers={"Content-Disposition": f'attachment; filename="{download.filename}"'},
        )

    async def history(self, request: Request) -> Response:
        """Auditors and admins: every event of a unit, body or agreement (by name or
        id), with when it took effect, when and by whom it was recorded, and its hash."""
        entered = await self._entered(request, Access.HISTORY, refused=_auditors_only("查看历史"))
        if isinstance(entered, Response):
            return entered
        signed, _ = entered
        try:
            shown = await run_in_threadpool(
                aggregate_history, self.service.ledger, request.path_params["ref"]
            )
        except (NotFound, InvalidInput) as e:
            return self._error(request, 404, f"找不到：{e}", signed)
        return self._page("history.html", request, signed, history=shown, shanghai=SHANGHAI)

    async def feed(self, request: Request) -> Response:
        """Auditors and admins: the events recorded from now on, as the API's stream
        sends them (server-sent events), for the home page's live feed."""
        entered = await self._entered(
            request, Access.EVENTS, refused=_auditors_only("查看实时事件")
        )
        if isinstance(entered, Response):
            return entered
        text = request.query_params.get("after", "0")
        after = resume_from(request, int(text) if text.isdigit() else 0)
        hub = request.app.state.hub
        return EventStreamResponse(
            sse_messages(hub, after, None, None),
            after=after,
            send_timeout=self.service.settings.stream_send_timeout,
        )

    async def body(self, request: Request) -> Response:
        entered = await self._entered(request, Access.READ, body=True)
        if isinstance(entered, Response):
            return entered
        signed, community = entered
        assert community is not None
        as_of = _asked(request, "as_of")
        known_at = _asked(request, "known_at")
        return await self._body(request, signed, community, as_of, known_at, done=_done(request))

    async def _body(
        self,
        request: Request,
        signed: tuple[Session, TokenInfo],
        community: UUID,
        as_of: str | None,
        known_at: str | None,
        *,
        status: int = 200,
        **more: Any,
    ) -> Response:
        """A body's page, for a token that may read it; ``more``: a recording form's error
        and values, or what was done."""
        _, token = signed
        store = self.service.store
        try:
            members = await run_in_threadpool(
                membership_model.members, store, community, as_of, known_at
            )
        except NotFound:
            return self._error(request, 404, "没有这个共同体。", signed)
        except InvalidInput as e:
            return self._page(
                "body.html",
                request,
                signed,
                status=422,
                error=str(e),
                as_of=as_of,
                known_at=known_at,
                members=None,
                community=community,
            )
        day = members.as_of
        detail = await run_in_threadpool(leads.community_detail, store, community, day)
        spread = await run_in_threadpool(provinces.distribution, store, community, day, known_at)
        rules = await run_in_threadpool(charter, self.service.ledger, community, day)
        deals = await run_in_threadpool(cost_sharing_model.agreements, store, community)
        invested = await run_in_threadpool(
            cost_sharing_model.investment, store, community, day, known_at
        )
        return self._page(
            "body.html",
            request,
            signed,
            status=status,
            as_of=day.isoformat(),
            known_at=known_at,
            detail=detail,
            members=members,
            spread=spread,
            rules=rules,
            community=community,
            most=max((p.units for p in spread.provinces), default=0),
            agreements=deals.agreements,
            invested=invested,
            statuses={st.value: chinese_name(st) for st in AgreementStatus},
            can_record=_may(token, Access.RECORD, community) and members.known_at is None,
            can_register=_may(token, Access.UNITS_WRITE, community),
            key=uuid.uuid4().hex,
            **more,
        )

    async def annual(self, request: Request) -> Response:
        """A body's year: what it must file and whether it did, on time or late, the
        documents it filed (kept by their digest) and its monitoring indicators beside
        the year before; for a secretary, the forms that record them."""
        entered = await self._entered(request, Access.READ, body=True)
        if isinstance(entered, Response):
            return entered
        signed, community = entered
        assert community is not None
        year = _asked(request, "year")
        as_of = _asked(request, "as_of")
        return await self._annual(request, signed, community, year, as_of, done=_done(request))

    async def _annual(
        self,
        request: Request,
        signed: tuple[Session, TokenInfo],
        community: UUID,
        year: str | None,
        as_of: str | None,
        *,
        status: int = 200,
        **more: Any,
    ) -> Response:
        ledger = self.service.ledger
        try:
            due = await run_in_threadpool(annual.obligations, ledger, community, year, as_of)
            shown = due.year
            filed = await run_in_threadpool(annual.filings, ledger, community, shown)
            figures = await run_in_threadpool(annual.indicators, ledger, community, shown)
            held = await run_in_threadpool(
                quality.quality, self.service.store, community, due.as_of
            )
        except NotFound:
            return self._error(request, 404, "没有这个共同体。", signed)
        except InvalidInput as e:
            return self._error(request, 422, str(e), signed)
        kind = ledger.community(community).kind
        return self._page(
            "annual.html",
            request,
            signed,
            status=status,
            community=community,
            year=shown,
            obligations=due,
            filings=filed,
            indicators=figures,
            quality=held,
            filing_kinds=_options(FILINGS_OF[kind]),
            window_names={"registration": "平台注册填报", "performance_data": "绩效数据采集"},
            window_states={"open": "进行中", "closed": "已结束", "not_yet_open": "未开始"},
            can_record=_may(signed[1], Access.RECORD, community),
            can_qualify=_may(signed[1], Access.UNITS_CHANGE, community),
            key=uuid.uuid4().hex,
            **more,
        )

    async def resolutions(self, request: Request) -> Response:
        """The body's register of resolutions: each with its tally, outcome and the
        reason the ledger computed it, numbered when adopted."""
        entered = await self._entered(request, Access.READ, body=True)
        if isinstance(entered, Response):
            return entered
        signed, community = entered
        assert community is not None
        known_at = _asked(request, "known_at")
        try:
            kept = await run_in_threadpool(_register, self.service.store, community, known_at)
        except NotFound:
            return self._error(request, 404, "没有这个共同体。", signed)
        except InvalidInput as e:
            return self._page(
                "resolutions.html",
                request,
                signed,
                status=422,
                error=str(e),
                register=None,
                community=community,
                known_at=known_at,
            )
        return self._page(
            "resolutions.html",
            request,
            signed,
            register=kept,
            known_at=known_at,
            community=community,
            matters={m.value: chinese_name(m) for m in Matter},
            outcomes={o.value: chinese_name(o) for o in Outcome},
        )

    async def council(self, request: Request) -> Response:
        """The council: who holds which seat on a date, and every meeting with who was
        present and what it adopted; for a secretary, the forms that record them."""
        entered = await self._entered(request, Access.READ, body=True)
        if isinstance(entered, Response):
            return entered
        signed, community = entered
        assert community is not None
        as_of = _asked(request, "as_of")
        return await self._council(request, signed, community, as_of, done=_done(request))

    async def _council(
        self,
        request: Request,
        signed: tuple[Session, TokenInfo],
        community: UUID,
        as_of: str | None,
        *,
        status: int = 200,
        **more: Any,
    ) -> Response:
        try:
            held, met = await run_in_threadpool(_council, self.service.ledger, community, as_of)
        except NotFound:
            return self._error(request, 404, "没有这个共同体。", signed)
        except InvalidInput as e:
            return self._error(request, 422, str(e), signed)
        rules = await run_in_threadpool(charter, self.service.ledger, community, held.as_of)
        return self._page(
            "council.html",
            request,
            signed,
            status=status,
            seats=held,
            meetings=met,
            rules=rules,
            community=community,
            offices={o.value: chinese_name(o) for o in Office},
            can_record=_may(signed[1], Access.RECORD, community),
            key=uuid.uuid4().hex,
            outcomes={o.value: chinese_name(o) for o in Outcome},
            **more,
        )

    async def agreement(self, request: Request) -> Response:
        """An agreement's cost-sharing report on a date (and as known at a time): per
        party its shares, the cost it should bear, what it contributed, the balance and
        the benefit due, with a chart of cost due against contributed; its terms and
        entries; for a secretary, the forms that approve, amend, end and book it."""
        entered = await self._entered(request, Access.READ, body=True)
        if isinstance(entered, Response):
            return entered
        signed, community = entered
        assert community is not None
        as_of = _asked(request, "as_of")
        known_at = _asked(request, "known_at")
        ref = request.path_params["agreement"]
        return await self._agreement(
            request, signed, community, ref, as_of, known_at, done=_done(request)
        )

    async def _agreement(
        self,
        request: Request,
        signed: tuple[Session, TokenInfo],
        community: UUID,
        ref: str,
        as_of: str | None,
        known_at: str | None,
        *,
        status: int = 200,
        **more: Any,
    ) -> Response:
        store = self.service.store
        try:
            view = await run_in_threadpool(cost_sharing.agreement_view, self.service.ledger, ref)
        except (NotFound, InvalidInput):
            return self._error(request, 404, "没有这个协议。", signed)
        if view.community_id != community:  # another body's: not reachable from here
            return self._error(request, 404, "没有这个协议。", signed)
        page = {
            "community": community,
            "agreement": ref,
            "view": view,
            "statuses": {st.value: chinese_name(st) for st in AgreementStatus},
            "can_record": _may(signed[1], Access.RECORD, community) and not known_at,
            "key": uuid.uuid4().hex,
            "known_at": known_at,
            **more,
        }
        try:
            shown = await run_in_threadpool(cost_sharing_model.report, store, ref, as_of, known_at)
        except InvalidInput as e:
            return self._page(
                "agreement.html",
                request,
                signed,
                status=422,
                error=str(e),
                report=None,
                as_of=as_of,
                **page,
            )
        most = max(
            [_fen(p.cost_due) for p in shown.parties]
            + [_fen(p.contributed) for p in shown.parties],
            default=0,
        )
        return self._page(
            "agreement.html",
            request,
            signed,
            status=status,
            report=shown,
            as_of=shown.as_of.isoformat(),
            most=most,
            fen=_fen,
            **page,
        )

    async def record(self, request: Request) -> Response:
        """A recording form: the command the API would run, with the form's fields, once
        per form shown (its idempotency key), or the page again with the ledger's own
        words next to the form, and nothing recorded. The resolution form is previewed
        first: the page shows the outcome and reason the ledger will record."""
        signed = await self._signed_in(request)
        if isinstance(signed, Response):
            return signed
        session, token = signed
        name = request.path_params.get("action", "found")
        action = ACTIONS.get(name)
        community = _community(request) if "id" in request.path_params else None
        agreement = request.path_params.get("agreement")
        if (
            action is None
            or (action.page == "home") != ("id" not in request.path_params)
            or (action.page == "agreement") != (agreement is not None)
            or ("id" in request.path_params and community is None)
        ):
            return self._error(request, 404, "没有这个页面。", signed)
        form = await _form(request)
        if _forged(form.pop("csrf", ""), session):
            return self._error(request, 403, FORGED, signed)
        if not _may(token, action.access, community) or (
            community is not None and not _may(token, Access.READ, community)
        ):
            refused = (
                "只有管理员可以成立共同体。"
                if community is None
                else "您的令牌不能为这个共同体记录。"
            )
            return self._error(request, 403, refused, signed)
        if agreement is not None and not await run_in_threadpool(
            self._belongs, agreement, community
        ):
            return self._error(request, 404, "没有这个协议。", signed)
        key = form.pop("idempotency_key", "") or uuid.uuid4().hex
        preview = form.pop("preview", None) is not None and name == "resolution"
        principal = f"console:{token.name} ({token.id})"
        shown = None
        try:
            command = _command(action, community, agreement, form)
            if preview:
                shown = await run_in_threadpool(self._preview, command)
            else:
                await run_in_threadpool(
                    self._once, command, form, token.id, f"{name}:{key}", principal
                )
        except (InvalidInput, Conflict, NotFound) as e:
            status = 404 if isinstance(e, NotFound) else 409 if isinstance(e, Conflict) else 422
            return await self._again(
                request,
                signed,
                action,
                community,
                agreement,
                status,
                filled=name,
                failure=str(e),
                values=form,
            )
        if shown is not None:
            return await self._again(
                request,
                signed,
                action,
                community,
                agreement,
                200,
                filled=name,
                previewed=shown,
                values=form,
            )
        back = {
            "home": "/",
            "body": f"/bodies/{community}",
            "council": f"/bodies/{community}/council",
            "agreement": f"/bodies/{community}/agreements/{agreement}",
            "annual": f"/bodies/{community}/annual?year={quote(form.get('year', ''))}&",
        }[action.page]
        joiner = "" if back.endswith("&") else "?"
        return RedirectResponse(f"{back}{joiner}done={name}", status_code=303)

    async def _again(
        self,
        request: Request,
        signed: tuple[Session, TokenInfo],
        action: Action,
        community: UUID | None,
        agreement: str | None,
        status: int,
        **more: Any,
    ) -> Response:
        """The page a form sits on, shown again with ``more``: its values, and the
        ledger's refusal or the outcome it previewed."""
        if action.page == "home":
            return await self._home(request, signed, status=status, **more)
        assert community is not None
        if action.page == "council":
            return await self._council(request, signed, community, None, status=status, **more)
        if action.page == "annual":
            year = more.get("values", {}).get("year") or None
            return await self._annual(request, signed, community, year, None, status=status, **more)
        if action.page == "agreement":
            assert agreement is not None
            return await self._agreement(
                request, signed, community, agreement, None, None, status=status, **more
            )
        return await self._body(request, signed, community, None, None, status=status, **more)

    def _belongs(self, agreement: str, community: UUID | None) -> bool:
        try:
            return self.service.ledger.agreement(agreement).community_id == community
        except (NotFound, InvalidInput):
            return False

    def _preview(self, command: Command) -> Any:
        assert isinstance(command, m.RecordResolution)
        return self.service.ledger.preview_resolution(
            command.community_id,
            meeting=command.meeting_id,
            matter=command.matter,
            votes_for=command.votes.for_,
            votes_against=command.votes.against,
            abstentions=command.votes.abstain,
            recused=list(command.recused),
            revokes=command.revokes,
        )

    def _once(self, command: Command, form: Form, token_id: str, key: str, principal: str) -> None:
        """Run ``command`` once for the form's idempotency ``key``: a second send of the
        same form (a double click, a reload) waits for the first and records nothing."""
        fingerprint = repr(sorted(form.many.items())).encode()
        for _ in range(50):  # a double submit: the first is still at it
            try:

                def run() -> tuple[int, bytes]:
                    command.run(self.service.ledger, principal)
                    return 200, b"{}"

                self.service.requests.once(token_id, key, fingerprint, run)
                return
            except Conflict as e:
                if "still being processed" not in str(e):
                    raise
                time.sleep(0.1)
        raise Conflict("同一表单仍在处理中，请稍后刷新页面查看。")

    async def download(self, request: Request) -> Response:
        """A table of a body's pages as a file: CSV (UTF-8 with a byte-order mark, which
        Excel and WPS read as such) or xlsx, for the date and time the page showed."""
        what = DOWNLOADS.get(request.path_params["what"])
        fmt = request.query_params.get("format", "csv")
        access = what[1] if what is not None else Access.READ
        entered = await self._entered(request, access, body=True)
        if isinstance(entered, Response):
            return entered
        signed, community = entered
        assert community is not None
        if what is None or fmt not in DOWNLOAD_TYPES:
            return self._error(request, 404, "没有这个下载。", signed)
        params = request.query_params
        query = Query(
            self.service.store,
            community,
            _asked(request, "as_of"),
            _asked(request, "known_at"),
            params.get("agreement"),
            int(params["year"]) if params.get("year", "").isdigit() else None,
        )
        try:
            value = await run_in_threadpool(what[2], query)
        except NotFound:
            return self._error(request, 404, "没有这个共同体或协议。", signed)
        except InvalidInput as e:
            return self._error(request, 422, str(e), signed)
        content = await run_in_threadpool(xlsx_bytes if fmt == "xlsx" else csv_bytes, value)
        day = getattr(value, "as_of", None) or today()
        name = f"{what[0]}-{day.isoformat()}.{fmt}"
        ascii_name = f"chanjiao-{request.path_params['what']}-{day.isoformat()}.{fmt}"
        return Response(
            content,
            media_type=DOWNLOAD_TYPES[fmt],
            headers={
                "Content-Disposition": f'attachment; filename="{ascii_name}"; '
                f"filename*=UTF-8''{quote(name)}",
                "Cache-Control": "no-store",
            },
        )

    async def search_units(self, request: Request) -> Response:
        """The units whose name (now or before) contains ``q``, or whose credit code
        starts with it: what the pickers offer as one types."""
        signed = await self._signed_in(request)
        if isinstance(signed, Response):
            return signed
        text = request.query_params.get("q", "").strip()
        if not text:
            return JSONResponse([])
        found = await run_in_threadpool(directory.unit_list, self.service.store, text, 10)
        return JSONResponse([{"name": u.name, "code": u.code} for u in found.units])

    async def audit(self, request: Request) -> Response:
        """Auditors and admins: the signed checkpoints, and (on POST) a verification of
        every hash chain and checkpoint, with what it found."""
        entered = await self._entered(request, Access.AUDIT, refused=_auditors_only("查看审计页面"))
        if isinstance(entered, Response):
            return entered
        signed, _ = entered
        session, _ = signed
        result = None
        if request.method == "POST":
            form = await _form(request)
            if _forged(form.get("csrf", ""), session):
                return self._error(
                    request, 403, "表单已过期或来源不明，未执行任何操作。请刷新页面后重试。", signed
                )
            result = await run_in_threadpool(self.service.ledger.verify)
        checkpoints = await run_in_threadpool(self.service.ledger.checkpoints)
        return self._page(
            "audit.html",
            request,
            signed,
            result=result,
            checkpoints=checkpoints[-20:][::-1],
            problem_names=PROBLEMS,
        )

    # --- shared -------------------------------------------------------------------

    async def _entered(
        self, request: Request, access: Access, *, body: bool = False, refused: str = ""
    ) -> tuple[tuple[Session, TokenInfo], UUID | None] | Response:
        """The session and its token, and (``body``) the body the path names, once the
        token may ``access`` it; else the page that says why (sign in, 404 or 403)."""
        signed = await self._signed_in(request)
        if isinstance(signed, Response):
            return signed
        community = _community(request) if body else None
        if body and community is None:
            return self._error(request, 404, "没有这个共同体。", signed)
        if not _may(signed[1], access, community):
            return self._error(request, 403, refused or NOT_YOURS, signed)
        return signed, community

    async def _signed_in(self, request: Request) -> tuple[Session, TokenInfo] | Response:
        """The session and its token, still valid; else a redirect to sign in."""
        session = self.sessions.read(request.cookies.get(COOKIE))
        token = (
            await run_in_threadpool(self.service.tokens.active, session.token_id)
            if session is not None
            else None
        )
        if session is None or token is None:
            response = RedirectResponse("/signin", status_code=303)
            response.delete_cookie(COOKIE, path="/")
            return response
        return session, token

    def _page(
        self,
        name: str,
        request: Request,
        signed: tuple[Session, TokenInfo] | None,
        *,
        status: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        session, token = signed if signed is not None else (None, None)
        html = templates.get_template(name).render(
            request=request,
            token=token,
            csrf=session.csrf if session is not None else "",
            role=ROLES.get(token.role, token.role) if token is not None else "",
            **context,
        )
        return HTMLResponse(
            html,
            status_code=status,
            headers={
                "Cache-Control": "no-store",
                "Content-Security-Policy": "default-src 'self'; style-src 'self'; "
                "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
                "X-Content-Type-Options": "nosniff",
            },
        )

    def _error(
        self,
        request: Request,
        status: int,
        message: str,
        signed: tuple[Session, TokenInfo] | None = None,
    ) -> HTMLResponse:
        return self._page("error.html", request, signed, status=status, message=message)
