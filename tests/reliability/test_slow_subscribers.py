"""Slow and vanished subscribers (issue 8, scenario 4): a subscriber that stops reading
does not slow the others or the writers; its connection is dropped once its buffers
are full and it has taken nothing for ``CHANJIAO_STREAM_SEND_TIMEOUT``; on reconnecting with
``Last-Event-ID`` it resumes exactly once.

The server is the app under uvicorn in a thread (``LiveServer``), so the test can see
its hub and its connections. To make the stalled client's buffers fill with a few
hundred events rather than megabytes, the server's listening socket gets a small
``SO_SNDBUF`` (inherited by every connection it accepts) and the stalled client a small
``SO_RCVBUF``; the normal subscribers read at full speed through the same small buffers.
"""

from __future__ import annotations

import fcntl
import gc
import inspect
import logging
import socket
import statistics
import struct
import termios
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from api.stream import KEEP, Hub
from bootstrap import Ledger
from tests.api.streaming_support import (
    DIVISION,
    UNIT_REGISTERED,
    Journal,
    LiveServer,
    Message,
    Subscription,
    check_exactly_once,
    parse_sse,
)
from tests.factories import credit_code

SEND_TIMEOUT = 2.0  # seconds; the production default (CHANJIAO_STREAM_SEND_TIMEOUT) is 15
SERVER_SNDBUF = 32 * 1024  # Linux doubles it: 64 KiB per accepted connection
CLIENT_RCVBUF = 4 * 1024
UVICORN_HIGH_WATER = 64 * 1024  # uvicorn's transport stops taking data above this
READERS = 3
WARM_UP = 100
EVENTS = 700  # per phase; ~1 KiB each (a 200-character name)
LONG_NAME = "产教融合共同体成员单位" * 18 + "甲乙"  # 200 characters
P99_BOUND_S = 1.0
TCP_ESTABLISHED = 1


# --- a stalled client: a raw socket that never reads ------------------------------------


class Stalled:
    """``GET /events/stream`` over a raw socket with a small receive buffer, never read.
    A watcher thread notes, without reading, when its receive queue last grew and when
    the connection left ESTABLISHED (the server reset it)."""

    def __init__(self, server: LiveServer, token: str, after: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, CLIENT_RCVBUF)
        self.sock.connect(("127.0.0.1", server.port))
        self.port = self.sock.getsockname()[1]
        self.sock.sendall(
            f"GET /events/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}"
            f"\r\nAccept: text/event-stream\r\nLast-Event-ID: {after}\r\n\r\n".encode()
        )
        self.opened = time.monotonic()
        self.queued = 0  # bytes waiting in its receive queue
        self.last_growth = self.opened
        self.closed_at: float | None = None
        self.closed_state: int | None = None
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, name="stalled-watch", daemon=True)
        self.thread.start()

    def state(self) -> int:
        return struct.unpack("B", self.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1))[0]

    def _watch(self) -> None:
        while not self._stop.is_set():
            state = self.state()
            if state != TCP_ESTABLISHED:
                self.closed_at, self.closed_state = time.monotonic(), state
                return
            queued = struct.unpack("i", fcntl.ioctl(self.sock, termios.FIONREAD, b"\0" * 4))[0]
            if queued != self.queued:
                self.queued, self.last_growth = queued, time.monotonic()
            time.sleep(0.01)

    def read_what_arrived(self) -> tuple[list[Message], str]:
        """Everything the client had received before the reset: the complete
        messages in it, and how the connection ended."""
        data = b""
        ending = "end of stream"
        self.sock.settimeout(5.0)
        try:
            while chunk := self.sock.recv(65536):
                data += chunk
        except ConnectionResetError:
            ending = "connection reset"
        except TimeoutError:
            ending = "still open (timed out reading)"
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head[:200]
        text = dechunk(body).decode()
        complete = text[: text.rfind("\n\n") + 2] if "\n\n" in text else ""
        messages = [m for m in parse_sse(iter(complete.split("\n"))) if isinstance(m, Message)]
        return messages, ending

    def close(self) -> None:
        self._stop.set()
        self.thread.join(2)
        self.sock.close()


def dechunk(body: bytes) -> bytes:
    """HTTP/1.1 chunked transfer coding, as far as complete chunks go."""
    out = b""
    while True:
        size_line, sep, rest = body.partition(b"\r\n")
        if not sep:
            return out
        size = int(size_line.split(b";")[0], 16)
        if size == 0 or len(rest) < size + 2:
            return out
        out += rest[:size]
        body = rest[size + 2 :]


# --- normal subscribers and the writer ------------------------------------------------------


@dataclass
class Reader:
    """A subscriber reading as fast as it can, in a thread, until ``target`` (set once
    the writer is done) has arrived."""

    sub: Subscription
    target: Callable[[], int | None]
    error: BaseException | None = None
    thread: threading.Thread = field(init=False)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        def done(s: Subscription) -> bool:
            target = self.target()
            return target is not None and bool(s.messages) and int(s.messages[-1].id) >= target

        try:
            self.sub.until(done, timeout=110)
        except BaseException as e:
            self.error = e


@dataclass
class Phase:
    name: str
    throughput: float = 0.0  # events per second
    latencies: list[float] = field(default_factory=list)


def write(ledger: Ledger, journal: Journal, n: int, who: str, started: dict[int, float]) -> float:
    """``n`` unit registrations with long names; events per second. ``started``: each
    position's write start (a bound on its commit time from below)."""
    began = time.monotonic()
    for _ in range(n):
        journal.serial += 1
        code = credit_code(journal.serial)
        principal = f"{who}-{journal.serial}"
        t = time.monotonic()
        made = journal.record(
            ledger,
            [UNIT_REGISTERED],
            principal,
            lambda: ledger.register_unit(
                code=code,
                name=LONG_NAME,
                unit_type="enterprise",
                division=DIVISION,
                principal=principal,
            ),
        )
        started.update((r.position, t) for r in made)
    return n / (time.monotonic() - began)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def live_followers(hub: Hub) -> int:
    """``hub.follow`` generators still running: one per open subscriber."""
    code = Hub.follow.__code__
    return sum(
        1
        for g in gc.get_objects()
        if inspect.isasyncgen(g)
        and g.ag_code is code
        and g.ag_frame is not None
        and g.ag_frame.f_locals.get("self") is hub
    )


def server_connection(server: LiveServer, port: int):
    """uvicorn's protocol object for the client at ``port``, if it is still open."""
    for connection in list(server.server.server_state.connections):
        if getattr(connection, "client", None) == ("127.0.0.1", port):
            return connection
    return None


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.02)


# --- the scenario ---------------------------------------------------------------------


def test_a_stalled_subscriber_is_dropped_without_slowing_anyone_and_resumes_exactly_once(
    database_url: str,
    ledger: Ledger,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = "postgres" if database_url.startswith("postgres") else "sqlite"
    monkeypatch.setenv("CHANJIAO_STREAM_SEND_TIMEOUT", str(SEND_TIMEOUT))
    caplog.set_level(logging.INFO, logger="chanjiao.api.stream")
    journal = Journal()
    started: dict[int, float] = {}
    target: list[int | None] = [None]

    server = LiveServer(ledger, heartbeat=0.5)
    server.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SERVER_SNDBUF)
    server.start()
    stalled: Stalled | None = None
    readers: list[Reader] = []
    try:
        hub: Hub = server.app.state.hub
        token = server.token()
        readers = [
            Reader(Subscription(server, token, read_timeout=10), lambda: target[0])
            for _ in range(READERS)
        ]
        wait_for(lambda: live_followers(hub) >= READERS, 10, "the readers subscribing")

        write(ledger, journal, WARM_UP, "warm-up", started)

        # Phase 1: the writer and the readers, nobody stalled.
        baseline = Phase("without a stalled subscriber")
        baseline.throughput = write(ledger, journal, EVENTS, "baseline", started)
        first_end = journal.positions()[-1]
        wait_for(
            lambda: all(
                r.sub.messages and int(r.sub.messages[-1].id) >= first_end for r in readers
            ),
            30,
            "the readers catching up",
        )

        # Phase 2: the same, with a live subscriber (caught up) that stops reading: it
        # never reads a byte of the events that follow.
        stalled = Stalled(server, token, after=first_end)
        wait_for(
            lambda: (
                server_connection(server, stalled.port) is not None
                and live_followers(hub) == READERS + 1
            ),
            10,
            "the stalled client subscribing",
        )
        held: list[int] = []  # uvicorn's unsent bytes for it, sampled while it is open

        def sample() -> None:
            while stalled.closed_at is None:
                connection = server_connection(server, stalled.port)
                if connection is not None and connection.transport is not None:
                    held.append(connection.transport.get_write_buffer_size())
                time.sleep(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        with_stall = Phase("with a stalled subscriber")
        phase_began = time.monotonic()
        with_stall.throughput = write(ledger, journal, EVENTS, "stalled", started)
        phase_ended = time.monotonic()
        target[0] = last = journal.positions()[-1]
        for r in readers:
            r.thread.join(60)
            assert r.error is None, r.error
            assert not r.thread.is_alive(), "a reader did not finish"
        wait_for(
            lambda: stalled.closed_at is not None,
            2 * SEND_TIMEOUT + 10,
            "the server dropping the stalled subscriber",
        )
        sampler.join(2)
        drop_delay = stalled.closed_at - stalled.last_growth
        since_open = stalled.closed_at - stalled.opened

        # The server holds nothing more for it: no connection, no follower.
        wait_for(
            lambda: server_connection(server, stalled.port) is None,
            5,
            "uvicorn forgetting the connection",
        )
        wait_for(lambda: live_followers(hub) == READERS, 5, "the hub forgetting the subscriber")
        assert len(hub.recent) <= 2 * KEEP

        # Every reader got every event, once, in order, promptly, in both phases.
        for r in readers:
            check_exactly_once(journal, r.sub.messages)
        phases = [(baseline, first_end - EVENTS + 1, first_end), (with_stall, first_end + 1, last)]
        for phase, low, high in phases:
            phase.latencies = [
                m.arrived - started[int(m.id)]
                for r in readers
                for m in r.sub.messages
                if low <= int(m.id) <= high
            ]

        # The stalled client reads what had reached it, then resumes after it.
        before, ending = stalled.read_what_arrived()
        resume_from = before[-1].id if before else str(first_end)
        with Subscription(server, token, last_event_id=resume_from) as resumed:
            resumed.to_position(last, timeout=60)
            resumed.heartbeats(1)  # and nothing more, nothing twice
        check_exactly_once(journal, before + resumed.messages, after=first_end)
        drops = [
            r
            for r in caplog.records
            if r.name == "chanjiao.api.stream" and "dropped the subscriber" in r.getMessage()
        ]
    finally:
        target[0] = target[0] or 0
        if stalled is not None:
            stalled.close()
        for r in readers:
            r.sub.close()
        server.stop()

    print(
        f"\n{store}: {READERS} readers, {len(journal.entries)} events of ~1 KiB, "
        f"SEND_TIMEOUT {SEND_TIMEOUT} s"
    )
    for phase in (baseline, with_stall):
        print(
            f"  {phase.name}: writes {phase.throughput:.0f} events/s; reader latency "
            f"median {statistics.median(phase.latencies) * 1000:.1f} ms, "
            f"p99 {percentile(phase.latencies, 99) * 1000:.1f} ms, "
            f"max {max(phase.latencies) * 1000:.1f} ms"
        )
    print(
        f"  stalled client: its receive queue stopped growing at {stalled.queued} bytes; "
        f"reset {drop_delay:.2f} s later ({since_open:.2f} s after it connected, "
        f"{stalled.closed_at - phase_began:.2f} s into the {phase_ended - phase_began:.2f} s "
        f"of writing); uvicorn "
        f"held at most {max(held, default=0)} unsent bytes for it; it had parsed "
        f"{len(before)} events ({ending}), resumed after {resume_from} and received "
        f"{len(resumed.messages)} more, each once"
    )
    assert stalled.closed_state is not None and stalled.closed_state != TCP_ESTABLISHED
    assert SEND_TIMEOUT - 0.1 <= drop_delay <= SEND_TIMEOUT + 5, drop_delay
    assert held and max(held) <= UVICORN_HIGH_WATER + 4096, max(held)
    assert len(drops) == 1, [r.getMessage() for r in drops]
    assert ending == "connection reset"
    for phase in (baseline, with_stall):
        assert len(phase.latencies) == READERS * EVENTS
        assert percentile(phase.latencies, 99) < P99_BOUND_S, phase.name
    assert with_stall.throughput >= 0.5 * baseline.throughput
