"""The mapper's upcasting path: an event stored at an older class version is read
back as the current version, the library's convention (ADR 0002, 0003); and the
recorder's notifications, built without the dataclass's ``__init__``."""

from __future__ import annotations

import dataclasses
from uuid import uuid4

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import MapperDeserialisationError, Notification, StoredEvent

from adapters.codec import MsgspecMapper
from adapters.recorders import notification
from domain.events import LedgerCreated, LedgerEvent


class Sample(Aggregate):
    TOPIC = "test.sample"

    class Event(LedgerEvent):
        pass

    class Created(Event, LedgerCreated):
        TOPIC = "test.sample.created"

    class Noted(Event):
        TOPIC = "test.sample.noted.v2"
        class_version = 2
        text: str
        words: int  # added in version 2

        @staticmethod
        def upcast_v1_v2(state: dict) -> None:
            state["words"] = len(state["text"].split())

    class Tagged(Event):
        TOPIC = "test.sample.tagged"
        text: str
        tags: tuple[str, ...] = ()  # added later, with a default
        seen: list[str] = dataclasses.field(default_factory=list)


mapper = MsgspecMapper(transcoder=None)  # type: ignore[arg-type]


def stored(topic: str, fields: str) -> StoredEvent:
    """Version 2 of a new aggregate, stored as earlier code wrote it: ``fields`` are
    the JSON state's after its time and principal."""
    state = f'{{"timestamp":"2025-07-15T02:00:00Z","principal":"p"{fields}}}'
    return StoredEvent(
        originator_id=uuid4(), originator_version=2, topic=topic, state=state.encode()
    )


def test_an_event_stored_at_version_1_is_upcast_and_decoded_typed():
    stored_v1 = stored("test.sample.noted.v2", ',"text":"two words"')
    event = mapper.to_domain_event(stored_v1)
    assert isinstance(event, Sample.Noted) and (event.text, event.words) == ("two words", 2)
    again = mapper.to_stored_event(event)
    assert b'"class_version":2' in again.state
    assert mapper.to_domain_event(again) == event


def test_a_notification_read_as_a_row_is_the_librarys_own() -> None:
    """``adapters.recorders.notification`` builds the library's frozen dataclass without
    its ``__init__``: equal to one built the usual way, frozen, and usable as one."""
    aggregate = uuid4()
    built = notification(7, aggregate, 3, "domain.unit:MemberUnit.Registered", b"{}")
    usual = Notification(
        id=7,
        originator_id=aggregate,
        originator_version=3,
        topic="domain.unit:MemberUnit.Registered",
        state=b"{}",
    )
    assert built == usual and repr(built) == repr(usual) and hash(built) == hash(usual)
    with pytest.raises(dataclasses.FrozenInstanceError):
        built.id = 8  # type: ignore[misc]
    assert dataclasses.replace(built, id=8).id == 8


def test_a_field_added_with_a_default_is_filled_in_for_events_stored_without_it():
    old = stored("test.sample.tagged", ',"text":"t"')
    event = mapper.to_domain_event(old)
    assert isinstance(event, Sample.Tagged)
    assert vars(event) == {
        "timestamp": event.timestamp,
        "principal": "p",
        "text": "t",
        "tags": (),
        "seen": [],
        "originator_id": old.originator_id,
        "originator_version": 2,
    }
    # A list from a default factory is the event's own, not shared between events.
    assert mapper.to_domain_event(old).seen is not event.seen
    full = mapper.to_domain_event(mapper.to_stored_event(event))
    assert full == event and full.tags == ()


def test_an_event_stored_without_a_field_that_has_no_default_is_refused():
    old = stored("test.sample.tagged", "")
    with pytest.raises(MapperDeserialisationError, match="text"):
        mapper.to_domain_event(old)
