"""``chanjiao relay nats`` and ``chanjiao relay status`` (ADR 0030)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec

from adapters.relays import RelayTable, exclusive
from api.events import Encoder, check_type
from bootstrap import Ledger
from domain.errors import InvalidInput
from relay.nats import DEFAULT_PREFIX, DEFAULT_STREAM, DEFAULT_URL, NatsRelay, Target

log = logging.getLogger("chanjiao.relay")


class RelayState(msgspec.Struct, frozen=True):
    name: str
    target: str
    filters: str
    position: int  # the last event published
    scanned: int  # the last position read
    behind: int  # positions recorded after ``scanned`` (0: caught up)
    published: int  # since ``started_at``
    started_at: datetime
    updated_at: datetime


class RelayStatus(msgspec.Struct, frozen=True):
    head: int
    relays: list[RelayState]


def relay_nats(ledger: Ledger, a: argparse.Namespace) -> Any:
    for t in a.type:
        check_type(t)
    target = Target(
        url=a.url,
        stream=a.stream,
        prefix=a.subject_prefix,
        types=frozenset(a.type),
        communities=frozenset(ledger.community(ref).id for ref in a.community),
    )
    if a.poll <= 0:
        raise InvalidInput("--poll is a number of seconds, more than 0")
    if not 1 <= a.batch <= 10_000:
        raise InvalidInput("--batch is a number of events from 1 to 10000")
    settings = a.settings
    relay = NatsRelay(
        Encoder(ledger, settings.public_url, settings.event_source),
        RelayTable(a.store),
        target,
        poll=a.poll,
        batch=a.batch,
    )
    log_to_stderr()
    on_signals(relay.stop)

    def waiting() -> None:
        log.warning(
            "another relay is publishing to the stream %s of this ledger; waiting for it to stop",
            target.stream,
        )

    with exclusive(a.store, ledger.url, target.name, relay.stopping, waiting) as taken:
        if taken:
            asyncio.run(relay.run())
    log.info("relay %s stopped; %d messages published", target.name, relay.published)
    return None


def log_to_stderr() -> None:
    """A long-running relay's log: one line per event worth telling, on stderr."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr
    )
    logging.getLogger("nats").setLevel(logging.CRITICAL)  # its errors reach the relay
    logging.getLogger("httpx").setLevel(logging.WARNING)  # not a line per webhook POST


def on_signals(stop: Callable[[], None]) -> None:
    """SIGINT and SIGTERM stop the relay after what it is doing."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop())


def relay_status(ledger: Ledger, a: argparse.Namespace) -> RelayStatus:
    head = ledger.recorder.max_notification_id() or 0
    return RelayStatus(
        head=head,
        relays=[
            RelayState(
                name=p.name,
                target=p.target,
                filters=p.filters,
                position=p.position,
                scanned=p.scanned,
                behind=max(head - p.scanned, 0),
                published=p.published,
                started_at=p.started_at,
                updated_at=p.updated_at,
            )
            for p in RelayTable(a.store).all()
        ],
    )


def add_commands(group: Callable[..., Any], leaf: Callable[..., argparse.ArgumentParser]) -> Any:
    """The ``relay`` commands; the group, for ``relay webhooks`` (cli.webhook)."""
    relays = group("relay", "publish every event to a message broker, for integrators")
    p = leaf(
        relays,
        "nats",
        relay_nats,
        "publish every event to NATS JetStream, in order, exactly once, until stopped",
    )
    p.add_argument("--url", default=DEFAULT_URL, help=f"the NATS server (default {DEFAULT_URL})")
    p.add_argument(
        "--stream",
        default=DEFAULT_STREAM,
        help=f"the JetStream stream, created if missing (default {DEFAULT_STREAM})",
    )
    p.add_argument(
        "--subject-prefix",
        default=DEFAULT_PREFIX,
        metavar="PREFIX",
        help="replaces the leading chanjiao of each event type to make its subject, so "
        f"several ledgers can share one NATS (default {DEFAULT_PREFIX}; the stream takes "
        "PREFIX.>)",
    )
    p.add_argument(
        "--community",
        action="append",
        default=[],
        metavar="COMMUNITY",
        help="only this body's events (its own, its council's and its agreements'); "
        "by name or id; repeat for more",
    )
    p.add_argument(
        "--type",
        action="append",
        default=[],
        metavar="TYPE",
        help="only events of this type, e.g. chanjiao.community.member_admitted.v1; repeat "
        "for more",
    )
    p.add_argument(
        "--poll",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="how often to look for new events when nothing says so (default 1; on "
        "PostgreSQL the ledger's NOTIFY wakes the relay at once)",
    )
    p.add_argument(
        "--batch",
        type=int,
        default=1000,
        metavar="N",
        help="events read and published at a time, their acknowledgements awaited together "
        "(default 1000)",
    )
    leaf(relays, "status", relay_status, "each relay: how far it has published, how far behind")
    return relays
