"""The read-model machinery: exactly once across concurrent catch-ups and crashes,
rebuilds that can be interrupted and resumed, and reads that see their own writes.
On SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import gc
import io
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bootstrap import Ledger
from cli.demo import load_demo
from projections import machinery, membership, membership_model
from projections.machinery import Store
from projections.membership_model import Membership

DATES = ["2023-07-01", "2024-06-30", "2024-07-01", "2025-04-10", "2026-01-01"]
ROOT = Path(__file__).resolve().parents[2]


def demo(url: str) -> None:
    ledger = Ledger(url)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            load_demo(ledger, "json")
    finally:
        ledger.close()


def from_events(ledger: Ledger) -> dict:
    return {
        (c, d): membership.members(ledger, c, as_of=d)
        for c in ledger.community_ids()
        for d in DATES
    }


def from_read_model(store: Store) -> dict:
    return {
        (c, d): membership_model.members(store, c, as_of=d)
        for c in store.ledger.community_ids()
        for d in DATES
    }


def period_rows(store: Store) -> int:
    """The periods in force in the read model (an annulment keeps the row it closes)."""
    model = store.model(Membership)
    query = "SELECT COUNT(*) AS n FROM {periods} WHERE annulled_at IS NULL"
    return store.query(model.sql(query))[0]["n"]


def periods_in_events(ledger: Ledger) -> int:
    return sum(len(ledger.community(c).periods) for c in ledger.community_ids())


@pytest.fixture
def demo_url(database_url: str) -> str:
    demo(database_url)
    return database_url


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(machinery, "BATCH", 7)


def test_a_read_model_filled_in_small_batches_answers_as_the_events_do(demo_url, small_batches):
    ledger = Ledger(demo_url)
    try:
        store = Store(ledger, [Membership])
        assert store.status() == [("membership", 0, store.head())]
        store.catch_up()
        assert store.status() == [("membership", store.head(), 0)]
        assert from_read_model(store) == from_events(ledger)
        assert period_rows(store) == periods_in_events(ledger)
    finally:
        ledger.close()


def test_concurrent_catch_ups_apply_each_event_exactly_once(demo_url, small_batches):
    ledgers = [Ledger(demo_url) for _ in range(4)]
    try:
        stores = [Store(ledger, [Membership]) for ledger in ledgers]
        barrier = threading.Barrier(len(stores))

        def catch_up(store: Store) -> int:
            barrier.wait(timeout=10)
            return store.catch_up()

        threads = [threading.Thread(target=catch_up, args=(s,)) for s in stores]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert all(s.status()[0][2] == 0 for s in stores)
        assert period_rows(stores[0]) == periods_in_events(ledgers[0])
        assert from_read_model(stores[0]) == from_events(ledgers[0])
    finally:
        for ledger in ledgers:
            ledger.close()


def test_threads_sharing_one_store_catch_up_one_at_a_time(demo_url, small_batches, monkeypatch):
    """A model's memory belongs to one thread at a time (the HTTP API's threads share
    a store): while one thread is still noting a committed batch, another must not
    start the next batch on the same model."""
    ledger = Ledger(demo_url)
    try:
        store = Store(ledger, [Membership])
        holding, release, overlapped = threading.Event(), threading.Event(), []
        begin, committed = Membership.begin, Membership.committed

        def watched_begin(self, events, cursor):
            if holding.is_set() and not release.is_set():
                overlapped.append(threading.current_thread().name)
            begin(self, events, cursor)

        def held_committed(self, position):
            if not holding.is_set():  # the first batch's thread stops here a while
                holding.set()
                release.wait(timeout=10)
            committed(self, position)

        monkeypatch.setattr(Membership, "begin", watched_begin)
        monkeypatch.setattr(Membership, "committed", held_committed)
        first = threading.Thread(target=store.catch_up, name="first")
        second = threading.Thread(target=store.catch_up, name="second")
        first.start()
        assert holding.wait(timeout=10)
        second.start()
        second.join(timeout=1.0)  # long enough to have started the next batch, if it could
        release.set()
        first.join(timeout=60)
        second.join(timeout=60)
        assert overlapped == []
        assert store.status()[0][2] == 0
        assert from_read_model(store) == from_events(ledger)
    finally:
        ledger.close()


def test_a_failure_mid_batch_leaves_neither_rows_nor_position_behind(demo_url, small_batches):
    ledger = Ledger(demo_url)
    try:
        store = Store(ledger, [Membership])
        model = store.model(Membership)
        real_apply, seen = model.apply, []

        def failing(event, cursor):
            seen.append(event)
            if len(seen) == 10:  # the third event of the second batch
                raise RuntimeError("power cut")
            real_apply(event, cursor)

        model.apply = failing  # type: ignore[method-assign]
        with pytest.raises(RuntimeError, match="power cut"):
            store.catch_up()
        position = store.position("membership")
        assert 0 < position < store.head()
        model.apply = real_apply  # type: ignore[method-assign]
        store.catch_up()
        assert period_rows(store) == periods_in_events(ledger)
        assert from_read_model(store) == from_events(ledger)
    finally:
        ledger.close()


KILLER = """
import os, signal, sys
from bootstrap import Ledger
from projections import machinery
from projections.machinery import Store
from projections.membership_model import Membership
machinery.BATCH = 7
ledger = Ledger(sys.argv[1])
store = Store(ledger, [Membership])
model = store.model(Membership)
real, count = model.apply, [0]
def apply(event, cursor):
    count[0] += 1
    real(event, cursor)
    if count[0] == int(sys.argv[2]):
        os.kill(os.getpid(), signal.SIGKILL)  # mid-transaction: rows written, not committed
model.apply = apply
store.catch_up()
"""


def test_a_process_killed_mid_batch_resumes_and_ends_as_if_it_never_stopped(demo_url):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for kill_at in (24, 31):  # inside a batch, twice: each run counts from its own start
        done = subprocess.run(
            [sys.executable, "-c", KILLER, demo_url, str(kill_at)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == -signal.SIGKILL, done.stderr
    ledger = Ledger(demo_url)
    try:
        store = Store(ledger, [Membership])
        assert 0 < store.position("membership") < store.head()
        store.catch_up()
        assert period_rows(store) == periods_in_events(ledger)
        assert from_read_model(store) == from_events(ledger)
    finally:
        ledger.close()


def test_an_interrupted_rebuild_resumes_and_the_old_model_answers_meanwhile(
    demo_url, small_batches
):
    ledger = Ledger(demo_url)
    try:
        store = Store(ledger, [Membership])
        store.catch_up()
        before = from_read_model(store)
        batches = []

        def interrupt(reached: int, head: int) -> None:
            batches.append(reached)
            if len(batches) == 3:
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            store.rebuild("membership", interrupt)
        assert store.position("membership" + machinery.SHADOW) == batches[-1]
        assert from_read_model(store) == before  # the live model still answers
        resumed = []
        store.rebuild("membership", lambda reached, head: resumed.append(reached))
        assert resumed[0] > batches[-1], "the rebuild resumed where it stopped"
        assert store.status() == [("membership", store.head(), 0)]
        assert from_read_model(store) == before
        assert period_rows(store) == periods_in_events(ledger)
        store.rebuild("membership")  # and again: the swapped-in tables rebuild cleanly
        assert from_read_model(store) == before
    finally:
        ledger.close()


def test_every_save_brings_the_read_models_up_to_date(database_url):
    from projections.read_models import open_store

    ledger = Ledger(database_url)
    try:
        store = open_store(ledger)
        body = ledger.found_community(
            name="宁波市职业教育发展共同体",
            kind="development",
            industry="智能制造",
            division="330200",
            founded_on="2024-01-10",
            principal="p",
        )
        assert all(behind == 0 for _, _, behind in store.status())
        store.wait(store.head(), timeout=1)
        model = store.model(Membership)
        rows = store.query(
            model.sql("SELECT name FROM {communities} WHERE community_id = ?"), (str(body.id),)
        )
        assert [r["name"] for r in rows] == ["宁波市职业教育发展共同体"]
    finally:
        ledger.close()


def test_a_read_model_added_later_catches_up_without_moving_the_others_back(
    demo_url, small_batches
):
    from projections.cost_sharing_model import CostSharing

    ledger = Ledger(demo_url)
    try:
        Store(ledger, [Membership]).catch_up()
        store = Store(ledger, [Membership, CostSharing])
        assert store.positions(["membership", "cost_sharing"]) == {
            "membership": store.head(),
            "cost_sharing": 0,
        }
        store.catch_up()
        assert [behind for _, _, behind in store.status()] == [0, 0]
        assert period_rows(store) == periods_in_events(ledger)
        assert from_read_model(store) == from_events(ledger)
    finally:
        ledger.close()


def test_a_units_memberships_across_bodies_read_as_the_events_have_them(demo_url):
    ledger = Ledger(demo_url)
    try:
        store = Store(ledger, [Membership])
        codes = [
            ledger.unit(u).code
            for u in {
                p.unit_id for c in ledger.community_ids() for p in ledger.community(c).periods
            }
        ]
        assert len(codes) > 30
        for code in codes:
            unit = ledger.unit(code)
            assert membership_model.unit_memberships(store, unit.id) == membership.unit_periods(
                ledger, unit.id
            )
    finally:
        ledger.close()


def test_a_read_model_whose_tables_changed_is_refilled_from_zero(demo_url, monkeypatch):
    ledger = Ledger(demo_url)
    try:
        Store(ledger, [Membership]).catch_up()
        changed = {**Membership.indexes, "by_code": "units(code)"}
        monkeypatch.setattr(Membership, "indexes", changed)
        store = Store(ledger, [Membership])
        assert store.position("membership") == 0
        assert from_read_model(store) == from_events(ledger)
        assert period_rows(store) == periods_in_events(ledger)
        assert Store(ledger, [Membership]).position("membership") == store.head()  # kept now
    finally:
        ledger.close()


def indexes(store: Store, model) -> set[str]:
    """Which of the model's ``indexes`` exist."""
    with store.datastore.transaction(commit=False) as cursor:
        return store.dialect.indexes(cursor, store.schema, list(model.index_statements()))


def column_type(store: Store, table: str, column: str) -> str:
    with store.datastore.transaction(commit=False) as cursor:
        if store.dialect.postgres:
            cursor.execute(
                "SELECT data_type AS t FROM information_schema.columns "
                "WHERE table_schema = %s AND table_name = %s AND column_name = %s",
                (store.schema, table, column),
            )
        else:
            cursor.execute(
                f"SELECT type AS t FROM pragma_table_info('{table}') WHERE name = ?", (column,)
            )
        return cursor.fetchone()["t"]


def test_tables_filled_from_zero_get_their_indexes_once_they_have_caught_up(
    demo_url, small_batches
):
    ledger = Ledger(demo_url)
    try:
        store = Store(ledger, [Membership])
        model = store.model(Membership)
        assert model.indexes and indexes(store, model) == set()  # filled without them
        batches = []

        def interrupt(reached: int, head: int) -> None:
            batches.append(reached)
            if len(batches) == 3:
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            store.catch_up(progress=interrupt)
        assert indexes(store, model) == set()  # not before the fill ends
        store.catch_up()
        assert indexes(store, model) == set(model.index_statements())
        # Native ids and dates on PostgreSQL, text on SQLite; read as text on both.
        native = store.dialect.postgres
        assert column_type(store, model.bare["periods"], "unit_id") == (
            "uuid" if native else "TEXT"
        )
        assert column_type(store, model.bare["periods"], "admitted_on") == (
            "date" if native else "TEXT"
        )
        assert from_read_model(store) == from_events(ledger)
    finally:
        ledger.close()


def test_a_fill_stopped_before_its_indexes_were_built_gets_them_from_the_next_store(
    demo_url, monkeypatch
):
    ledger = Ledger(demo_url)
    try:
        build = Store._build_indexes
        monkeypatch.setattr(Store, "_build_indexes", lambda self, models: None)
        store = Store(ledger, [Membership])
        store.catch_up()  # filled to the head; the process "stops" before its indexes
        model = store.model(Membership)
        assert indexes(store, model) == set()
        monkeypatch.setattr(Store, "_build_indexes", build)
        assert indexes(Store(ledger, [Membership]), model) == set(model.index_statements())
    finally:
        ledger.close()


def test_a_rebuild_builds_the_indexes_before_the_swap_under_the_live_names(demo_url, monkeypatch):
    ledger = Ledger(demo_url)
    try:
        store = Store(ledger, [Membership])
        store.catch_up()
        live, shadow = store.model(Membership), Membership(store.dialect, store.schema, True)
        seen = []
        swap = store.dialect.rename_index

        def rename(cursor, old, new, create):
            seen.append(indexes(store, shadow))  # built before the swap
            swap(cursor, old, new, create)

        with monkeypatch.context() as patch:
            patch.setattr(type(store.dialect), "rename_index", lambda self, *a: rename(*a))
            store.rebuild("membership")
        assert seen and seen[0] == set(shadow.index_statements())
        assert indexes(store, live) == set(live.index_statements())
        assert indexes(store, shadow) == set()
        assert store.positions([shadow.key, shadow.key + "#shape"]) == {
            shadow.key: 0,
            shadow.key + "#shape": 0,
        }
        store.rebuild("membership")  # and again: no name left behind collides
        assert indexes(store, live) == set(live.index_statements())
        assert from_read_model(store) == from_events(ledger)
    finally:
        ledger.close()


def test_tables_made_by_an_older_version_are_made_again_and_refilled(demo_url, monkeypatch):
    """A database made by an older version (here: ids and dates as text, as before
    they had their own types on PostgreSQL, one more index, and a table the model
    no longer has) refills itself: the shape of the tables differs, so the model is
    emptied, its retired tables dropped, and it is filled again as it is now."""
    ledger = Ledger(demo_url)
    try:
        tables = dict(Membership.tables)
        older = {
            name: columns.replace("{id}", "TEXT").replace("{date}", "TEXT")
            for name, columns in tables.items()
        }
        indexes = dict(Membership.indexes)
        monkeypatch.setattr(Membership, "tables", {**older, "roles": "period_id TEXT"})
        monkeypatch.setattr(Membership, "indexes", {**indexes, "by_code": "periods(code)"})
        Store(ledger, [Membership]).catch_up()
        monkeypatch.setattr(Membership, "tables", tables)
        monkeypatch.setattr(Membership, "indexes", indexes)
        store = Store(ledger, [Membership])
        model = store.model(Membership)
        assert store.position("membership") == 0
        native = store.dialect.postgres
        assert column_type(store, model.bare["periods"], "unit_id") == (
            "uuid" if native else "TEXT"
        )
        assert from_read_model(store) == from_events(ledger)
        assert period_rows(store) == periods_in_events(ledger)
        assert not table_exists(store, Membership.table("roles"))
    finally:
        ledger.close()


def table_exists(store: Store, table: str) -> bool:
    with store.datastore.transaction(commit=False) as cursor:
        if store.dialect.postgres:
            cursor.execute(
                "SELECT COUNT(*) AS n FROM information_schema.tables "
                "WHERE table_schema = %s AND table_name = %s",
                (store.schema, table),
            )
        else:
            cursor.execute(
                "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ?",
                (table,),
            )
        return cursor.fetchone()["n"] > 0


def test_what_a_model_remembers_between_batches_is_dropped_when_another_process_moved_it(
    database_url,
):
    """The membership model keeps the periods and divisions it has seen from one batch
    to the next. Two stores (as two processes) take turns: each must notice that the
    other applied events in between, or it would close a period the other one
    already closed and count a relocation in the wrong province."""
    from projections import provinces
    from tests.factories import credit_code

    ledger = Ledger(database_url)
    other_ledger = Ledger(database_url)
    try:
        first, second = Store(ledger, [Membership]), Store(other_ledger, [Membership])
        body = ledger.found_community(
            name="苏州市域产教联合体",
            kind="city",
            industry="智能制造",
            division="320500",
            founded_on="2024-01-02",
            principal="p",
        )
        unit = ledger.register_unit(
            code=credit_code(901),
            name="甲公司",
            unit_type="enterprise",
            division="320506",
            principal="p",
        )
        p = {"principal": "p"}
        ledger.admit_member(body.id, unit.id, role="participant", effective_on="2024-02-01", **p)
        first.catch_up()  # remembers an open period
        ledger.exit_member(body.id, unit.id, reason="withdrawal", effective_on="2024-03-01", **p)
        ledger.relocate_unit(unit.id, division="330212", effective_on="2024-04-01", **p)
        ledger.admit_member(body.id, unit.id, role="participant", effective_on="2024-05-01", **p)
        second.catch_up()  # applies the exit, the move and the second admission
        ledger.exit_member(body.id, unit.id, reason="withdrawal", effective_on="2024-06-01", **p)
        ledger.admit_member(body.id, unit.id, role="participant", effective_on="2024-07-01", **p)
        first.catch_up()  # must read again, not trust what it remembered
        for day in ("2024-02-15", "2024-03-15", "2024-05-15", "2024-06-15", "2024-07-15"):
            assert provinces.distribution(first, None, day) == (
                provinces.distribution_from_events(ledger, None, day)
            ), day
            assert membership_model.members(first, body.id, day) == (
                membership.members(ledger, body.id, day)
            ), day
        assert period_rows(first) == periods_in_events(ledger) == 3
    finally:
        ledger.close()
        other_ledger.close()


@pytest.mark.parametrize("failing_exit", [1, 3])
def test_a_batch_rolled_back_leaves_nothing_remembered_either(
    demo_url, small_batches, failing_exit
):
    """A batch that fails after admitting members in memory is rolled back; the
    retry must start from the tables, not from what the failed batch remembered,
    or the members it admitted would be counted twice and their exits lost."""
    from domain.community import Community
    from projections import provinces

    ledger = Ledger(demo_url)
    try:
        store = Store(ledger, [Membership])
        model = store.model(Membership)
        real_apply, exits = model.apply, [0]

        def failing(event, cursor):
            real_apply(event, cursor)
            if isinstance(event, Community.MemberExited):
                exits[0] += 1
                if exits[0] == failing_exit:
                    raise RuntimeError("power cut")

        model.apply = failing  # type: ignore[method-assign]
        with pytest.raises(RuntimeError, match="power cut"):
            store.catch_up()
        model.apply = real_apply  # type: ignore[method-assign]
        store.catch_up()
        assert period_rows(store) == periods_in_events(ledger)
        assert from_read_model(store) == from_events(ledger)
        for day in DATES:
            assert provinces.distribution(store, None, day) == (
                provinces.distribution_from_events(ledger, None, day)
            ), day
    finally:
        ledger.close()


def test_a_catch_up_collects_garbage_less_often_and_puts_the_thresholds_back(demo_url, monkeypatch):
    """While any catch-up runs, the collector's first generation waits for 50,000
    allocations; when the last one ends, the thresholds are as they were, also when
    catch-ups overlap or one fails."""
    gc_before = gc.get_threshold()
    gc.set_threshold(700, 11, 12)
    try:
        store = Store(Ledger(demo_url), [Membership])
        during: list[tuple[int, int, int]] = []
        real = Store._catch_up

        def watched(self, *args):
            during.append(gc.get_threshold())
            return real(self, *args)

        monkeypatch.setattr(Store, "_catch_up", watched)
        store.catch_up()
        assert during == [(50_000, 11, 12)]
        assert gc.get_threshold() == (700, 11, 12)
        with machinery.fewer_collections():  # another catch-up, in another thread
            store.catch_up()
            assert gc.get_threshold() == (50_000, 11, 12)  # not put back by the first to end
        assert gc.get_threshold() == (700, 11, 12)

        def fails(self, *args):
            raise RuntimeError("the database went away")

        monkeypatch.setattr(Store, "_catch_up", fails)
        with pytest.raises(RuntimeError):
            store.catch_up()
        assert gc.get_threshold() == (700, 11, 12)
        store.ledger.close()
    finally:
        gc.set_threshold(*gc_before)
