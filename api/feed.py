"""The event stream's routes: ``GET /events``, ``/events/stream``, ``/events/schemas``.

A subscriber that stops reading is dropped: every write to its connection may wait
at most ``CHANJIAO_STREAM_SEND_TIMEOUT`` seconds (default 15) for room
(``EventStreamResponse``), after which the
server resets the connection, logs it once at INFO, and forgets the subscriber. It
resumes, exactly once, with ``Last-Event-ID``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
import time
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Send

from adapters.codec import to_json
from api import bodies as b
from api.access import Access, check
from api.endpoint import Service, bearer, decode_query
from api.events import Encoder, check_type, schemas
from api.stream import Hub
from domain.errors import InvalidInput, NotFound

BATCH_TYPE = "application/cloudevents-batch+json"

log = logging.getLogger("chanjiao.api.stream")


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
    items, reached = await run_in_threadpool(encoder.page, q.after, q.limit, q.type, q.community_id)
    body = b"[" + b",".join(i.json for i in items) + b"]"
    return Response(body, media_type=BATCH_TYPE, headers={"Chanjiao-Read-To": str(reached)})


async def stream(request: Request) -> Response:
    service: Service = request.app.state.service
    hub: Hub = request.app.state.hub
    await _authorised(service, request)
    q: b.StreamQuery = decode_query(request, b.StreamQuery)
    check_type(q.type)
    after = resume_from(request, q.after)
    messages = sse_messages(hub, after, q.type, q.community_id)
    send_timeout = service.settings.stream_send_timeout
    return EventStreamResponse(messages, after=after, send_timeout=send_timeout)


def sse_messages(
    hub: Hub, after: int, type_: str | None, community: UUID | None
) -> AsyncIterator[tuple[int | None, bytes]]:
    """The stream's messages after ``after``: the retry hint, then each event as
    ``id:``/``event:``/``data:``, and a comment whenever nothing was sent for a while."""

    async def messages() -> AsyncIterator[tuple[int | None, bytes]]:
        yield None, b"retry: 2000\n\n"
        async with contextlib.aclosing(hub.follow(after, type_, community)) as items:
            async for item in items:
                if item is None:
                    yield None, b": keep-alive\n\n"
                else:
                    yield (
                        item.position,
                        b"id: %d\nevent: %s\ndata: %s\n\n"
                        % (item.position, item.type.encode(), item.json),
                    )

    return messages()


def resume_from(request: Request, after: int | None) -> int:
    """The position to resume after. ``Last-Event-ID`` wins over ``after``: a browser's
    EventSource reconnects to the URL it first opened (``?after=0``) and says where it
    got to only in the header, so letting the query win would replay what it has."""
    header = request.headers.get("last-event-id", "").strip()
    if not header:
        return after or 0
    if not (header.isascii() and header.isdigit()):
        raise InvalidInput(f"Last-Event-ID must be a position (a whole number); got {header!r}")
    position = int(header)
    if position > b.MAX_POSITION:
        raise InvalidInput(f"Last-Event-ID {header} is beyond any position")
    return position


class EventStreamResponse(StreamingResponse):
    """``text/event-stream`` from ``(position or None, bytes)`` messages, where no
    write may wait more than ``send_timeout`` seconds (CHANJIAO_STREAM_SEND_TIMEOUT).

    A write waits only once everything between the server and the client is full: the
    client's receive buffer, the server's kernel send buffer (which Linux grows up to
    ``net.ipv4.tcp_wmem``'s maximum, 4 MiB by default) and the server's own 64 KiB
    above which uvicorn stops handing data to the socket. A client that has taken
    nothing off that pipe for this long has stopped reading, or vanished without a
    word; it is reset, and what it still held on the server is freed. So a subscriber
    costs the server at most those buffers, and only for this long after they fill;
    the hub keeps nothing per subscriber, so neither the others nor the writers wait
    for it.

    Starlette's ``StreamingResponse`` awaits each ``send`` for as long as it takes,
    and uvicorn's ``send`` waits while the connection's buffers are full: a client
    that stops reading would hold its coroutine, its buffers and its socket for as
    long as it lives. Here a watchdog (one timer per connection, not one per write:
    writes are the hot path) cancels a write that has waited ``send_timeout``, and
    the subscriber is dropped. Everything else — notably ending the stream when the
    client disconnects — is Starlette's, unchanged."""

    media_type = "text/event-stream"

    def __init__(
        self, messages: AsyncIterator[tuple[int | None, bytes]], *, after: int, send_timeout: float
    ) -> None:
        super().__init__(messages, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        self.messages = messages
        self.send_timeout = send_timeout
        self.last_sent = after  # the position of the last event handed to the connection
        self.client = "?"
        self.stalled = False
        self._waiting_since: float | None = None  # when the write under way began
        self._timer: asyncio.TimerHandle | None = None

    async def __call__(self, scope: Any, receive: Any, send: Send) -> None:
        client = scope.get("client")
        self.client = f"{client[0]}:{client[1]}" if client else "?"
        await super().__call__(scope, receive, send)

    async def stream_response(self, send: Send) -> None:
        loop = asyncio.get_running_loop()
        with anyio.CancelScope() as writing:
            self._watch(loop, writing)
            try:
                await self._stream(send)
            finally:
                if self._timer is not None:
                    self._timer.cancel()
        if self.stalled:
            await self._drop(send)

    async def _stream(self, send: Send) -> None:
        await self._send(
            send,
            {
                "type": "http.response.start",
                "status": self.status_code,
                "headers": self.raw_headers,
            },
        )
        async for position, chunk in self.messages:
            await self._send(send, {"type": "http.response.body", "body": chunk, "more_body": True})
            if position is not None:
                self.last_sent = position
        await self._send(send, {"type": "http.response.body", "body": b"", "more_body": False})

    async def _send(self, send: Send, message: dict[str, Any]) -> None:
        self._waiting_since = time.monotonic()
        await send(message)
        self._waiting_since = None

    def _watch(self, loop: asyncio.AbstractEventLoop, writing: anyio.CancelScope) -> None:
        """Look again a quarter of the bound from now, or when the write under way
        reaches the bound; cancel that write if it has."""
        since, now = self._waiting_since, time.monotonic()
        if since is not None and now - since >= self.send_timeout:
            # uvicorn writes nothing of a message until there is room for it, so
            # the connection holds only whole messages.
            self.stalled = True
            writing.cancel()
            return
        wait = self.send_timeout / 4 if since is None else since + self.send_timeout - now
        self._timer = loop.call_later(wait, self._watch, loop, writing)

    async def _drop(self, send: Send) -> None:
        await self.messages.aclose()  # type: ignore[attr-defined]
        reset = _reset(send)
        log.info(
            "event stream: dropped the subscriber at %s, which took nothing for %g s "
            "(last position sent %d; it resumes from the last it read with Last-Event-ID)",
            self.client,
            self.send_timeout,
            self.last_sent,
        )
        if reset:
            # Let the server see the connection gone before the response ends, so that
            # it does not report an unfinished response; Starlette cuts this short
            # when the disconnect arrives.
            await anyio.sleep(1.0)


def _reset(send: Send) -> bool:
    """Reset the connection under ``send`` at once, discarding what is unsent.

    ASGI has no way to abort a connection: a response left unfinished makes uvicorn
    close its transport politely, which waits for the unsent data to drain — for
    ever, from a client that does not read. So this finds uvicorn's connection
    (``RequestResponseCycle.transport``) behind the ``send`` wrappers Starlette's
    middleware put around it (closures over the next ``send``), and aborts it with
    ``SO_LINGER`` 0: a TCP reset, no FIN waiting behind unread data. Without uvicorn
    it returns False and the server closes the connection as it does."""
    transport = _transport(send)
    if transport is None:
        return False
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    return True


def _transport(send: Any) -> Any:
    """The transport of the uvicorn cycle whose bound ``send`` is ``send`` or is
    called, through closures, by ``send``; None when there is none."""
    pending, seen = [send], set()
    while pending and len(seen) < 50:
        fn = pending.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        transport = getattr(getattr(fn, "__self__", None), "transport", None)
        if callable(getattr(transport, "abort", None)) and hasattr(transport, "get_extra_info"):
            return transport
        for cell in getattr(fn, "__closure__", None) or ():
            try:
                value = cell.cell_contents
            except ValueError:  # an empty cell
                continue
            if callable(value):
                pending.append(value)
    return None


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
    schema = {
        "$schema": everything["$schema"],
        **everything["types"][name],
        "$defs": everything["$defs"],
    }
    return Response(to_json(schema), media_type="application/schema+json")
