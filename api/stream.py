"""Live delivery of the event stream to many subscribers.

One ``Hub`` per server reads each new event from the database once, encodes it
once, and keeps the most recent ones in memory; every SSE subscriber takes what
follows its own last position from there (or, when it is further behind than the
memory reaches, from the database), so each subscriber sees every later event
exactly once, in order, whatever it filters.

The hub reads when told something was recorded: by PostgreSQL's ``NOTIFY`` (the
library sends one on its channel in every recording transaction, from any
process), by this process's own saves, and — for writers the hub cannot hear, such
as the CLI on a SQLite file — by a check every ``poll`` seconds.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import threading
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

from starlette.concurrency import run_in_threadpool

from adapters.dialect import is_postgres
from adapters.notify import start_listening
from api.events import Encoder, Item

log = logging.getLogger("chanjiao.api.stream")

KEEP = 10_000
"""Events kept in memory for subscribers that are slightly behind."""


class Hub:
    def __init__(self, encoder: Encoder, *, poll: float, heartbeat: float) -> None:
        self.encoder = encoder
        self.ledger = encoder.ledger
        self.poll = poll
        self.heartbeat = heartbeat
        self.recent: list[Item] = []
        self.floor = 0  # every event after this position that exists up to head is in recent
        self.head = 0
        self._kick = asyncio.Event()
        self._changed = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._stopping = threading.Event()
        self._reading = 0  # reads of the ledger running in worker threads
        self._reading_lock = threading.Lock()
        self._closed = False  # no read may start: the ledger may be closed
        self._subscribers = 0
        self._behind = False  # recent and head were left behind while no one followed

    # --- running ----------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.head = self.floor = await run_in_threadpool(self._max)
        self.ledger.after_save.append(lambda _position: self.wake())
        self._tasks.append(asyncio.create_task(self._follow()))
        if is_postgres(self.ledger.recorder):
            start_listening(self.ledger.recorder, self.wake, self._stopping)

    async def stop(self) -> None:
        """Stop following, after the read under way (if any) has ended.

        The follow task is asked to stop, never cancelled: cancelling it while it
        waits on a read in a worker thread leaves the lifespan's own awaits
        unanswered under anyio 4.16 (the server's shutdown then never ends), and on
        Python 3.11 ``asyncio.wait_for`` may swallow the cancellation anyway."""
        self._stopping.set()
        with self._reading_lock:
            self._closed = True  # a read that has not started returns nothing
        self._kick.set()  # _follow wakes, finds _stopping set and returns
        await asyncio.gather(*self._tasks, return_exceptions=True)
        # A subscriber's read may still run in a worker thread, and the ledger may be
        # closed as soon as this returns: wait for it.
        while self._reading:
            await asyncio.sleep(0.01)

    async def _page(self, after: int, *args: Any) -> tuple[list[Item], int]:
        """``encoder.page`` in a worker thread; nothing once the hub has stopped."""

        def read() -> tuple[list[Item], int]:
            with self._reading_lock:
                if self._closed:
                    return [], after
                self._reading += 1
            try:
                return self.encoder.page(after, *args)
            finally:
                with self._reading_lock:
                    self._reading -= 1

        return await run_in_threadpool(read)

    def wake(self) -> None:
        """Something may have been recorded (callable from any thread). While no one
        follows, the loop is not even woken: the window is only marked behind. A
        subscriber that comes meanwhile either is counted by the second look or finds
        the mark, and then wakes the loop itself (``follow``)."""
        if not self._subscribers:
            self._behind = True
            if not self._subscribers:
                return
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._kick.set)

    def _max(self) -> int:
        return self.ledger.recorder.max_notification_id() or 0

    async def _follow(self) -> None:
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._kick.wait(), self.poll)
            self._kick.clear()
            if self._stopping.is_set():
                return
            try:
                if not self._subscribers:
                    # No one to read for: a save costs no page read and encoding. The
                    # window is moved to the head when a subscriber comes.
                    self._behind = True
                    continue
                if self._behind:
                    await self._skip_to_head()
                await self._read_new()
            except Exception:
                log.exception("the event stream could not read new events")
                await asyncio.sleep(1)

    async def _skip_to_head(self) -> None:
        """Start the window afresh at the head: what came before it is read from the
        database by a subscriber that needs it, as for any subscriber further behind
        than memory reaches. Subscribers waiting on the window look again."""
        # Cleared before the head is read: a save that marks the window behind again
        # meanwhile (the last subscriber gone) is not forgotten.
        self._behind = False
        head = await run_in_threadpool(self._max)
        self.recent = []
        self.head = self.floor = max(head, self.head)
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def _read_new(self) -> None:
        while True:
            items, _ = await self._page(self.head, 1000, None, None)
            if not items:
                return
            self.recent.extend(items)
            if len(self.recent) > 2 * KEEP:
                self.floor = self.recent[-KEEP - 1].position
                del self.recent[:-KEEP]
            self.head = items[-1].position
            changed, self._changed = self._changed, asyncio.Event()
            changed.set()
            if len(items) < 1000:
                return

    # --- subscribers ------------------------------------------------------------

    async def follow(
        self, after: int, type_: str | None, community: UUID | None
    ) -> AsyncIterator[Item | None]:
        """Every event after ``after`` passing the filters, then each new one as it
        is recorded; ``None`` when ``heartbeat`` seconds pass with nothing to send."""
        self._subscribers += 1
        try:
            if self._behind:
                self._kick.set()  # the window moves to the head before it is trusted
            async for item in self._follow_from(after, type_, community):
                yield item
        finally:
            self._subscribers -= 1

    async def _follow_from(
        self, after: int, type_: str | None, community: UUID | None
    ) -> AsyncIterator[Item | None]:
        last = after
        loop = asyncio.get_running_loop()
        quiet_since = loop.time()  # when this subscriber was last sent anything
        while True:
            if last < self.floor:  # further behind than memory reaches: the database
                items, reached = await self._page(last, 500, type_, community)
                for item in items:
                    yield item
                    quiet_since = loop.time()
                # Nothing more to read from the database: memory has the rest.
                last = self.floor if reached == last else reached
                continue
            changed = self._changed
            sent = False
            recent = self.recent
            start = bisect.bisect_right(recent, last, key=lambda i: i.position)
            for item in recent[start:]:
                last = item.position
                if (type_ is None or item.type == type_) and (
                    community is None or item.community == community
                ):
                    sent = True
                    yield item
            if sent:
                quiet_since = loop.time()
                continue
            # Events this subscriber filters out do not count: its connection is idle.
            wait = quiet_since + self.heartbeat - loop.time()
            if wait > 0:
                try:
                    await asyncio.wait_for(changed.wait(), wait)
                    continue
                except TimeoutError:
                    pass
            yield None
            quiet_since = loop.time()
