"""Indexes of the log kept in memory: which aggregates recorded an event of one type,
and under what key (the body an agreement was drafted for, the unit a body admitted).

A command that checks every agreement of a body, or every body a unit belongs to, and a
list of every body, found them by reading every such event from the whole log, each
time: a scan of the events table for one event type, which grew with the ledger. An
index reads them once and then only what was recorded since, up to the log's head at
each call, so what another process recorded before the call is found as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any
from uuid import UUID

EVERY = object()
"""``LogIndex.ids``: every aggregate, whatever its key."""


class LogIndex:
    """The aggregates with an event of type ``topic``, in the order their first such
    event was recorded, by the key ``key`` takes from the event (if given).
    Thread-safe: a call reads the log's new events under a lock."""

    PAGE = 500

    def __init__(self, topic: str, key: Callable[[Any], Hashable] | None = None) -> None:
        self.topic = topic
        self.key = key
        self._lock = threading.Lock()
        self._read_to = 0
        self._first: dict[UUID, int] = {}  # aggregate → position of its first such event
        self._by_key: dict[Hashable, dict[UUID, None]] = {}

    def ids(self, ledger: Any, key: Hashable = EVERY) -> list[UUID]:
        """The aggregates (under ``key``), as far as the log reaches now."""
        with self._lock:
            self._read(ledger)
            return list(self._first if key is EVERY else self._by_key.get(key, ()))

    def positions(self, ledger: Any) -> dict[UUID, int]:
        """Each aggregate's first such event's position, as far as the log reaches now."""
        with self._lock:
            self._read(ledger)
            return dict(self._first)

    def _read(self, ledger: Any) -> None:
        head = ledger.recorder.max_notification_id() or 0
        start = self._read_to + 1
        while start <= head:
            page = ledger.recorder.select_notifications(
                start=start, limit=self.PAGE, stop=head, topics=[self.topic]
            )
            for notification in page:
                aggregate = notification.originator_id
                self._first.setdefault(aggregate, notification.id)
                if self.key is not None:
                    key = self.key(ledger.mapper.to_domain_event(notification))
                    self._by_key.setdefault(key, {})[aggregate] = None
            if len(page) < self.PAGE:
                break
            start = page[-1].id + 1
        self._read_to = max(self._read_to, head)
