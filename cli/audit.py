"""``chanjiao audit verify``: every hash chain recomputed from the stored events."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from domain.ledger import Ledger


def verify(ledger: Ledger, a: argparse.Namespace) -> Any:
    total = ledger.recorder.max_notification_id() or 0
    with Progress(TextColumn("verifying"), BarColumn(), MofNCompleteColumn(),
                  transient=True) as bar:  # fmt: skip
        task = bar.add_task("verify", total=total or 1)
        result = ledger.verify(lambda checked: bar.update(task, completed=checked))
    a.exit_code = 0 if result.ok else 6
    return result


def add_commands(group: Callable[..., Any], leaf: Callable[..., argparse.ArgumentParser]) -> None:
    audit = group("audit", "tamper evidence: hash chains over every event")
    leaf(audit, "verify", verify,
         "recompute every aggregate's hash chain; exit code 6 if anything was altered, "
         "deleted, inserted or reordered")  # fmt: skip
