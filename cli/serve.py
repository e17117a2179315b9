"""``chanjiao serve`` and ``chanjiao token issue|list|revoke``."""

from __future__ import annotations

import argparse
import copy
import ipaddress
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from api.tokens import TokenInfo, Tokens
from bootstrap import Ledger
from domain.errors import ConfigurationError, InvalidInput


def serve(ledger: Ledger, a: argparse.Namespace) -> Any:
    import uvicorn

    from api.app import create_app

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
    # Open event streams never end by themselves: give them a few seconds on shutdown.
    public_url = a.settings.public_url or f"http://{_authority(a.host, a.port)}"
    uvicorn.run(
        create_app(ledger, settings=a.settings, public_url=public_url),
        host=a.host,
        port=a.port,
        log_level="info",
        timeout_graceful_shutdown=3,
        log_config=_log_config(),
    )
    return None


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
        communities=a.community,
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
    p.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (this machine only)")
    p.add_argument("--port", type=int, default=8000, help="default 8000")

    tokens = group("token", "bearer tokens for the HTTP API")
    p = leaf(tokens, "issue", token_issue, "issue a token; it is printed once, alone on stdout")
    p.add_argument("--role", required=True, help="admin, secretary, auditor or integrator")
    p.add_argument("--name", required=True, help="whom it is for; recorded on their events")
    p.add_argument(
        "--community",
        action="append",
        default=[],
        metavar="ID",
        help="secretaries: a community it records for; repeat for each",
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
