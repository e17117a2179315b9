"""What every ledger event carries, besides the library's id, version and timestamp.

Event classes name themselves with an explicit, versioned ``TOPIC``
(``chanjiao.community.member_admitted.v1``): that string, not the Python path, is
what is stored, so modules can be moved without breaking a ledger (ADR 0002).
"""

from __future__ import annotations

from eventsourcing.domain import Aggregate


class LedgerEvent(Aggregate.Event):
    """Base of every event: ``principal`` names who recorded it."""

    principal: str


class LedgerCreated(LedgerEvent, Aggregate.Created):
    """Base of every event that starts an aggregate."""
