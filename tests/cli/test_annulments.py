"""Membership records made in error (issue 17, step 2): the last admission, role change
or exit of a unit in a body is annulled with a reason, as a new event; the member list,
the unit's periods and the reports answer as if it had not been recorded, while the
history and an answer as known at a time before the annulment still show it. A
correction is the annulment followed by the record as it should have been. Through the
real entry point, on both stores."""

from __future__ import annotations

import json
from datetime import date

import pytest
from freezegun import freeze_time

from tests.cli.steps import NEWCOMER, SEATS, council_body_in

BODY = "深圳市域产教联合体"


@pytest.fixture
def clock():
    with freeze_time("2025-07-15T02:00:00Z") as frozen:
        yield frozen


def ok(run, *args: str) -> dict:
    code, out, err = run(*args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def members(run, *when: str) -> dict[str, str]:
    """Credit code → role of the body's members on 2025-07-01."""
    listed = ok(run, "member", "list", BODY, "--as-of", "2025-07-01", *when)["members"]
    return {m["code"]: m["role"] for m in listed}


def test_an_admission_in_error_is_annulled_and_stays_in_the_history(run, ledger, clock):
    council_body_in(ledger)
    ok(run, "member", "admit", BODY, NEWCOMER, "--effective-on", "2025-06-01")
    clock.tick(60)
    assert NEWCOMER in members(run)
    before = "2025-07-15T10:00:30+08:00"  # after the admission, before the annulment

    unit = ok(run, "member", "annul", BODY, NEWCOMER, "--reason", "误录：该单位未申请加入")
    assert unit["code"] == NEWCOMER and unit["memberships"] == []
    assert NEWCOMER not in members(run)
    assert NEWCOMER in members(run, "--known-at", before)  # as the ledger knew it then

    history = ok(run, "history", NEWCOMER)
    assert [e["type"] for e in history["events"]] == ["chanjiao.unit.registered.v1"]
    body = ok(run, "community", "list")[0]["id"]
    events = ok(run, "history", body)["events"]
    admitted, annulled = events[-2], events[-1]
    assert admitted["type"] == "chanjiao.community.member_admitted.v1"
    assert annulled["type"] == "chanjiao.community.member_record_annulled.v1"
    assert annulled["data"]["record"] == "admission"
    assert annulled["data"]["annulled"] == admitted["version"]
    assert annulled["data"]["reason"] == "误录：该单位未申请加入"
    assert annulled["principal"] == "secretary:li"

    # nothing left to annul
    code, out, err = run("member", "annul", BODY, NEWCOMER, "--reason", "再次")
    assert (code, out) == (4, "")
    assert "has no membership recorded in 深圳市域产教联合体; there is nothing to annul" in err


def test_an_exit_on_the_wrong_date_is_corrected(run, ledger, clock):
    council_body_in(ledger)
    ok(run, "member", "admit", BODY, NEWCOMER, "--effective-on", "2025-01-10")
    ok(run, "member", "exit", BODY, NEWCOMER, "--reason", "主动退出", "--effective-on", "2025-3-1")
    clock.tick(60)
    assert NEWCOMER not in members(run)

    ok(run, "member", "annul", BODY, NEWCOMER, "--reason", "退出日期应为2025-07-10")
    assert members(run)[NEWCOMER] == "participant"
    ok(run, "member", "exit", BODY, NEWCOMER, "--reason", "主动退出", "--effective-on", "2025-7-10")
    assert members(run)[NEWCOMER] == "participant"  # a member until 10 July after all
    [period] = ok(run, "unit", "show", NEWCOMER)["memberships"]
    assert (period["admitted_on"], period["exited_on"]) == ("2025-01-10", "2025-07-10")
    assert NEWCOMER not in members(run, "--known-at", "2025-07-15T10:00:30+08:00")


def test_a_role_change_in_error_is_annulled(run, ledger):
    council_body_in(ledger)
    ok(run, "member", "role", BODY, SEATS[1], "--role", "牵头单位", "--effective-on", "2025-05-01")
    assert members(run)[SEATS[1]] == "lead"
    ok(run, "member", "annul", BODY, SEATS[1], "--reason", "选错了单位")
    assert members(run)[SEATS[1]] == "participant"
    # the admission is the last record now; it holds a seat, so it stays
    code, out, err = run("member", "annul", BODY, SEATS[1], "--reason", "又错")
    assert (code, out) == (4, "")
    assert "seat" in err and "单位" in err
    assert members(run)[SEATS[1]] == "participant"


def test_over_http_an_annulment_takes_a_reason(ledger):
    from starlette.testclient import TestClient

    from api.app import create_app
    from api.tokens import Tokens
    from projections.read_models import open_store

    body = council_body_in(ledger)
    ledger.admit_member(
        body, NEWCOMER, role="participant", effective_on="2025-06-01", principal="p"
    )
    token = (
        Tokens(open_store(ledger))
        .issue(role="secretary", name="t", issued_by="t", communities=[str(body)])
        .token
    )
    path = f"/communities/{body}/members/{NEWCOMER}/annul"
    with TestClient(create_app(ledger=ledger)) as client:
        headers = {"Authorization": f"Bearer {token}"}
        refused = client.post(path, json={}, headers=headers)
        assert refused.status_code == 422, refused.text
        assert "reason" in refused.json()["detail"]
        answer = client.post(path, json={"reason": "误录"}, headers=headers)
        assert answer.status_code == 200, answer.text
    assert answer.json()["memberships"] == []
    assert not ledger.community(body).is_member_on(ledger.unit(NEWCOMER).id, date(2025, 6, 1))


def test_a_seat_vacated_in_error_is_reopened_and_a_meeting_in_error_keeps_its_number(run, ledger):
    council_body_in(ledger)
    seat = ("council", "seat")
    ok(run, *seat, "vacate", BODY, SEATS[5], "--effective-on", "2025-06-01")
    held = {s["code"] for s in ok(run, *seat, "list", BODY, "--as-of", "2025-07-01")["seats"]}
    assert SEATS[5] not in held
    ok(run, *seat, "annul", BODY, SEATS[5], "--reason", "该席位并未出缺")
    held = {s["code"] for s in ok(run, *seat, "list", BODY, "--as-of", "2025-07-01")["seats"]}
    assert SEATS[5] in held

    meeting = ("council", "meeting")
    first = meeting_number(run, "2025-06-10")
    ok(run, *meeting, "annul", BODY, str(first), "--reason", "并未开会")
    listed = ok(run, *meeting, "list", BODY)["meetings"]
    assert [(m["meeting"], m["annulled"]) for m in listed] == [(first, "并未开会")]
    # the same meeting may be recorded again without --again, under the next number
    assert meeting_number(run, "2025-06-10") == first + 1
    code, _, err = run(*meeting, "annul", BODY, str(first), "--reason", "再次")
    assert code == 2 and "meeting 1 was already annulled (并未开会)" in err
    code, _, err = run(
        "council", "resolution", "record", BODY, "--meeting", str(first), "--matter", "ordinary",
        "--title", "决议", "--for", "6", "--against", "0", "--abstain", "0",
    )  # fmt: skip
    assert code == 3 and "meeting 1 of the council was annulled (并未开会)" in err


def test_a_meeting_with_resolutions_and_a_seat_present_at_meetings_stay(run, ledger):
    council_body_in(ledger)
    number = meeting_number(run, "2025-06-10")
    code, _, err = run(
        "council", "resolution", "record", BODY, "--meeting", str(number), "--matter", "ordinary",
        "--title", "年度计划", "--for", "6", "--against", "0", "--abstain", "0",
    )  # fmt: skip
    assert code == 0, err
    code, _, err = run("council", "meeting", "annul", BODY, str(number), "--reason", "x")
    assert code == 4 and "has resolutions recorded at it (2025-001)" in err
    # the seats were assigned in 2024; every one was present at the meeting
    code, _, err = run("council", "seat", "annul", BODY, SEATS[0], "--reason", "x")
    assert code == 4 and "was recorded present at council meeting 1" in err


def meeting_number(run, held_on: str) -> int:
    return ok(run, "council", "meeting", "record", BODY, "--held-on", held_on, "--present", *SEATS)[
        "meeting"
    ]


def test_a_registration_typed_wrong_is_corrected_until_the_unit_moves_on(run, ledger, clock):
    council_body_in(ledger)
    ok(run, "member", "admit", BODY, NEWCOMER, "--effective-on", "2025-06-01")
    clock.tick(60)
    before = "2025-07-15T10:00:30+08:00"
    unit = ok(
        run, "unit", "correct", NEWCOMER, "--name", "深圳更正科技有限公司", "--division", "440306",
        "--reason", "登记时名称和区划录错",
    )  # fmt: skip
    assert (unit["name"], unit["division"], unit["names"]) == (
        "深圳更正科技有限公司",
        "440306",
        [[None, "深圳更正科技有限公司"]],
    )
    listed = ok(run, "member", "list", BODY, "--as-of", "2025-07-01")["members"]
    assert {m["code"]: m["name"] for m in listed}[NEWCOMER] == "深圳更正科技有限公司"
    then = ok(run, "member", "list", BODY, "--as-of", "2025-07-01", "--known-at", before)
    assert {m["code"]: m["name"] for m in then["members"]}[NEWCOMER] == f"单位{NEWCOMER[-4:]}"

    # its type: the admission recorded it, so only once that is annulled
    code, _, err = run("unit", "correct", NEWCOMER, "--type", "高等学校", "--reason", "类型录错")
    assert code == 4 and "its type can be corrected only while it belongs to no body" in err
    ok(run, "member", "annul", BODY, NEWCOMER, "--reason", "类型录错，重新入会")
    assert (
        ok(run, "unit", "correct", NEWCOMER, "--type", "高等学校", "--reason", "类型录错")["type"]
        == "university"
    )

    # once renamed, the registration is what the renaming was built on
    ok(run, "unit", "rename", NEWCOMER, "--name", "深圳新名", "--effective-on", "2025-07-01")
    code, _, err = run("unit", "correct", NEWCOMER, "--name", "又一个名称", "--reason", "x")
    assert code == 4 and "its registration can no longer be corrected" in err


def test_an_annulled_meeting_holds_no_seat(run, ledger):
    council_body_in(ledger)
    first = meeting_number(run, "2025-06-10")  # every seat present
    code, _, err = run("council", "seat", "annul", BODY, SEATS[5], "--reason", "该单位并无席位")
    assert code == 4 and "was recorded present at council meeting 1" in err
    ok(run, "council", "meeting", "annul", BODY, str(first), "--reason", "并未开会")
    ok(run, "council", "seat", "annul", BODY, SEATS[5], "--reason", "该单位并无席位")
    seats = ok(run, "council", "seat", "list", BODY, "--as-of", "2025-07-01")["seats"]
    assert SEATS[5] not in {s["code"] for s in seats}
