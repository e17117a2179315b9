"""One endpoint = one declaration: path, access, body and query shapes, answer.

``dispatch`` does what every route shares — authenticate, check the role and the
community scope, decode, keep the Idempotency-Key, run the ledger call in a worker
thread (the ledger is synchronous), encode — so each route's own code is one call.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from adapters.codec import to_json
from adapters.settings import Settings
from api.access import Access, check, check_role
from api.answers import ANSWERS, Answer
from api.idempotency import Requests
from api.problems import MAX_BODY_BYTES, BodyTooLarge
from api.request_bodies import decode_body
from api.request_bodies import decode_query as read_query
from api.tokens import TokenInfo, TokenRequired, Tokens
from application.ledger import SAVED_AT
from application.messages import Command, Shape, fields
from bootstrap import Ledger
from projections.machinery import Store


@dataclass
class Service:
    """What the endpoints share: the ledger, its read models, the API's tables and the
    settings the server was started with."""

    ledger: Ledger
    store: Store
    tokens: Tokens
    requests: Requests
    agreement_bodies: dict[UUID, UUID] = field(default_factory=dict)
    settings: Settings = field(default_factory=Settings)


@dataclass
class Call:
    service: Service
    token: TokenInfo
    path: dict[str, str]
    body: Any
    query: Any
    raw_query: dict[str, str] = field(default_factory=dict)

    @property
    def ledger(self) -> Ledger:
        return self.service.ledger

    @property
    def store(self) -> Store:
        return self.service.store

    @property
    def principal(self) -> str:
        """Recorded on every event this call causes."""
        return f"api:{self.token.name} ({self.token.id})"


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    run: Callable[[Call], Any]
    access: Access
    summary: str
    answer: Any = None
    status: int = 200
    body: type[msgspec.Struct] | None = None
    query: type[msgspec.Struct] | None = None
    scope: Callable[[Call], UUID | None] | None = None
    """The community the call concerns, for a secretary's scope."""
    any_community: bool = False
    """Reads that a secretary may make without naming a community: the answer is
    then limited to the token's communities by the route itself."""
    tags: tuple[str, ...] = field(default=())
    media: str = "application/json"
    """Anything else is a download: ``run`` answers a ``Download``, streamed."""
    command: type[Command] | None = None
    """The write command the request is decoded into (``body`` is its request body)."""


@dataclass(frozen=True)
class Download:
    """An answer too big to hold: its chunks are produced while the response is sent."""

    chunks: Iterator[bytes]
    filename: str


@functools.cache
def request_body(command: type[Command]) -> type[msgspec.Struct]:
    """The command less the fields its route's path names: what a request's body holds
    and ``/openapi.json`` shows, under the command's name. A command with none is its own."""
    named = {f.name for f in fields(command) if f.path}
    if not named:
        return command
    rest = [
        (
            f.name,
            f.type,
            msgspec.field(name=f.encode_name, default=f.default, default_factory=f.default_factory),
        )
        for f in msgspec.structs.fields(command)
        if f.name not in named
    ]
    return msgspec.defstruct(
        command.__name__,
        rest,
        bases=(Shape,),
        kw_only=True,
        module=command.__module__,
        namespace={"__doc__": command.__doc__},
    )


def performing(
    command: type[Command], path: str, answer: Answer | None = None
) -> Callable[[Call], Any]:
    """A route's work for ``command``: the path's parameters (in order) and the body make
    it, it runs on the ledger, ``answer`` (default: as the command line does) answers."""
    named = [f.name for f in fields(command) if f.path]
    params = re.findall(r"{(\w+)}", path)
    if len(params) != len(named):
        raise TypeError(f"{path} names {params}, {command.__name__} takes {named} from it")
    view = answer or ANSWERS[command]

    def run(c: Call) -> Any:
        if named:
            targets = {name: c.path[param] for name, param in zip(named, params, strict=True)}
            cmd = command(**targets, **msgspec.structs.asdict(c.body))
        else:
            cmd = c.body
        return view(c.ledger, c.store, cmd, cmd.run(c.ledger, c.principal))

    return run


def decode_query(request: Request, shape: type[msgspec.Struct]) -> Any:
    return read_query(dict(request.query_params), shape)


def bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenRequired("send the header Authorization: Bearer <token>")
    return token.strip()


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The body, refused (413) as soon as it is known to exceed ``limit``: from its
    Content-Length if it gives one, else while it arrives."""
    too_large = BodyTooLarge(
        f"the request body is over {limit // 1024} KiB; nothing was read or recorded"
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def reached() -> dict[str, str] | None:
    """``Chanjiao-Position``: how far the log reaches with the command's events in
    it (none on a read, or a write that recorded nothing). Any read sent after the
    answer, to any worker on the same database, sees at least this much (ADR 0023)."""
    position = SAVED_AT.get()
    return None if position is None else {"Chanjiao-Position": str(position)}


async def dispatch(endpoint: Endpoint, service: Service, request: Request) -> Response:
    raw = await read_body(request)
    secret = bearer(request)
    key = request.headers.get("idempotency-key") if endpoint.method == "POST" else None

    def work() -> tuple[int, bytes, dict[str, str] | None]:
        token = service.tokens.check(secret)
        check_role(token, endpoint.access)  # before the scope, which may look things up
        call = Call(
            service, token, dict(request.path_params), None, None, dict(request.query_params)
        )
        community = endpoint.scope(call) if endpoint.scope else None
        check(token, endpoint.access, community, narrowed=endpoint.any_community)
        call.query = decode_query(request, endpoint.query) if endpoint.query else None
        call.body = decode_body(raw, endpoint.body) if endpoint.body else None
        SAVED_AT.set(None)
        if key is None:
            answer = endpoint.run(call)
            if isinstance(answer, Download):
                disposition = f'attachment; filename="{answer.filename}"'
                return endpoint.status, answer, {"Content-Disposition": disposition}
            return endpoint.status, to_json(answer), reached()
        fingerprint = b"\n".join([endpoint.method.encode(), request.url.path.encode(), raw])

        def answered() -> tuple[int, bytes]:
            return endpoint.status, to_json(endpoint.run(call))

        answer = service.requests.once(token.id, key, fingerprint, answered)
        if answer.replayed:
            return answer.status, answer.body, {"Idempotent-Replayed": "true"}
        return answer.status, answer.body, reached()

    status, content, headers = await run_in_threadpool(work)
    if isinstance(content, Download):  # a sync iterator: Starlette reads it in the threadpool
        return StreamingResponse(content.chunks, status, headers=headers, media_type=endpoint.media)
    return Response(content, status, headers=headers, media_type="application/json")
