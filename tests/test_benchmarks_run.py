"""Every benchmark still runs to the end, in its quick mode. Its figures are never judged
here: they are read by people, from full runs (bench/README.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
QUICK = ["rules.py"]


@pytest.mark.parametrize("script", QUICK)
def test_the_benchmark_runs_to_the_end_in_its_quick_mode(script):
    done = subprocess.run(
        [sys.executable, str(BENCH / script), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=BENCH.parent,
    )
    assert done.returncode == 0, done.stderr
    assert "check/baseline" in done.stdout.splitlines()[-1], done.stdout
