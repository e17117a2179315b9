"""Being told that something was recorded, from any process: PostgreSQL's ``NOTIFY``.

The library sends a ``NOTIFY`` on its channel in every transaction that records events,
whoever records them (a server, the CLI, another machine). The event stream's hub and
the NATS relay both wake on it instead of polling the events table."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import psycopg
from eventsourcing.persistence import PersistenceError

log = logging.getLogger("chanjiao.notify")


def listen(recorder: Any, wake: Callable[[], None], stopping: threading.Event) -> None:
    """Call ``wake`` after each ``NOTIFY`` on ``recorder``'s channel, and once each
    time listening (re)starts, for anything recorded while not listening; until
    ``stopping`` is set. Blocks: run it in a thread of its own. A database that
    restarts or goes away is waited for, one warning per failure."""
    datastore = recorder.datastore
    while not stopping.is_set():
        try:
            with datastore.get_connection() as conn:
                conn.execute(f'LISTEN "{recorder.channel_name}"')
                conn.commit()
                wake()
                while not stopping.is_set():
                    for _ in conn.notifies(timeout=1.0, stop_after=1):
                        wake()
        except (psycopg.Error, PersistenceError) as e:
            # The library's own connection errors are not psycopg's.
            log.warning(
                "listening for new events failed (%s); trying again in 1 s",
                str(e).strip() or type(e).__name__,
            )
            stopping.wait(1.0)


def start_listening(recorder: Any, wake: Callable[[], None], stopping: threading.Event) -> None:
    """``listen`` in a daemon thread."""
    threading.Thread(
        target=listen, args=(recorder, wake, stopping), name="chanjiao-listen", daemon=True
    ).start()
