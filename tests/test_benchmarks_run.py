"""Every benchmark still runs to the end, in its quick mode, on both stores (SQLite only
when PostgreSQL is not reachable and not required). Its figures are never judged here:
they are read by people, from full runs (bench/README.md)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"

# (script, its arguments besides --quick, what the last line of a full run says too)
QUICK = [
    ("ledger_io.py", [], "ledger/baseline"),
    ("rules.py", [], "check/baseline"),
    ("projections.py", [], "p99 < 20 ms"),
    ("audit.py", [], "of raw SHA-256 throughput"),
    ("api.py", [], "of the baseline's req/s"),
    ("api.py", ["--profile"], "(cumulative"),
    ("write_path.py", [], "long/new"),
    ("relay_nats.py", [], "relay/baseline"),
    ("console.py", [], "page/API"),
]


@pytest.fixture(scope="module")
def postgres(request: pytest.FixtureRequest) -> str | None:
    """The PostgreSQL server the tests use, or None if it is not reachable (and not
    required: then this fails as every PostgreSQL test does)."""
    try:
        return request.getfixturevalue("postgres_server")
    except pytest.skip.Exception:
        return None


def in_session(session: int) -> list[int]:
    """The processes still in the session led by ``session``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        if int(fields[3]) == session and fields[0] != "Z":
            found.append(int(entry.name))
    return found


@pytest.mark.parametrize(
    ("script", "extra", "last"),
    QUICK,
    ids=[" ".join([script, *extra]) for script, extra, _ in QUICK],
)
def test_the_benchmark_runs_to_the_end_in_its_quick_mode(script, extra, last, postgres):
    if script == "relay_nats.py":
        from tests.relay.nats_support import MACHINE_NATS, nats_problem, need

        need(nats_problem(MACHINE_NATS))
    command = [sys.executable, str(BENCH / script), "--quick", *extra]
    env = dict(os.environ)
    if postgres is None:
        command += ["--store", "sqlite"]
    else:
        env["CHANJIAO_BENCH_POSTGRES_URL"] = postgres
    # Its own session, so that whatever it starts (servers, load, a recording process)
    # can be found afterwards, and killed with it if it hangs.
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=BENCH.parent,
        env=env,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"{script} --quick took over 180 s:\n{out[-3000:]}\n{err[-3000:]}")
    stray = in_session(proc.pid)
    for pid in stray:
        os.kill(pid, signal.SIGKILL)
    assert proc.returncode == 0, err
    assert not stray, f"{script} left processes behind: {stray}"
    lines = out.splitlines()
    assert lines and last in lines[-1], out
    for store in ["sqlite"] if postgres is None else ["sqlite", "postgres"]:
        assert re.search(rf"^{store}\b", out, re.MULTILINE), f"nothing on {store}:\n{out}"
