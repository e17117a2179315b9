"""Likely duplicates (issue 17): a body founded again with the name and division of one
already recorded, or a meeting recorded again on its day with the same seats, is most
often the same thing typed twice. It is refused, recording nothing, unless the user says
it is another (``--again``; over HTTP ``"again": true``)."""

from __future__ import annotations

import json

import pytest
from freezegun import freeze_time

from tests.cli.steps import SEATS, council_body_in, meeting


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time("2025-07-15T02:00:00Z") as clock:
        yield clock


FOUND = (
    "community", "found", "--name", "深圳市域产教联合体", "--kind", "市域", "--industry",
    "电子信息", "--division", "440300", "--founded-on", "2025-06-01",
)  # fmt: skip


def bodies(run) -> list[dict]:
    code, out, err = run("community", "list", "--format", "json")
    assert code == 0, err
    return json.loads(out)


def test_a_body_founded_twice_is_refused_unless_confirmed(run, ledger):
    first = council_body_in(ledger)
    code, _, err = run(*FOUND)
    assert code != 0
    assert "深圳市域产教联合体 in 440300 was already founded on 2024-01-01" in err
    assert f"(id {first})" in err and "--again" in err
    assert len(bodies(run)) == 1  # nothing recorded
    # the same name elsewhere is another body; full-width spaces do not hide a duplicate
    code, _, err = run(*FOUND[:-3], "440305", "--founded-on", "2025-06-01")
    assert code == 0, err
    code, _, err = run(*[" 深圳市域 产教联合体" if w == "深圳市域产教联合体" else w for w in FOUND])
    assert code != 0 and "already founded" in err
    code, _, err = run(*FOUND, "--again")
    assert code == 0, err
    assert len(bodies(run)) == 3


def test_a_meeting_recorded_twice_is_refused_unless_confirmed(run, ledger):
    body = council_body_in(ledger)
    first = meeting(run, "联合体", "2025-03-01", SEATS[:4])
    again = ("council", "meeting", "record", "联合体", "--held-on", "2025-3-1", "--present")
    code, _, err = run(*again, *reversed(SEATS[:4]))  # the same seats, in another order
    assert code != 0
    assert f"meeting {first} of this council, on 2025-03-01 with the same 4 seats" in err
    assert len(ledger.council(body).meetings) == 1
    # other seats present that day: another meeting, no question asked
    assert meeting(run, "联合体", "2025-03-01", SEATS[:5]) == first + 1
    code, out, err = run(*again, *SEATS[:4], "--again", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["meeting"] == first + 2
    assert len(ledger.council(body).meetings) == 3


def test_over_http_again_is_a_body_field(ledger):
    from starlette.testclient import TestClient

    from api.app import create_app
    from api.tokens import Tokens
    from projections.read_models import open_store

    council_body_in(ledger)
    token = Tokens(open_store(ledger)).issue(role="admin", name="t", issued_by="t").token
    body = {
        "name": "深圳市域产教联合体",
        "kind": "city",
        "industry": "电子信息",
        "division": "440300",
        "founded_on": "2025-06-01",
    }
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(ledger=ledger)) as client:
        refused = client.post("/communities", json=body, headers=headers)
        assert refused.status_code == 409, refused.text
        assert "already founded" in refused.json()["detail"]
        confirmed = client.post("/communities", json={**body, "again": True}, headers=headers)
        assert confirmed.status_code == 201, confirmed.text
        assert len(client.get("/communities", headers=headers).json()) == 2
