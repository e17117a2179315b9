"""The event stream's routes: ``GET /events``, ``/events/stream``, ``/events/schemas``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from domain.codec import to_json
from domain.errors import InvalidInput, NotFound

from api import bodies as b
from api.access import Access, check
from api.endpoint import Service, bearer, decode_query
from api.events import Encoder, check_type, schemas
from api.stream import Hub

BATCH_TYPE = "application/cloudevents-batch+json"


async def _authorised(service: Service, request: Request) -> None:
    secret = bearer(request)
    token = await run_in_threadpool(service.tokens.check, secret)
    check(token, Access.EVENTS, None)


async def batch(request: Request) -> Response:
    service: Service = request.app.state.service
    await _authorised(service, request)
    q: b.EventsQuery = decode_query(request, b.EventsQuery)
    check_type(q.type)
    encoder: Encoder = request.app.state.hub.encoder
    items, reached = await run_in_threadpool(encoder.page, q.after, q.limit, q.type,
                                             q.community_id)  # fmt: skip
    body = b"[" + b",".join(i.json for i in items) + b"]"
    return Response(body, media_type=BATCH_TYPE, headers={"Chanjiao-Read-To": str(reached)})


async def stream(request: Request) -> Response:
    service: Service = request.app.state.service
    hub: Hub = request.app.state.hub
    await _authorised(service, request)
    q: b.StreamQuery = decode_query(request, b.StreamQuery)
    check_type(q.type)
    after = q.after
    if after is None:
        header = request.headers.get("last-event-id", "").strip()
        if header and not (header.isascii() and header.isdigit()):
            raise InvalidInput(f"Last-Event-ID must be a position (a whole number); got {header!r}")
        after = int(header or 0)
        if after > b.MAX_POSITION:
            raise InvalidInput(f"Last-Event-ID {header} is beyond any position")

    async def messages() -> AsyncIterator[bytes]:
        yield b"retry: 2000\n\n"
        async for item in hub.follow(after, q.type, q.community_id):
            if item is None:
                yield b": keep-alive\n\n"
            else:
                yield b"id: %d\nevent: %s\ndata: %s\n\n" % (
                    item.position, item.type.encode(), item.json
                )

    return StreamingResponse(
        messages(), media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )  # fmt: skip


_SCHEMAS: dict[str, Any] = {}


def _all() -> dict[str, Any]:
    if not _SCHEMAS:
        _SCHEMAS.update(schemas())
    return _SCHEMAS


async def all_schemas(request: Request) -> Response:
    await _authorised(request.app.state.service, request)
    return Response(to_json(_all()), media_type="application/schema+json")


async def one_schema(request: Request) -> Response:
    await _authorised(request.app.state.service, request)
    name = request.path_params["type"]
    everything = _all()
    if name not in everything["types"]:
        raise NotFound(f"no event type {name!r}; GET /events/schemas lists them")
    schema = {"$schema": everything["$schema"], **everything["types"][name],
              "$defs": everything["$defs"]}  # fmt: skip
    return Response(to_json(schema), media_type="application/schema+json")
