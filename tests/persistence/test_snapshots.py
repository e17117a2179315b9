"""Snapshots (ADR 0024): an aggregate loaded from its latest snapshot and the events
after it is the aggregate replayed from its first event — every kind of the demo
history, type for type, on both stores; a snapshot written by other code, or that
does not decode, is passed over for a replay; a snapshot that cannot be taken leaves
the command done; the audit is not concerned with them."""

from __future__ import annotations

import base64
import contextlib
import copy
import dataclasses
import io
import logging
import zlib
from collections.abc import Iterator
from types import MappingProxyType
from typing import Any
from unittest import mock

import msgspec
import pytest
from eventsourcing.application import Repository
from eventsourcing.persistence import StoredEvent
from hypothesis import given, settings
from hypothesis import strategies as st

import adapters.snapshots as snapshots
from adapters.dialect import Dialect
from adapters.snapshots import KINDS, Kind, SnapshotMapper
from application.repository import project
from bootstrap import Ledger
from domain.agreement import BenefitAgreement, Entries, Entry
from tests.domain.test_agreement import cost_entry
from tests.domain.test_kept_aggregates import demo_history, every_aggregate, shared_mutable
from tests.factories import credit_code


def typed(value: Any) -> Any:
    """``value`` with the type of every part beside it, so that equal means equal
    classes all the way down (a list is not a tuple, a dict not a read-only mapping)."""
    if isinstance(value, dict | MappingProxyType):
        return (type(value), sorted((repr(typed(k)), typed(v)) for k, v in value.items()))
    if isinstance(value, list | tuple | set | frozenset | Entries):
        items = [typed(x) for x in value]
        return (type(value), sorted(items, key=repr) if isinstance(value, set) else items)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return (type(value), [typed(getattr(value, f.name)) for f in dataclasses.fields(value)])
    if isinstance(value, msgspec.Struct):
        return (type(value), [typed(getattr(value, f)) for f in value.__struct_fields__])
    return (type(value), value, getattr(value, "tzinfo", None))


def same(loaded: Any, replayed: Any) -> bool:
    return type(loaded) is type(replayed) and typed(vars(loaded)) == typed(vars(replayed))


@pytest.fixture
def demo(database_url: str) -> Iterator[Ledger]:
    ledger = Ledger(database_url)
    with contextlib.redirect_stdout(io.StringIO()):
        demo_history(ledger)
    try:
        yield ledger
    finally:
        ledger.close()


def cold(url: str) -> Ledger:
    """A ledger as a new process makes it: nothing kept."""
    return Ledger(url, {"AGGREGATE_CACHE_MAXSIZE": ""})


def replayed(ledger: Ledger, aggregate_id: Any) -> Any:
    """From the first event, no snapshot."""
    return Repository(event_store=ledger.events).get(aggregate_id, projector_func=project)


def reads_after(ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> list[int | None]:
    """Records the version after which each load of the ledger reads events."""
    seen: list[int | None] = []
    get = ledger.events.get

    def spy(originator_id: Any, **kwargs: Any) -> Any:
        seen.append(kwargs.get("gt"))
        return get(originator_id, **kwargs)

    monkeypatch.setattr(ledger.events, "get", spy)
    return seen


def test_every_aggregate_loaded_from_its_snapshot_is_the_one_replayed(
    demo, database_url, monkeypatch
):
    kept = every_aggregate(demo)
    assert {type(a) for a in kept} == {k.cls for k in KINDS}
    at = {a.id: max(1, a.version - 1) for a in kept}  # most with one event after it
    for aggregate in kept:
        demo.take_snapshot(aggregate.id, at[aggregate.id])
    again = cold(database_url)
    try:
        after = reads_after(again, monkeypatch)
        for aggregate in kept:
            loaded = again.repository.get(aggregate.id)
            assert after[-1] == at[aggregate.id], "the snapshot was not used"
            assert same(loaded, replayed(demo, aggregate.id)), type(aggregate).__name__
            assert same(loaded, aggregate)
            assert shared_mutable(loaded, copy.deepcopy(loaded)) == []  # ADR 0020 holds
    finally:
        again.close()


def agreement_of(ledger: Ledger) -> BenefitAgreement:
    return next(
        a
        for a in every_aggregate(ledger)
        if isinstance(a, BenefitAgreement) and a.terms[-1].effective_on.isoformat() < "2025-06"
    )


def record_costs(ledger: Ledger, agreement: Any, count: int) -> None:
    for serial in range(count):
        ledger.record_cost(
            agreement,
            amount=f"{100 + serial}.00",
            incurred_on="2025-11-03",
            description=f"耗材（第{serial}批）",
            principal="p",
        )


def test_a_snapshot_is_taken_every_interval_and_replaces_the_one_before(
    demo, database_url, monkeypatch
):
    monkeypatch.setattr(Ledger, "snapshotting_intervals", {k.cls: 5 for k in KINDS})
    ledger = Ledger(database_url)
    try:
        agreement = agreement_of(ledger)
        version = agreement.version
        record_costs(ledger, agreement.id, 12)
        stored = ledger.snapshots.recorder.select_events(agreement.id)  # type: ignore[union-attr]
        assert [s.originator_version for s in stored] == [(version + 12) // 5 * 5]
        assert stored[0].topic.startswith("chanjiao.agreement.snapshot:")
        again = cold(database_url)
        try:
            after = reads_after(again, monkeypatch)
            loaded = again.agreement(agreement.id)
            assert after == [(version + 12) // 5 * 5]
            assert len(loaded.entries) == len(agreement.entries) + 12
            assert same(loaded, replayed(ledger, agreement.id))
        finally:
            again.close()
        audit = ledger.verify()  # reads the events, not the snapshots
        assert audit.ok and audit.problems == []
    finally:
        ledger.close()


def chunk_sizes(chunks: tuple[bytes, ...]) -> list[int]:
    """How many entries each stored chunk holds."""
    return [len(msgspec.json.decode(zlib.decompress(c))) for c in chunks]


def latest_chunks(ledger: Ledger, agreement: Any) -> tuple[bytes, ...]:
    (row,) = ledger.snapshots.recorder.select_events(agreement, desc=True, limit=1)  # type: ignore[union-attr]
    entries = ledger.snapshots.mapper.to_domain_event(row).state["entries"]  # type: ignore[union-attr]
    unread, held = entries.parts
    assert isinstance(unread, snapshots.PackedEntries) and not held
    return unread.stored.chunks


def test_a_long_agreements_entries_stay_packed_until_a_command_reads_them(
    demo, database_url, monkeypatch
):
    """Recording an entry on an agreement loaded cold reads none of the stored ones,
    the next snapshot stores their chunks again as they were, and a reversal of an
    entry in a chunk reads them and is stored."""
    monkeypatch.setattr(Ledger, "snapshotting_intervals", {k.cls: 5 for k in KINDS})
    monkeypatch.setattr(snapshots, "ENTRIES_A_CHUNK", 4)
    reads: list[int] = []
    read = snapshots.PackedEntries.read
    monkeypatch.setattr(
        snapshots.PackedEntries, "read", lambda self: reads.append(self.count) or read(self)
    )
    ledger = Ledger(database_url)
    try:
        agreement = agreement_of(ledger).id
        record_costs(ledger, agreement, 12)
        first = latest_chunks(ledger, agreement)
        count = len(ledger.agreement(agreement).entries)
        sizes = chunk_sizes(first)
        assert sum(sizes) == count and max(sizes) <= 4
    finally:
        ledger.close()
    again = cold(database_url)
    try:
        record_costs(again, agreement, 5)  # a snapshot taken on the way
        assert reads == []
        second = latest_chunks(again, agreement)
        assert second[: len(first)] == first and len(second) > len(first)
        again.reverse_entry(agreement, entry=1, reason="录入错误", principal="p")
        assert reads != []
        record_costs(again, agreement, 5)
        assert latest_chunks(again, agreement)[0] != first[0]
    finally:
        again.close()
    last = cold(database_url)
    try:
        loaded = last.agreement(agreement)
        assert len(loaded.entries) == count + 10 and not loaded.entries[0].live
        assert same(loaded, replayed(last, agreement))
    finally:
        last.close()


Step = tuple[str, int]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("record"), st.integers(1, 7)),
            st.tuples(st.just("reverse"), st.integers(0, 1_000)),
            st.tuples(st.just("snapshot"), st.just(0)),
            st.tuples(st.just("look"), st.integers(0, 1_000)),
        ),
        max_size=30,
    )
)
def test_entries_packed_and_restored_at_any_point_are_the_entries_recorded(steps: list[Step]):
    """However entries are recorded, reversed, looked at and snapshotted (each snapshot
    restored unread, as a cold load does), the agreement's entries are the ones a plain
    list of them holds, and no stored chunk holds more than its share."""
    expected: list[Entry] = []
    entries = Entries()
    with mock.patch.object(snapshots, "ENTRIES_A_CHUNK", 3):
        for step, n in steps:
            if step == "record":
                for _ in range(n):
                    entry = cost_entry(len(expected) + 1)
                    expected.append(entry)
                    entries.append(entry)
            elif step == "reverse" and expected:
                i = n % len(expected)
                expected[i] = msgspec.structs.replace(expected[i], reversed_because="录入错误")
                entries[i] = msgspec.structs.replace(entries[i], reversed_because="录入错误")
            elif step == "look" and expected:
                assert entries[n % len(expected)] == expected[n % len(expected)]
                assert entries[-1] == expected[-1]
            elif step == "snapshot":
                stored = msgspec.json.decode(
                    snapshots._encoder.encode(entries), type=snapshots.StoredEntries
                )
                sizes = chunk_sizes(stored.chunks)
                assert stored.count == sum(sizes) == len(expected) and max(sizes, default=0) <= 3
                entries = Entries(unread=snapshots.PackedEntries(stored, "a"))
            assert len(entries) == len(expected)
    assert list(entries) == expected


def put_snapshot(ledger: Ledger, like: StoredEvent, **changes: Any) -> None:
    """A stored snapshot, as another version of the code (or a damaged row) left it."""
    row = dataclasses.replace(like, originator_version=like.originator_version + 1, **changes)
    ledger.snapshots.recorder.insert_events([row])  # type: ignore[union-attr]


def test_packed_entries_that_do_not_decode_stop_the_command_that_reads_them(
    demo, database_url, monkeypatch
):
    """A damaged chunk is found when a command reads the entries (a reversal), not when
    the snapshot is loaded: that command records nothing and says how to recover, and
    one that needs only the count still records."""
    monkeypatch.setattr(Ledger, "snapshotting_intervals", {k.cls: 5 for k in KINDS})
    ledger = Ledger(database_url)
    try:
        agreement = agreement_of(ledger).id
        record_costs(ledger, agreement, 6)
        recorder: Any = ledger.snapshots.recorder
        (row,) = recorder.select_events(agreement, desc=True, limit=1)
        stored = msgspec.json.decode(row.state)
        stored["state"]["entries"]["chunks"][0] = base64.b64encode(b"not zlib").decode()
        dialect = Dialect.of(ledger.recorder)
        p, table = dialect.placeholder, getattr(recorder, "table", recorder.events_table_name)
        with recorder.datastore.transaction(commit=True) as cursor:  # damaged where it lies
            cursor.execute(
                f"UPDATE {table} SET state = {p} "
                f"WHERE originator_id = {p} AND originator_version = {p}",
                (msgspec.json.encode(stored), dialect.key(agreement), row.originator_version),
            )
    finally:
        ledger.close()
    again = cold(database_url)
    try:
        head = again.recorder.max_notification_id()
        with pytest.raises(snapshots.DamagedSnapshot, match=f"snapshot of agreement {agreement}"):
            again.reverse_entry(agreement, entry=1, reason="录入错误", principal="p")
        assert again.recorder.max_notification_id() == head  # nothing recorded
        record_costs(again, agreement, 1)
        assert again.recorder.max_notification_id() == head + 1
    finally:
        again.close()


@pytest.mark.parametrize(
    "changes",
    [
        {"topic": "chanjiao.agreement.snapshot:" + "0" * 32},  # other code wrote it
        {"topic": "chanjiao.agreement"},
        {"state": b'{"timestamp":"2025-01-01T00:00:00Z","state":{"title":1}}'},  # undecodable
        {"state": b"not json"},
    ],
    ids=["other-code", "no-fingerprint", "wrong-shape", "not-json"],
)
def test_a_snapshot_this_code_cannot_use_is_passed_over_for_a_replay(
    demo, database_url, monkeypatch, caplog, changes
):
    agreement = agreement_of(demo)
    demo.take_snapshot(agreement.id, agreement.version - 2)
    (good,) = demo.snapshots.recorder.select_events(agreement.id)  # type: ignore[union-attr]
    put_snapshot(demo, good, **changes)  # the latest now, and the one before is gone
    again = cold(database_url)
    try:
        after = reads_after(again, monkeypatch)
        with caplog.at_level(logging.DEBUG, logger="chanjiao.snapshots"):
            loaded = again.agreement(agreement.id)
        assert after == [None]  # from the first event
        assert same(loaded, agreement)
        assert "replaying from the first event" in caplog.text
    finally:
        again.close()


def test_a_snapshot_that_cannot_be_taken_leaves_the_command_done(
    demo, database_url, monkeypatch, caplog
):
    monkeypatch.setattr(Ledger, "snapshotting_intervals", {k.cls: 1 for k in KINDS})

    def broken(self: Any, snapshot: Any) -> Any:
        raise OSError("disk full")

    monkeypatch.setattr(SnapshotMapper, "to_stored_event", broken)
    ledger = Ledger(database_url)
    try:
        agreement = agreement_of(ledger)
        with caplog.at_level(logging.WARNING, logger="chanjiao.snapshots"):
            record_costs(ledger, agreement.id, 1)
        assert len(ledger.agreement(agreement.id).entries) == len(agreement.entries) + 1
        assert "no snapshot of" in caplog.text and "disk full" in caplog.text
    finally:
        ledger.close()


def test_a_state_the_kind_does_not_name_is_not_stored(memory_ledger):
    unit = memory_ledger.register_unit(
        code=credit_code(1), name="甲", unit_type="enterprise", division="320506", principal="p"
    )
    snapshot = type(unit).Snapshot.take(unit)
    snapshot.state["added_later"] = 1  # type: ignore[index]
    with pytest.raises(TypeError, match="added_later"):
        SnapshotMapper(transcoder=None).to_stored_event(snapshot)  # type: ignore[arg-type]


def test_the_fingerprint_covers_the_fields_and_the_domains_code(monkeypatch, tmp_path):
    unit = KINDS[0]
    assert Kind(unit.cls, {**unit.fields, "code": bytes}).topic != unit.topic
    before = snapshots._code_digest()
    copied = tmp_path / "domain"
    copied.mkdir()
    for path in snapshots.Path(snapshots.domain.__file__).parent.glob("*.py"):
        (copied / path.name).write_bytes(path.read_bytes())
    monkeypatch.setattr(snapshots.domain, "__file__", str(copied / "__init__.py"))
    snapshots._code_digest.cache_clear()
    try:
        assert snapshots._code_digest() == before
        (copied / "agreement.py").write_bytes((copied / "agreement.py").read_bytes() + b"\n")
        snapshots._code_digest.cache_clear()
        assert snapshots._code_digest() != before
    finally:
        snapshots._code_digest.cache_clear()
