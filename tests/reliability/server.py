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

import httpx

from api.tokens import Tokens
from domain.ledger import Ledger
from projections.read_models import open_store

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def issue_token(database_url: str, role: str = "admin", *communities: str) -> str:
    ledger = Ledger(database_url)
    try:
        tokens = Tokens(open_store(ledger))
        return tokens.issue(role=role, name=f"{role}-{time.monotonic_ns()}",
                            communities=list(communities), issued_by="scenario").token  # fmt: skip
    finally:
        ledger.close()


class ServerProcess:
    """One ``chanjiao serve`` process; ``start()`` returns once ``/healthz`` answers.
    Its output goes to ``log`` (a file), so a scenario can show or search it."""

    def __init__(self, database_url: str, log: Path, *, port: int | None = None,
                 env: dict[str, str] | None = None) -> None:  # fmt: skip
        self.database_url = database_url
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.env = {**os.environ, "CHANJIAO_CHECKPOINT_EVERY": "0", **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> ServerProcess:
        command = [sys.executable, "-m", "cli.main", "serve", "--host", "127.0.0.1",
                   "--port", str(self.port), "--db", self.database_url]  # fmt: skip
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=out,
                                            stderr=subprocess.STDOUT)  # fmt: skip
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}:\n"
                                   f"{self.log.read_text(errors='replace')[-3000:]}")  # fmt: skip
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"{self.url}/healthz did not answer within {timeout} s")
            time.sleep(0.05)

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
