"""``--format xlsx``: the lists and reports as a workbook people open in Excel or WPS
(ADR 0028), written to ``--output FILE`` or to stdout. The workbook itself, the CSV typed,
is ``projections.tables.workbook``, which the web console can offer too.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from domain.errors import InvalidInput
from projections.tables import xlsx_bytes

TERMINAL_REFUSAL = "xlsx is a binary file: redirect it (> report.xlsx) or pass --output FILE"


def write_xlsx(value: Any, output: str | None) -> None:
    """The workbook to ``output``, or to stdout when that is not a terminal."""
    data = xlsx_bytes(value)
    if output:
        Path(output).write_bytes(data)
        return
    if sys.stdout.isatty():
        raise InvalidInput(TERMINAL_REFUSAL)
    sys.stdout.flush()
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def spreadsheet_arg(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``--format xlsx`` and ``--output FILE`` on a list or report (a ``csv=True`` leaf).

    The leaf's answer is written here as a workbook, so that the command runs inside the
    command line's error handling (a refusal on a terminal is exit code 2)."""
    fmt = p._option_string_actions["--format"]
    if "xlsx" not in (fmt.choices or ()):
        # The --format option is the one of every csv leaf (argparse shares a parent's
        # actions): every list and report offers xlsx.
        fmt.choices = (*(fmt.choices or ()), "xlsx")
    if "--output" not in p._option_string_actions:
        p.add_argument("--output", "-o", metavar="FILE", help="write the xlsx to FILE")
    run: Callable[..., Any] = p.get_default("run")

    def run_then_write(ledger: Any, a: argparse.Namespace) -> Any:
        result = run(ledger, a)
        if a.format != "xlsx":
            return result
        write_xlsx(result, a.output)
        return None

    p.set_defaults(run=run_then_write)
    return p
