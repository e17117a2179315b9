"""NATS for the relay's tests: the machine's server (127.0.0.1:4222, JetStream on), or a
server of a test's own that it may kill and restart; a reader of a stream's messages;
and ``chanjiao relay nats`` as a process."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.js.errors import NotFoundError

MACHINE_NATS = os.environ.get("CHANJIAO_TEST_NATS_URL", "nats://127.0.0.1:4222")
REQUIRED = os.environ.get("CHANJIAO_REQUIRE_TOOLS") == "1"  # .ci/run: never skip
ROOT = Path(__file__).resolve().parents[2]


def nats_problem(url: str) -> str | None:
    async def probe() -> None:
        nc = await nats.connect(url, connect_timeout=2, allow_reconnect=False)
        try:
            await nc.jetstream().account_info()
        finally:
            await nc.close()

    try:
        asyncio.run(probe())
        return None
    except Exception as e:
        return f"NATS with JetStream at {url} is not reachable: {e or type(e).__name__}"


def need(problem: str | None) -> None:
    if problem and REQUIRED:
        pytest.fail(f"{problem} (CHANJIAO_REQUIRE_TOOLS=1)", pytrace=False)
    if problem:
        pytest.skip(problem)


@dataclass(frozen=True)
class Message:
    seq: int
    subject: str
    headers: dict[str, str]
    data: bytes


class Stream:
    """A stream on a NATS server, read whole by sequence number."""

    def __init__(self, url: str, name: str | None = None, prefix: str | None = None) -> None:
        self.url = url
        tag = uuid.uuid4().hex[:10]
        self.name = name or f"TEST_{tag.upper()}"
        self.prefix = prefix or f"t{tag}"

    def _run(self, work: Callable[[Any], Any]) -> Any:
        async def go() -> Any:
            nc = await nats.connect(self.url, connect_timeout=2, allow_reconnect=False)
            try:
                return await work(nc.jetstream())
            finally:
                await nc.close()

        return asyncio.run(go())

    def last_seq(self) -> int:
        async def work(js: Any) -> int:
            try:
                return (await js.stream_info(self.name)).state.last_seq
            except NotFoundError:
                return 0

        return self._run(work)

    def messages(self) -> list[Message]:
        async def work(js: Any) -> list[Message]:
            try:
                info = await js.stream_info(self.name)
            except NotFoundError:
                return []
            found = []
            for seq in range(info.state.first_seq, info.state.last_seq + 1):
                m = await js.get_msg(self.name, seq=seq)
                found.append(Message(seq, m.subject, dict(m.headers or {}), m.data or b""))
            return found

        return self._run(work)

    def publish(self, subject: str, data: bytes) -> None:
        self._run(lambda js: js.publish(subject, data))

    def delete(self) -> None:
        async def work(js: Any) -> None:
            with contextlib.suppress(NotFoundError):
                await js.delete_stream(self.name)

        with contextlib.suppress(Exception):  # a private server already gone
            self._run(work)

    def positions(self) -> list[int]:
        return [int(m.headers["Nats-Msg-Id"]) for m in self.messages()]


class PrivateNats:
    """``nats-server`` with JetStream on a free loopback port and a store of its own,
    for a test that stops and restarts it."""

    def __init__(self, store: Path) -> None:
        self.binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
        self.store = store
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"nats://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> PrivateNats:
        self.process = subprocess.Popen(
            [self.binary, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while nats_problem(self.url):
            assert time.monotonic() < deadline, "nats-server did not start"
            time.sleep(0.1)
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
            self.process = None


class RelayProcess:
    """``chanjiao relay nats`` in a process of its own, its log kept."""

    def __init__(self, db: str, stream: Stream, *args: str, log: Path) -> None:
        self.log = log
        self.handle = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cli.main",
                "relay",
                "nats",
                "--db",
                db,
                "--url",
                stream.url,
                "--stream",
                stream.name,
                "--subject-prefix",
                stream.prefix,
                *args,
            ],
            cwd=ROOT,
            stdout=self.handle,
            stderr=self.handle,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, what: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while what not in self.text():
            assert self.process.poll() is None, f"the relay ended:\n{self.text()}"
            assert time.monotonic() < deadline, f"no {what!r} in the relay's log:\n{self.text()}"
            time.sleep(0.05)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)
        self.handle.close()

    def stop(self, timeout: float = 20.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout)
        self.handle.close()
        return code
