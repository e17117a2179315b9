"""``chanjiao relay nats``: every event, in position order, into a NATS JetStream stream,
each exactly once (ADR 0030).

Each event goes out as a CloudEvent in structured mode (the NATS binding: the JSON event
format as the payload, ``content-type: application/cloudevents+json``), on the subject
that is its CloudEvents type with the leading ``chanjiao`` replaced by the prefix, with
``Nats-Msg-Id`` = its position and ``Chanjiao-Community`` = the community it concerns.

Exactly once, whatever is killed when:

- where to resume is read back from the stream: its last message's ``Nats-Msg-Id`` is
  the last position published, so nothing the stream holds is sent again;
- every message carries ``Nats-Expected-Last-Sequence``: the stream takes it only
  directly after the one before it, so a message can never land after a gap, twice, or
  interleaved with another publisher's. A refusal sends the relay back to the stream's
  end, and JetStream's duplicate window drops a re-send by its ``Nats-Msg-Id`` besides;
- one relay per stream: a second one waits for the first's lock (``adapters.relays``).

A NATS or database outage is waited out with backoff (up to 30 s), logged once when
it starts and once when it ends."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import nats
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import NotFoundError

from adapters.dialect import is_postgres
from adapters.notify import start_listening
from adapters.relays import Progress, RelayTable, now
from adapters.settings import redacted
from api.events import Encoder, Item
from domain.errors import ConfigurationError, InvalidInput
from relay.running import Running

log = logging.getLogger("chanjiao.relay")

CLOUDEVENTS_JSON = "application/cloudevents+json"
COMMUNITY_HEADER = "Chanjiao-Community"
DEFAULT_URL = "nats://127.0.0.1:4222"
DEFAULT_STREAM = "CHANJIAO"
DEFAULT_PREFIX = "chanjiao"
_TOKEN = re.compile(r"[A-Za-z0-9_-]+")
_STREAM = re.compile(r"[A-Za-z0-9_-]{1,200}")


@dataclass(frozen=True)
class Target:
    """Where and what a relay publishes."""

    url: str = DEFAULT_URL
    stream: str = DEFAULT_STREAM
    prefix: str = DEFAULT_PREFIX
    types: frozenset[str] = frozenset()  # empty: every type
    communities: frozenset[UUID] = frozenset()  # empty: every event, units' included

    def __post_init__(self) -> None:
        if not _STREAM.fullmatch(self.stream):
            raise InvalidInput(
                f"--stream {self.stream!r} is not a JetStream stream name: use letters, "
                "digits, - and _ (e.g. CHANJIAO)"
            )
        if not all(_TOKEN.fullmatch(t) for t in self.prefix.split(".")):
            raise InvalidInput(
                f"--subject-prefix {self.prefix!r} is not a NATS subject prefix: dot-separated "
                "words of letters, digits, - and _ (e.g. chanjiao or prod.chanjiao)"
            )

    @property
    def name(self) -> str:
        """The relay's name in ``chanjiao relay status`` and for its lock."""
        return f"nats {self.stream}"

    @property
    def subjects(self) -> str:
        return f"{self.prefix}.>"

    def subject(self, event_type: str) -> str:
        return self.prefix + event_type.removeprefix("chanjiao")

    def wants(self, item: Item) -> bool:
        return (not self.types or item.type in self.types) and (
            not self.communities or item.community in self.communities
        )

    @property
    def shown(self) -> str:
        return f"{redacted(self.url)} {self.subjects}"

    @property
    def filters(self) -> str:
        parts = [f"type={t}" for t in sorted(self.types)]
        parts += [f"community={c}" for c in sorted(map(str, self.communities))]
        return "; ".join(parts)


class Resync(Exception):
    """The stream is not where this relay thought it was: read its end again."""


@dataclass
class NatsRelay(Running):
    encoder: Encoder
    table: RelayTable
    target: Target
    batch: int = 1000
    poll: float = 1.0  # seconds between looks at the ledger when nothing woke the relay
    ack_timeout: float = 10.0
    backoff_max: float = 30.0
    connect: Callable[..., Any] = nats.connect
    published: int = 0
    _failed: asyncio.Event | None = None
    _failure: str = ""
    _down: str = ""  # what is unreachable, while it is
    _started: Any = None
    _saved: float = 0.0

    # --- running ------------------------------------------------------------------

    async def run(self) -> None:
        """Publish until ``stop()``; every failure is waited out and resumed from the
        stream's end."""
        if not self._begin():
            return
        self._started = now()
        ledger = self.encoder.ledger
        if is_postgres(ledger.recorder):
            start_listening(ledger.recorder, self.wake, self._stopping)
        delay = 0.0
        while not self._stop.is_set():
            try:
                await self._session()
            except Resync as e:
                log.info("%s; reading the stream's end again", e)
                delay = 0.0
            except (ConfigurationError, InvalidInput):
                raise
            except Exception as e:  # NATS, the network or the database: wait it out
                self._went_down(e)
                delay = min(max(delay * 2, 0.5), self.backoff_max)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay * random.uniform(0.8, 1.2))

    async def _session(self) -> None:
        """One connection: find the stream's end, then publish from there on."""
        self._failed, self._failure = asyncio.Event(), ""
        nc = await self.connect(
            self.target.url,
            name=f"chanjiao relay {self.target.stream}",
            allow_reconnect=False,  # a lost connection ends the session; run() starts anew
            connect_timeout=2,
            error_cb=self._error,
            disconnected_cb=self._disconnected,
            closed_cb=self._disconnected,
        )
        try:
            js = nc.jetstream(timeout=self.ack_timeout)
            await self._ensure_stream(js)
            position, seq = await self._end(js)
            self._came_back(position)
            await self._pump(js, position, seq)
        finally:
            with contextlib.suppress(Exception):
                await nc.close()

    # --- the stream -----------------------------------------------------------------

    async def _ensure_stream(self, js: Any) -> None:
        t = self.target
        try:
            info = await js.stream_info(t.stream)
        except NotFoundError:
            await js.add_stream(
                StreamConfig(name=t.stream, subjects=[t.subjects], storage=StorageType.FILE)
            )
            log.info("created the JetStream stream %s for subjects %s", t.stream, t.subjects)
            return
        if t.subjects not in (info.config.subjects or []):
            raise ConfigurationError(
                f"the JetStream stream {t.stream} takes the subjects "
                f"{', '.join(info.config.subjects or []) or '(none)'}, not {t.subjects}: give "
                "another --stream, or the --subject-prefix it was made for"
            )

    async def _end(self, js: Any) -> tuple[int, int]:
        """The last position the stream holds and its sequence number (0, 0: empty)."""
        t = self.target
        info = await js.stream_info(t.stream)
        last = info.state.last_seq
        kept = await asyncio.to_thread(self.table.find, t.name)
        if last == 0:
            if kept is not None and kept.position:
                log.warning(
                    "the stream %s is empty though this relay had published up to position "
                    "%d: publishing every event again from the start",
                    t.stream,
                    kept.position,
                )
            return 0, 0
        try:
            msg = await js.get_msg(t.stream, seq=last)
        except NotFoundError:
            msg = None
        if msg is None:
            if kept is not None and kept.stream_seq == last:
                return kept.position, last
            raise ConfigurationError(
                f"cannot tell where the stream {t.stream} ends: its last message (sequence "
                f"{last}) is gone, removed by the stream's limits or a purge, and this "
                "relay's own record does not name it. Publish into a new --stream, or "
                f"delete the stream {t.stream} to publish every event again"
            )
        msg_id = (msg.headers or {}).get("Nats-Msg-Id", "")
        if not msg.subject.startswith(t.prefix + ".") or not msg_id.isdigit():
            raise ConfigurationError(
                f"the last message in the stream {t.stream} (subject {msg.subject}) was not "
                "published by a chanjiao relay: give the relay a stream of its own"
            )
        return int(msg_id), last

    # --- publishing -----------------------------------------------------------------

    async def _pump(self, js: Any, position: int, seq: int) -> None:
        assert self._stop is not None and self._wake is not None
        t = self.target
        scanned = position
        kept = await asyncio.to_thread(self.table.find, t.name)
        if (
            kept
            and kept.position == position
            and kept.stream_seq == seq
            and kept.filters == t.filters
        ):
            scanned = max(scanned, kept.scanned)  # what it skipped needs no second look
        await self._save(position, seq, scanned, force=True)
        while not self._stop.is_set():
            self._wake.clear()
            items, reached = await asyncio.to_thread(
                self.encoder.page, scanned, self.batch, None, None
            )
            chosen = [i for i in items if t.wants(i)]
            if chosen:
                seq = await self._publish(js, chosen, seq)
                position = chosen[-1].position
                self.published += len(chosen)
            scanned = max(scanned, reached)
            await self._save(position, seq, scanned, force=bool(items))
            if len(items) < self.batch:
                await self._idle()

    async def _publish(self, js: Any, items: Sequence[Item], seq: int) -> int:
        """Send ``items`` pipelined, each to follow the one before it in the stream;
        the stream's last sequence number once all are acknowledged."""
        futures = []
        for k, item in enumerate(items):
            headers = {
                "Nats-Msg-Id": str(item.position),
                "Nats-Expected-Last-Sequence": str(seq + k),
                "content-type": CLOUDEVENTS_JSON,
            }
            if item.community is not None:
                headers[COMMUNITY_HEADER] = str(item.community)
            futures.append(
                await js.publish_async(self.target.subject(item.type), item.json, headers=headers)
            )
        acks = await self._acks(futures)
        for k, ack in enumerate(acks):
            if ack.duplicate or ack.seq != seq + k + 1:
                raise Resync(
                    f"position {items[k].position} was stored as sequence {ack.seq}"
                    f"{' (a duplicate)' if ack.duplicate else ''}, not {seq + k + 1}"
                )
        return seq + len(items)

    async def _acks(self, futures: list[asyncio.Future[Any]]) -> list[Any]:
        """Every acknowledgement, or Resync. A refused publish does not fail its future
        in nats-py 2.16 (nats-io/nats.py#985: the error reaches ``error_cb`` and the
        future never resolves), so the wait also ends on ``error_cb`` and on a timeout."""
        assert self._failed is not None
        gathered = asyncio.gather(*futures)
        failed = asyncio.ensure_future(self._failed.wait())
        try:
            done, _ = await asyncio.wait(
                {gathered, failed}, timeout=self.ack_timeout, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            failed.cancel()
        if gathered in done:
            try:
                return gathered.result()
            except Exception as e:
                raise Resync(f"NATS refused a message ({e})") from e
        gathered.cancel()
        for f in futures:
            f.cancel()
        raise Resync(
            f"NATS refused a message ({self._failure})"
            if self._failure
            else f"NATS acknowledged no message within {self.ack_timeout:g} s"
        )

    async def _idle(self) -> None:
        """Until something may have been recorded, ``poll`` seconds pass, the relay is
        stopped, or the connection fails."""
        assert self._stop is not None and self._failed is not None
        await self._pause(self.poll, self._failed)
        if self._failed.is_set() and not self._stop.is_set():
            raise ConnectionError(self._failure or "the connection to NATS was lost")

    async def _save(self, position: int, seq: int, scanned: int, *, force: bool) -> None:
        """The progress row: after each batch, and every 10 s while idle (so that
        ``relay status`` can tell a live relay from one that stopped)."""
        assert self._loop is not None
        if not force and self._loop.time() - self._saved < 10:
            return
        self._saved = self._loop.time()
        t = self.target
        progress = Progress(
            name=t.name,
            target=t.shown,
            filters=t.filters,
            position=position,
            stream_seq=seq,
            scanned=scanned,
            published=self.published,
            started_at=self._started,
            updated_at=now(),
        )
        await asyncio.to_thread(self.table.save, progress)

    # --- what happens to the connection ----------------------------------------------

    async def _error(self, e: Exception) -> None:
        self._fail(str(e) or type(e).__name__)

    async def _disconnected(self) -> None:
        self._fail("the connection to NATS was lost")

    def _fail(self, why: str) -> None:
        self._failure = self._failure or why
        if self._failed is not None:
            self._failed.set()

    def _went_down(self, e: Exception) -> None:
        what = str(e).strip() or type(e).__name__
        if not self._down:
            log.warning(
                "relay %s cannot publish (%s); waiting for NATS and the ledger, retrying "
                "with backoff up to %g s",
                self.target.name,
                what,
                self.backoff_max,
            )
        self._down = what

    def _came_back(self, position: int) -> None:
        if self._down:
            log.warning("relay %s publishes again, after position %d", self.target.name, position)
        else:
            log.info(
                "relay %s publishing to %s after position %d",
                self.target.name,
                self.target.shown,
                position,
            )
        self._down = ""
