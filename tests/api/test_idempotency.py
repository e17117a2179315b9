"""``Idempotency-Key`` on POST (api.md, Errors): a retry gets the first answer and
records nothing; the same key for another request is refused; a failed command
keeps no key; keys are per token, survive a restart, and hold under concurrency."""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from adapters.idempotency import KeyRecorded
from api.idempotency import STALE
from bootstrap import Ledger
from domain.errors import AlreadyRegistered, InvalidInput
from tests.api.support import PROBLEM, Api, World, issue, serving
from tests.factories import credit_code

REPLAYED = "Idempotent-Replayed"


def post(w: World, path: str, body: Any, key: str, caller=None) -> httpx.Response:
    return w.api.request("POST", path, json=body, caller=caller, headers={"Idempotency-Key": key})


def total_costs(w: World) -> str:
    return w.api.get(f"/agreements/{w.agreement_id}/report")["total_costs"]


def _cost(w: World, amount: str = "250.00") -> tuple[str, dict[str, Any]]:
    return (
        f"/agreements/{w.agreement_id}/costs",
        {"amount": amount, "incurred_on": "2024-06-30", "description": "水电费"},
    )


REQUESTS: dict[str, Callable[[World], tuple[str, dict[str, Any]]]] = {
    "a cost": _cost,
    "a unit's registration": lambda w: (
        "/units",
        {"code": credit_code(900), "name": "重试公司", "type": "enterprise", "division": "320506"},
    ),
    "an admission": lambda w: (
        f"/communities/{w.community_id}/members",
        {"unit_id": w.register()["id"], "effective_on": "2025-01-01"},
    ),
    "a meeting": lambda w: (
        f"/communities/{w.community_id}/council/meetings",
        {"held_on": "2025-05-01", "present": w.unit_ids},
    ),
    "a rename": lambda w: (
        f"/units/{w.unit_ids[0]}/rename",
        {"name": "苏州智能装备集团", "effective_on": "2025-01-01"},
    ),
}


@pytest.mark.parametrize("what", list(REQUESTS))
def test_a_retry_with_the_same_key_and_body_gets_the_first_answer_and_records_nothing(
    world, what
) -> None:
    path, body = REQUESTS[what](world)
    costs = total_costs(world)
    first = post(world, path, body, "retry-1")
    assert first.status_code in (200, 201), first.text
    assert REPLAYED not in first.headers
    recorded = world.api.position()
    for _ in range(2):
        again = post(world, path, body, "retry-1")
        assert (again.status_code, again.content) == (first.status_code, first.content)
        assert again.headers[REPLAYED] == "true"
        assert again.headers["content-type"] == "application/json"
    assert world.api.position() == recorded
    if what == "a cost":
        assert (costs, total_costs(world)) == ("1234.50", "1484.50")


OTHER_REQUESTS = {
    "another body": lambda w: _cost(w, "250.01"),
    "another route": lambda w: (
        f"/agreements/{w.agreement_id}/benefits",
        {"amount": "250.00", "realized_on": "2024-06-30", "description": "水电费"},
    ),
}


@pytest.mark.parametrize("other", list(OTHER_REQUESTS))
def test_the_same_key_for_another_request_is_refused_and_records_nothing(world, other) -> None:
    path, body = _cost(world)
    first = post(world, path, body, "k-1")
    assert first.status_code == 201
    recorded = world.api.position()
    response = post(world, *OTHER_REQUESTS[other](world), "k-1")
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert "already used for a different request" in response.json()["detail"]
    assert world.api.position() == recorded
    assert total_costs(world) == "1484.50"
    again = post(world, path, body, "k-1")  # the key still answers its own request
    assert (again.status_code, again.content, again.headers[REPLAYED]) == (
        201,
        first.content,
        "true",
    )


def test_a_retry_after_a_restart_is_still_recognised(database_url) -> None:
    body = {
        "code": credit_code(901),
        "name": "重启公司",
        "type": "enterprise",
        "division": "320506",
    }
    headers = {"Idempotency-Key": "before-restart"}
    ledger = Ledger(database_url)
    try:
        with serving(ledger) as (app, client):
            admin = issue(app, "admin")
            first = client.post("/units", json=body, headers={**headers, **admin.headers})
            assert first.status_code == 201
        recorded = ledger.recorder.max_notification_id()
    finally:
        ledger.close()
    ledger = Ledger(database_url)
    try:
        with serving(ledger) as (app, client):
            again = client.post("/units", json=body, headers={**headers, **admin.headers})
            assert again.status_code == 201, again.text
            assert (again.content, again.headers[REPLAYED]) == (first.content, "true")
        assert ledger.recorder.max_notification_id() == recorded
    finally:
        ledger.close()


def test_a_command_that_failed_keeps_no_key_so_its_retry_runs_again(world) -> None:
    code = credit_code(902, division="330212")
    path = f"/communities/{world.community_id}/members"
    body = {"unit_id": code, "effective_on": "2025-01-01"}
    before = world.api.position()
    refused = post(world, path, body, "admit-1")
    assert refused.status_code == 404, refused.text  # the unit is not registered yet
    assert world.api.position() == before
    world.api.post(
        "/units",
        {"code": code, "name": "后来登记的单位", "type": "enterprise", "division": "330212"},
    )
    admitted = post(world, path, body, "admit-1")
    assert admitted.status_code == 201, admitted.text
    assert REPLAYED not in admitted.headers
    assert code in [m["code"] for m in admitted.json()["members"]]
    again = post(world, path, body, "admit-1")
    assert (again.status_code, again.content, again.headers[REPLAYED]) == (
        201,
        admitted.content,
        "true",
    )


def test_a_conflict_is_not_replayed_but_decided_again(world) -> None:
    body = {
        "code": world.units[0]["code"],
        "name": "重复",
        "type": "enterprise",
        "division": "320506",
    }
    before = world.api.position()
    for _ in range(2):
        response = post(world, "/units", body, "dup-1")
        assert response.status_code == 409, response.text
        assert REPLAYED not in response.headers
    assert world.api.position() == before


def test_a_refused_request_frees_its_key_for_the_corrected_one(world) -> None:
    path, body = _cost(world, "250.001")
    refused = post(world, path, body, "fix-1")
    assert refused.status_code == 422, refused.text
    corrected = post(world, path, {**body, "amount": "250.00"}, "fix-1")
    assert corrected.status_code == 201, corrected.text
    assert total_costs(world) == "1484.50"


def test_keys_belong_to_their_token(world, caller) -> None:
    other = caller("admin", name="ops-2")
    path, body = _cost(world)
    mine = post(world, path, body, "shared-key")
    theirs = post(world, path, body, "shared-key", caller=other)
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert REPLAYED not in theirs.headers
    assert mine.json()["entry"] != theirs.json()["entry"]
    assert total_costs(world) == "1734.50"
    different = post(world, *_cost(world, "1.00"), "shared-key", caller=caller("admin"))
    assert different.status_code == 201, different.text
    assert post(world, path, body, "shared-key").headers[REPLAYED] == "true"
    assert total_costs(world) == "1735.50"


def test_two_identical_requests_sent_at_once_record_once(world) -> None:
    path, body = _cost(world, "10.00")
    rounds = 6
    for n in range(rounds):
        key = f"race-{n}"
        before = world.api.position()
        barrier = threading.Barrier(2)
        answers: list[httpx.Response] = []

        def send(key: str = key) -> None:
            barrier.wait()
            answers.append(post(world, path, body, key))

        threads = [threading.Thread(target=send) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert world.api.position() == before + 1, f"round {n}: not exactly one recording"
        firsts = [a for a in answers if a.status_code == 201 and REPLAYED not in a.headers]
        assert len(firsts) == 1, [(a.status_code, a.text) for a in answers]
        [other] = [a for a in answers if a is not firsts[0]]
        if other.status_code == 201:
            assert (other.content, other.headers[REPLAYED]) == (firsts[0].content, "true")
        else:
            assert other.status_code == 409, other.text
            assert "still being processed" in other.json()["detail"]
    assert total_costs(world) == f"{1234.50 + 10 * rounds:.2f}"


@pytest.mark.parametrize("key", ["", "k" * 201])
def test_a_key_of_no_or_too_many_characters_is_refused(world, key) -> None:
    before = world.api.position()
    response = post(world, *_cost(world), key)
    assert response.status_code == 422, response.text
    assert "Idempotency-Key" in response.json()["detail"]
    assert world.api.position() == before


# --- what a server that stopped mid-request leaves behind ------------------------------


def _left_behind(
    api: Api, key: str, path: str, raw: bytes, *, recorded: bool, age: timedelta
) -> None:
    """The row a request leaves when the server stops before it finished."""
    fingerprint = hashlib.sha256(b"\n".join([b"POST", path.encode(), raw])).hexdigest()
    started = datetime.now(UTC) - age
    api.app.state.service.requests.keys.tables.write(
        "INSERT INTO {api_requests} VALUES (?, ?, ?, ?, ?, ?, NULL, NULL)",
        (api.caller.id, key, fingerprint, uuid.uuid4().hex, started.isoformat(), int(recorded)),
    )


def test_a_retry_of_a_command_that_records_nothing_gets_the_first_answer(world) -> None:
    """The key is looked up only once a command is refused, or has recorded nothing
    (then it wrote no key that could be refused): a retry that runs and records
    nothing is answered by the first answer all the same."""
    requests = world.api.app.state.service.requests
    token = world.api.caller.id

    def record() -> tuple[int, bytes]:
        world.api.ledger.record_cost(
            world.agreement_id,
            principal="p",
            amount="1.00",
            incurred_on="2024-06-30",
            description="水电费",
        )
        return 201, b'{"first": true}'

    first = requests.once(token, "k-nothing", b"request", record)
    assert (first.status, first.body, first.replayed) == (201, b'{"first": true}', False)
    before = world.api.position()
    again = requests.once(token, "k-nothing", b"request", lambda: (200, b'{"again": true}'))
    assert (again.status, again.body, again.replayed) == (201, b'{"first": true}', True)
    fresh = requests.once(token, "k-fresh", b"request", lambda: (200, b'{"fresh": true}'))
    assert (fresh.status, fresh.body, fresh.replayed) == (200, b'{"fresh": true}', False)
    with pytest.raises(InvalidInput, match="different request"):
        requests.once(token, "k-nothing", b"another", lambda: (200, b"{}"))
    assert world.api.position() == before


def test_a_reservation_an_earlier_release_abandoned_is_run_once_it_is_stale(world) -> None:
    """An earlier release reserved a key before running its command; a reservation its
    stopped server left behind, never recorded, no longer holds the key once stale."""
    path, body = _cost(world)
    raw = httpx.Request("POST", "http://x", json=body).content
    _left_behind(world.api, "abandoned", path, raw, recorded=False, age=STALE * 2)
    response = world.api.request(
        "POST", path, content=raw, headers={"Idempotency-Key": "abandoned"}
    )
    assert response.status_code == 201, response.text
    assert total_costs(world) == "1484.50"


@pytest.mark.parametrize("recorded", [False, True], ids=["before", "after its recording"])
def test_a_request_still_running_elsewhere_is_not_run_twice(world, recorded) -> None:
    """Still running in another process: after its recording, while its answer is being
    made and stored (or, in an earlier release, before it, holding a reservation) — not
    an answer "lost when the server stopped"."""
    path, body = _cost(world)
    raw = httpx.Request("POST", "http://x", json=body).content
    _left_behind(world.api, "running", path, raw, recorded=recorded, age=timedelta(seconds=1))
    response = world.api.request("POST", path, content=raw, headers={"Idempotency-Key": "running"})
    assert response.status_code == 409, response.text
    assert "still being processed" in response.json()["detail"]
    assert total_costs(world) == "1234.50"


def test_a_request_recorded_whose_answer_was_lost_is_never_recorded_again(world) -> None:
    path, body = _cost(world)
    raw = httpx.Request("POST", "http://x", json=body).content
    _left_behind(world.api, "lost", path, raw, recorded=True, age=STALE * 2)
    before = world.api.position()
    response = world.api.request("POST", path, content=raw, headers={"Idempotency-Key": "lost"})
    assert response.status_code == 409, response.text
    assert "answer was lost" in response.json()["detail"]
    assert world.api.position() == before


def _overtaken(
    w: World, path: str, body: dict[str, Any], again: Callable[[], Any], refused: type
) -> None:
    """One attempt of a request, overtaken while it runs: its twin (the same request,
    the same key, sent over HTTP) records first, then this attempt runs ``again`` —
    the command itself — and is ``refused``. It records nothing and answers as its twin
    did."""
    raw = httpx.Request("POST", "http://x", json=body).content
    fingerprint = b"\n".join([b"POST", path.encode(), raw])
    seen: dict[str, Any] = {}

    def slow() -> tuple[int, bytes]:
        twin = w.api.request("POST", path, content=raw, headers={"Idempotency-Key": "twin"})
        assert twin.status_code == 201 and REPLAYED not in twin.headers, twin.text
        seen["twin"], seen["before"] = twin.content, w.api.position()
        with pytest.raises(refused) as met:
            again()
        raise met.value

    answer = w.api.app.state.service.requests.once(w.api.caller.id, "twin", fingerprint, slow)
    assert (answer.status, answer.body, answer.replayed) == (201, seen["twin"], True)
    assert w.api.position() == seen["before"]


def test_an_attempt_still_running_when_a_retry_recorded_records_nothing(world) -> None:
    """Two attempts of one request at once (a retry sent too soon): the slower one,
    finding at its save the key the other wrote with its events, records nothing and is
    answered as the other was."""
    path, body = _cost(world)
    _overtaken(
        world,
        path,
        body,
        lambda: world.api.ledger.record_cost(world.agreement_id, **body, principal="p"),
        KeyRecorded,  # at its save
    )
    assert total_costs(world) == "1484.50"  # recorded once, by the retry


def test_an_attempt_refused_by_what_its_twin_recorded_gets_the_twins_answer(world) -> None:
    """A slower attempt of a registration, whose twin registered the code meanwhile,
    fails by the rule ("registered already") before it saves; the request's answer is
    still its twin's, not that refusal."""
    path, body = REQUESTS["a unit's registration"](world)

    def register_again() -> None:
        world.api.ledger.register_unit(
            code=body["code"],
            name=body["name"],
            unit_type=body["type"],
            division=body["division"],
            principal="p",
        )

    _overtaken(world, path, body, register_again, AlreadyRegistered)  # before any save


def test_a_write_answer_carries_the_position_it_reached_and_a_replay_or_read_none(world):
    """``Chanjiao-Position`` (ADR 0023): how far the log reaches with the command's
    events in it — what a client may wait for elsewhere; a replay recorded nothing."""
    path, body = _cost(world)
    plain = world.api.request("POST", path, json=body)
    assert plain.status_code == 201, plain.text
    assert int(plain.headers["Chanjiao-Position"]) == world.api.position()
    first = post(world, path, body, "position-1")
    assert int(first.headers["Chanjiao-Position"]) == world.api.position()
    assert int(first.headers["Chanjiao-Position"]) > int(plain.headers["Chanjiao-Position"])
    again = post(world, path, body, "position-1")
    assert again.headers[REPLAYED] == "true"
    assert "Chanjiao-Position" not in again.headers
    read = world.api.request("GET", f"/agreements/{world.agreement_id}/report")
    assert read.status_code == 200
    assert "Chanjiao-Position" not in read.headers
