"""What the relays share: stopping and waking one that runs on an event loop, from any
thread or a signal handler, and waiting for either."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field


@dataclass(kw_only=True)
class Running:
    _stopping: threading.Event = field(default_factory=threading.Event)
    _loop: asyncio.AbstractEventLoop | None = None
    _stop: asyncio.Event | None = None
    _wake: asyncio.Event | None = None

    @property
    def stopping(self) -> threading.Event:
        return self._stopping

    def stop(self) -> None:
        """Stop after the work under way (callable from any thread or a signal handler)."""
        self._stopping.set()
        self._set(self._stop)

    def wake(self) -> None:
        """Something may have been recorded (callable from any thread)."""
        self._set(self._wake)

    def _set(self, event: asyncio.Event | None) -> None:
        if self._loop is not None and event is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(event.set)

    def _begin(self) -> bool:
        """On the loop that runs: False if stopped already."""
        self._loop = asyncio.get_running_loop()
        self._stop, self._wake = asyncio.Event(), asyncio.Event()
        return not self._stopping.is_set()

    async def _pause(self, seconds: float, *also: asyncio.Event, wake: bool = True) -> None:
        """Until ``seconds`` pass, the relay stops, (``wake``) something is recorded, or
        one of ``also`` is set."""
        assert self._stop is not None and self._wake is not None
        events = [self._stop, *([self._wake] if wake else []), *also]
        waits = [asyncio.ensure_future(e.wait()) for e in events]
        try:
            await asyncio.wait(waits, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waits:
                w.cancel()
