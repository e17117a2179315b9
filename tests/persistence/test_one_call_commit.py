"""A command's events, their hashes, its Idempotency-Key and the NOTIFY
are committed by one call (ADR 0021): on PostgreSQL one server-side function, one
round trip, the hashes computed in SQL byte for byte as ``domain.hashing`` computes
them; positions still commit in order; a key recorded already or a taken version records
nothing, on both stores."""

from __future__ import annotations

import os
import random
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent
from psycopg.pq import Trace

from adapters.idempotency import KeyRecorded, RequestKeys
from adapters.tracking import Tracking
from bootstrap import Ledger
from domain.errors import TamperedRecord
from domain.hashing import GENESIS, event_hash
from projections.directory import Directory
from projections.machinery import Store
from projections.membership_model import members
from projections.read_models import MODELS
from tests.factories import city_body_with_units, credit_code
from tests.idempotency_keys import keyed

TOPIC = "domain.unit:MemberUnit.Renamed"


def sql(ledger: Ledger, text: str, params: tuple = ()) -> None:
    """Change the tables straight in the database, as someone bypassing the ledger would."""
    chain = ledger.chain
    text = text.format(events=chain.events, chain=chain.table)
    with ledger.factory.datastore.transaction(commit=True) as cursor:
        cursor.execute(text.replace("?", chain.p), params)


def odd_states() -> list[tuple[str, bytes]]:
    """Topics and stored states a hash must survive: Chinese, empty, NUL and other
    control bytes, bytes that are not UTF-8, newlines, astral characters, long ones."""
    rng = random.Random(16)
    cases = [
        (TOPIC, '{"name":"苏州市域产教联合体","principal":"秘书处:李"}'.encode()),
        (TOPIC, b""),
        (TOPIC, b"\x00"),
        (TOPIC, b"\x00\x01\x02\n\r\t\\\"'%s?$$"),
        (TOPIC, b"\xff\xfe\xc3\x28\xa0\xa1"),  # not UTF-8
        (TOPIC, "行\n业\r\n产教融合共同体 😀 𠀋".encode()),
        ("领域.单位:成员单位.改名", "改名为「比亚迪股份有限公司」".encode()),
        ("topic with\nnewline", b"{}"),
        (TOPIC, ("长" * 20_000).encode()),
    ]
    for _ in range(200):
        cases.append((TOPIC, bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))))
        chars = [rng.choice([rng.randrange(0x20, 0x7F), rng.randrange(0x4E00, 0x9FFF)])]
        chars += [rng.randrange(0x4E00, 0x9FFF) for _ in range(rng.randrange(80))]
        cases.append((TOPIC, "".join(map(chr, chars)).encode()))
    return cases


# --- the hash, in SQL -------------------------------------------------------------------


def test_the_hash_computed_in_sql_is_the_one_domain_hashing_computes(postgres_url):
    ledger = Ledger(postgres_url)
    try:
        hash_fn, _ = ledger.chain.functions
        rng = random.Random(21)
        cases = [
            (
                rng.randbytes(32) if i % 3 else GENESIS,
                topic,
                uuid.uuid4(),
                rng.choice([1, 2, 999, 2**40]),
                state,
            )
            for i, (topic, state) in enumerate(odd_states())
        ]
        with ledger.factory.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                f"SELECT {hash_fn}(p, t, a, v, s) AS h FROM unnest("
                "%s::bytea[], %s::text[], %s::uuid[], %s::bigint[], %s::bytea[]) "
                "WITH ORDINALITY AS c(p, t, a, v, s, n) ORDER BY n",
                [list(column) for column in zip(*cases, strict=True)],
            )
            in_sql = [bytes(row["h"]) for row in cursor.fetchall()]
        assert in_sql == [event_hash(*case) for case in cases]
    finally:
        ledger.close()


def test_events_of_odd_states_are_chained_as_domain_hashing_chains_them(database_url):
    """Recorded through the recorder (on PostgreSQL, hashed by the server), several
    versions of several aggregates per batch: the hashes on record are Python's."""
    ledger = Ledger(database_url)
    try:
        cases = odd_states()[:60]
        aggregates = [uuid.uuid4() for _ in range(4)]
        batches: list[list[StoredEvent]] = []
        for start in range(0, len(cases), 6):  # 6 events a batch: some aggregates twice
            batch = []
            for i, (topic, state) in enumerate(cases[start : start + 6]):
                aggregate = aggregates[i % 4]
                version = 1 + sum(e.originator_id == aggregate for b in batches for e in b)
                version += sum(e.originator_id == aggregate for e in batch)
                batch.append(StoredEvent(aggregate, version, topic, state))
            batches.append(batch)
        for batch in batches:
            ledger.recorder.insert_events(batch)
        for aggregate in aggregates:
            expected, prev = {}, GENESIS
            events = sorted(
                (e for b in batches for e in b if e.originator_id == aggregate),
                key=lambda e: e.originator_version,
            )
            for e in events:
                prev = event_hash(prev, e.topic, aggregate, e.originator_version, e.state)
                expected[e.originator_version] = prev.hex()
            assert ledger.event_hashes(aggregate) == expected
        assert ledger.verify().ok
    finally:
        ledger.close()


# --- one round trip -----------------------------------------------------------------------


@contextmanager
def traced(datastore: Any) -> Iterator[Callable[[Callable[[], Any]], tuple[Any, bytes]]]:
    """``run(work)``: ``work()``'s result, and libpq's own protocol trace of every
    connection it took from ``datastore`` meanwhile. A ``ReadyForQuery`` from the
    server ends each exchange: outside pipeline mode, one round trip."""
    get_connection = datastore.get_connection
    with tempfile.TemporaryFile() as log:

        @contextmanager
        def tracing() -> Iterator[Any]:
            with get_connection() as conn:
                conn.pgconn.trace(os.dup(log.fileno()))
                conn.pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS | Trace.REGRESS_MODE)
                try:
                    yield conn
                finally:
                    conn.pgconn.untrace()  # flushes the trace

        def run(work: Callable[[], Any]) -> tuple[Any, bytes]:
            start = log.seek(0, os.SEEK_END)
            datastore.get_connection = tracing
            try:
                result = work()
            finally:
                del datastore.get_connection
            log.seek(start)
            return result, log.read()

        yield run


def round_trips(trace: bytes) -> int:
    return trace.count(b"\tReadyForQuery\t")


@contextmanager
def exchanges(ledger: Ledger) -> Iterator[list[tuple[int, int]]]:
    """Counts the round trips of every ``recorder.insert_events`` call made meanwhile
    (``traced``); and of those, how many prepared a statement (``Parse`` of a named
    one), which psycopg does once per connection."""
    recorder = ledger.recorder
    counts: list[tuple[int, int]] = []
    insert_events = recorder.insert_events
    with traced(ledger.factory.datastore) as run:

        def counted(*args: Any, **kwargs: Any) -> Any:
            result, trace = run(lambda: insert_events(*args, **kwargs))
            counts.append((round_trips(trace), trace.count(b'\tParse\t "_pg')))
            return result

        recorder.insert_events = counted
        try:
            yield counts
        finally:
            del recorder.insert_events


def register(ledger: Ledger, serial: int) -> UUID:
    return ledger.register_unit(
        code=credit_code(serial),
        name="甲公司",
        unit_type="enterprise",
        division="320506",
        principal="p",
    ).id


@pytest.fixture
def keys(ledger: Ledger) -> RequestKeys:
    """The API's Idempotency-Keys, in the ledger's database."""
    return RequestKeys(Tracking.of(ledger.factory))


def test_a_save_on_postgresql_is_one_round_trip(postgres_url):
    ledger = Ledger(postgres_url)
    keys = RequestKeys(Tracking.of(ledger.factory))
    try:
        units = [register(ledger, i) for i in range(1, 4)]
        with exchanges(ledger) as counts:
            for n in range(20):
                ledger.rename_unit(
                    units[n % 3], name=f"乙公司{n}", effective_on="2025-01-01", principal="p"
                )
            for n in range(10):
                with keyed(keys, f"attempt-{n}", f"key-{n}"):
                    ledger.rename_unit(
                        units[0], name=f"丁公司{n}", effective_on="2025-03-01", principal="p"
                    )
        assert [total - prepared for total, prepared in counts] == [1] * 30
        # the call is prepared once per pooled connection, with a key or without
        assert (
            sum(prepared for _, prepared in counts)
            <= ledger.factory.datastore.pool.get_stats()["pool_size"]
        )
        assert all(keys.find("token", f"key-{n}").recorded for n in range(10))
        assert ledger.verify().ok
    finally:
        ledger.close()


def test_a_key_kept_or_looked_up_on_postgresql_is_one_round_trip(postgres_url):
    """The API's own small tables (keys, tokens, webhooks) are read and written one
    statement at a time, each its own transaction: no BEGIN and COMMIT around it; so
    are the read models' reads of one query, which carry their own currency check."""
    ledger = Ledger(postgres_url)
    keys = RequestKeys(Tracking.of(ledger.factory))
    datastore = ledger.factory.datastore
    try:
        with traced(datastore) as run:

            def trips(work: Callable[[], Any]) -> int:
                return round_trips(run(work)[1])

            unit = register(ledger, 1)
            with keyed(keys, "a"):
                ledger.rename_unit(unit, name="乙公司", effective_on="2025-01-01", principal="p")
            assert trips(lambda: keys.find("token", "k")) == 1
            assert trips(lambda: keys.answer("token", "k", "a", 201, b"{}")) == 1
            assert trips(lambda: keys.clear_abandoned("token", "gone", "a")) == 1
            # and the read models' one-query reads: a page of events with their links,
            # the models' positions
            assert trips(lambda: ledger.chain.links(datastore, 1, 10, 10)) == 1
            store = Store(ledger, MODELS)
            assert trips(lambda: store.positions([m.key for m in store.live])) == 1
            # an answer of one query carries the check that the read models are up to
            # date; one that finds nothing is checked apart and asked again
            body, _ = city_body_with_units(ledger, 0)
            store.catch_up()
            found = Directory(store)
            assert trips(lambda: members(store, body)) == 1
            assert trips(lambda: found.units("乙公司")) == 1
            assert trips(lambda: found.units("无此单位")) == 3
        assert keys.find("token", "k").status == 201  # the write committed
    finally:
        ledger.close()


# --- what is refused records nothing, on both stores ---------------------------------------


def test_a_key_recorded_by_another_attempt_records_nothing(ledger, keys):
    """Two attempts of one request: the first to save writes the key with its events;
    the other's save, whatever it decided, records nothing."""
    unit = register(ledger, 1)
    before, hashes = ledger.recorder.max_notification_id(), ledger.event_hashes(unit)
    with keyed(keys, "first"):
        ledger.rename_unit(unit, name="乙公司", effective_on="2025-01-01", principal="p")
    recorded = keys.find("token", "k")
    assert (recorded.attempt, recorded.recorded, recorded.status) == ("first", True, None)
    assert ledger.recorder.max_notification_id() == before + 1
    hashes = ledger.event_hashes(unit)
    with keyed(keys, "second"), pytest.raises(KeyRecorded, match="another attempt"):
        ledger.rename_unit(unit, name="丙公司", effective_on="2025-02-01", principal="p")
    assert ledger.recorder.max_notification_id() == before + 1
    assert ledger.event_hashes(unit) == hashes
    assert keys.find("token", "k").attempt == "first"
    with keyed(keys, "second", key="other"):  # another key records
        ledger.rename_unit(unit, name="丙公司", effective_on="2025-02-01", principal="p")
    assert ledger.recorder.max_notification_id() == before + 2
    assert ledger.verify().ok


ODD_KEYS = ['a"b', "a\\b", '\\"', "a,b", "{a}", "NULL", " spaced ", "键值-幂等", "'; --", '}{,"\\']


def test_a_key_of_any_text_is_recorded_as_sent(ledger, keys):
    """On PostgreSQL the key travels inside an array literal: quotes, backslashes,
    commas, braces, the word NULL and spaces come back exactly, and hold the key."""
    unit = register(ledger, 1)
    for i, key in enumerate(ODD_KEYS):
        with keyed(keys, f"first {i}", key=key):
            ledger.rename_unit(unit, name=f"乙公司{i}", effective_on="2025-01-01", principal="p")
        assert keys.find("token", key).attempt == f"first {i}"
        with keyed(keys, "second", key=key), pytest.raises(KeyRecorded):
            ledger.rename_unit(unit, name="丙公司", effective_on="2025-02-01", principal="p")
    assert ledger.verify().ok


def test_a_version_taken_meanwhile_is_the_librarys_integrity_error_and_records_nothing(ledger):
    unit = register(ledger, 1)
    before, hashes = ledger.recorder.max_notification_id(), ledger.event_hashes(unit)
    other = uuid.uuid4()
    with pytest.raises(IntegrityError):  # the whole batch goes, the new aggregate too
        ledger.recorder.insert_events(
            [StoredEvent(other, 1, TOPIC, b"{}"), StoredEvent(unit, 1, TOPIC, b"{}")]
        )
    assert ledger.recorder.max_notification_id() == before
    assert ledger.event_hashes(unit) == hashes and ledger.event_hashes(other) == {}


def test_a_hash_on_record_for_the_next_version_is_a_conflict(ledger):
    """An event deleted behind the ledger's back whose hash is still on record: the
    next append finds its version chained already (as the Python chain refuses it)."""
    unit = register(ledger, 1)
    ledger.rename_unit(unit, name="乙公司", effective_on="2025-01-01", principal="p")
    key = ledger.chain.key(unit)
    sql(ledger, "DELETE FROM {events} WHERE originator_id = ? AND originator_version = 2", (key,))
    with pytest.raises(IntegrityError, match="version 2 was recorded meanwhile"):
        ledger.recorder.insert_events([StoredEvent(unit, 2, TOPIC, b"{}")])


def test_history_with_a_gap_is_refused_when_it_is_chained_first(ledger):
    """An aggregate recorded before chains existed is chained from its stored history
    on its next append; a version missing from that history is a tampered record."""
    unit = register(ledger, 1)
    for n in range(2):
        ledger.rename_unit(unit, name=f"乙公司{n}", effective_on=f"2025-0{n + 1}-01", principal="p")
    key = ledger.chain.key(unit)
    sql(ledger, "DELETE FROM {chain}")
    sql(ledger, "DELETE FROM {events} WHERE originator_id = ? AND originator_version = 2", (key,))
    before = ledger.recorder.max_notification_id()
    with pytest.raises(TamperedRecord, match=f"{unit} has no stored version 2"):
        ledger.recorder.insert_events([StoredEvent(unit, 4, TOPIC, b"{}")])
    assert ledger.recorder.max_notification_id() == before
    assert ledger.event_hashes(unit) == {}


# --- commit order is position order ---------------------------------------------------------


def test_a_reader_following_positions_never_skips_an_event_of_concurrent_writers(postgres_url):
    """Eight writers, each on its own ledger (its own connections), record batches of
    one to three events while a reader tails the log by position, as the read models
    and the stream do: had a transaction committed after one holding a later position,
    the reader would have passed over its events. It must have seen every one."""
    ledgers = [Ledger(postgres_url) for _ in range(9)]
    reader, writers = ledgers[0], ledgers[1:]
    done = threading.Event()
    seen: list[int] = []
    errors: list[BaseException] = []

    def write(ledger: Ledger) -> None:
        try:
            rng = random.Random()
            versions: dict[UUID, int] = {uuid.uuid4(): 0 for _ in range(3)}
            for _ in range(60):
                batch = []
                for aggregate in rng.sample(list(versions), rng.randint(1, 3)):
                    versions[aggregate] += 1
                    batch.append(StoredEvent(aggregate, versions[aggregate], TOPIC, b"{}"))
                ledger.recorder.insert_events(batch)
        except BaseException as e:
            errors.append(e)

    def read() -> None:
        last = 0
        while True:
            finished = done.is_set()
            page = reader.recorder.select_notifications(last + 1, 500)
            seen.extend(n.id for n in page)
            last = page[-1].id if page else last
            if finished and not page:
                return

    try:
        tail = threading.Thread(target=read)
        tail.start()
        threads = [threading.Thread(target=write, args=(w,)) for w in writers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        done.set()
        tail.join()
        assert not errors, errors[:3]
        everything = [n.id for n in reader.recorder.select_notifications(1, 10_000)]
        assert len(everything) >= 8 * 60
        assert seen == everything  # none passed over, none twice, in position order
        assert reader.verify().ok
    finally:
        for ledger in ledgers:
            ledger.close()
