"""An event's hash and what a check of the hashes can find (ADR 0014).

Each event's hash is ``SHA-256(previous hash ‖ "chanjiao-event-v1\\n" ‖ topic ‖ "\\n" ‖
aggregate id ‖ "\\n" ‖ version ‖ "\\n" ‖ stored state)``, the previous hash being that
of the same aggregate's previous version (32 zero bytes for the first). Pure: the
adapters keep the hashes (``adapters.chain``), the bundle format checks them offline.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from uuid import UUID

import msgspec

GENESIS = bytes(32)


def event_hash(prev: bytes, topic: str, aggregate: UUID, version: int, state: bytes) -> bytes:
    head = f"chanjiao-event-v1\n{topic}\n{aggregate}\n{version}\n".encode()
    return hashlib.sha256(prev + head + state).digest()


class AuditProblem(msgspec.Struct, frozen=True):
    """Something verification found wrong with the log: an event altered, deleted,
    inserted or reordered, or a checkpoint that does not hold."""

    kind: str  # altered, deleted, inserted, reordered, checkpoint
    aggregate: UUID | None
    version: int | None
    position: int | None
    detail: str


def named(problems: Sequence[AuditProblem], most: int = 3) -> str:
    """The first ``most`` problems in a sentence, each event by aggregate, version and
    position."""
    parts = []
    for p in problems[:most]:
        where = ", ".join(
            f"{label} {value}"
            for label, value in (
                ("aggregate", p.aggregate),
                ("version", p.version),
                ("position", p.position),
            )
            if value is not None
        )
        parts.append(f"{p.kind} ({where}): {p.detail}" if where else f"{p.kind}: {p.detail}")
    more = len(problems) - most
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")
