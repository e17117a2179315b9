"""Hash chains: an untouched ledger verifies clean, and every way of changing the
stored events behind the ledger's back — altering, deleting, inserting, reordering —
is named by aggregate, version and position, on both stores."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bootstrap import Ledger
from domain.errors import TamperedRecord
from tests.factories import credit_code


@pytest.fixture
def unit_ledger(ledger: Ledger) -> Iterator[tuple[Ledger, Any]]:
    """Two units, the first renamed twice (versions 1–3), a community founded."""
    unit = ledger.register_unit(
        code=credit_code(1), name="甲公司", unit_type="enterprise", division="320506", principal="p"
    )
    ledger.register_unit(
        code=credit_code(2), name="乙公司", unit_type="enterprise", division="320506", principal="p"
    )
    for i, name in enumerate(("甲公司二", "甲公司三")):
        ledger.rename_unit(unit.id, name=name, effective_on=f"2025-0{i + 1}-01", principal="p")
    ledger.found_community(
        name="苏州联合体",
        kind="city",
        industry="电子",
        division="320500",
        founded_on="2024-01-01",
        principal="p",
    )
    yield ledger, unit.id


def sql(ledger: Ledger, text: str, params: tuple = ()) -> list[Any]:
    """Run SQL straight on the database, as someone bypassing the ledger would."""
    chain = ledger.chain
    text = text.format(events=chain.events, chain=chain.table, pos=chain.position)
    with ledger.factory.datastore.transaction(commit=True) as cursor:
        cursor.execute(text.replace("?", chain.p), params)
        try:
            return [dict(r) for r in cursor.fetchall()]
        except Exception:
            return []


def forge(ledger: Ledger, unit: Any, version: int, old: str, new: str) -> dict[str, Any]:
    """Change a name inside a stored event's data; returns the row as it was."""
    before = row(ledger, unit, version)
    forged = bytes(before["state"]).replace(old.encode(), new.encode())
    sql(
        ledger,
        "UPDATE {events} SET state = ? WHERE originator_id = ? AND originator_version = ?",
        (forged, ledger.chain.key(unit), version),
    )
    return before


def row(ledger: Ledger, unit: Any, version: int) -> dict[str, Any]:
    return sql(
        ledger,
        "SELECT {pos} AS position, topic, state FROM {events} "
        "WHERE originator_id = ? AND originator_version = ?",
        (ledger.chain.key(unit), version),
    )[0]


def test_an_untouched_ledger_verifies_clean(unit_ledger):
    ledger, _ = unit_ledger
    result = ledger.verify()
    assert result.ok and result.problems == []
    assert result.events_checked == 5 == ledger.recorder.max_notification_id()


def test_an_altered_event_is_named_by_aggregate_version_and_position(unit_ledger):
    ledger, unit = unit_ledger
    before = forge(ledger, unit, 2, "甲公司二", "丙公司")
    result = ledger.verify()
    assert not result.ok
    assert [(p.kind, p.aggregate, p.version, p.position) for p in result.problems] == [
        ("altered", unit, 2, before["position"])
    ]


def test_a_deleted_event_is_named(unit_ledger):
    ledger, unit = unit_ledger
    sql(
        ledger,
        "DELETE FROM {events} WHERE originator_id = ? AND originator_version = ?",
        (ledger.chain.key(unit), 2),
    )
    problems = ledger.verify().problems
    assert problems and {(p.kind, p.aggregate, p.version) for p in problems} == {
        ("deleted", unit, 2)
    }


def test_an_event_inserted_behind_the_ledgers_back_is_named(unit_ledger):
    ledger, unit = unit_ledger
    copy = row(ledger, unit, 3)
    sql(
        ledger,
        "INSERT INTO {events} (originator_id, originator_version, topic, state) "
        "VALUES (?, ?, ?, ?)",
        (ledger.chain.key(unit), 4, copy["topic"], bytes(copy["state"])),
    )
    problems = ledger.verify().problems
    assert [(p.kind, p.aggregate, p.version) for p in problems] == [("inserted", unit, 4)]


def test_events_swapped_in_the_log_are_named_as_reordered(unit_ledger):
    ledger, unit = unit_ledger
    two, three = row(ledger, unit, 2)["position"], row(ledger, unit, 3)["position"]
    key, spare = ledger.chain.key(unit), 1_000_000
    for version, position in ((2, spare), (3, two), (2, three)):
        sql(
            ledger,
            "UPDATE {events} SET {pos} = ? WHERE originator_id = ? AND originator_version = ?",
            (position, key, version),
        )
    problems = ledger.verify().problems
    assert ("reordered", unit, 2, three) in {
        (p.kind, p.aggregate, p.version, p.position) for p in problems
    }


def test_the_ledger_refuses_to_append_to_an_aggregate_whose_head_was_altered(unit_ledger):
    ledger, unit = unit_ledger
    forge(ledger, unit, 3, "甲公司三", "丁公司")
    before = ledger.recorder.max_notification_id()
    other = Ledger(ledger.url)  # a process that has not kept the unit in memory
    try:
        with pytest.raises(TamperedRecord, match="version 3 does not match its hash"):
            other.rename_unit(unit, name="戊公司", effective_on="2025-03-01", principal="p")
    finally:
        other.close()
    assert ledger.recorder.max_notification_id() == before


def test_aggregates_recorded_before_chains_existed_are_chained_when_next_appended(unit_ledger):
    ledger, unit = unit_ledger
    sql(ledger, "DELETE FROM {chain}")
    assert {p.kind for p in ledger.verify().problems} == {"inserted"}
    ledger.rename_unit(unit, name="己公司", effective_on="2025-04-01", principal="p")
    problems = ledger.verify().problems
    assert unit not in {p.aggregate for p in problems}  # its whole history is chained now
    assert problems  # the other unit and the community still are not
