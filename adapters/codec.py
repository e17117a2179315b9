"""The msgspec mapper: events ⇄ stored rows, typed both ways.

The library's default ``Mapper`` JSON-encodes ``vars(event)`` through a chain of
transcodings and rebuilds events without type coercion. This one encodes with
``msgspec.json`` and decodes typed, straight from the stored bytes into a Struct
shaped like the event class, so a date comes back a ``date`` and an enum an enum.
It is selected with the library's ``MAPPER_TOPIC`` setting (ADR 0003).

The stored topic is the event class's explicit ``TOPIC``; ``originator_id`` and
``originator_version`` live in their own columns and are not repeated in the JSON.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from datetime import date, datetime
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import Mapper, MapperDeserialisationError, StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

# freezegun (used by the tests to pin recorded times) swaps module attributes that
# are the real datetime classes for its fakes while time is frozen; values inside a
# dict are left alone, so these stay the real classes.
_REAL_TYPES: dict[str, type] = {"datetime": datetime, "date": date}
_ID_FIELDS = ("originator_id", "originator_version")


def _enc_hook(obj: Any) -> Any:
    # freezegun's FakeDatetime and FakeDate (subclasses) are refused by msgspec: write
    # them as msgspec writes the real ones (RFC 3339, "Z" for UTC).
    if isinstance(obj, datetime):
        text = obj.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(obj, date):
        return obj.isoformat()
    raise NotImplementedError(f"cannot encode {type(obj).__name__} in an event")


_encoder = msgspec.json.Encoder(enc_hook=_enc_hook)
_untyped = msgspec.json.Decoder()


def to_json(value: Any) -> bytes:
    """JSON for events and answers alike (dates as ISO text, datetimes RFC 3339)."""
    return _encoder.encode(value)


@functools.cache
def _decoder(topic: str) -> tuple[type, msgspec.json.Decoder[Any], type[msgspec.Struct]]:
    """The event class of ``topic`` and a typed decoder for its stored state (its
    fields minus id and version), built once per topic."""
    cls = resolve_topic(topic)
    hints = typing.get_type_hints(cls, localns=_REAL_TYPES)
    names = [f.name for f in dataclasses.fields(cls) if f.name not in _ID_FIELDS]
    shape = msgspec.defstruct(f"{cls.__name__}State", [(n, hints[n]) for n in names])
    return cls, msgspec.json.Decoder(shape), shape


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
        data = stored_event.state
        try:
            cls, decoder, shape = _decoder(stored_event.topic)
            if self.cipher:
                data = self.cipher.decrypt(data)
            if self.compressor:
                data = self.compressor.decompress(data)
            class_version = getattr(cls, "class_version", 1)
            if class_version == 1:
                decoded = decoder.decode(data)
            else:
                # Older versions are upcast as plain dicts, as the library does.
                state = _untyped.decode(data)
                for version in range(state.pop("class_version", 1), class_version):
                    getattr(cls, f"upcast_v{version}_v{version + 1}")(state)
                decoded = msgspec.convert(state, shape)
        except (msgspec.MsgspecError, ValueError, TypeError) as e:
            msg = (
                f"cannot decode stored event {stored_event.topic} of "
                f"{stored_event.originator_id} version {stored_event.originator_version}: {e}"
            )
            raise MapperDeserialisationError(msg) from e
        fields = msgspec.structs.asdict(decoded)
        originator_id = stored_event.originator_id
        fields["originator_id"] = (
            originator_id if isinstance(originator_id, UUID) else UUID(originator_id)
        )
        fields["originator_version"] = stored_event.originator_version
        # Like the library's own Mapper: the event is rebuilt, not re-validated.
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", fields)
        return event


def state_type(topic: str) -> type[msgspec.Struct]:
    """The shape of an event type's stored fields (what the event stream publishes
    as its ``data``, and describes with ``msgspec.json.schema``)."""
    return _decoder(topic)[2]
