"""A command reads the aggregates this process keeps without asking the store what
others recorded since; its save is refused if anything it read has changed, and it is
decided again on fresh state (ADR 0034). Two ledgers on one store stand for two
processes: whatever one records, a command of the other decides on it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError

from application.repository import ABSENT, READS, ReadSet
from bootstrap import Ledger
from domain.council import council_id_for
from domain.errors import AlreadyMember, AlreadyRegistered
from tests.factories import city_body_with_units, credit_code


@pytest.fixture
def two(database_url: str) -> Iterator[tuple[Ledger, Ledger]]:
    here, there = Ledger(database_url), Ledger(database_url)
    try:
        yield here, there
    finally:
        here.close()
        there.close()


class Saves:
    """The recorder's recordings as the ledger asks for them: the read set each one
    was sent with, and whether the store took it."""

    def __init__(self, ledger: Ledger, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[dict[Any, int], bool]] = []
        insert = ledger.recorder.insert_events

        def recorded(stored_events: Any, **kwargs: Any) -> Any:
            try:
                result = insert(stored_events, **kwargs)
            except IntegrityError:
                self.calls.append((dict(kwargs.get("reads") or {}), False))
                raise
            self.calls.append((dict(kwargs.get("reads") or {}), True))
            return result

        monkeypatch.setattr(ledger.recorder, "insert_events", recorded)


def admissions(ledger: Ledger, body: Any, code: str) -> int:
    unit = ledger.unit(code).id
    return sum(1 for p in ledger.community(body).periods if p.unit_id == unit)


def test_a_stale_kept_body_is_decided_again_and_the_refusal_is_the_fresh_one(two) -> None:
    here, there = two
    body, (code,) = city_body_with_units(here, 1)
    here.community(body)  # kept here, before the other process admits the unit
    there.admit_member(body, code, role="participant", effective_on="2024-02-01", principal="q")
    with pytest.raises(AlreadyMember):
        here.admit_member(body, code, role="participant", effective_on="2024-02-01", principal="p")
    assert admissions(here, body, code) == admissions(there, body, code) == 1


def test_a_refusal_decided_on_a_stale_read_is_decided_again_before_it_is_given(two) -> None:
    here, there = two
    body, (code,) = city_body_with_units(here, 1)
    here.admit_member(body, code, role="participant", effective_on="2024-02-01", principal="p")
    # Kept here as a member; the other process records the exit.
    there.exit_member(body, code, reason="withdrawal", effective_on="2024-06-01", principal="q")
    # Stale, here would refuse the second admission (already a member) without a save
    # to check it against; fresh, it is a re-admission after the exit.
    here.admit_member(body, code, role="participant", effective_on="2024-09-01", principal="p")
    assert admissions(there, body, code) == 2
    # Likewise the other way: kept there as no member, the unit exits again.
    there.exit_member(body, code, reason="withdrawal", effective_on="2024-10-01", principal="q")
    assert not here.community(body).is_member_on(here.unit(code).id, date(2024, 10, 2))


def test_an_aggregate_only_read_is_checked_at_the_save(two, monkeypatch) -> None:
    """Admitting a unit records on the body and only reads the unit: the unit renamed
    by the other process since it was kept here makes the first save a conflict, and
    the second, with the unit read fresh, is taken."""
    here, there = two
    body, (code,) = city_body_with_units(here, 1)
    unit = here.unit(code)
    kept_at = unit.version
    there.rename_unit(code, name="新名称", effective_on="2024-01-15", principal="q")
    saves = Saves(here, monkeypatch)
    here.admit_member(body, code, role="participant", effective_on="2024-02-01", principal="p")
    # The re-run reads everything fresh and has nothing to check.
    assert saves.calls == [({unit.id: kept_at}, False), ({}, True)]
    assert admissions(there, body, code) == 1


def test_an_aggregate_found_absent_is_checked_for_its_creation(two, monkeypatch) -> None:
    """A body with no council yet is read as version 0: a council begun meanwhile by
    the other process refuses the save, as any change would."""
    here, _ = two
    body, (code,) = city_body_with_units(here, 1)
    here.admit_member(body, code, role="participant", effective_on="2024-02-01", principal="p")
    saves = Saves(here, monkeypatch)
    here.exit_member(body, code, reason="withdrawal", effective_on="2024-06-01", principal="p")
    (reads, taken), *_ = saves.calls
    assert taken and 0 in reads.values()  # the council, found absent


def test_the_store_refuses_a_recording_whose_reads_have_moved_on(ledger: Ledger) -> None:
    """The recorders' check itself, on both stores: a version read that had a later one
    stored by the position the command began from is a conflict, and nothing is
    recorded; one stored after that position is not."""
    _, (code, other) = city_body_with_units(ledger, 2)
    unit = ledger.unit(code)
    ledger.rename_unit(code, name="新名称", effective_on="2024-01-15", principal="q")
    renamed_at = ledger.recorder.max_notification_id()
    before = renamed_at
    renamed = ledger.unit(other)
    renamed.rename("另一个名称", date(2024, 2, 1), "p")
    events = renamed.collect_events()
    with pytest.raises(IntegrityError):
        ledger.events.put(events, reads={unit.id: unit.version})
    with pytest.raises(IntegrityError):  # read when the rename was already stored
        ledger.events.put(events, reads={unit.id: unit.version}, reads_head=renamed_at)
    assert ledger.recorder.max_notification_id() == before
    assert ledger.recorder.reads_changed({unit.id: unit.version})
    assert ledger.recorder.reads_changed({unit.id: unit.version}, renamed_at)
    assert not ledger.recorder.reads_changed({unit.id: unit.version}, renamed_at - 1)
    assert not ledger.recorder.reads_changed({unit.id: unit.version + 1})
    # Read before the rename was stored: a change made while the command ran, which
    # the check lets pass as a fast-forward at the read would have.
    ledger.events.put(events, reads={unit.id: unit.version}, reads_head=renamed_at - 1)
    assert ledger.recorder.max_notification_id() == before + 1


def test_a_unit_registered_elsewhere_is_refused_here_without_a_lookup_first(
    two, monkeypatch
) -> None:
    """A new registration does not ask the store whether the code is taken when this
    process has never seen it: the store refuses the record if it exists, and the
    command, run again with the read fresh, gives the refusal in the user's words."""
    here, there = two
    code = credit_code(7)
    there.register_unit(
        code=code, name="先登记的", unit_type="enterprise", division="320506", principal="q"
    )
    before = here.recorder.max_notification_id()
    saves = Saves(here, monkeypatch)
    with pytest.raises(AlreadyRegistered, match="先登记的"):
        here.register_unit(
            code=code, name="后登记的", unit_type="enterprise", division="320506", principal="p"
        )
    assert [taken for _, taken in saves.calls] == [False]
    assert here.recorder.max_notification_id() == before
    assert here.unit(code).name == "先登记的"


def test_a_body_kept_without_a_council_sees_the_council_begun_elsewhere(two, monkeypatch) -> None:
    """A council found absent is kept as absent (no lookup on the next command); once
    the other process begins one, the next command that reads it here is refused at
    its save and decided again on the council as it stands."""
    here, there = two
    body, codes = city_body_with_units(here, 3)
    for code in codes:
        here.admit_member(body, code, role="participant", effective_on="2024-02-01", principal="p")
    here.exit_member(body, codes[0], reason="withdrawal", effective_on="2024-03-01", principal="p")
    council = council_id_for(body)
    assert here.repository.cache.get(council) is ABSENT
    there.assign_seat(
        body,
        codes[1],
        representative="张三",
        office="chair",
        effective_on="2024-04-01",
        principal="q",
    )
    saves = Saves(here, monkeypatch)
    here.exit_member(body, codes[2], reason="withdrawal", effective_on="2024-05-01", principal="p")
    assert [taken for _, taken in saves.calls] == [False, True]
    assert here.repository.cache.get(council) is not ABSENT


def test_an_aggregate_being_saved_by_another_thread_is_read_fresh(ledger: Ledger) -> None:
    """From before a save records until its new version is kept, the kept one may be
    older than the store's: a command reads it fresh meanwhile, not as kept."""
    _, (code,) = city_body_with_units(ledger, 1)
    unit = ledger.unit(code)
    repository = ledger.repository

    def read_in_a_command() -> ReadSet:
        reads = ReadSet(fresh=False)
        token = READS.set(reads)
        try:
            repository.get(unit.id)
        finally:
            READS.reset(token)
        return reads

    assert read_in_a_command().unchecked  # kept, nobody saving it: as kept
    with repository.saving([unit]):
        assert not read_in_a_command().unchecked  # being saved: fresh
    assert read_in_a_command().unchecked
