"""Community membership rules, through the ledger, in memory."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from freezegun import freeze_time

from bootstrap import Ledger
from domain.community import Community
from domain.errors import (
    AlreadyMember,
    CommunityDissolved,
    EffectiveDateTooEarly,
    InvalidChoice,
    LeadAlreadyHeld,
    NotAMember,
    RoleNotAllowed,
    UnitDeregistered,
)
from domain.values import ExitReason, Role
from tests.factories import credit_code

pytestmark = pytest.mark.usefixtures("frozen")

NOW = "2025-07-15T02:00:00Z"
ENTERPRISE, ENTERPRISE_2, UNIVERSITY, SCHOOL, ASSOCIATION = (credit_code(i) for i in range(1, 6))


@pytest.fixture
def frozen():
    with freeze_time(NOW):
        yield


def make(ledger: Ledger, kind: str = "industry") -> Community:
    for code, unit_type, level in [
        (ENTERPRISE, "enterprise", None),
        (ENTERPRISE_2, "enterprise", None),
        (UNIVERSITY, "university", None),
        (SCHOOL, "vocational_school", "higher"),
        (ASSOCIATION, "industry_organization", None),
    ]:
        ledger.register_unit(
            code=code,
            name=f"单位{code[-4:]}",
            unit_type=unit_type,
            level=level,
            division="320506",
            principal="secretary:li",
        )
    return ledger.found_community(
        name="全国集成电路行业产教融合共同体",
        kind=kind,
        industry="集成电路",
        division="320500",
        founded_on="2024-01-01",
        principal="secretary:li",
    )


def admit(ledger: Ledger, body: Community, code: str, on: str, role: str = "participant"):
    return ledger.admit_member(body.id, code, role=role, effective_on=on, principal="secretary:li")


def test_an_admission_records_role_date_resolution_principal_and_recorded_time(memory_ledger):
    body = make(memory_ledger)
    memory_ledger.admit_member(
        body.id, ENTERPRISE, role="lead", effective_on="2024-02-01", principal="secretary:wang"
    )
    event = list(memory_ledger.events.get(body.id))[-1]
    assert isinstance(event, Community.MemberAdmitted)
    assert (event.role, event.effective_on, event.resolution, event.principal) == (
        Role.LEAD,
        date(2024, 2, 1),
        None,
        "secretary:wang",
    )
    assert event.timestamp == datetime(2025, 7, 15, 2, tzinfo=UTC)


def test_an_active_member_cannot_be_admitted_twice(memory_ledger):
    body = make(memory_ledger)
    admit(memory_ledger, body, ENTERPRISE, "2024-02-01")
    with pytest.raises(AlreadyMember, match="is already an active member of 全国集成电路"):
        admit(memory_ledger, body, ENTERPRISE, "2024-03-01")


def test_a_unit_that_is_not_a_member_cannot_exit(memory_ledger):
    body = make(memory_ledger)
    with pytest.raises(NotAMember, match="is not an active member"):
        memory_ledger.exit_member(
            body.id, ENTERPRISE, reason="withdrawal", effective_on="2024-05-01", principal="p"
        )


@pytest.mark.parametrize("on", ["2023-12-31", "2020-06-01"])
def test_nothing_takes_effect_before_the_founding(memory_ledger, on):
    body = make(memory_ledger)
    with pytest.raises(EffectiveDateTooEarly, match="was founded on 2024-01-01"):
        admit(memory_ledger, body, ENTERPRISE, on)


@pytest.mark.parametrize("on", ["2024-02-01", "2024-01-15"])
def test_an_exit_must_take_effect_after_the_admission(memory_ledger, on):
    body = make(memory_ledger)
    admit(memory_ledger, body, ENTERPRISE, "2024-02-01")
    with pytest.raises(EffectiveDateTooEarly, match="its exit must take effect after that"):
        memory_ledger.exit_member(
            body.id, ENTERPRISE, reason="withdrawal", effective_on=on, principal="p"
        )


def test_an_industry_body_has_one_active_lead_per_leading_type(memory_ledger):
    body = make(memory_ledger)
    admit(memory_ledger, body, ENTERPRISE, "2024-02-01", role="lead")
    admit(memory_ledger, body, UNIVERSITY, "2024-02-01", role="lead")
    admit(memory_ledger, body, SCHOOL, "2024-02-01", role="lead")
    with pytest.raises(
        LeadAlreadyHeld,
        match=r"单位002N \(91320506000000002N\) cannot lead 全国集成电路行业产教融合共同体 from "
        r"2024-02-01: 单位001K \(91320506000000001K\) leads as enterprise since 2024-02-01",
    ):
        admit(memory_ledger, body, ENTERPRISE_2, "2024-02-01", role="lead")
    admit(memory_ledger, body, ENTERPRISE_2, "2024-02-01")
    with pytest.raises(LeadAlreadyHeld, match=r"cannot lead .* from 2024-03-01: .* leads as"):
        memory_ledger.change_member_role(
            body.id, ENTERPRISE_2, role="lead", effective_on="2024-03-01", principal="p"
        )
    # Once the first lead enterprise steps down, another can take its place.
    memory_ledger.change_member_role(
        body.id, ENTERPRISE, role="participant", effective_on="2024-03-01", principal="p"
    )
    memory_ledger.change_member_role(
        body.id, ENTERPRISE_2, role="lead", effective_on="2024-03-01", principal="p"
    )
    leads = {p.unit_id for p in memory_ledger.community(body.id).active_members if p.role == "lead"}
    assert memory_ledger.unit(ENTERPRISE_2).id in leads
    assert memory_ledger.unit(ENTERPRISE).id not in leads


def test_an_industry_body_is_led_only_by_enterprises_universities_and_schools(memory_ledger):
    body = make(memory_ledger)
    with pytest.raises(
        RoleNotAllowed,
        match="is registered as industry organization; an industry community is led only",
    ):
        admit(memory_ledger, body, ASSOCIATION, "2024-02-01", role="lead")


@pytest.mark.parametrize("kind", ["city", "development"])
def test_other_bodies_may_have_several_leads_of_any_type(memory_ledger, kind):
    body = make(memory_ledger, kind=kind)
    for code in (ENTERPRISE, ENTERPRISE_2, ASSOCIATION):
        admit(memory_ledger, body, code, "2024-02-01", role="lead")
    assert [p.role for p in memory_ledger.community(body.id).active_members] == [Role.LEAD] * 3


def test_a_deregistered_unit_cannot_be_admitted(memory_ledger):
    body = make(memory_ledger)
    memory_ledger.deregister_unit(ENTERPRISE, effective_on="2024-06-30", principal="p")
    with pytest.raises(UnitDeregistered, match="was deregistered on 2024-06-30"):
        admit(memory_ledger, body, ENTERPRISE, "2024-02-01")


def test_rejoining_opens_a_new_period_and_keeps_the_old_one(memory_ledger):
    body = make(memory_ledger)
    admit(memory_ledger, body, ENTERPRISE, "2024-02-01")
    memory_ledger.exit_member(
        body.id, ENTERPRISE, reason="removal", effective_on="2024-06-30", principal="p"
    )
    with pytest.raises(EffectiveDateTooEarly, match="cannot re-join effective 2024-06-01"):
        admit(memory_ledger, body, ENTERPRISE, "2024-06-01")
    admit(memory_ledger, body, ENTERPRISE, "2025-01-01")
    periods = memory_ledger.community(body.id).periods
    assert [(p.admitted_on, p.exited_on, p.exit_reason, p.exited_by) for p in periods] == [
        (date(2024, 2, 1), date(2024, 6, 30), ExitReason.REMOVAL, None),
        (date(2025, 1, 1), None, None, None),
    ]
    on = memory_ledger.community(body.id).members_on
    assert len(on(date(2024, 6, 29))) == 1
    assert on(date(2024, 6, 30)) == []  # the exit date is the first day outside
    assert len(on(date(2025, 1, 1))) == 1


def test_dissolution_ends_every_membership_and_then_refuses_changes(memory_ledger):
    body = make(memory_ledger)
    admit(memory_ledger, body, ENTERPRISE, "2024-02-01")
    admit(memory_ledger, body, UNIVERSITY, "2024-03-01")
    memory_ledger.dissolve_community(body.id, effective_on="2025-06-30", principal="p")
    after = memory_ledger.community(body.id)
    assert after.dissolved_on == date(2025, 6, 30)
    assert {(p.exited_on, p.exit_reason) for p in after.periods} == {
        (date(2025, 6, 30), ExitReason.DISSOLUTION)
    }
    with pytest.raises(CommunityDissolved, match="was dissolved effective 2025-06-30"):
        admit(memory_ledger, body, SCHOOL, "2025-07-01")


def test_a_refused_command_writes_nothing(memory_ledger):
    body = make(memory_ledger)
    before = memory_ledger.recorder.max_notification_id()
    with pytest.raises(
        InvalidChoice, match=r"role must be one of lead \(牵头单位\), participant \(成员单位\)"
    ):
        admit(memory_ledger, body, ENTERPRISE, "2024-02-01", role="member")
    with pytest.raises(AlreadyMember):
        admit(memory_ledger, body, UNIVERSITY, "2024-02-01")
        admit(memory_ledger, body, UNIVERSITY, "2024-02-02")
    assert memory_ledger.recorder.max_notification_id() == before + 1


def test_annulments_take_back_a_units_records_latest_first(memory_ledger):
    body = make(memory_ledger)
    admit(memory_ledger, body, ENTERPRISE, "2024-02-01")
    memory_ledger.change_member_role(
        body.id, ENTERPRISE, role="lead", effective_on="2024-03-01", principal="p"
    )
    memory_ledger.exit_member(
        body.id, ENTERPRISE, reason="withdrawal", effective_on="2024-06-30", principal="p"
    )
    admit(memory_ledger, body, ENTERPRISE, "2025-01-01")
    states, taken_back = [], []
    for _ in range(4):
        memory_ledger.annul_member_record(body.id, ENTERPRISE, reason="错录", principal="p")
        event = list(memory_ledger.events.get(body.id))[-1]
        assert isinstance(event, Community.MemberRecordAnnulled)
        assert (event.unit_id, event.reason) == (memory_ledger.unit(ENTERPRISE).id, "错录")
        taken_back.append((event.record, event.annulled))
        states.append(memory_ledger.community(body.id).periods)
    # each names the version of the event it takes back (the founding is version 1)
    assert taken_back == [("admission", 5), ("exit", 4), ("role_change", 3), ("admission", 2)]
    [open_again] = states[1]
    assert (open_again.exited_on, open_again.role) == (None, Role.LEAD)
    [first] = states[2]
    assert first.roles == ((date(2024, 2, 1), Role.PARTICIPANT),) and first.recorded == (2,)
    assert states[3] == []
    with pytest.raises(NotAMember, match="there is nothing to annul"):
        memory_ledger.annul_member_record(body.id, ENTERPRISE, reason="错录", principal="p")


def test_nothing_is_annulled_where_nothing_is_recorded_or_the_body_is_dissolved(memory_ledger):
    body = make(memory_ledger)
    with pytest.raises(NotAMember, match="has no membership recorded in 全国集成电路"):
        memory_ledger.annul_member_record(body.id, ENTERPRISE, reason="x", principal="p")
    admit(memory_ledger, body, ENTERPRISE, "2024-02-01")
    memory_ledger.dissolve_community(body.id, effective_on="2025-06-30", principal="p")
    with pytest.raises(CommunityDissolved, match="can no longer be annulled"):
        memory_ledger.annul_member_record(body.id, ENTERPRISE, reason="x", principal="p")
