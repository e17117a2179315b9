"""Query strings and the answers the read side does not define, as msgspec Structs:
the endpoints decode and encode with them, and ``/openapi.json`` is generated from them.
The write commands' bodies are the command Structs (``application.messages``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

import msgspec
from msgspec import Meta

from projections import history


class Body(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    pass


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


class FilingsQuery(Body):
    year: Annotated[
        Annotated[int, Meta(ge=2000, le=2100)] | None, Meta(description="default: every year")
    ] = None
    known_at: KnownAt = None


class ObligationsQuery(Body):
    year: Annotated[
        Annotated[int, Meta(ge=2000, le=2100)] | None,
        Meta(description="default: the as-of date's year"),
    ] = None
    as_of: Annotated[date | None, Meta(description="default: today in China")] = None
    known_at: KnownAt = None


class IndicatorsQuery(Body):
    year: Annotated[int, Meta(ge=2000, le=2100)]
    known_at: KnownAt = None


class YearQuery(Body):
    year: Annotated[int, Meta(ge=2000, le=2100)]
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
        Meta(
            description="where to start when no Last-Event-ID is sent "
            "(the header wins: a reconnecting EventSource sends it); default 0"
        ),
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
