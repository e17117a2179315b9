"""``chanjiao webhook add|list|remove|deliveries|redeliver|secret`` and ``chanjiao relay
webhooks`` (ADR 0031)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable
from typing import Any

from adapters.relays import exclusive
from adapters.webhooks import FAILED, Delivery, Endpoint, WebhookTables, new_secret
from api.events import Encoder, check_type
from bootstrap import Ledger
from cli.relay import log_to_stderr, on_signals
from domain.errors import InvalidInput
from relay.webhooks import LOCK, Deliverer

log = logging.getLogger("chanjiao.webhooks")


def webhook_add(ledger: Ledger, a: argparse.Namespace) -> Endpoint:
    for t in a.type:
        check_type(t)
    head = ledger.recorder.max_notification_id() or 0
    if a.after is not None and not 0 <= a.after <= head:
        raise InvalidInput(f"--after is a position from 0 to {head} (the last recorded)")
    endpoint = WebhookTables(a.store).add(
        a.url,
        a.secret_file,
        a.type,
        [ledger.community(ref).id for ref in a.community],
        a.principal,
        after=head if a.after is None else a.after,
    )
    print(
        f"webhook {endpoint.id} added: it is sent the events recorded after position "
        f"{head if a.after is None else a.after}, once chanjiao serve or chanjiao relay "
        "webhooks runs",
        file=sys.stderr,
    )
    return endpoint


def webhook_list(ledger: Ledger, a: argparse.Namespace) -> list[Endpoint]:
    return WebhookTables(a.store).endpoints(removed=a.all)


def webhook_remove(ledger: Ledger, a: argparse.Namespace) -> Endpoint:
    return WebhookTables(a.store).remove(a.webhook)


def webhook_deliveries(ledger: Ledger, a: argparse.Namespace) -> list[Delivery]:
    tables = WebhookTables(a.store)
    if a.webhook is not None:
        tables.endpoint(a.webhook)  # an unknown id is refused, not shown as empty
    return tables.deliveries(a.webhook, status=FAILED if a.failed else None, limit=a.limit)


def webhook_redeliver(ledger: Ledger, a: argparse.Namespace) -> Any:
    if not a.position and not a.failed:
        raise InvalidInput("name the positions to deliver again, or give --failed")
    count = WebhookTables(a.store).redeliver(a.webhook, a.position, failed=a.failed)
    print(f"{count} deliveries of webhook {a.webhook} queued again", file=sys.stderr)
    return None


def webhook_secret(ledger: Ledger, a: argparse.Namespace) -> Any:
    print(new_secret())
    return None


def relay_webhooks(ledger: Ledger, a: argparse.Namespace) -> Any:
    settings = a.settings
    deliverer = Deliverer(
        Encoder(ledger, settings.public_url, settings.event_source),
        WebhookTables(a.store),
        timeout=settings.webhook_timeout,
        retry_for=settings.webhook_retry_for,
        backoff=settings.webhook_backoff,
        poll=a.poll,
    )
    log_to_stderr()
    on_signals(deliverer.stop)

    def waiting() -> None:
        log.warning("another process delivers this ledger's webhooks; waiting for it to stop")

    with exclusive(a.store, ledger.url, LOCK, deliverer.stopping, waiting) as taken:
        if taken:
            log.info("delivering webhooks")
            asyncio.run(deliverer.run())
    log.info("webhooks stopped")
    return None


def add_commands(
    group: Callable[..., Any], leaf: Callable[..., argparse.ArgumentParser], relays: Any
) -> None:
    hooks = group("webhook", "POST each event to integrators' URLs, signed (Standard Webhooks)")
    p = leaf(hooks, "add", webhook_add, "send events to a URL, signed with a secret")
    p.set_defaults(creates=True)
    p.add_argument("url", metavar="URL", help="where to POST each event (http:// or https://)")
    p.add_argument(
        "--secret-file",
        required=True,
        metavar="FILE",
        help="the signing secret, whsec_ and base64, readable by its owner only; make one "
        "with: chanjiao webhook secret > FILE && chmod 600 FILE",
    )
    p.add_argument(
        "--type", action="append", default=[], metavar="TYPE", help="only this type; repeat"
    )
    p.add_argument(
        "--community",
        action="append",
        default=[],
        metavar="COMMUNITY",
        help="only this body's events (by name or id); repeat",
    )
    p.add_argument(
        "--after",
        type=int,
        metavar="POSITION",
        help="send the events after this position (default: those recorded from now on; "
        "0: every event there is)",
    )
    p = leaf(hooks, "list", webhook_list, "the webhooks and what each is sent")
    p.add_argument("--all", action="store_true", help="removed ones too")
    p = leaf(hooks, "remove", webhook_remove, "stop sending to a webhook; its deliveries stay")
    p.add_argument("webhook", metavar="ID", help="the id chanjiao webhook list shows")
    p = leaf(hooks, "deliveries", webhook_deliveries, "deliveries, latest first")
    p.add_argument("webhook", metavar="ID", nargs="?", help="one webhook's (default: all)")
    p.add_argument("--failed", action="store_true", help="only those that were given up")
    p.add_argument("--limit", type=int, default=100, metavar="N", help="at most N (default 100)")
    p = leaf(hooks, "redeliver", webhook_redeliver, "deliver events to a webhook again")
    p.add_argument("webhook", metavar="ID")
    p.add_argument(
        "position", metavar="POSITION", type=int, nargs="*", help="the events' positions"
    )
    p.add_argument("--failed", action="store_true", help="every delivery that was given up")
    leaf(hooks, "secret", webhook_secret, "print a new random signing secret")

    p = leaf(
        relays,
        "webhooks",
        relay_webhooks,
        "deliver webhooks until stopped (chanjiao serve does too)",
    )
    p.add_argument(
        "--poll",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="how often to look for new events and webhooks (default 1)",
    )
