"""The ledger's events as CloudEvents 1.0 (api.md, The event stream).

``id`` and the ``position`` extension are the event's position in the ledger's
notification log: strictly increasing in commit order (the library serialises
inserts on PostgreSQL; SQLite has one writer), so "after p" never misses a later
event. ``communityid`` (an extension) names the community an event concerns —
its own, its council's or its agreements' — and is absent for units' events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.persistence import Notification

from adapters.codec import state_type, to_json
from adapters.settings import DEFAULT_EVENT_SOURCE
from bootstrap import Ledger
from domain.errors import InvalidInput
from domain.events import LedgerEvent

SCHEMAS = "/events/schemas"
PUBLIC_URL = "http://127.0.0.1:8000"
"""Where the server is reached, unless told (``CHANJIAO_PUBLIC_URL``): ``dataschema``
must be an absolute URI (CloudEvents 1.0)."""


class CloudEvent(msgspec.Struct, frozen=True, omit_defaults=True):
    specversion: str
    id: str
    source: str
    type: str
    subject: str
    time: datetime
    datacontenttype: str
    dataschema: str
    data: msgspec.Raw
    position: int
    communityid: str | None = None


def event_types() -> list[str]:
    """Every event type the ledger records, by its stable name."""
    found: set[str] = set()
    pending: list[type] = [LedgerEvent]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        topic = getattr(cls, "TOPIC", "")
        # The ledger's own (not classes that other code derives), and not the created
        # bases, which are never recorded.
        if topic.startswith("chanjiao.") and topic.rsplit(".", 1)[-1].startswith("v"):
            found.add(topic)
    return sorted(found)


def schemas(ref_template: str = "#/$defs/{name}") -> dict[str, Any]:
    """JSON Schema of every event type's ``data``, generated from the events."""
    types = event_types()
    shapes = [state_type(t) for t in types]
    refs, components = msgspec.json.schema_components(shapes, ref_template=ref_template)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "types": dict(zip(types, refs, strict=True)),
        "$defs": components,
    }


def check_type(type_: str | None) -> None:
    if type_ is not None and type_ not in event_types():
        raise InvalidInput(
            f"unknown event type {type_!r}; GET /events/schemas lists them "
            "(e.g. chanjiao.community.member_admitted.v1)"
        )


@dataclass(frozen=True)
class Item:
    """One encoded event, ready for any subscriber."""

    position: int
    type: str
    community: UUID | None
    json: bytes


class Encoder:
    """Turns notifications into CloudEvents, remembering which community each
    council and agreement belongs to. ``source``: the events' CloudEvents ``source``
    (``CHANJIAO_EVENT_SOURCE``)."""

    def __init__(
        self, ledger: Ledger, public_url: str | None = None, source: str = DEFAULT_EVENT_SOURCE
    ) -> None:
        self.ledger = ledger
        self.source = source
        self.owners: dict[UUID, UUID | None] = {}
        self.schemas = (public_url or PUBLIC_URL).rstrip("/") + SCHEMAS

    def community_of(self, topic: str, originator: UUID, fields: dict[str, Any]) -> UUID | None:
        if topic.startswith("chanjiao.community."):
            return originator
        if topic.startswith("chanjiao.unit."):
            return None
        if "community_id" in fields:
            self.owners[originator] = fields["community_id"]
        if originator not in self.owners:
            first = next(iter(self.ledger.events.get(originator, lte=1)), None)
            self.owners[originator] = getattr(first, "community_id", None)
        return self.owners[originator]

    def items(self, notifications: Sequence[Notification]) -> list[Item]:
        found = []
        for n in notifications:
            event = self.ledger.mapper.to_domain_event(n)
            fields = {
                k: v
                for k, v in vars(event).items()
                if k not in ("originator_id", "originator_version")
            }
            community = self.community_of(n.topic, n.originator_id, fields)
            cloud = CloudEvent(
                specversion="1.0",
                id=str(n.id),
                source=self.source,
                type=n.topic,
                subject=str(n.originator_id),
                time=event.timestamp,
                datacontenttype="application/json",
                dataschema=f"{self.schemas}/{n.topic}",
                data=msgspec.Raw(to_json(fields)),
                position=n.id,
                communityid=str(community) if community else None,
            )
            found.append(Item(n.id, n.topic, community, to_json(cloud)))
        return found

    def page(
        self,
        after: int,
        limit: int,
        type_: str | None,
        community: UUID | None,
        scan: int = 50_000,
    ) -> tuple[list[Item], int]:
        """Up to ``limit`` events after ``after`` that pass the filters, and the
        position read up to (a filtered reader resumes from there). At most ``scan``
        positions are read per call."""
        found: list[Item] = []
        reached = after
        while len(found) < limit and reached - after < scan:
            batch = self.ledger.recorder.select_notifications(
                start=reached + 1,
                limit=1000 if community else limit - len(found),
                topics=[type_] if type_ else [],
            )
            if not batch:
                break
            for item in self.items(batch):
                if community is None or item.community == community:
                    found.append(item)
                reached = item.position
                if len(found) == limit:
                    break
        return found, reached
