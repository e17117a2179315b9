"""``chanjiao relay nats`` against real NATS JetStream servers (ADR 0030): every event
lands in the stream exactly once, in position order, as a CloudEvent the CloudEvents
SDK reads; across a SIGKILL mid-batch, a NATS restart and two relays started at once."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import jsonschema_rs
import pytest
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

from api.describe import asyncapi
from bootstrap import Ledger
from cli.main import main
from tests.api.streaming_support import Journal
from tests.relay.nats_support import (
    MACHINE_NATS,
    PrivateNats,
    RelayProcess,
    Stream,
    nats_problem,
    need,
)
from tests.waiting import wait_until


@pytest.fixture(scope="session")
def machine_nats() -> str:
    need(nats_problem(MACHINE_NATS))
    return MACHINE_NATS


@pytest.fixture
def stream(machine_nats: str) -> Iterator[Stream]:
    s = Stream(machine_nats)
    yield s
    s.delete()


@pytest.fixture
def private_nats(tmp_path: Path) -> Iterator[PrivateNats]:
    server = PrivateNats(tmp_path / "nats-store")
    need(None if Path(server.binary).exists() else f"{server.binary} is not installed")
    server.start()
    yield server
    server.stop()


def units(journal: Journal, ledger: Ledger, n: int, who: str) -> None:
    for _ in range(n):
        journal.unit(ledger, who)


def check_once_in_order(stream: Stream, journal: Journal) -> None:
    positions = stream.positions()
    assert len(positions) == len(set(positions)), "a position published twice"
    assert positions == journal.positions(), "not every event, or not in order"


def test_every_event_lands_once_in_order_as_a_cloudevent(
    database_url: str, ledger: Ledger, stream: Stream, tmp_path: Path
) -> None:
    journal = Journal()
    community = journal.lifecycle(ledger, "relay")  # every event type there is
    relay = RelayProcess(database_url, stream, log=tmp_path / "relay.log")
    try:
        wait_until(lambda: stream.last_seq() == len(journal.entries), what="the backlog")
        # Live: another process records; PostgreSQL's NOTIFY (or SQLite's poll) wakes it.
        other = Ledger(database_url)
        try:
            units(journal, other, 3, "live")
        finally:
            other.close()
        wait_until(lambda: stream.last_seq() == len(journal.entries), what="live events")
    finally:
        assert relay.stop() == 0, relay.text()
    check_once_in_order(stream, journal)
    contract = asyncapi()  # what the published document promises of each NATS message
    defs = json.loads(
        json.dumps(contract["components"]["schemas"]).replace("#/components/schemas/", "#/$defs/")
    )
    types = set()
    for m in stream.messages():
        channel = contract["channels"]["nats_" + m.subject.split(".", 1)[1].replace(".", "_")]
        (ref,) = channel["messages"].values()
        promised = contract["components"]["messages"][ref["$ref"].rsplit("/", 1)[1]]
        payload = json.loads(
            json.dumps(promised["payload"]).replace("#/components/schemas/", "#/$defs/")
        )
        jsonschema_rs.validate({**payload, "$defs": defs}, json.loads(m.data))
        jsonschema_rs.validate(promised["headers"], m.headers)
        event = JSONFormat().read(CloudEvent, m.data)
        entry = journal.entries[int(m.headers["Nats-Msg-Id"])]
        assert event.get_id() == str(entry.position)
        assert event.get_extension("position") == entry.position
        assert event.get_type() == entry.type
        assert event.get_subject() == entry.subject
        assert m.subject == stream.prefix + entry.type.removeprefix("chanjiao")
        assert m.headers["content-type"] == "application/cloudevents+json"
        assert m.headers.get("Chanjiao-Community") == event.get_extension("communityid")
        if not entry.type.startswith("chanjiao.unit."):
            assert event.get_extension("communityid") == community
        types.add(entry.type)
    assert len(types) > 20
    assert f"{len(journal.entries)} messages published" in relay.text()


def test_a_restarted_relay_publishes_nothing_twice(
    database_url: str, ledger: Ledger, stream: Stream, tmp_path: Path
) -> None:
    journal = Journal()
    units(journal, ledger, 5, "first")
    log = tmp_path / "relay.log"
    relay = RelayProcess(database_url, stream, log=log)
    wait_until(lambda: stream.last_seq() == 5)
    assert relay.stop() == 0
    units(journal, ledger, 4, "while stopped")
    relay = RelayProcess(database_url, stream, log=log)
    try:
        relay.wait_for(f"after position {journal.positions()[4]}")
        wait_until(lambda: stream.last_seq() == 9)
    finally:
        relay.stop()
    check_once_in_order(stream, journal)


def test_sigkill_mid_batch_loses_and_repeats_nothing(
    database_url: str, ledger: Ledger, stream: Stream, tmp_path: Path
) -> None:
    """Killed at several points while it publishes small batches, restarted each time:
    the stream holds every event once, in order."""
    journal = Journal()
    units(journal, ledger, 1200, "bulk")
    total = len(journal.entries)
    kills = 0
    for threshold in (150, 500, 900):
        relay = RelayProcess(database_url, stream, "--batch", "7", log=tmp_path / "relay.log")
        wait_until(lambda t=threshold: stream.last_seq() >= t, what=f"{threshold} messages")
        relay.kill()
        kills += 1
        assert stream.last_seq() < total, "killed after the end: not mid-run"
    relay = RelayProcess(database_url, stream, "--batch", "7", log=tmp_path / "relay.log")
    try:
        wait_until(lambda: stream.last_seq() >= total, what="the rest")
        time.sleep(0.5)  # anything more would be a duplicate
    finally:
        relay.stop()
    assert kills == 3
    check_once_in_order(stream, journal)


def test_two_relays_started_at_once_one_waits_then_takes_over(
    database_url: str, ledger: Ledger, stream: Stream, tmp_path: Path
) -> None:
    journal = Journal()
    units(journal, ledger, 20, "before")
    first = RelayProcess(database_url, stream, log=tmp_path / "first.log")
    second = RelayProcess(database_url, stream, log=tmp_path / "second.log")
    try:
        wait_until(lambda: stream.last_seq() == 20)
        wait_until(
            lambda: any("waiting for it to stop" in r.text() for r in (first, second)),
            what="one relay to wait",
        )
        waiting = [r for r in (first, second) if "waiting for it to stop" in r.text()]
        assert len(waiting) == 1
        (active,) = [r for r in (first, second) if r is not waiting[0]]
        active.kill()
        units(journal, ledger, 5, "after")
        waiting[0].wait_for("publishing to")
        wait_until(lambda: stream.last_seq() == 25, what="the second relay")
    finally:
        for r in (first, second):
            if r.process.poll() is None:
                r.stop()
    check_once_in_order(stream, journal)


def test_a_nats_restart_is_waited_out_and_logged_once(
    database_url: str, ledger: Ledger, private_nats: PrivateNats, tmp_path: Path
) -> None:
    stream = Stream(private_nats.url)
    journal = Journal()
    units(journal, ledger, 10, "before")
    relay = RelayProcess(database_url, stream, log=tmp_path / "relay.log")
    try:
        wait_until(lambda: stream.last_seq() == 10)
        private_nats.stop()
        units(journal, ledger, 10, "during")  # recorded while NATS is down
        relay.wait_for("cannot publish")
        time.sleep(4)  # several retries, with backoff
        assert relay.process.poll() is None, "the relay gave up"
        private_nats.start()
        relay.wait_for("publishes again")
        wait_until(lambda: stream.last_seq() == 20, what="the events recorded during the outage")
    finally:
        relay.stop()
    assert relay.text().count("cannot publish") == 1, relay.text()
    assert relay.text().count("publishes again") == 1
    check_once_in_order(stream, journal)


def test_filters_and_the_subject_prefix(
    database_url: str, ledger: Ledger, stream: Stream, tmp_path: Path
) -> None:
    journal = Journal()
    one = journal.community(ledger, "f", "苏州市域产教联合体")
    other = journal.community(ledger, "f", "无锡市域产教联合体")
    codes = [journal.unit(ledger, "f") for _ in range(3)]
    for code in codes:
        journal.admit(ledger, one, code, "f")
        journal.admit(ledger, other, code, "f")
    admitted = "chanjiao.community.member_admitted.v1"
    relay = RelayProcess(
        database_url,
        stream,
        "--community",
        "苏州市域产教联合体",
        "--type",
        admitted,
        log=tmp_path / "relay.log",
    )
    try:
        wait_until(lambda: stream.last_seq() == 3)
        time.sleep(0.5)
    finally:
        relay.stop()
    messages = stream.messages()
    wanted = [
        p for p, e in sorted(journal.entries.items()) if e.type == admitted and e.subject == one
    ]
    assert [int(m.headers["Nats-Msg-Id"]) for m in messages] == wanted
    assert {m.subject for m in messages} == {f"{stream.prefix}.community.member_admitted.v1"}
    assert {m.headers["Chanjiao-Community"] for m in messages} == {one}


def test_status_shows_progress_and_lag(
    database_url: str, ledger: Ledger, stream: Stream, tmp_path: Path, capsys
) -> None:
    journal = Journal()
    units(journal, ledger, 4, "s")
    relay = RelayProcess(database_url, stream, log=tmp_path / "relay.log")
    try:
        wait_until(lambda: stream.last_seq() == 4)
    finally:
        relay.stop()
    units(journal, ledger, 2, "after")
    assert main(["relay", "status", "--db", database_url, "--format", "json"]) == 0
    status = json.loads(capsys.readouterr().out)
    (state,) = [r for r in status["relays"] if r["name"] == f"nats {stream.name}"]
    assert status["head"] == journal.positions()[-1]
    assert state["position"] == journal.positions()[3]
    assert state["behind"] == journal.positions()[-1] - journal.positions()[3]
    assert state["published"] == 4
    assert stream.prefix in state["target"]


def test_a_foreign_message_in_the_stream_stops_the_relay_with_a_clear_error(
    database_url: str, ledger: Ledger, stream: Stream, tmp_path: Path
) -> None:
    """Another publisher in the stream would break the order: the next publish is
    refused by its expected sequence, and the relay says why instead of leaving a gap."""
    journal = Journal()
    units(journal, ledger, 3, "a")
    relay = RelayProcess(database_url, stream, log=tmp_path / "relay.log")
    try:
        wait_until(lambda: stream.last_seq() == 3)
        stream.publish(f"{stream.prefix}.somebody.else", b"{}")
        units(journal, ledger, 1, "b")
        code = relay.process.wait(30)
    finally:
        if relay.process.poll() is None:
            relay.stop()
    assert code == 2
    assert "was not published by a chanjiao relay" in relay.text()
    messages = stream.messages()
    assert [int(m.headers["Nats-Msg-Id"]) for m in messages[:3]] == journal.positions()[:3]
    assert len(messages) == 4  # nothing of ours after the foreign message


@pytest.mark.parametrize(
    "args, words",
    [
        (["--stream", "bad.name"], "is not a JetStream stream name"),
        (["--subject-prefix", "a..b"], "is not a NATS subject prefix"),
        (["--subject-prefix", "a.>"], "is not a NATS subject prefix"),
        (["--type", "chanjiao.no.such.v1"], "unknown event type"),
        (["--community", "没有这个共同体"], "没有这个共同体"),
        (["--batch", "0"], "--batch"),
        (["--poll", "0"], "--poll"),
    ],
)
def test_bad_options_are_refused_before_anything_is_published(
    database_url: str, ledger: Ledger, machine_nats: str, args: list[str], words: str, capsys
) -> None:
    Journal().unit(ledger, "x")
    stream = Stream(machine_nats)
    code = main(
        [
            *("relay", "nats", "--db", database_url, "--url", machine_nats),
            *("--stream", stream.name, *args),  # a second --stream wins
        ]
    )
    assert code in (2, 3)
    assert words in capsys.readouterr().err
    assert stream.last_seq() == 0 and not stream.messages()
