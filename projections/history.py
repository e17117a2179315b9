"""One aggregate's history: every event in order, with the business date it takes
effect on and the hash on record (ADR 0014) — what ``chanjiao history`` prints and
``GET /units|communities|agreements/{id}/history`` answers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

import msgspec
from eventsourcing.application import AggregateNotFoundError
from msgspec import Meta

from application.commands import as_uuid, label
from application.ledger import Ledger
from domain.agreement import BenefitAgreement
from domain.community import Community
from domain.council import Council
from domain.errors import AmbiguousName, InvalidInput, NotFound
from domain.unit import MemberUnit

DATE_FIELDS = (
    "effective_on",
    "founded_on",
    "drafted_on",
    "held_on",
    "contributed_on",
    "incurred_on",
    "realized_on",
)
"""The fields that say when an event takes effect; an event has at most one."""

_NOT_DATA = frozenset(
    {"originator_id", "originator_version", "timestamp", "principal", "originator_topic"}
)

KINDS = ("unit", "community", "council", "agreement")


class HistoryEntry(msgspec.Struct, frozen=True):
    version: int
    type: str
    effective_on: Annotated[
        date | None,
        Meta(
            description="when the event takes effect (its effective, founding, drafting, meeting, "
            "contribution, cost or benefit date; a resolution's: its meeting's); null if none"
        ),
    ]
    recorded_at: datetime
    principal: str
    hash: Annotated[
        str | None,
        Meta(
            description="the hash on record for this version (hex SHA-256, ADR 0014); null where "
            "the store keeps none (memory://)"
        ),
    ]
    data: dict


class AggregateHistory(msgspec.Struct, frozen=True):
    id: UUID
    kind: str
    name: str
    events: list[HistoryEntry]


def effective_date(event: Any) -> date | None:
    """The business date ``event`` takes effect on: its effective, founding,
    drafting, meeting, contribution, cost or benefit date; None for one that has
    none (a registration, a council's establishment, a reversal). A resolution
    takes its meeting's date, which only the council knows: see ``entries``."""
    for name in DATE_FIELDS:
        value = getattr(event, name, None)
        if isinstance(value, date):
            return value
    return None


def entries(ledger: Ledger, aggregate_id: UUID) -> list[HistoryEntry]:
    """Every event of one aggregate, in version order."""
    events = list(ledger.events.get(aggregate_id))
    hashes = ledger.event_hashes(aggregate_id)  # read after: every event listed has one
    meetings: dict[int, date] = {}
    found = []
    for e in events:
        day = effective_date(e)
        if isinstance(e, Council.MeetingHeld):
            meetings[e.meeting] = e.held_on
        elif isinstance(e, Council.ResolutionRecorded):
            day = meetings.get(e.meeting)
        found.append(
            HistoryEntry(
                version=e.originator_version,
                type=type(e).TOPIC,
                effective_on=day,
                recorded_at=e.timestamp,
                principal=e.principal,
                hash=hashes.get(e.originator_version),
                data={k: v for k, v in vars(e).items() if k not in _NOT_DATA},
            )
        )
    return found


def find(ledger: Ledger, ref: str | UUID) -> Any:
    """Any aggregate — member unit, community, council or agreement — by its id, or
    a unit by its 18-character credit code."""
    if not isinstance(ref, UUID) and len(str(ref).strip()) == 18:
        return ledger.unit(ref)
    try:
        aggregate_id = as_uuid(ref, "id")
    except InvalidInput:
        return _named(ledger, str(ref))
    try:
        return ledger.repository.get(aggregate_id)
    except AggregateNotFoundError:
        raise NotFound(
            f"nothing is recorded under {aggregate_id}: it is not the id of a member unit, "
            "community, council or agreement"
        ) from None


def _named(ledger: Ledger, text: str) -> Any:
    """A unit, body or agreement by its name (ADR 0027): the one kind that has it."""
    found = []
    for lookup in (ledger.community, ledger.agreement, ledger.unit):
        try:
            found.append(lookup(text))
        except NotFound:
            continue
    if len(found) == 1:
        return found[0]
    if found:
        kinds = ", ".join(
            f"{kind} {name}"
            for kind, name in (describe(a, lambda b: ledger.community(b).name) for a in found)
        )
        raise AmbiguousName(f"{text!r} names more than one record: {kinds}; give an id")
    raise NotFound(
        f"nothing is named {text!r}: no member unit, community or agreement has it in its "
        "name; give a name, an id (a UUID such as 8c0e…; a council's too) or a unit's "
        "18-character credit code"
    )


def describe(aggregate: Any, community_name: Callable[[UUID], str]) -> tuple[str, str]:
    """(kind, name) of an aggregate, in the users' words; a council is named after
    its body."""
    match aggregate:
        case MemberUnit():
            return "unit", label(aggregate)
        case Community():
            return "community", aggregate.name
        case Council():
            return "council", f"council of {community_name(aggregate.community_id)}"
        case BenefitAgreement():
            return "agreement", aggregate.title
    return type(aggregate).__name__, str(aggregate.id)


def history(ledger: Ledger, ref: str | UUID) -> AggregateHistory:
    aggregate = find(ledger, ref)
    kind, name = describe(aggregate, lambda body: ledger.community(body).name)
    return AggregateHistory(aggregate.id, kind, name, entries(ledger, aggregate.id))
