"""GET /events/stream over a real socket (api.md, The event stream): the app under
uvicorn on a loopback port, read by httpx, the server-sent events parsed by hand.

Every event recorded — through the server's own ledger, or by another ``Ledger``
on the same database that the server only hears of by PostgreSQL's NOTIFY or by
polling SQLite — reaches a subscriber exactly once, in strictly increasing
position order, across disconnections and server restarts."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator

import pytest

from bootstrap import Ledger
from tests.api.streaming_support import (
    ADMITTED,
    Journal,
    LiveServer,
    Subscription,
    check_exactly_once,
    serving,
)

HEARTBEAT = 0.5


@pytest.fixture
def store(database_url: str) -> str:
    return "postgres" if database_url.startswith("postgres") else "sqlite"


@pytest.fixture
def server_ledger(ledger: Ledger) -> Ledger:
    """The ledger the server writes through (its saves wake the stream at once)."""
    return ledger


@pytest.fixture
def other_ledger(database_url: str, server_ledger: Ledger) -> Iterator[Ledger]:
    """Another writer on the same database: "another process", which the server
    learns about only through NOTIFY (PostgreSQL) or polling (SQLite)."""
    ledger = Ledger(database_url)
    try:
        yield ledger
    finally:
        ledger.close()


def _poll(store: str) -> float | None:
    # SQLite: poll often so the other writer's events arrive quickly; PostgreSQL: the
    # default, NOTIFY does the work.
    return 0.3 if store == "sqlite" else None


class Writer:
    """Varied events (units, renames, admissions) with a distinct principal each."""

    def __init__(self, journal: Journal, setup: Ledger) -> None:
        self.journal = journal
        self.codes: list[str] = []
        self.community = journal.community(setup, "setup-founder")
        self.turn = itertools.count()

    def write(self, ledger: Ledger, who: str, n: int) -> None:
        for _ in range(n):
            k = next(self.turn)
            principal = f"{who}-{k}"
            if k % 3 == 0 or not self.codes:
                self.codes.append(self.journal.unit(ledger, principal))
            elif k % 3 == 1:
                self.journal.rename(ledger, self.codes[-1], principal)
            else:
                self.journal.admit(ledger, self.community, self.codes[-1], principal)


# --- exactly once -------------------------------------------------------------------


def test_every_event_arrives_exactly_once_in_order_across_a_disconnect(
    store: str, server_ledger: Ledger, other_ledger: Ledger
) -> None:
    journal = Journal()
    writer = Writer(journal, server_ledger)
    writer.write(server_ledger, "before-start", 8)  # older than the server: read from the database
    with serving(server_ledger, heartbeat=HEARTBEAT, poll=_poll(store)) as server:
        token = server.token()
        writer.write(server_ledger, "server", 10)  # the server's own saves
        writer.write(other_ledger, "other", 4)  # another process's

        with Subscription(server, token) as first:
            first.count(12)
            assert first.retry and first.retry[0].millis > 0
        seen = list(first.messages)
        assert [int(m.id) for m in seen] == journal.positions()[:12]

        # While disconnected, both writers go on.
        writer.write(server_ledger, "server-offline", 6)
        writer.write(other_ledger, "other-offline", 6)

        with Subscription(server, token, last_event_id=seen[-1].id) as second:
            second.to_position(journal.positions()[-1])
            # Live, while connected: interleaved writers.
            for _ in range(3):
                writer.write(other_ledger, "other-live", 1)
                writer.write(server_ledger, "server-live", 1)
            second.to_position(journal.positions()[-1])
            # Nothing more, and nothing twice, during a few idle heartbeats.
            second.heartbeats(2)
            assert second.messages[0].id != seen[-1].id
        check_exactly_once(journal, seen + second.messages)
    assert len(journal.entries) == 1 + 8 + 10 + 4 + 12 + 6


def test_saves_while_no_one_follows_read_nothing_and_still_all_arrive(
    store: str, server_ledger: Ledger, other_ledger: Ledger
) -> None:
    """With no subscriber the stream reads no page of the log on a save; one who comes
    afterwards gets every event exactly once, and then the live ones — also after
    everyone has left and events were recorded meanwhile."""
    journal = Journal()
    writer = Writer(journal, server_ledger)
    with serving(server_ledger, heartbeat=HEARTBEAT, poll=_poll(store)) as server:
        hub = server.app.state.hub
        pages = []
        page = hub.encoder.page
        hub.encoder.page = lambda *a: pages.append(a) or page(*a)
        token = server.token()
        writer.write(server_ledger, "server", 6)
        writer.write(other_ledger, "other", 3)
        time.sleep(2 * (_poll(store) or 0.1))
        assert pages == []  # woken, and nothing read
        for turn in range(2):
            with Subscription(server, token) as sub:
                sub.to_position(journal.positions()[-1])
                writer.write(server_ledger, f"live-{turn}", 2)
                writer.write(other_ledger, f"other-live-{turn}", 1)
                sub.to_position(journal.positions()[-1])
                sub.heartbeats(1)
            check_exactly_once(journal, sub.messages)
            writer.write(server_ledger, f"alone-{turn}", 3)  # no one follows
        assert pages  # read for the subscribers


def test_after_in_the_query_resumes_like_last_event_id(
    store: str, server_ledger: Ledger, other_ledger: Ledger
) -> None:
    journal = Journal()
    writer = Writer(journal, server_ledger)
    writer.write(server_ledger, "server", 6)
    writer.write(other_ledger, "other", 6)
    with serving(server_ledger, heartbeat=HEARTBEAT, poll=_poll(store)) as server:
        token = server.token()
        cut = journal.positions()[5]
        last = journal.positions()[-1]
        with Subscription(server, token, params={"after": cut}) as by_query:
            by_query.to_position(last)
            by_query.heartbeats(1)
        with Subscription(server, token, last_event_id=str(cut)) as by_header:
            by_header.to_position(last)
            by_header.heartbeats(1)
    check_exactly_once(journal, by_query.messages, after=cut)
    check_exactly_once(journal, by_header.messages, after=cut)
    assert [m.data for m in by_query.messages] == [m.data for m in by_header.messages]
    assert all(int(m.id) > cut for m in by_query.messages)


def test_last_event_id_wins_over_after_as_an_event_source_reconnects(
    store: str, server_ledger: Ledger
) -> None:
    """A browser's EventSource reconnects to the URL it first opened (``?after=0``)
    and says where it got to only in ``Last-Event-ID``: that must win, or every
    reconnection replays from the start and the client double-counts."""
    journal = Journal()
    writer = Writer(journal, server_ledger)
    writer.write(server_ledger, "server", 9)
    with serving(server_ledger, heartbeat=HEARTBEAT) as server:
        token = server.token()
        with Subscription(server, token, params={"after": 0}) as first:
            first.count(4)
        seen = list(first.messages)
        got_to = seen[-1].id
        with Subscription(server, token, params={"after": 0}, last_event_id=got_to) as again:
            again.to_position(journal.positions()[-1])
            again.heartbeats(1)
    assert all(int(m.id) > int(got_to) for m in again.messages)
    check_exactly_once(journal, seen + again.messages)


def test_a_malformed_last_event_id_is_refused_with_a_problem(
    store: str, server_ledger: Ledger
) -> None:
    with serving(server_ledger, heartbeat=HEARTBEAT) as server:
        with Subscription(server, server.token(), last_event_id="abc") as sub:
            assert sub.status == 422
            assert sub.response.headers["content-type"].startswith("application/problem+json")
            sub.response.read()
            assert "Last-Event-ID" in sub.response.json()["detail"]
        # Unicode digits pass str.isdigit() but not int(); latin-1 header bytes decode to them.
        for bad in (b"\xb2", b"\xb9\xb3", b"99999999999999999999", b"-1", b"1.5"):
            with Subscription(server, server.token(), last_event_id=bad) as sub:
                assert sub.status == 422, bad
        for after in (-1, 2**63 - 1, 10**30, "x"):
            with Subscription(server, server.token(), params={"after": after}) as sub:
                assert sub.status == 422, after
        with Subscription(server, server.token(), params={"type": "no.such.type"}) as sub:
            assert sub.status == 422
        with Subscription(server, "cj_nope_nope") as sub:
            assert sub.status == 401


# --- filters --------------------------------------------------------------------------


def test_the_type_filter_delivers_only_that_type(
    store: str, server_ledger: Ledger, other_ledger: Ledger
) -> None:
    journal = Journal()
    writer = Writer(journal, server_ledger)
    writer.write(server_ledger, "server", 9)
    writer.write(other_ledger, "other", 3)
    admitted = [p for p, e in journal.entries.items() if e.type == ADMITTED]
    assert len(admitted) >= 3
    with serving(server_ledger, heartbeat=HEARTBEAT, poll=_poll(store)) as server:
        with Subscription(server, server.token(), params={"type": ADMITTED}) as sub:
            sub.to_position(max(admitted))
            # Live: a unit registration and a rename (filtered out), then an admission.
            writer.write(other_ledger, "other-live", 3)
            writer.write(server_ledger, "server-live", 3)
            admitted = sorted(p for p, e in journal.entries.items() if e.type == ADMITTED)
            sub.to_position(max(admitted))
            sub.heartbeats(1)
    assert [int(m.id) for m in sub.messages] == admitted
    assert {m.event for m in sub.messages} == {ADMITTED}
    for m in sub.messages:
        entry = journal.entries[int(m.id)]
        assert json.loads(m.data)["data"]["principal"] == entry.principal


def test_the_community_filter_delivers_the_community_with_its_council_and_agreements(
    store: str, server_ledger: Ledger, other_ledger: Ledger
) -> None:
    journal = Journal()
    a = journal.community(server_ledger, "founder-a", "甲联合体")
    ours = [max(journal.entries)]  # a's founding
    b = journal.community(server_ledger, "founder-b", "乙联合体")
    u1, u2, u3 = (journal.unit(server_ledger, f"unit-{i}") for i in range(3))
    for code in (u1, u2):
        journal.admit(server_ledger, a, code, f"admit-a-{code}")
        ours.append(max(journal.entries))
    journal.admit(other_ledger, b, u3, "admit-b")
    journal.admit(other_ledger, b, u1, "admit-b-2")
    journal.seat(server_ledger, a, u1, "seat-a", first=True)  # council established + seat
    ours += sorted(journal.entries)[-2:]
    journal.seat(other_ledger, b, u3, "seat-b", first=True)
    journal.agreement(server_ledger, a, [u1, u2], "draft-a")
    ours.append(max(journal.entries))
    journal.agreement(server_ledger, b, [u3, u1], "draft-b")
    with serving(server_ledger, heartbeat=HEARTBEAT, poll=_poll(store)) as server:
        with Subscription(server, server.token(), params={"community_id": a}) as sub:
            sub.to_position(max(ours))
            # Live: b's and a unit's events are filtered out, a's new seat is not.
            journal.seat(other_ledger, b, u1, "seat-b-2", first=False)
            journal.unit(other_ledger, "unit-live")
            journal.seat(other_ledger, a, u2, "seat-a-2", first=False)
            ours.append(max(journal.entries))
            sub.to_position(max(ours))
            sub.heartbeats(1)
    assert [int(m.id) for m in sub.messages] == ours
    kinds = {m.event.split(".")[1] for m in sub.messages if m.event}
    assert kinds == {"community", "council", "agreement"}
    for m in sub.messages:
        cloud = json.loads(m.data)
        assert cloud["communityid"] == a
        assert cloud["data"]["principal"] == journal.entries[int(m.id)].principal


# --- liveness -------------------------------------------------------------------------


def test_an_idle_stream_sends_heartbeat_comments(store: str, server_ledger: Ledger) -> None:
    journal = Journal()
    Writer(journal, server_ledger).write(server_ledger, "server", 2)
    with serving(server_ledger, heartbeat=HEARTBEAT) as server:
        with Subscription(server, server.token(), read_timeout=3 * HEARTBEAT) as sub:
            sub.to_position(journal.positions()[-1])
            started = time.monotonic()
            sub.for_(4 * HEARTBEAT + 0.3)
    # Every message was a replay; then only comments, one per heartbeat of silence.
    assert [int(m.id) for m in sub.messages] == journal.positions()
    assert not sub.ended
    beats = [c for c in sub.comments if c.arrived >= started]
    assert 3 <= len(beats) <= 6, [c.arrived - started for c in beats]
    gaps = [b.arrived - a.arrived for a, b in itertools.pairwise(beats)]
    assert all(g > HEARTBEAT / 2 for g in gaps), gaps


def test_another_writers_events_arrive_within_seconds(
    store: str, server_ledger: Ledger, other_ledger: Ledger
) -> None:
    """PostgreSQL: the server polls only every 30 s here, so only NOTIFY can explain
    a delivery within a few seconds. SQLite: the poll (0.3 s) delivers them."""
    poll = 30.0 if store == "postgres" else 0.3
    journal = Journal()
    writer = Writer(journal, other_ledger)
    with serving(server_ledger, heartbeat=HEARTBEAT, poll=poll) as server:
        with Subscription(server, server.token()) as sub:
            sub.to_position(journal.positions()[-1])
            sub.heartbeats(1)  # caught up and waiting
            latencies = []
            for _ in range(3):
                started = time.monotonic()
                writer.write(other_ledger, "other", 1)
                sub.to_position(journal.positions()[-1], timeout=10.0)
                latencies.append(sub.messages[-1].arrived - started)
    check_exactly_once(journal, sub.messages)
    assert max(latencies) < 5.0, latencies
    print(f"{store}: delivery latencies {[round(x, 3) for x in latencies]} s")


# --- restart --------------------------------------------------------------------------


def test_a_restarted_server_resumes_exactly_once(
    store: str, database_url: str, server_ledger: Ledger, other_ledger: Ledger
) -> None:
    journal = Journal()
    writer = Writer(journal, server_ledger)
    writer.write(server_ledger, "first-server", 6)
    first_server = LiveServer(server_ledger, heartbeat=HEARTBEAT, poll=_poll(store)).start()
    try:
        token = first_server.token()
        sub = Subscription(first_server, token)
        sub.count(4)
        writer.write(server_ledger, "first-server-live", 3)
        writer.write(other_ledger, "other-live", 2)
        sub.count(9)
    finally:
        first_server.stop()  # with the subscriber still connected
    sub.drain_until_ended()  # the stream ends with the server (nothing more, nothing twice)
    sub.close()
    seen = sub.messages
    assert len(seen) >= 9

    writer.write(other_ledger, "while-down", 5)
    restarted = Ledger(database_url)
    try:
        with serving(restarted, heartbeat=HEARTBEAT, poll=_poll(store)) as second_server:
            writer.write(restarted, "second-server", 3)
            # The token is in the database, so the new server knows it.
            with Subscription(second_server, token, last_event_id=seen[-1].id) as resumed:
                resumed.to_position(journal.positions()[-1])
                writer.write(other_ledger, "other-after-restart", 2)
                resumed.to_position(journal.positions()[-1])
                resumed.heartbeats(1)
    finally:
        restarted.close()
    assert int(resumed.messages[0].id) > int(seen[-1].id)
    check_exactly_once(journal, seen + resumed.messages)


def test_a_filtered_stream_still_gets_heartbeats_while_other_events_flow(
    store: str, server_ledger: Ledger
) -> None:
    """The subscriber's connection is idle when nothing it asked for is sent, even
    if the ledger is busy with other events: the keep-alive comments must go on."""
    journal = Journal()
    writer = Writer(journal, server_ledger)
    stop = threading.Event()

    def busy() -> None:  # an unrelated event every 0.15 s (less than the heartbeat)
        while not stop.wait(0.15):
            writer.write(server_ledger, "busy", 1)

    with (
        serving(server_ledger, heartbeat=HEARTBEAT) as server,
        Subscription(
            server,
            server.token(),
            params={"type": "chanjiao.unit.deregistered.v1"},
            read_timeout=10,
        ) as sub,
    ):
        sub.heartbeats(1)
        thread = threading.Thread(target=busy)
        thread.start()
        try:
            started = time.monotonic()
            sub.for_(6 * HEARTBEAT)
        finally:
            stop.set()
            thread.join()
    assert len(journal.entries) > 10  # the ledger was busy
    assert not sub.messages
    beats = [c for c in sub.comments if c.arrived >= started]
    assert len(beats) >= 3, f"{len(beats)} keep-alive comments in {6 * HEARTBEAT} s"


# --- a long backlog -------------------------------------------------------------------


def test_a_backlog_longer_than_a_database_page_is_replayed_exactly_once_then_live(
    store: str, server_ledger: Ledger, other_ledger: Ledger
) -> None:
    """620 events older than the server (its memory starts after them, so they come
    from the database, 500 at a time), then live ones; unfiltered and by community."""
    journal = Journal()
    writer = Writer(journal, server_ledger)
    community = writer.community
    writer.write(server_ledger, "old", 619)
    ours = sorted(p for p, e in journal.entries.items() if e.subject == community)
    with serving(server_ledger, heartbeat=HEARTBEAT, poll=_poll(store)) as server:
        token = server.token()
        with (
            Subscription(server, token) as everything,
            Subscription(server, token, params={"community_id": community}) as filtered,
        ):
            everything.to_position(journal.positions()[-1], timeout=60)
            filtered.to_position(ours[-1], timeout=60)
            writer.write(other_ledger, "live", 6)
            ours = sorted(p for p, e in journal.entries.items() if e.subject == community)
            everything.to_position(journal.positions()[-1])
            filtered.to_position(ours[-1])
            everything.heartbeats(1)
            filtered.heartbeats(1)
    assert len(journal.entries) == 626
    check_exactly_once(journal, everything.messages)
    assert [int(m.id) for m in filtered.messages] == ours
