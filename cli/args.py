"""Arguments several commands share."""

from __future__ import annotations

import argparse

from application.messages import COMMUNITY_WORDS, UNIT_WORDS


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
