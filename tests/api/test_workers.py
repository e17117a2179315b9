"""``chanjiao serve --workers 2``: two server processes on one port and one database.
A write answered by one of them is seen by a read that the other answers, because
every read first brings the read models up to the database's last position.

The server runs as a process of its own; each request goes on a connection of its own,
so the kernel hands it to whichever worker accepts it first. Which worker answered is
read from ``/proc``: the worker holding the server's end of the connection (where
there is no ``/proc``, only the reads are checked)."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bootstrap import Ledger
from cli.main import main
from tests.factories import credit_code

ROOT = Path(__file__).resolve().parents[2]
# Write-then-read pairs: at least, and at most. Which worker accepts a connection is the
# kernel's choice, and on a busy machine one worker can take nearly all of them for a
# while (once, 79 of 80 pairs): the cap leaves room to meet three crossings, and the
# loop stops as soon as it has.
PAIRS, MOST_PAIRS = 16, 240
CROSSED = 3  # pairs whose write and read two different workers answered, at least
STARTED = "Application startup complete."


def chanjiao(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        found |= {int(c) for c in (task / "children").read_text().split()}
    return found


def holder(server_port: int, client_port: int, pids: set[int]) -> int | None:
    """Which of ``pids`` holds the server's end of the connection from ``client_port``."""
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1], fields[2]
        if (int(local.rsplit(":", 1)[1], 16), int(remote.rsplit(":", 1)[1], 16)) == (
            server_port,
            client_port,
        ):
            inode = fields[9]
            break
    if inode is None:
        return None
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
            except OSError:  # closed meanwhile
                continue
    return None


def call(
    port: int, token: str, method: str, path: str, body: object = None, pids: set[int] = frozenset()
) -> tuple[int, object, int | None]:
    """One request on a new connection: (status, answer, the worker that answered)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.connect()
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        answer = json.loads(response.read())
        # The connection is still open (keep-alive): its server end names the worker.
        worker = holder(port, conn.sock.getsockname()[1], pids) if pids else None
        return response.status, answer, worker
    finally:
        conn.close()


def test_a_write_answered_by_one_worker_is_seen_by_a_read_the_other_answers(
    database_url: str, tmp_path: Path
) -> None:
    ledger = Ledger(database_url)
    try:
        codes = [credit_code(8100 + i) for i in range(MOST_PAIRS)]
        for i, code in enumerate(codes):
            ledger.register_unit(
                code=code,
                name=f"苏州协同制造{i:03d}有限公司",
                unit_type="enterprise",
                division="320506",
                principal="secretary:test",
            )
        community = ledger.found_community(
            name="苏州市域产教联合体",
            kind="city",
            industry="智能制造",
            division="320500",
            founded_on="2024-01-01",
            principal="secretary:test",
        ).id
    finally:
        ledger.close()
    env = {**os.environ, "CHANJIAO_CHECKPOINT_EVERY": "0"}
    issued = chanjiao(
        "token", "issue", "--role", "admin", "--name", "workers", "--db", database_url, env=env
    )
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()

    port = free_port()
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "cli.main", "serve", "--workers", "2"]
    command += ["--port", str(port), "--db", database_url]
    with log.open("wb") as out:
        server = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 60
        while log.read_text(errors="replace").count(STARTED) < 2:  # both workers up
            assert server.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.05)
        workers = children(server.pid) if Path("/proc/net/tcp").exists() else set()
        started = {int(p) for p in re.findall(r"Started server process \[(\d+)\]", log.read_text())}
        assert started <= workers or not workers

        answered: list[tuple[int | None, int | None]] = []
        base = f"/communities/{community}/members"
        for code in codes:
            crossed = sum(w != r for w, r in answered)
            if len(answered) >= PAIRS and (crossed >= CROSSED or not workers):
                break
            body = {"unit_id": code, "role": "participant", "effective_on": "2024-02-01"}
            status, _, wrote = call(port, token, "POST", base, body, workers)
            assert status == 201
            status, answer, read = call(port, token, "GET", base, pids=workers)
            assert status == 200
            assert code in {m["code"] for m in answer["members"]}, (wrote, read)
            answered.append((wrote, read))
        if workers:
            assert {w for pair in answered for w in pair} == started, answered
            assert sum(w != r for w, r in answered) >= CROSSED, answered
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
            raise
    assert server.returncode == 0, log.read_text(errors="replace")
    output = log.read_text(errors="replace")
    assert "Traceback" not in output, output


def test_several_workers_are_refused_on_a_memory_store(capsys: pytest.CaptureFixture) -> None:
    code = main(["serve", "--workers", "2", "--db", "memory://"])
    assert code == 2
    assert "each would keep a store of its own" in capsys.readouterr().err
    code = main(["serve", "--workers", "0", "--db", "memory://"])
    assert code == 2
    assert "--workers" in capsys.readouterr().err
