"""``chanjiao serve`` in a process of its own, on a free loopback port: the scenarios
kill it (SIGKILL), restart it, and take its database away while it serves."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from api.tokens import Tokens
from bootstrap import Ledger
from projections.read_models import open_store
from tests.api.streaming_support import wait_until_healthy

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def issue_token(database_url: str, role: str = "admin", *communities: str) -> str:
    ledger = Ledger(database_url)
    try:
        tokens = Tokens(open_store(ledger))
        return tokens.issue(
            role=role,
            name=f"{role}-{time.monotonic_ns()}",
            communities=list(communities),
            issued_by="scenario",
        ).token
    finally:
        ledger.close()


class ServerProcess:
    """One ``chanjiao serve`` process; ``start()`` returns once ``/healthz`` answers.
    Its output goes to ``log`` (a file), so a scenario can show or search it."""

    def __init__(
        self,
        database_url: str,
        log: Path,
        *,
        port: int | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.database_url = database_url
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.env = {**os.environ, "CHANJIAO_CHECKPOINT_EVERY": "0", **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> ServerProcess:
        command = [
            sys.executable,
            "-m",
            "cli.main",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--db",
            self.database_url,
        ]
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        process = self.process

        def exited() -> str | None:
            if process.poll() is None:
                return None
            return (
                f"the server exited with {process.returncode}:\n"
                f"{self.log.read_text(errors='replace')[-3000:]}"
            )

        try:
            wait_until_healthy(self.url, timeout, exited)
        except RuntimeError:
            self.kill()
            raise
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flushing, as a crash would leave it."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace")
