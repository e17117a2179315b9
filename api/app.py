"""``create_app``: the ledger as an HTTP service (api.md)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from eventsourcing.persistence import PersistenceError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from adapters.codec import to_json
from adapters.settings import Settings
from api import checkpointing, feed
from api.describe import asyncapi, openapi
from api.endpoint import Endpoint, Service, dispatch
from api.events import Encoder
from api.idempotency import Requests
from api.problems import handle
from api.resources import ENDPOINTS
from api.stream import Hub
from api.tokens import Tokens
from bootstrap import Ledger, read_settings
from domain.errors import LedgerError
from projections.read_models import open_store

Companion = Callable[[Ledger, Any, Settings], Callable[[], None]]
"""Started with the server (ledger, read-model store, settings); returns its stop."""


def create_app(
    ledger: Ledger | None = None,
    *,
    url: str | None = None,
    settings: Settings | None = None,
    heartbeat: float = 15.0,
    poll: float | None = None,
    public_url: str | None = None,
    checkpoint_every: float | None = None,
    companions: Sequence[Companion] = (),
    pages: Callable[[Service], list[BaseRoute]] | None = None,
) -> Starlette:
    """The API on ``ledger`` (or a new one on ``url``, closed with the app).

    ``settings``: the server's (default: read from the environment now); the keywords
    below override them.

    ``heartbeat``: seconds of silence before the stream sends a keep-alive comment.
    ``poll``: seconds between checks for events recorded by other processes that
    the server is not told about (default 1 on SQLite; 10 on PostgreSQL, whose
    NOTIFY tells it at once).
    ``public_url``: where clients reach the server, for the events' ``dataschema``
    (default ``CHANJIAO_PUBLIC_URL``, else http://127.0.0.1:8000).
    ``checkpoint_every``: seconds between signed checkpoints while the log grows
    (default ``CHANJIAO_CHECKPOINT_EVERY``, else 3600; 0: none).
    ``companions``: what runs beside the server for its lifetime, each started with the
    ledger, its store and the settings and returning how to stop it (``chanjiao serve``
    delivers webhooks so).
    ``pages``: more routes on the same service, beside the API's (``chanjiao serve``
    serves the console so, ADR 0032)."""
    settings = settings if settings is not None else read_settings()
    every = settings.checkpoint_every if checkpoint_every is None else checkpoint_every
    owned = ledger is None
    the_ledger = ledger if ledger is not None else Ledger(url, settings=settings)
    store = open_store(the_ledger, follow=True)
    service = Service(
        the_ledger,
        store,
        Tokens(store, cache=settings.token_cache),
        Requests(store),
        settings=settings,
    )
    postgres = store.dialect.postgres
    hub = Hub(
        Encoder(the_ledger, public_url or settings.public_url, settings.event_source),
        poll=poll or (10.0 if postgres else 1.0),
        heartbeat=heartbeat,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await hub.start()
        store.follower.start()
        stops = [
            await run_in_threadpool(start, the_ledger, store, settings) for start in companions
        ]
        signer = (
            asyncio.create_task(checkpointing.run(the_ledger, every, settings.signing_key))
            if every
            else None
        )
        try:
            yield
        finally:
            for stop in stops:
                await run_in_threadpool(stop)
            if signer is not None:
                signer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await signer
            await hub.stop()
            await run_in_threadpool(store.follower.stop)
            if owned:
                the_ledger.close()

    documents: dict[str, bytes] = {}

    async def openapi_json(request: Request) -> Response:
        if "openapi" not in documents:
            documents["openapi"] = to_json(openapi(ENDPOINTS))
        return Response(documents["openapi"], media_type="application/json")

    async def asyncapi_json(request: Request) -> Response:
        if "asyncapi" not in documents:
            documents["asyncapi"] = to_json(asyncapi())
        return Response(documents["asyncapi"], media_type="application/json")

    async def healthz(request: Request) -> Response:
        return JSONResponse({"ok": True})

    routes = [
        Route("/healthz", healthz),
        Route("/openapi.json", openapi_json),
        Route("/asyncapi.json", asyncapi_json),
        Route("/events", feed.batch),
        Route("/events/stream", feed.stream),
        Route("/events/schemas", feed.all_schemas),
        Route("/events/schemas/{type}", feed.one_schema),
        *_routes(ENDPOINTS, service),
        *(pages(service) if pages is not None else []),
    ]
    # Errors the API answers (4xx, 503) are handled by Starlette's ExceptionMiddleware;
    # only a handler for Exception itself goes to ServerErrorMiddleware, which re-raises
    # after answering, so that the server logs every refusal as a crash.
    handlers = {LedgerError: handle, PersistenceError: handle, Exception: handle}
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers=handlers)
    app.state.service = service
    app.state.hub = hub
    return app


def _routes(endpoints: list[Endpoint], service: Service) -> list[Route]:
    by_path: dict[str, dict[str, Endpoint]] = {}
    for e in endpoints:
        by_path.setdefault(e.path, {})[e.method] = e
    routes = []
    for path, methods in by_path.items():

        async def endpoint(request: Request, methods: Any = methods) -> Response:
            return await dispatch(methods[request.method], service, request)

        routes.append(Route(path, endpoint, methods=list(methods)))
    return routes
