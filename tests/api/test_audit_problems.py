"""Over HTTP, proofs and exports that would rely on an event whose stored data was
changed in the database are refused with 409 and a problem naming the event; untouched,
they answer 200 as before. On both stores."""

from __future__ import annotations

import pytest

from tests.api.support import PROBLEM
from tests.factories import credit_code
from tests.tampering import alter_stored_event, body_with_an_admission

TYPE = "urn:chanjiao:problem:tampered-record"


@pytest.fixture
def body(api):
    """A body that admitted a unit on 2024-02-01 (the body's version 2)."""
    return body_with_an_admission(api.ledger)


def alter(api, body) -> int:
    return alter_stored_event(api.ledger.url, body, 2, b'"2024-02-01"', b'"2024-02-09"')


def refused(response, body, position: int) -> str:
    assert (response.status_code, response.headers["content-type"]) == (409, PROBLEM)
    problem = response.json()
    assert (problem["type"], problem["status"]) == (TYPE, 409)
    assert f"altered (aggregate {body}, version 2, position {position})" in problem["detail"]
    return problem["detail"]


def test_an_inclusion_proof_of_an_altered_event_is_a_409_naming_it(api, body):
    api.request("POST", "/audit/checkpoints")
    position = alter(api, body)
    detail = refused(
        api.request("GET", "/audit/proofs/inclusion", params={"position": position}), body, position
    )
    assert "no proof is given" in detail


def test_a_consistency_proof_over_an_altered_event_is_a_409_naming_it(api, body):
    first = api.request("POST", "/audit/checkpoints").json()
    api.ledger.rename_unit(
        credit_code(1), name="甲公司二", effective_on="2025-01-01", principal="p"
    )
    api.request("POST", "/audit/checkpoints")
    position = alter(api, body)
    refused(
        api.request("GET", "/audit/proofs/consistency", params={"first": first["size"]}),
        body,
        position,
    )


def test_an_export_of_a_log_that_does_not_verify_is_a_409_naming_the_event(api, body):
    position = alter(api, body)
    detail = refused(api.request("GET", "/audit/export"), body, position)
    assert "no checkpoint was signed" in detail
    refused(api.request("GET", "/audit/export", params={"community_id": str(body)}), body, position)


def test_untouched_the_proofs_and_the_export_answer_200(api, body):
    first = api.request("POST", "/audit/checkpoints").json()
    api.ledger.rename_unit(
        credit_code(1), name="甲公司二", effective_on="2025-01-01", principal="p"
    )
    api.request("POST", "/audit/checkpoints")
    inclusion = api.request("GET", "/audit/proofs/inclusion", params={"position": 3})
    assert (inclusion.status_code, inclusion.json()["verified"]) == (200, True)
    consistency = api.request("GET", "/audit/proofs/consistency", params={"first": first["size"]})
    assert (consistency.status_code, consistency.json()["verified"]) == (200, True)
    export = api.request("GET", "/audit/export")
    assert export.status_code == 200 and b'"kind":"manifest"' in export.content.splitlines()[-1]
