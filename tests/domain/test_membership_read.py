"""Members on a date, and as the ledger knew it at a recorded time."""

from __future__ import annotations

from datetime import date

import pytest
from freezegun import freeze_time

from domain.errors import CommunityNotFound, InvalidDate
from projections.membership import members
from tests.factories import credit_code

EARLY, LATE, LEAVER = credit_code(1), credit_code(2), credit_code(3)


@pytest.fixture
def history(memory_ledger):
    """A body whose secretary recorded one admission two weeks late.

    - recorded 2025-06-01: EARLY and LEAVER admitted effective 2025-05-01
    - recorded 2025-07-01: LEAVER exits effective 2025-06-30
    - recorded 2025-07-15: LATE admitted effective 2025-06-15 (backdated)
    """
    ledger = memory_ledger
    with freeze_time("2025-06-01T01:00:00Z"):
        for code in (EARLY, LATE, LEAVER):
            ledger.register_unit(
                code=code,
                name=f"单位{code[-3:]}",
                unit_type="enterprise",
                division="440305",
                principal="p",
            )
        body = ledger.found_community(
            name="深圳市域产教联合体",
            kind="city",
            industry="电子信息",
            division="440300",
            founded_on="2025-04-01",
            principal="p",
        )
        for code in (EARLY, LEAVER):
            ledger.admit_member(
                body.id, code, role="participant", effective_on="2025-05-01", principal="p"
            )
    with freeze_time("2025-07-01T01:00:00Z"):
        ledger.exit_member(
            body.id, LEAVER, reason="withdrawal", effective_on="2025-06-30", principal="p"
        )
    with freeze_time("2025-07-15T01:00:00Z"):
        ledger.admit_member(
            body.id, LATE, role="participant", effective_on="2025-06-15", principal="p"
        )
    return ledger, body.id


def codes(answer) -> set[str]:
    return {m.code for m in answer.members}


@freeze_time("2025-08-01T00:00:00Z")
def test_members_on_a_date_include_a_backdated_admission(history):
    ledger, body = history
    assert codes(members(ledger, body, as_of="2025-06-30")) == {EARLY, LATE}
    assert codes(members(ledger, body, as_of="2025-06-29")) == {EARLY, LATE, LEAVER}
    assert codes(members(ledger, body, as_of="2025-06-14")) == {EARLY, LEAVER}
    assert codes(members(ledger, body)) == {EARLY, LATE}  # today


@freeze_time("2025-08-01T00:00:00Z")
def test_members_as_known_at_a_time_leave_out_what_was_recorded_later(history):
    ledger, body = history
    # On 2025-07-10 the ledger did not yet know of LATE's admission.
    before = members(ledger, body, as_of="2025-06-30", known_at="2025-07-10")
    assert codes(before) == {EARLY}
    assert before.known_at is not None and before.known_at.date() == date(2025, 7, 10)
    # Asked at an exact time, with an offset: 09:00 in Beijing is 01:00 UTC.
    assert codes(members(ledger, body, "2025-06-30", "2025-07-15T08:59:59+08:00")) == {EARLY}
    assert codes(members(ledger, body, "2025-06-30", "2025-07-15T09:00:00+08:00")) == {
        EARLY,
        LATE,
    }
    # Before the exit was recorded, LEAVER was still a member on 2025-06-30.
    assert codes(members(ledger, body, "2025-06-30", "2025-06-20")) == {EARLY, LEAVER}


@freeze_time("2025-08-01T00:00:00Z")
def test_a_body_not_yet_recorded_at_the_known_at_time_is_not_found(history):
    ledger, body = history
    with pytest.raises(CommunityNotFound, match="had not been recorded yet"):
        members(ledger, body, known_at="2025-05-01")


@freeze_time("2025-08-01T00:00:00Z")
def test_the_member_list_names_unit_province_role_and_since(history):
    ledger, body = history
    answer = members(ledger, body, as_of="2025-07-01")
    first = answer.members[0]
    assert (first.code, first.type, first.province, first.province_name, first.role) == (
        EARLY,
        "enterprise",
        "440000",
        "广东",
        "participant",
    )
    assert first.since == date(2025, 5, 1)
    assert answer.community_name == "深圳市域产教联合体"


def test_a_malformed_as_of_date_is_refused(history):
    ledger, body = history
    with pytest.raises(InvalidDate, match="as-of date must be a calendar date written YYYY-MM-DD"):
        members(ledger, body, as_of="30/06/2025")
