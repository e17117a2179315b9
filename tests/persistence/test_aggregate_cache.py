"""The ledger keeps aggregates in memory between commands (``AGGREGATE_CACHE_MAXSIZE``):
what another process records must still be seen, and a refused command must leave
nothing behind in memory."""

from __future__ import annotations

import contextlib
import io

import pytest

from bootstrap import Ledger
from tests.domain.test_kept_aggregates import demo_history
from tests.factories import city_body_with_units, credit_code
from tests.persistence.test_snapshots import same


def test_a_kept_aggregate_catches_up_with_what_another_process_recorded(database_url):
    here, there = Ledger(database_url), Ledger(database_url)
    try:
        assert here.repository.cache is not None
        code = credit_code(1)
        here.register_unit(
            code=code, name="旧名", unit_type="enterprise", division="320506", principal="p"
        )
        assert here.unit(code).name == "旧名"  # now kept in memory
        there.rename_unit(code, name="新名", effective_on="2025-01-01", principal="q")
        assert here.unit(code).name == "新名"
        here.relocate_unit(code, division="320505", effective_on="2025-02-01", principal="p")
        assert there.unit(code).division == "320505"
    finally:
        here.close()
        there.close()


def test_a_command_that_fails_to_save_leaves_the_kept_aggregate_as_it_was(
    database_url, monkeypatch
):
    ledger = Ledger(database_url)
    try:
        body, codes = city_body_with_units(ledger, 2)
        ledger.admit_member(
            body, codes[0], role="participant", effective_on="2024-02-01", principal="p"
        )

        def store_gone(*args, **kwargs):
            raise ConnectionError("the store went away")

        with monkeypatch.context() as patch:  # decided and applied, then not saved
            patch.setattr(ledger.recorder, "insert_events", store_gone)
            with pytest.raises(ConnectionError):
                ledger.admit_member(
                    body, codes[1], role="participant", effective_on="2024-03-01", principal="p"
                )
        kept = ledger.community(body)
        assert [p.unit_id for p in kept.active_members] == [ledger.unit(codes[0]).id]
        assert kept.version == 2
        ledger.admit_member(
            body, codes[1], role="participant", effective_on="2024-03-01", principal="p"
        )
        assert len(ledger.community(body).active_members) == 2
    finally:
        ledger.close()


def test_what_a_save_keeps_is_what_a_replay_of_the_store_gives(database_url):
    """A saved aggregate is kept as the command left it (``KeptAggregates.keep``), not
    as read back: for every aggregate of the demo's history, that state must be the
    state its stored events give, type for type, and a copy apart from the command's."""
    ledger = Ledger(database_url)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            demo_history(ledger)
        cache = ledger.repository.cache
        assert cache is not None
        ids = dict.fromkeys(
            n.originator_id for n in ledger.recorder.select_notifications(start=1, limit=100_000)
        )
        kept = {i: cache.get(i) for i in ids}  # KeyError: a saved aggregate was not kept
        for aggregate_id, aggregate in kept.items():
            replayed = ledger.repository.get(aggregate_id, version=aggregate.version)
            assert same(aggregate, replayed), aggregate_id
        unit = ledger.register_unit(
            code=credit_code(900),
            name="新单位",
            unit_type="enterprise",
            division="320506",
            principal="p",
        )
        assert cache.get(unit.id) is not unit and same(cache.get(unit.id), unit)
    finally:
        ledger.close()
