"""The mapper's upcasting path: an event stored at an older class version is read
back as the current version, the library's convention (ADR 0002, 0003)."""

from __future__ import annotations

from uuid import uuid4

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import StoredEvent

from adapters.codec import MsgspecMapper
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


def test_an_event_stored_at_version_1_is_upcast_and_decoded_typed():
    mapper = MsgspecMapper(transcoder=None)  # type: ignore[arg-type]
    stored_v1 = StoredEvent(
        originator_id=uuid4(),
        originator_version=2,
        topic="test.sample.noted.v2",
        state=b'{"timestamp":"2025-07-15T02:00:00Z","principal":"p","text":"two words"}',
    )
    event = mapper.to_domain_event(stored_v1)
    assert isinstance(event, Sample.Noted) and (event.text, event.words) == ("two words", 2)
    again = mapper.to_stored_event(event)
    assert b'"class_version":2' in again.state
    assert mapper.to_domain_event(again) == event
