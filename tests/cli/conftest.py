from __future__ import annotations

import pytest

from cli.main import main


@pytest.fixture
def run(database_url, capsys):
    """Run ``chanjiao ARGS --db URL``; return (exit code, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        code = main([*args, "--db", database_url, "--principal", "secretary:li"])
        out, err = capsys.readouterr()
        return code, out, err

    return run
