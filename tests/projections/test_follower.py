"""Read models off the request path (ADR 0023): a save only wakes the follower, and
every read still sees every event recorded before it began — its own writes, other
processes' writes, and whatever a slow or failing follower has not folded in yet.
On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time

import pytest

from bootstrap import Ledger
from domain.errors import ConcurrentChange
from projections import membership, membership_model, read_models
from projections.membership_model import Membership
from projections.read_models import open_store
from tests.factories import credit_code

BODY = {
    "kind": "development",
    "industry": "智能制造",
    "division": "330200",
    "founded_on": "2024-01-10",
    "principal": "秘书处",
}


def found(ledger: Ledger, name: str = "宁波市职业教育发展共同体"):
    return ledger.found_community(name=name, **BODY)


def unit(ledger: Ledger, serial: int):
    return ledger.register_unit(
        code=credit_code(serial),
        name=f"成员单位{serial}",
        unit_type="enterprise",
        division="320506",
        principal="秘书处",
    )


def behind(store) -> int:
    return max(b for _, _, b in store.status())


@pytest.fixture
def ledger(database_url):
    with Ledger(database_url) as it:
        yield it


def test_a_save_does_not_wait_for_the_read_models_but_the_next_read_sees_it(ledger):
    store = open_store(ledger, follow=True)  # never started: nothing follows
    body = found(ledger)
    assert behind(store) > 0  # the save left the read models behind …
    answer = membership_model.members(store, body.id)
    assert answer.community_name == "宁波市职业教育发展共同体"  # … and the read caught up
    assert behind(store) == 0


QUERIES = {
    "one row": ("SELECT code FROM {units} WHERE code = ?", ("later",)),
    "every row": ("SELECT code FROM {units} ORDER BY code", ()),
    "DISTINCT": ("SELECT DISTINCT code FROM {units} ORDER BY code", ()),
    "UNION": (
        "SELECT code FROM {units} WHERE code = ? UNION SELECT code FROM {units} "
        "WHERE code <> ? ORDER BY code",
        ("later", "later"),
    ),
}


@pytest.mark.parametrize("tuples", [False, True], ids=["named", "tuples"])
@pytest.mark.parametrize("shape", QUERIES)
def test_an_answer_of_one_query_sees_every_event_recorded_before_it(ledger, shape, tuples):
    """``Store.read`` carries its currency check in the query where it can. Whether the
    query finds rows from before the models fell behind, finds none, or cannot take
    the check's columns, it answers from models that have caught up — with rows by
    column name or, as tuples, holding the query's own columns only."""
    store = open_store(ledger, follow=True)  # never started: nothing follows
    first = unit(ledger, 1).code
    store.ready()
    later = unit(ledger, 2).code
    assert behind(store) > 0
    sql, params = QUERIES[shape]
    params = tuple(later if p == "later" else p for p in params)
    rows = store.read(store.model(Membership).sql(sql), params, tuples=tuples)
    codes = [tuple(r) for r in rows] if tuples else [(r["code"],) for r in rows]
    assert codes == [(c,) for c in ([later] if shape == "one row" else sorted([first, later]))]
    assert behind(store) == 0


def test_a_read_sees_what_another_process_recorded_just_before(database_url):
    with Ledger(database_url) as writer, Ledger(database_url) as reader:
        store = open_store(reader, follow=True)
        store.ready()
        body = found(writer)
        member = unit(writer, 1)
        writer.admit_member(
            body.id, member.id, role="participant", effective_on="2024-02-01", principal="秘书处"
        )
        answer = membership_model.members(store, body.id, as_of="2024-03-01")
        assert [m.unit_id for m in answer.members] == [member.id]


def test_the_follower_brings_the_read_models_up_without_a_read(ledger):
    store = open_store(ledger, follow=True)
    store.follower.start()
    try:
        found(ledger)
        deadline = time.monotonic() + 10
        while behind(store) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert behind(store) == 0
    finally:
        store.follower.stop()


def test_writers_and_the_follower_together_fold_every_event_exactly_once(ledger):
    store = open_store(ledger, follow=True)
    store.follower.start()
    body = found(ledger)
    units = [unit(ledger, n).id for n in range(1, 25)]
    failures: list[BaseException] = []

    def admit(mine: list) -> None:
        try:
            for member in mine:
                for _ in range(50):  # another writer moved the body first: try again
                    try:
                        ledger.admit_member(
                            body.id,
                            member,
                            role="participant",
                            effective_on="2024-02-01",
                            principal="秘书处",
                        )
                        break
                    except ConcurrentChange:
                        time.sleep(0.005)
                else:
                    raise AssertionError(f"{member} was never admitted")
        except BaseException as e:  # reported by the test
            failures.append(e)

    writers = [threading.Thread(target=admit, args=(units[i::3],)) for i in range(3)]
    for w in writers:
        w.start()
    for w in writers:
        w.join()
    store.follower.stop()
    assert not failures
    read = membership_model.members(store, body.id, as_of="2024-03-01")
    events = membership.members(ledger, body.id, as_of="2024-03-01")
    assert sorted(m.unit_id for m in read.members) == sorted(units)
    assert read == events
    model = store.model(Membership)
    rows = store.query(model.sql("SELECT COUNT(*) AS n FROM {periods}"))[0]["n"]
    assert rows == len(units)  # no period folded twice


def test_a_follower_that_fails_costs_a_read_time_never_a_stale_answer(ledger, monkeypatch):
    calls: list[int | None] = []
    monkeypatch.setattr(read_models, "_catch_up", lambda store, position: calls.append(position))
    store = open_store(ledger, follow=True)
    store.follower.start()
    try:
        body = found(ledger)
        deadline = time.monotonic() + 10
        while not calls and time.monotonic() < deadline:
            time.sleep(0.01)
        assert calls  # the follower ran, and did nothing
        assert behind(store) > 0
        assert membership_model.members(store, body.id).community_name == body.name
    finally:
        store.follower.stop()
