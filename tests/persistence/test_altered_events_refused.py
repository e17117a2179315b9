"""No answer relies on an event changed behind the ledger's back: with one byte of a
stored event's data altered in the database, proofs, exports and the read models
refuse and name it; untouched, they answer as before. On both stores."""

from __future__ import annotations

from datetime import date

import pytest

from bootstrap import Ledger
from domain.errors import TamperedRecord
from projections import membership_model
from projections.machinery import Store
from projections.read_models import MODELS, open_store
from tests.factories import credit_code
from tests.tampering import alter_stored_event, body_with_an_admission

ADMITTED = b'"effective_on":"2024-02-01"'
MOVED = b'"effective_on":"2024-02-09"'  # one byte: the member joins eight days later
ON = date(2024, 2, 5)


@pytest.fixture
def body(ledger: Ledger):
    """A body that admitted a unit on 2024-02-01 (the body's version 2)."""
    return body_with_an_admission(ledger)


def named(body, position: int) -> str:
    return f"altered (aggregate {body}, version 2, position {position})"


def test_an_inclusion_proof_of_an_altered_event_is_refused(ledger, body):
    ledger.checkpoint()
    position = alter_stored_event(ledger.url, body, 2, ADMITTED, MOVED)
    with pytest.raises(TamperedRecord) as refused:
        ledger.prove_inclusion(position)
    assert named(body, position) in str(refused.value)
    assert "no proof is given" in str(refused.value)
    assert ledger.prove_inclusion(1).verified  # the untouched events still have theirs


def test_a_consistency_proof_over_an_altered_event_is_refused(ledger, body):
    kept = ledger.checkpoint()
    ledger.rename_unit(credit_code(1), name="甲公司二", effective_on="2025-01-01", principal="p")
    ledger.checkpoint()
    position = alter_stored_event(ledger.url, body, 2, ADMITTED, MOVED)
    with pytest.raises(TamperedRecord) as refused:
        ledger.prove_consistency(kept.size)
    assert named(body, position) in str(refused.value)
    assert "no consistency proof is given" in str(refused.value)


def test_an_event_altered_after_the_proven_range_does_not_stop_a_consistency_proof(ledger, body):
    kept = ledger.checkpoint()
    ledger.rename_unit(credit_code(1), name="甲公司二", effective_on="2025-01-01", principal="p")
    latest = ledger.checkpoint()
    later = ledger.register_unit(
        code=credit_code(2), name="乙公司", unit_type="enterprise", division="320506", principal="p"
    )
    position = alter_stored_event(ledger.url, later.id, 1, b'"320506"', b'"320507"')
    assert position > latest.position
    assert ledger.prove_consistency(kept.size).verified
    with pytest.raises(TamperedRecord):  # but no checkpoint can be signed over it
        ledger.checkpoint()


def test_a_rebuild_refuses_to_fold_an_altered_event_and_the_live_model_answers_as_before(
    ledger, body
):
    store = open_store(ledger)
    before = membership_model.members(store, body, as_of=ON)
    assert [m.unit_id for m in before.members] == [ledger.unit(credit_code(1)).id]
    position = alter_stored_event(ledger.url, body, 2, ADMITTED, MOVED)
    with pytest.raises(TamperedRecord) as refused:
        store.rebuild("membership")
    assert named(body, position) in str(refused.value)
    assert "not folded" in str(refused.value)
    assert membership_model.members(store, body, as_of=ON) == before
    assert [(name, behind) for name, _, behind in store.status()] == [(m.name, 0) for m in MODELS]


def test_a_catch_up_refuses_to_fold_an_altered_event_it_has_not_read_yet(ledger, body):
    position = alter_stored_event(ledger.url, body, 2, ADMITTED, MOVED)
    store = Store(ledger, MODELS)  # read models that have not read the log yet
    with pytest.raises(TamperedRecord) as refused:
        store.catch_up()
    assert named(body, position) in str(refused.value)
    assert {p for _, p, _ in store.status()} == {0}  # the batch holding it was not applied


def test_an_event_written_without_its_hash_is_not_folded(ledger, body):
    with ledger.factory.datastore.transaction(commit=True) as cursor:
        cursor.execute(f"DELETE FROM {ledger.chain.table}")
    with pytest.raises(TamperedRecord, match="inserted"):
        Store(ledger, MODELS).catch_up()


def test_untouched_the_proofs_and_the_rebuild_answer_as_before(ledger, body):
    store = open_store(ledger)
    before = membership_model.members(store, body, as_of=ON)
    kept = ledger.checkpoint()
    ledger.rename_unit(credit_code(1), name="甲公司二", effective_on="2025-01-01", principal="p")
    latest = ledger.checkpoint()
    assert ledger.prove_inclusion(3).verified
    assert ledger.prove_consistency(kept.size).verified
    for model in MODELS:
        assert store.rebuild(model.name) == latest.position
    assert membership_model.members(store, body, as_of=ON) == before
    assert list(ledger.export().lines())[-1].startswith(b'{"kind":"manifest"')
