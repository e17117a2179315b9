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
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl
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
from domain.agreement import Status as AgreementStatus
from domain.charter import Matter, Outcome
from domain.council import Office
from domain.errors import Conflict, InvalidInput, NotFound, TamperedRecord
from domain.values import (
    SHANGHAI,
    CommunityKind,
    ExitReason,
    UnitType,
    chinese_name,
    group_yuan,
    parse_date,
    today,
)
from domain.values import Role as MemberRole
from projections import (
    cost_sharing_model,
    directory,
    leads,
    membership,
    membership_model,
    provinces,
)
from projections.governance import (
    MeetingList,
    Register,
    SeatList,
    charter,
    meetings,
    register,
    seats,
)
from projections.history import history as aggregate_history

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
        Route("/bodies/{id}/agreements/{agreement}", console.agreement),
        Route("/bodies/{id}/{action}", console.record, methods=["POST"]),
        Route("/search/units", console.search_units),
        Route("/audit", console.audit, methods=["GET", "POST"]),
        Route("/audit/bundle", console.bundle),
        Route("/history/{ref}", console.history),
        Route("/feed", console.feed),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]


ACTIONS: dict[str, tuple[type[Command], str]] = {
    "admit": (m.AdmitMember, "吸收成员"),
    "exit": (m.ExitMember, "成员退出"),
    "role": (m.ChangeMemberRole, "变更成员角色"),
}
"""The recording forms of a body's page: the command each runs, and its title."""

FIELD_NAMES = {"unit_id": "单位"}
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


def _register(ledger: Any, community: UUID) -> Register:
    """The body's register; empty while it has no council yet."""
    body = ledger.community(community)  # NotFound for an unknown body
    try:
        return register(ledger, community)
    except NotFound:
        return Register(body.id, body.name, [])


def _lead_last(role: MemberRole) -> bool:
    """Most units join as members: the role a form offers first."""
    return role.value == "lead"


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


async def _form(request: Request) -> dict[str, str]:
    """A posted form's fields (``application/x-www-form-urlencoded``, what the pages'
    forms send), the first value of each; an oversized or other body reads as empty."""
    if request.headers.get("content-type", "").split(";")[0].strip() != FORM:
        return {}
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > FORM_LIMIT:
            return {}
    fields: dict[str, str] = {}
    for name, value in parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True):
        fields.setdefault(name, value)
    return fields


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
        session, token = signed
        bodies = await run_in_threadpool(membership.communities, self.service.ledger)
        if token.role == Role.SECRETARY.value:
            bodies = [b for b in bodies if b.id in token.communities]
        live = _may(token, Access.EVENTS, None)
        head = await run_in_threadpool(self.service.ledger.recorder.max_notification_id)
        return self._page(
            "home.html",
            request,
            (session, token),
            bodies=bodies,
            live=live,
            head=head or 0,
            types=json.dumps(event_types()),
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
        as_of = request.query_params.get("as_of", "").strip() or None
        known_at = request.query_params.get("known_at", "").strip() or None
        done = (
            ACTIONS[request.query_params["done"]][1]
            if request.query_params.get("done") in ACTIONS
            else None
        )
        return await self._body(request, signed, community, as_of, known_at, done=done)

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
            key=uuid.uuid4().hex,
            roles=[(r.value, chinese_name(r)) for r in sorted(MemberRole, key=_lead_last)],
            reasons=[(r.value, chinese_name(r)) for r in ExitReason],
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
        try:
            kept = await run_in_threadpool(_register, self.service.ledger, community)
        except NotFound:
            return self._error(request, 404, "没有这个共同体。", signed)
        return self._page(
            "resolutions.html",
            request,
            signed,
            register=kept,
            community=community,
            matters={m.value: chinese_name(m) for m in Matter},
            outcomes={o.value: chinese_name(o) for o in Outcome},
        )

    async def council(self, request: Request) -> Response:
        """The council: who holds which seat on a date, and every meeting with who was
        present and what it adopted."""
        entered = await self._entered(request, Access.READ, body=True)
        if isinstance(entered, Response):
            return entered
        signed, community = entered
        assert community is not None
        as_of = request.query_params.get("as_of", "").strip() or None
        try:
            held, met = await run_in_threadpool(_council, self.service.ledger, community, as_of)
        except NotFound:
            return self._error(request, 404, "没有这个共同体。", signed)
        except InvalidInput as e:
            return self._error(request, 422, str(e), signed)
        return self._page(
            "council.html",
            request,
            signed,
            seats=held,
            meetings=met,
            community=community,
            offices={o.value: chinese_name(o) for o in Office},
        )

    async def agreement(self, request: Request) -> Response:
        """An agreement's cost-sharing report on a date (and as known at a time): per
        party its shares, the cost it should bear, what it contributed, the balance and
        the benefit due, with a chart of cost due against contributed."""
        entered = await self._entered(request, Access.READ, body=True)
        if isinstance(entered, Response):
            return entered
        signed, community = entered
        assert community is not None
        as_of = request.query_params.get("as_of", "").strip() or None
        known_at = request.query_params.get("known_at", "").strip() or None
        ref = request.path_params["agreement"]
        store = self.service.store
        try:
            shown = await run_in_threadpool(cost_sharing_model.report, store, ref, as_of, known_at)
        except NotFound:
            return self._error(request, 404, "没有这个协议。", signed)
        except InvalidInput as e:
            return self._page(
                "agreement.html",
                request,
                signed,
                status=422,
                error=str(e),
                report=None,
                community=community,
                agreement=ref,
                as_of=as_of,
                known_at=known_at,
            )
        if shown.community_id != community:  # another body's: not reachable from here
            return self._error(request, 404, "没有这个协议。", signed)
        most = max(
            [_fen(p.cost_due) for p in shown.parties]
            + [_fen(p.contributed) for p in shown.parties],
            default=0,
        )
        return self._page(
            "agreement.html",
            request,
            signed,
            report=shown,
            community=community,
            agreement=ref,
            as_of=shown.as_of.isoformat(),
            known_at=known_at,
            most=most,
            fen=_fen,
        )

    async def record(self, request: Request) -> Response:
        """A recording form: the command the API would run, with the form's fields, once
        per form shown (its idempotency key), or the page again with the ledger's own
        words next to the form, and nothing recorded."""
        signed = await self._signed_in(request)
        if isinstance(signed, Response):
            return signed
        session, token = signed
        community = _community(request)
        action = request.path_params["action"]
        if community is None or action not in ACTIONS:
            return self._error(request, 404, "没有这个页面。", signed)
        form = await _form(request)
        if _forged(form.pop("csrf", ""), session):
            return self._error(request, 403, FORGED, signed)
        if not _may(token, Access.RECORD, community):
            return self._error(request, 403, "您的令牌不能为这个共同体记录。", signed)
        key = form.pop("idempotency_key", "") or uuid.uuid4().hex
        command = ACTIONS[action][0]
        principal = f"console:{token.name} ({token.id})"
        try:
            await run_in_threadpool(
                self._run, command, community, form, token.id, f"{action}:{key}", principal
            )
        except (InvalidInput, Conflict, NotFound) as e:
            status = 404 if isinstance(e, NotFound) else 409 if isinstance(e, Conflict) else 422
            return await self._body(
                request,
                signed,
                community,
                None,
                None,
                status=status,
                failed=action,
                failure=str(e),
                values=form,
            )
        return RedirectResponse(f"/bodies/{community}?done={action}", status_code=303)

    def _run(
        self,
        command: type[Command],
        community: UUID,
        form: dict[str, str],
        token_id: str,
        key: str,
        principal: str,
    ) -> None:
        in_path = [f.name for f in fields(command) if f.path and f.name != "community_id"]
        given = {k: v.strip() for k, v in form.items() if v.strip()}
        targets = {name: given.pop(name, "") for name in in_path}
        for name, value in targets.items():
            if not value:
                raise InvalidInput(f"{FIELD_NAMES.get(name, name)}不能为空")
        body = read_query(given, request_body(command))
        cmd = command(community_id=community, **targets, **msgspec.structs.asdict(body))
        fingerprint = repr(sorted(form.items())).encode()
        for _ in range(50):  # a double submit: the first is still at it
            try:
                with self.service.requests.once(token_id, key, fingerprint) as (replay, keep):
                    if replay is None:
                        cmd.run(self.service.ledger, principal)
                        keep(200, b"{}")
                    return
            except Conflict as e:
                if "still being processed" not in str(e):
                    raise
                time.sleep(0.1)
        raise Conflict("同一表单仍在处理中，请稍后刷新页面查看。")

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
