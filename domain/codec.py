"""The msgspec mapper: events ⇄ stored rows, typed both ways.

The library's default ``Mapper`` JSON-encodes ``vars(event)`` through a chain of
transcodings and rebuilds events without type coercion. This one encodes with
``msgspec.json`` and decodes typed (``msgspec.convert`` into the event class), so
a date comes back a ``date`` and an enum an enum. It is selected with the
library's ``MAPPER_TOPIC`` setting (ADR 0003).

The stored topic is the event class's explicit ``TOPIC``; the ``originator_id`` and
``originator_version`` live in their own columns and are not repeated in the JSON.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, MapperDeserialisationError, StoredEvent
from eventsourcing.utils import get_topic, resolve_topic


def _enc_hook(obj: Any) -> Any:
    # freezegun's FakeDatetime (and any other datetime subclass) is refused by
    # msgspec; a real datetime with the same value is what is meant.
    if isinstance(obj, datetime):
        return datetime(
            obj.year, obj.month, obj.day, obj.hour, obj.minute, obj.second,
            obj.microsecond, obj.tzinfo, fold=obj.fold,
        )  # fmt: skip
    raise NotImplementedError(f"cannot encode {type(obj).__name__} in an event")


_encoder = msgspec.json.Encoder(enc_hook=_enc_hook)
_decoder = msgspec.json.Decoder()


class MsgspecMapper(Mapper[UUID]):
    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        state = dict(vars(domain_event))
        originator_id = state.pop("originator_id")
        originator_version = state.pop("originator_version")
        class_version = getattr(type(domain_event), "class_version", 1)
        if class_version > 1:
            state["class_version"] = class_version
        data = _encoder.encode(state)
        if self.compressor:
            data = self.compressor.compress(data)
        if self.cipher:
            data = self.cipher.encrypt(data)
        return StoredEvent(
            originator_id=originator_id,
            originator_version=originator_version,
            topic=get_topic(type(domain_event)),
            state=data,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        cls = resolve_topic(stored_event.topic)
        data = stored_event.state
        try:
            if self.cipher:
                data = self.cipher.decrypt(data)
            if self.compressor:
                data = self.compressor.decompress(data)
            state: dict[str, Any] = _decoder.decode(data)
            from_version = state.pop("class_version", 1)
            for version in range(from_version, getattr(cls, "class_version", 1)):
                getattr(cls, f"upcast_v{version}_v{version + 1}")(state)
            originator_id = stored_event.originator_id
            state["originator_id"] = (
                originator_id if isinstance(originator_id, UUID) else UUID(originator_id)
            )
            state["originator_version"] = stored_event.originator_version
            return msgspec.convert(state, cls)
        except (msgspec.MsgspecError, ValueError, TypeError) as e:
            msg = (
                f"cannot decode stored event {stored_event.topic} of "
                f"{stored_event.originator_id} version {stored_event.originator_version}: {e}"
            )
            raise MapperDeserialisationError(msg) from e
