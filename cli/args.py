"""Arguments several commands share."""

from __future__ import annotations

import argparse
import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from application.messages import COMMUNITY_WORDS, UNIT_WORDS
from domain.errors import InvalidInput


def unit_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("unit", metavar="UNIT", help=UNIT_WORDS)


def community_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("community", metavar="COMMUNITY", help=COMMUNITY_WORDS)


def known_at_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--known-at",
        metavar="TIME",
        help="only what was recorded by then: 2025-07-15, or 2025-07-15T09:30:00+08:00",
    )


def digest(path: str) -> tuple[str, int]:
    """A file's SHA-256 and size in bytes, read in blocks (documents may be large)."""
    sha = hashlib.sha256()
    size = 0
    try:
        with Path(path).open("rb") as f:
            while block := f.read(1 << 20):
                sha.update(block)
                size += len(block)
    except OSError as e:
        raise InvalidInput(f"cannot read the file {path}: {e.strerror or e}") from None
    return sha.hexdigest(), size


def from_file(
    run: Callable[[Any, argparse.Namespace], Any],
    file: str,
    typed: tuple[str, ...],
    *,
    required: bool = True,
) -> Callable[..., Any]:
    """The digest (and size) of the file option ``file`` into the options ``typed``
    (``sha256`` first), or those as typed; one of the two, not both (and neither,
    unless ``required``)."""
    flags = " and ".join("--" + name.replace("_", "-") for name in typed)

    def fill(ledger: Any, a: argparse.Namespace) -> Any:
        path = getattr(a, file)
        if path is not None:
            if any(getattr(a, name) is not None for name in typed):
                raise InvalidInput(f"give --{file}, or {flags}, not both")
            for name, value in zip(typed, digest(path), strict=False):
                setattr(a, name, value)
        elif required and any(getattr(a, name) is None for name in typed):
            raise InvalidInput(f"give the document with --{file} FILE (or {flags})")
        return run(ledger, a)

    return fill
