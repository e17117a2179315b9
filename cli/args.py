"""Arguments several commands share."""

from __future__ import annotations

import argparse


def unit_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("unit", metavar="UNIT", help="unit id or credit code")


def community_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("community", metavar="COMMUNITY", help="community id")


def known_at_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--known-at",
        metavar="TIME",
        help="only what was recorded by then: 2025-07-15, or 2025-07-15T09:30:00+08:00",
    )
