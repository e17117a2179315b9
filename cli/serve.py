"""``chanjiao serve`` and ``chanjiao token issue|list|revoke``."""

from __future__ import annotations

import argparse
import copy
import functools
import ipaddress
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import msgspec

from adapters.settings import Settings
from api.tokens import TokenInfo, Tokens
from bootstrap import Ledger
from domain.errors import ConfigurationError, InvalidInput

if TYPE_CHECKING:
    from starlette.applications import Starlette


LOOP, HTTP = "asyncio", "httptools"
"""uvicorn's event loop and HTTP parser (ADR 0022): httptools, a dependency, parses HTTP
in C; uvloop measured no faster for the app on top of it, so asyncio's own loop stays."""


def serve(ledger: Ledger, a: argparse.Namespace) -> Any:
    import uvicorn

    from api.app import create_app

    if a.workers < 1:
        raise InvalidInput("--workers is a number of server processes, 1 or more")
    if a.workers > 1 and urlsplit(ledger.url).scheme.lower() == "memory":
        raise ConfigurationError(
            f"refusing to start {a.workers} workers on {ledger.url}: each would keep a store "
            "of its own; use one worker, or a SQLite file or PostgreSQL database"
        )
    tokens = Tokens(a.store)
    if not _loopback(a.host) and not tokens.any_active():
        raise ConfigurationError(
            f"refusing to serve on {a.host}, reachable from other machines, while no token "
            "is issued; issue one first: chanjiao token issue --role admin --name NAME"
        )
    if not tokens.any_active():
        print(
            "No token is issued yet; every call but /healthz will answer 401. Issue one "
            "with: chanjiao token issue --role admin --name NAME",
            file=sys.stderr,
        )
    public_url = a.settings.public_url or f"http://{_authority(a.host, a.port)}"
    options: dict[str, Any] = {
        "host": a.host,
        "port": a.port,
        "loop": LOOP,
        "http": HTTP,
        "log_level": "info",
        # Open event streams never end by themselves: give them a few seconds on shutdown.
        "timeout_graceful_shutdown": 3,
        "log_config": _log_config(),
    }
    if a.workers == 1:
        app = create_app(
            ledger,
            settings=a.settings,
            public_url=public_url,
            companions=[deliver_webhooks],
            pages=console_pages(a.settings),
        )
        uvicorn.run(app, **options)
        return None
    # Several processes on one socket: uvicorn's supervisor starts each afresh, and each
    # makes its own app, on a Ledger of its own, from these settings (pickled across).
    settings = msgspec.structs.replace(a.settings, database_url=ledger.url, public_url=public_url)
    ledger.close()  # this process only supervises
    run_workers(functools.partial(worker_app, settings), a.workers, options)
    return None


def worker_app(settings: Settings) -> Starlette:
    """The app of one server process among several (``chanjiao serve --workers N``)."""
    from api.app import create_app

    return create_app(
        settings=settings, companions=[deliver_webhooks], pages=console_pages(settings)
    )


def console_pages(settings: Settings) -> Callable[[Any], list[Any]]:
    """The web console's routes (ADR 0032), served at / beside the API."""
    from console.pages import pages

    return functools.partial(pages, key_file=settings.session_key)


def deliver_webhooks(ledger: Ledger, store: Any, settings: Settings) -> Callable[[], None]:
    """The server delivers webhooks too (ADR 0031): one process of the ledger's at a time
    does, whichever takes the lock first; the others stand by."""
    from api.events import Encoder
    from relay.webhooks import Deliverer, WebhookTables, run_in_thread

    deliverer = Deliverer(
        Encoder(ledger, settings.public_url, settings.event_source),
        WebhookTables(store),
        timeout=settings.webhook_timeout,
        retry_for=settings.webhook_retry_for,
        backoff=settings.webhook_backoff,
    )
    thread = run_in_thread(deliverer, store, ledger.url)

    def stop() -> None:
        deliverer.stop()
        thread.join(settings.webhook_timeout + 5)

    return stop


def run_workers(factory: Callable[[], Any], workers: int, options: dict[str, Any]) -> None:
    """``workers`` uvicorn processes on one socket, each serving ``factory()``, until
    stopped: what ``uvicorn.run`` does with an import string, but with a factory that
    carries its settings (``uvicorn.run`` takes only an import string for several
    workers, which would leave each to read its settings from the environment again,
    without ``--db``). The factory is pickled into each process uvicorn spawns."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config(factory, factory=True, workers=workers, **options)
    Multiprocess(config, sockets=[config.bind_socket()]).run()


def _log_config() -> dict[str, Any]:
    """uvicorn's own logging, plus the ledger's loggers (``chanjiao.*``: checkpoints
    signed, store unavailable, subscribers dropped) at INFO on the same handler."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["chanjiao"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config


def _authority(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def token_issue(ledger: Ledger, a: argparse.Namespace) -> Any:
    if a.expires_in < 0:
        raise InvalidInput("--expires-in is a number of days, 0 for never")
    valid_for = timedelta(days=a.expires_in) if a.expires_in else None
    issued = Tokens(a.store).issue(
        role=a.role,
        name=a.name,
        communities=[ledger.community(ref).id for ref in a.community],
        issued_by=a.principal,
        valid_for=valid_for,
    )
    print(issued.token)  # alone on standard output, for scripts
    until = (
        f"valid until {issued.info.expires_at:%Y-%m-%d %H:%M} UTC"
        if issued.info.expires_at
        else "valid until revoked"
    )
    print(
        f"token {issued.info.id} for {issued.info.name} ({issued.info.role}) issued, {until}; "
        "it is shown only this once",
        file=sys.stderr,
    )
    return None


def token_list(ledger: Ledger, a: argparse.Namespace) -> list[TokenInfo]:
    return Tokens(a.store).list()


def token_revoke(ledger: Ledger, a: argparse.Namespace) -> Any:
    return Tokens(a.store).revoke(a.token_id)


def add_commands(
    group: Callable[..., Any], leaf: Callable[..., argparse.ArgumentParser], groups: Any
) -> None:
    p = leaf(groups, "serve", serve, "serve the ledger over HTTP (api.md)")
    p.set_defaults(creates=True)  # a new ledger is started by what is recorded through it
    p.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (this machine only)")
    p.add_argument("--port", type=int, default=8000, help="default 8000")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="server processes on the one port, sharing the database (default 1); each "
        "makes its own connections. On SQLite too: the file's lock takes one write at a "
        "time, the others wait for it (up to 10 s). Not on memory://",
    )

    tokens = group("token", "bearer tokens for the HTTP API")
    p = leaf(tokens, "issue", token_issue, "issue a token; it is printed once, alone on stdout")
    p.set_defaults(creates=True)
    p.add_argument("--role", required=True, help="admin, secretary, auditor or integrator")
    p.add_argument("--name", required=True, help="whom it is for; recorded on their events")
    p.add_argument(
        "--community",
        action="append",
        default=[],
        metavar="ID",
        help="secretaries: a community it records for, by name or id; repeat for each",
    )
    p.add_argument(
        "--expires-in",
        type=int,
        default=365,
        metavar="DAYS",
        help="days until it stops working (default 365; 0: until revoked)",
    )
    leaf(tokens, "list", token_list, "every token issued (never the tokens themselves)")
    p = leaf(tokens, "revoke", token_revoke, "revoke a token: it answers 401 from now on")
    p.add_argument("token_id", metavar="ID", help="the id `chanjiao token list` shows")
