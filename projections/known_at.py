"""Answers as the ledger knew them at a time (ADR 0007): every read model keeps the
recorded time of the facts its rows come from, and a known-at answer leaves out
the rows recorded later — one comparison per column, no replay."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

from domain.errors import CommunityNotFound
from domain.values import parse_timestamp
from projections.machinery import iso

LATEST = "9999-12-31T23:59:59.999999"
"""The bound that leaves nothing out: later than any recorded time."""


class KnownAt(NamedTuple):
    moment: datetime | None
    """The time asked for; None: now, everything recorded so far."""
    bound: str
    """What recorded-time columns are compared with: ``recorded_at <= bound``."""

    def later(self, what: str) -> str:
        """The refusal for something whose first event was recorded after the time."""
        assert self.moment is not None
        return f"{what} had not been recorded yet at {self.moment.isoformat()}"


EVERYTHING = KnownAt(None, LATEST)


def as_known_at(value: str | datetime | None) -> KnownAt:
    """``--known-at`` / ``known_at`` as given (a bare date is the end of that day in
    China), or None for now."""
    moment = parse_timestamp(value, "known-at time") if value is not None else None
    return KnownAt(moment, iso(moment) if moment else LATEST)


def body_row(rows: Sequence[Any], community_id: UUID, at: KnownAt) -> Any:
    """The body's row (with its ``recorded_at``), refused if it was never founded or
    its founding was recorded after the time."""
    founded(rows[0]["recorded_at"] if rows else None, community_id, at)
    return rows[0]


def founded(recorded_at: str | None, community_id: UUID, at: KnownAt) -> None:
    """Refuse a body whose founding was not recorded (``recorded_at`` None), or was
    recorded after the time."""
    if recorded_at is None:
        raise CommunityNotFound(f"no community {community_id} has been founded")
    if recorded_at > at.bound:
        raise CommunityNotFound(at.later(f"community {community_id}"))
