"""``chanjiao projections status|rebuild``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import msgspec
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from bootstrap import Ledger
from domain.errors import InvalidChoice


class ReadModelStatus(msgspec.Struct, frozen=True):
    name: str
    position: int
    behind: int


class Status(msgspec.Struct, frozen=True):
    head: int
    read_models: list[ReadModelStatus]


class Rebuilt(msgspec.Struct, frozen=True):
    name: str
    position: int
    seconds: float
    events_per_second: float


def status(ledger: Ledger, a: argparse.Namespace) -> Any:
    store = a.store
    return Status(
        head=store.head(),
        read_models=[ReadModelStatus(n, p, behind) for n, p, behind in store.status()],
    )


def rebuild(ledger: Ledger, a: argparse.Namespace) -> Any:
    store = a.store
    names = [m.name for m in store.live]
    if a.name and a.name not in names:
        raise InvalidChoice(f"read model must be one of {', '.join(names)}; got {a.name!r}")
    results = []
    err = Console(stderr=True)  # stdout carries the answer alone, or nothing on an error
    for name in [a.name] if a.name else names:
        with Progress(
            TextColumn(f"rebuilding {name}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:>8.0f} events/s"),
            TimeRemainingColumn(),
            transient=True,
            console=err,
            disable=not err.is_terminal,
        ) as bar:
            task = bar.add_task(name, total=store.head() or 1, rate=0.0)

            def advance(reached: int, head: int, task=task) -> None:
                elapsed = bar.tasks[task].elapsed or 1e-9
                bar.update(task, completed=reached, total=head, rate=reached / elapsed)

            position = store.rebuild(name, advance)
            seconds = bar.tasks[task].elapsed or 0.0
        results.append(
            Rebuilt(
                name, position, round(seconds, 3), round(position / seconds, 1) if seconds else 0.0
            )
        )
    return results


def add_commands(group: Callable[..., Any], leaf: Callable[..., argparse.ArgumentParser]) -> None:
    models = group("projections", "the read models: how far they are, rebuilding them")
    leaf(models, "status", status, "each read model's position and how far it is behind")
    p = leaf(
        models,
        "rebuild",
        rebuild,
        "rebuild from position zero; the old one answers until the new one has caught up. "
        "Each event is checked against its hash first: exit code 6, and nothing swapped "
        "in, if one was changed behind the ledger's back",
    )
    p.add_argument("name", nargs="?", metavar="NAME", help="one read model (default: all)")
