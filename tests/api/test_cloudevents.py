"""GET /events, /events/stream and /events/schemas as an integrator sees them
(api.md, The event stream): every event is a CloudEvent 1.0 that the CloudEvents
SDK reads, whose ``data`` its own ``dataschema`` validates."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import jsonschema_rs
import pytest
from cloudevents.core.bindings.http import HTTPMessage, from_structured
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from adapters.settings import DEFAULT_EVENT_SOURCE
from api.events import event_types
from bootstrap import Ledger
from tests.api.streaming_support import (
    ADMITTED,
    Journal,
    LiveServer,
    Subscription,
    check_exactly_once,
    serving,
)

BATCH = "application/cloudevents-batch+json"


@dataclass(frozen=True)
class Seeded:
    journal: Journal
    community: str  # the one whose whole life was recorded
    other: str  # another community, with a member
    began: datetime
    ended: datetime

    def community_of(self, position: int) -> str | None:
        """Which community the event at ``position`` concerns, by how it was written."""
        entry = self.journal.entries[position]
        if entry.type.startswith("chanjiao.unit."):
            return None
        return self.community if entry.principal.startswith("life-") else self.other


@pytest.fixture
def seeded(ledger: Ledger) -> Seeded:
    """A community's whole life (every event type) and a second, unrelated one."""
    journal = Journal()
    began = datetime.now(UTC)
    community = journal.lifecycle(ledger, "life")
    other = journal.community(ledger, "other-founder", "另一联合体")
    journal.admit(ledger, other, journal.unit(ledger, "other-unit"), "other-admit")
    return Seeded(journal, community, other, began, datetime.now(UTC))


@pytest.fixture
def server(ledger: Ledger) -> Iterator[LiveServer]:
    with serving(ledger, heartbeat=0.5) as server:
        yield server


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    token = server.token("integrator")
    with httpx.Client(
        base_url=server.url, timeout=10.0, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        yield client


def read_batch(http: httpx.Client, **params: Any) -> list[dict[str, Any]]:
    response = http.get("/events", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].split(";")[0] == BATCH
    batch = response.json()
    assert isinstance(batch, list)
    return batch


def sdk_event(element: dict[str, Any] | str | bytes) -> CloudEvent:
    """Read one structured-mode CloudEvent with the CloudEvents SDK (which checks the
    required attributes, the extension names and that ``time`` has an offset)."""
    body = element if isinstance(element, (str, bytes)) else json.dumps(element)
    body = body.encode() if isinstance(body, str) else body
    message = HTTPMessage(headers={"content-type": "application/cloudevents+json"}, body=body)
    event = from_structured(message, JSONFormat(), CloudEvent)
    assert isinstance(event, CloudEvent)
    return event


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


# --- the batch --------------------------------------------------------------------------


def test_every_batch_element_is_a_cloudevent_1_0_that_the_sdk_reads(
    seeded: Seeded, http: httpx.Client
) -> None:
    journal = seeded.journal
    batch = read_batch(http, limit=1000)
    assert [e["position"] for e in batch] == journal.positions()
    assert {e["type"] for e in batch} == set(event_types())  # every type is exercised
    for element in batch:
        event = sdk_event(element)
        entry = journal.entries[element["position"]]
        assert event.get_specversion() == "1.0"
        assert event.get_id() == str(entry.position)
        assert event.get_extension("position") == entry.position
        assert event.get_type() == entry.type
        assert re.fullmatch(r"chanjiao\.[a-z_]+\.[a-z_]+\.v[0-9]+", event.get_type())
        assert event.get_subject() == entry.subject
        assert event.get_source() == DEFAULT_EVENT_SOURCE
        assert event.get_datacontenttype() == "application/json"
        assert event.get_dataschema() == f"http://127.0.0.1:8000/events/schemas/{entry.type}"
        time = event.get_time()
        assert time is not None and time.utcoffset() is not None
        assert seeded.began - timedelta(seconds=1) <= time <= seeded.ended + timedelta(seconds=1)
        data = event.get_data()
        assert isinstance(data, dict)
        assert data["principal"] == entry.principal
        # The CloudEvent's time is the recorded time the event itself carries.
        assert datetime.fromisoformat(data["timestamp"]) == time
        # The community an event concerns: its own, its council's or its agreement's.
        assert event.get_extension("communityid") == seeded.community_of(entry.position)
    # (source, id) identifies an event: no two share it.
    assert len({(e["source"], e["id"]) for e in batch}) == len(batch)


def test_the_community_extension_names_the_community_of_councils_and_agreements(
    seeded: Seeded, http: httpx.Client
) -> None:
    batch = read_batch(http, limit=1000)
    by_kind: dict[str, set[str | None]] = {}
    for element in batch:
        if seeded.journal.entries[element["position"]].principal.startswith("life-"):
            by_kind.setdefault(element["type"].split(".")[1], set()).add(element.get("communityid"))
    assert by_kind == {
        "unit": {None},
        "community": {seeded.community},
        "council": {seeded.community},
        "agreement": {seeded.community},
    }


def test_after_and_limit_page_through_the_whole_log(ledger: Ledger, http: httpx.Client) -> None:
    journal = Journal()
    journal.lifecycle(ledger, "a")
    journal.lifecycle(ledger, "b")
    journal.lifecycle(ledger, "c")
    assert len(journal.entries) > 100
    positions = journal.positions()

    assert [e["position"] for e in read_batch(http)] == positions[:100]  # default limit 100
    assert [e["position"] for e in read_batch(http, limit=1000)] == positions
    walked: list[int] = []
    after = 0
    while page := read_batch(http, after=after, limit=7):
        assert len(page) <= 7
        walked += [e["position"] for e in page]
        after = page[-1]["position"]
    assert walked == positions
    assert read_batch(http, after=positions[-1]) == []
    assert [e["position"] for e in read_batch(http, after=positions[9], limit=3)] == positions[
        10:13
    ]
    assert read_batch(http, after=positions[-1] + 1000) == []
    assert read_batch(http, after=2**63 - 2) == []  # the largest position there can be


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 1001},
        {"limit": 0},
        {"limit": "ten"},
        {"after": -1},
        {"after": "x"},
        {"after": 2**63 - 1},
        {"after": 10**30},
        {"type": "chanjiao.unit.exploded.v1"},
        {"type": ""},
        {"community_id": "not-a-uuid"},
    ],
    ids=[
        "limit-1001",
        "limit-0",
        "limit-word",
        "after-negative",
        "after-word",
        "after-past-int64",
        "after-huge",
        "unknown-type",
        "empty-type",
        "community-not-uuid",
    ],
)
def test_bad_paging_and_filters_are_422_problems(
    store_url_sqlite: str, params: dict[str, Any]
) -> None:
    ledger = Ledger(store_url_sqlite)
    try:
        with serving(ledger) as server:
            headers = {"Authorization": f"Bearer {server.token()}"}
            response = httpx.get(f"{server.url}/events", params=params, headers=headers)
            problem(response, 422)
            if params.get("type"):
                assert "GET /events/schemas" in response.json()["detail"]
    finally:
        ledger.close()


@pytest.fixture
def store_url_sqlite(tmp_path: Any) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


def test_the_batch_filters_by_type_and_by_community(seeded: Seeded, http: httpx.Client) -> None:
    journal, community = seeded.journal, seeded.community
    admitted = [p for p, e in journal.entries.items() if e.type == ADMITTED]
    assert [e["position"] for e in read_batch(http, type=ADMITTED, limit=1000)] == admitted
    assert [e["position"] for e in read_batch(http, type=ADMITTED, limit=2)] == admitted[:2]
    ours = list(read_batch(http, community_id=community, limit=1000))
    assert ours and {e["communityid"] for e in ours} == {community}
    everything = read_batch(http, limit=1000)
    assert [e["position"] for e in ours] == [
        e["position"] for e in everything if e.get("communityid") == community
    ]
    # Both filters at once; and a community nobody founded has no events.
    both = read_batch(http, community_id=community, type=ADMITTED, limit=1000)
    assert [e["position"] for e in both] == [e["position"] for e in ours if e["type"] == ADMITTED]
    assert read_batch(http, community_id="00000000-0000-4000-8000-000000000000") == []


def test_the_batch_needs_a_token_with_the_right_to_read_events(
    ledger: Ledger, server: LiveServer
) -> None:
    assert problem(httpx.get(f"{server.url}/events"), 401)
    assert problem(
        httpx.get(f"{server.url}/events", headers={"Authorization": "Bearer cj_0000_x"}), 401
    )
    for role in ("integrator", "admin", "auditor"):
        headers = {"Authorization": f"Bearer {server.token(role)}"}
        assert httpx.get(f"{server.url}/events", headers=headers).status_code == 200


# --- the stream carries the same CloudEvents --------------------------------------------


def test_the_streams_data_lines_are_the_same_cloudevents(
    seeded: Seeded, server: LiveServer, http: httpx.Client
) -> None:
    journal = seeded.journal
    batch = {e["position"]: e for e in read_batch(http, limit=1000)}
    with Subscription(server, server.token()) as sub:
        sub.to_position(journal.positions()[-1])
    check_exactly_once(journal, sub.messages)
    for message in sub.messages:
        event = sdk_event(message.data)
        assert message.id == event.get_id()
        assert message.event == event.get_type()
        assert json.loads(message.data) == batch[int(message.id)]


# --- schemas ----------------------------------------------------------------------------


def test_every_events_data_is_valid_by_the_schema_its_dataschema_names(
    seeded: Seeded, http: httpx.Client
) -> None:
    batch = read_batch(http, limit=1000)
    listed = http.get("/events/schemas")
    assert listed.status_code == 200
    assert sorted(listed.json()["types"]) == event_types()
    validators: dict[str, Any] = {}
    for element in batch:
        event = sdk_event(element)
        # The schema's path on this test's server (its public address is the default).
        location = urljoin(str(http.base_url), urlsplit(event.get_dataschema()).path)
        assert urlsplit(location).netloc == urlsplit(str(http.base_url)).netloc
        if location not in validators:
            response = http.get(location)
            assert response.status_code == 200, response.text
            schema = response.json()
            jsonschema_rs.meta.validate(schema)  # a valid JSON Schema itself
            validators[location] = (
                schema,
                jsonschema_rs.validator_for(schema, validate_formats=True),
            )
        schema, validator = validators[location]
        data = event.get_data()
        errors = [e.message for e in validator.iter_errors(data)]
        assert not errors, (element["type"], errors, data)
        # Every field of the data is described (nothing undocumented rides along).
        target = schema["$defs"][schema["$ref"].rsplit("/", 1)[-1]]
        assert set(data) <= set(target["properties"]), (element["type"], set(data))
        assert set(target.get("required", [])) <= set(data)
    assert len(validators) == len(event_types())


def test_an_unknown_schema_is_404(http: httpx.Client) -> None:
    problem(http.get("/events/schemas/chanjiao.unit.exploded.v1"), 404)


def test_dataschema_is_an_absolute_uri(seeded: Seeded, http: httpx.Client) -> None:
    for element in read_batch(http, limit=10):
        assert urlsplit(element["dataschema"]).scheme, element["dataschema"]
