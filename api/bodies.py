"""Request bodies and query strings, as msgspec Structs: the endpoints decode with
them, and ``/openapi.json`` is generated from them. Values are checked by the ledger
(its messages are in the secretaries' terms); these only fix the shapes."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from projections import history


class Body(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    pass


UnitRef = Annotated[str, Meta(description="a unit's id, or its 18-character credit code")]
Money = Annotated[
    str, Meta(description="yuan as a decimal string, at most two places", examples=["1234.50"])
]
Resolution = Annotated[str, Meta(description="register number", examples=["2025-007"])]


class Party(Body):
    unit_id: UnitRef
    cost_share_bp: Annotated[int, Meta(ge=0, le=10000)]
    benefit_share_bp: Annotated[int, Meta(ge=0, le=10000)]


class NewAgreement(Body):
    title: str
    parties: list[Party]
    kind: Annotated[
        str, Meta(description="training_base, industry_college, technology_centre or other")
    ] = "other"
    drafted_on: date | None = None


class Approval(Body):
    resolution: Resolution
    effective_on: date | None = None


class Amendment(Body):
    parties: list[Party]
    resolution: Resolution
    effective_on: date | None = None


class Termination(Body):
    effective_on: date
    resolution: Resolution


class Contribution(Body):
    unit_id: UnitRef
    kind: Annotated[str, Meta(description="funds, equipment, site, personnel or technology")]
    amount: Money
    contributed_on: date
    description: str


class Cost(Body):
    amount: Money
    incurred_on: date
    description: str


class Benefit(Body):
    amount: Money
    realized_on: date
    description: str


class Reversal(Body):
    reason: str


# --- query strings ---------------------------------------------------------------


class AsOf(Body):
    as_of: Annotated[date | None, Meta(description="default: today in China")] = None


# Text, read by the ledger's own parser: a bare date is the end of that day in China,
# and a wrong value is refused in the same words as ``--known-at``.
KnownAt = Annotated[
    str | None,
    Meta(
        description="only what was recorded by then: an RFC 3339 timestamp, or a date YYYY-MM-DD "
        "meaning the end of that day in China; default: now",
        examples=["2025-07-15T09:30:00+08:00", "2025-07-15"],
    ),
]


class AsKnownAt(Body):
    as_of: Annotated[date | None, Meta(description="default: today in China")] = None
    known_at: KnownAt = None


class KnownAtQuery(Body):
    known_at: KnownAt = None


class UnitQuery(Body):
    code: str


class ProvincesQuery(Body):
    community_id: Annotated[UUID | None, Meta(description="default: every body")] = None
    as_of: date | None = None
    known_at: KnownAt = None


class AgreementsQuery(Body):
    community_id: UUID | None = None


MAX_POSITION = 2**63 - 2
"""The largest ``after``: the next position must still fit the stores' 64-bit integers."""


class EventsQuery(Body):
    after: Annotated[int, Meta(ge=0, le=MAX_POSITION)] = 0
    limit: Annotated[int, Meta(ge=1, le=1000)] = 100
    community_id: UUID | None = None
    type: Annotated[
        str | None, Meta(description="an event type, e.g. chanjiao.community.member_admitted.v1")
    ] = None


class StreamQuery(Body):
    after: Annotated[
        Annotated[int, Meta(ge=0, le=MAX_POSITION)] | None,
        Meta(description="default: Last-Event-ID, else 0"),
    ] = None
    community_id: UUID | None = None
    type: str | None = None


# --- answers not already defined by the read side ---------------------------------


class MeetingAnswer(msgspec.Struct, frozen=True):
    meeting_id: int
    community_id: UUID
    held_on: date
    present: int


HistoryEntry = history.HistoryEntry  # the same entries as `chanjiao history`, hash included


class History(msgspec.Struct, frozen=True):
    id: UUID
    events: list[HistoryEntry]


class InclusionQuery(Body):
    position: Annotated[int, Meta(ge=1, le=MAX_POSITION, description="the event's log position")]
    size: Annotated[
        Annotated[int, Meta(ge=1, le=MAX_POSITION)] | None,
        Meta(description="the checkpoint of this many events; default: the latest"),
    ] = None


class ConsistencyQuery(Body):
    first: Annotated[
        int, Meta(ge=1, le=MAX_POSITION, description="the size of the checkpoint you kept")
    ]
    second: Annotated[
        Annotated[int, Meta(ge=1, le=MAX_POSITION)] | None,
        Meta(description="the later checkpoint's size; default: the latest"),
    ] = None


class ExportQuery(Body):
    community_id: Annotated[
        UUID | None, Meta(description="one body's part of the log; default: the whole log")
    ] = None
