"""``chanjiao history ID`` (every event of one aggregate, with its hash) and
``chanjiao replay --until POSITION|TIME`` (the ledger as it stood then)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from bootstrap import Ledger
from projections import history as histories
from projections import replay as replays


def history(ledger: Ledger, a: argparse.Namespace) -> Any:
    return histories.history(ledger, a.id)


def replay(ledger: Ledger, a: argparse.Namespace) -> Any:
    return replays.replay(ledger, a.until, community=a.community, as_of=a.as_of)


def add_commands(leaf: Callable[..., argparse.ArgumentParser], groups: Any) -> None:
    p = leaf(
        groups,
        "history",
        history,
        "every event of a unit, community, council or agreement: its type, "
        "effective date, recorded time, principal and hash",
    )
    p.add_argument(
        "id",
        metavar="WHAT",
        help="the name of a unit, community or agreement, an id (a council's too) or a credit code",
    )
    p = leaf(
        groups,
        "replay",
        replay,
        "every aggregate and the reports as the ledger stood at a position or a time",
    )
    p.add_argument(
        "--until",
        required=True,
        metavar="POSITION|TIME",
        help="a log position (the events up to it), or a recorded time (the events "
        "recorded by then): 2025-07-15 (the end of that day), 2025-07-15T09:30:00 (China "
        "time) or 2025-07-15T09:30:00+08:00",
    )
    p.add_argument("--community", metavar="COMMUNITY", help="limit the reports to one body")
    p.add_argument(
        "--as-of",
        metavar="YYYY-MM-DD",
        help="the date of the reports (default: the cutoff's date in China)",
    )
