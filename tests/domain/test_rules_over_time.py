"""Rules that speak of time hold on every date, whatever order facts are recorded in:
each refusal names the date and the colliding fact, and records nothing. On SQLite
and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from uuid import UUID, uuid4

import pytest
from freezegun import freeze_time

import application.ledger as ledger_module
from application.timelines import CheckedTimelines
from bootstrap import Ledger
from domain.errors import (
    CharterRuleBroken,
    CommunityDissolved,
    LeadAlreadyHeld,
    LedgerError,
    NotALead,
    NotAMember,
    SeatRuleBroken,
    UnitDeregistered,
)
from domain.timeline import Timeline
from tests.factories import credit_code

P = "secretary:he"
HUAWEI, BYD, ZJU, SCHOOL, CHIP, INSTITUTE = (credit_code(900 + i) for i in range(6))
UNITS = {
    HUAWEI: ("华为技术有限公司", "enterprise", None, "440307"),
    BYD: ("比亚迪股份有限公司", "enterprise", None, "440307"),
    ZJU: ("浙江大学", "university", None, "330106"),
    SCHOOL: ("深圳职业技术大学", "vocational_school", "undergraduate", "440305"),
    CHIP: ("苏州芯电子有限公司", "enterprise", None, "320506"),
    INSTITUTE: ("江苏产业技术研究院", "research_institute", None, "320506"),
}


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time("2025-12-01T02:00:00Z"):
        yield


@pytest.fixture
def units(ledger: Ledger) -> Ledger:
    for code, (name, unit_type, level, division) in UNITS.items():
        ledger.register_unit(
            code=code, name=name, unit_type=unit_type, level=level, division=division, principal=P
        )
    return ledger


@contextmanager
def refused(ledger: Ledger, error: type[LedgerError], message: str) -> Iterator[None]:
    """Refused with exactly ``message``, and nothing recorded."""
    before = ledger.recorder.max_notification_id()
    with pytest.raises(error) as caught:
        yield
    assert str(caught.value) == message
    assert ledger.recorder.max_notification_id() == before


def label(code: str) -> str:
    return f"{UNITS[code][0]} ({code})"


def found(
    ledger: Ledger, kind: str = "industry", name: str = "全国新能源汽车行业产教融合共同体"
) -> UUID:
    return ledger.found_community(
        name=name,
        kind=kind,
        industry="新能源汽车",
        division="440300",
        founded_on="2024-01-01",
        principal=P,
    ).id


def admit(ledger: Ledger, body: UUID, code: str, on: str, role: str = "participant") -> None:
    ledger.admit_member(body, code, role=role, effective_on=on, principal=P)


def leave(ledger: Ledger, body: UUID, code: str, on: str) -> None:
    ledger.exit_member(body, code, reason="withdrawal", effective_on=on, principal=P)


def seat(ledger: Ledger, body: UUID, code: str, on: str, office: str = "director") -> None:
    ledger.assign_seat(
        body, code, representative=f"代表{code[-3:]}", office=office, effective_on=on, principal=P
    )


def seated(ledger: Ledger, body: UUID, *codes: str) -> None:
    """Members from 2024-02-01 holding seats from 2024-03-01, the first as chair."""
    for i, code in enumerate(codes):
        admit(ledger, body, code, "2024-02-01")
        seat(ledger, body, code, "2024-03-01", office="director" if i else "chair")


def test_a_backdated_lead_cannot_overlap_a_lead_recorded_before_it(units):
    body = found(units)
    admit(units, body, HUAWEI, "2024-06-01", role="lead")
    leave(units, body, HUAWEI, "2024-09-01")
    with refused(
        units,
        LeadAlreadyHeld,
        f"{label(BYD)} cannot lead 全国新能源汽车行业产教融合共同体 from 2024-07-01: "
        f"{label(HUAWEI)} leads as enterprise until 2024-09-01; an industry community "
        "has one lead enterprise at a time",
    ):
        admit(units, body, BYD, "2024-07-01", role="lead")
    admit(units, body, BYD, "2024-09-01", role="lead")  # the day 华为 left
    assert [p.unit_id for p in units.community(body).periods if p.role == "lead"] == [
        units.unit(HUAWEI).id,
        units.unit(BYD).id,
    ]


def test_an_earlier_lead_recorded_later_cannot_run_into_a_later_one(units):
    body = found(units)
    admit(units, body, BYD, "2024-10-01", role="lead")
    with refused(
        units,
        LeadAlreadyHeld,
        f"{label(HUAWEI)} cannot lead 全国新能源汽车行业产教融合共同体 from 2024-06-01: "
        f"{label(BYD)} leads as enterprise from 2024-10-01; an industry community "
        "has one lead enterprise at a time",
    ):
        admit(units, body, HUAWEI, "2024-06-01", role="lead")


def test_a_role_change_to_lead_is_checked_against_closed_periods_too(units):
    body = found(units)
    admit(units, body, HUAWEI, "2024-03-01", role="lead")
    leave(units, body, HUAWEI, "2024-08-01")
    admit(units, body, BYD, "2024-02-01")
    with refused(
        units,
        LeadAlreadyHeld,
        f"{label(BYD)} cannot lead 全国新能源汽车行业产教融合共同体 from 2024-05-01: "
        f"{label(HUAWEI)} leads as enterprise until 2024-08-01; an industry community "
        "has one lead enterprise at a time",
    ):
        units.change_member_role(body, BYD, role="lead", effective_on="2024-05-01", principal=P)
    units.change_member_role(body, BYD, role="lead", effective_on="2024-08-01", principal=P)


def test_leads_of_other_types_and_in_other_kinds_of_body_never_collide(units):
    body = found(units)
    admit(units, body, HUAWEI, "2024-03-01", role="lead")
    admit(units, body, ZJU, "2024-03-01", role="lead")
    admit(units, body, SCHOOL, "2024-02-01", role="lead")
    city = found(units, kind="city", name="深圳市域产教联合体")
    admit(units, city, HUAWEI, "2024-03-01", role="lead")
    admit(units, city, BYD, "2024-03-01", role="lead")
    assert len(units.community(city).active_members) == 2


def test_a_seat_cannot_outlast_its_holders_membership(units):
    body = found(units)
    admit(units, body, CHIP, "2024-02-01")
    admit(units, body, HUAWEI, "2024-02-01")
    seat(units, body, HUAWEI, "2024-03-01", office="chair")
    leave(units, body, CHIP, "2024-09-01")
    with refused(
        units,
        NotAMember,
        f"{label(CHIP)} would hold a council seat of 全国新能源汽车行业产教融合共同体 "
        "(from 2024-06-01) on 2024-09-01 without being a member then; only members "
        "hold council seats",
    ):
        seat(units, body, CHIP, "2024-06-01")


def test_an_exit_cannot_come_before_a_seat_recorded_to_end_later(units):
    body = found(units)
    seated(units, body, HUAWEI, CHIP)
    units.vacate_seat(body, CHIP, effective_on="2024-10-01", principal=P)
    with refused(
        units,
        NotAMember,
        f"{label(CHIP)} would hold a council seat of 全国新能源汽车行业产教融合共同体 "
        "(from 2024-03-01 until 2024-10-01) on 2024-09-01 without being a member then; "
        "only members hold council seats",
    ):
        leave(units, body, CHIP, "2024-09-01")
    leave(units, body, CHIP, "2024-10-01")


def test_the_council_has_one_chair_on_every_day(units):
    body = found(units)
    for code in (HUAWEI, BYD):
        admit(units, body, code, "2024-02-01")
    seat(units, body, HUAWEI, "2024-03-01", office="chair")
    units.vacate_seat(body, HUAWEI, effective_on="2024-09-01", principal=P)
    with refused(
        units,
        SeatRuleBroken,
        f"{label(BYD)} cannot chair the council of 全国新能源汽车行业产教融合共同体 from "
        f"2024-06-01: 代表{HUAWEI[-3:]} of {label(HUAWEI)} chairs it from 2024-03-01 "
        "until 2024-09-01; the council has one chair at a time",
    ):
        seat(units, body, BYD, "2024-06-01", office="chair")
    seat(units, body, BYD, "2024-09-01", office="chair")


def meeting_with_resolution(
    ledger: Ledger, body: UUID, on: str, present: list[str], matter: str = "ordinary"
) -> str | None:
    number = ledger.record_meeting(body, held_on=on, present=present, principal=P)
    return ledger.record_resolution(
        body,
        meeting=number,
        matter=matter,
        title=f"{matter} {on}",
        votes_for=len(present),
        votes_against=0,
        abstentions=0,
        principal=P,
    ).number


def test_a_seat_cannot_end_before_a_meeting_it_was_present_at(units):
    body = found(units)
    seated(units, body, HUAWEI, BYD, CHIP)
    units.record_meeting(body, held_on="2024-06-10", present=[HUAWEI, BYD, CHIP], principal=P)
    with refused(
        units,
        SeatRuleBroken,
        f"{label(CHIP)} was recorded present at council meeting 1 on 2024-06-10 as a "
        "seat holder; its seat must be held that day",
    ):
        units.vacate_seat(body, CHIP, effective_on="2024-06-01", principal=P)


def test_a_backdated_seat_cannot_change_the_seats_a_resolution_was_decided_with(units):
    body = found(units)
    for code in (HUAWEI, BYD, CHIP):
        admit(units, body, code, "2024-02-01")
    seat(units, body, HUAWEI, "2024-03-01", office="chair")
    seat(units, body, BYD, "2024-03-01")
    number = meeting_with_resolution(units, body, "2024-06-10", [HUAWEI, BYD])
    with refused(
        units,
        SeatRuleBroken,
        f"council meeting 1 on 2024-06-10 decided resolution {number} with 2 seats; "
        "a seat change that makes it 3 seats that day would alter the outcome on "
        "record",
    ):
        seat(units, body, CHIP, "2024-05-01")
    seat(units, body, CHIP, "2024-06-11")


def test_a_charter_cannot_take_effect_before_resolutions_decided_under_other_rules(units):
    body = found(units, kind="city", name="深圳市域产教联合体")
    seated(units, body, HUAWEI, BYD)
    number = meeting_with_resolution(units, body, "2024-06-10", [HUAWEI, BYD])
    with refused(
        units,
        CharterRuleBroken,
        f"council meeting 1 on 2024-06-10 decided resolution {number} under the "
        "founding rules; a charter of 深圳市域产教联合体 cannot take effect on or before "
        "that date",
    ):
        units.adopt_charter(body, version="1.0", effective_on="2024-05-01", principal=P)
    units.adopt_charter(body, version="1.0", effective_on="2024-06-10", principal=P)
    adopted = meeting_with_resolution(units, body, "2024-07-01", [HUAWEI, BYD], "charter")
    units.adopt_charter(body, version="2.0", resolution=adopted, quorum="1/2", principal=P)
    assert units.community(body).charter_on(date(2024, 7, 1)).version == "2.0"


def agreement_of(ledger: Ledger, body: UUID, parties: list[str], on: str) -> UUID:
    shares = [
        {
            "unit_id": c,
            "cost_share_bp": 10_000 // len(parties),
            "benefit_share_bp": 10_000 // len(parties),
        }
        for c in parties
    ]
    agreement = ledger.draft_agreement(
        body, title="共享实训基地", parties=shares, drafted_on=on, principal=P
    ).id
    number = meeting_with_resolution(ledger, body, on, [HUAWEI, BYD], "agreement")
    ledger.approve_agreement(agreement, resolution=number, principal=P)
    return agreement


def test_a_party_stays_a_member_while_its_shares_are_in_force(units):
    body = found(units, kind="city", name="深圳市域产教联合体")
    seated(units, body, HUAWEI, BYD)
    admit(units, body, CHIP, "2024-02-01")
    admit(units, body, INSTITUTE, "2024-02-01")
    leave(units, body, INSTITUTE, "2024-08-01")
    agreement = agreement_of(units, body, [HUAWEI, CHIP], "2024-05-10")
    with refused(
        units,
        NotAMember,
        f"{label(CHIP)} is a party to agreement '共享实训基地' with shares in force from "
        "2024-05-10, so it must be a member of 深圳市域产教联合体 on every day of that; it "
        "would not be on 2024-09-01 (amend or terminate the agreement first)",
    ):
        leave(units, body, CHIP, "2024-09-01")
    number = meeting_with_resolution(units, body, "2024-06-01", [HUAWEI, BYD], "agreement")
    shares = [
        {"unit_id": HUAWEI, "cost_share_bp": 5000, "benefit_share_bp": 5000},
        {"unit_id": INSTITUTE, "cost_share_bp": 5000, "benefit_share_bp": 5000},
    ]
    with refused(
        units,
        NotAMember,
        f"{label(INSTITUTE)} is a party to agreement '共享实训基地' with shares in force "
        "from 2024-06-01, so it must be a member of 深圳市域产教联合体 on every day of "
        "that; it would not be on 2024-08-01 (amend or terminate the agreement first)",
    ):
        units.amend_agreement(agreement, parties=shares, resolution=number, principal=P)


def test_a_contributor_leaves_only_once_the_agreement_no_longer_lists_it(units):
    body = found(units, kind="city", name="深圳市域产教联合体")
    seated(units, body, HUAWEI, BYD)
    admit(units, body, CHIP, "2024-02-01")
    agreement = agreement_of(units, body, [HUAWEI, CHIP], "2024-05-10")
    units.record_contribution(
        agreement,
        CHIP,
        kind="funds",
        amount="100",
        principal=P,
        contributed_on="2024-09-15",
        description="设备款",
    )
    number = meeting_with_resolution(units, body, "2024-08-20", [HUAWEI, BYD], "agreement")
    units.amend_agreement(
        agreement,
        effective_on="2024-09-20",
        resolution=number,
        principal=P,
        parties=[{"unit_id": HUAWEI, "cost_share_bp": 10_000, "benefit_share_bp": 10_000}],
    )
    with refused(
        units,
        NotAMember,
        f"{label(CHIP)} is a party to agreement '共享实训基地' with shares in force from "
        "2024-05-10 until 2024-09-20, so it must be a member of 深圳市域产教联合体 on every "
        "day of that; it would not be on 2024-09-16 (amend or terminate the agreement "
        "first)",
    ):
        leave(units, body, CHIP, "2024-09-16")
    leave(units, body, CHIP, "2024-09-20")


def test_a_unit_is_deregistered_only_once_its_memberships_have_ended(units):
    body = found(units, kind="city", name="深圳市域产教联合体")
    admit(units, body, CHIP, "2024-02-01")
    leave(units, body, CHIP, "2024-09-01")
    with refused(
        units,
        UnitDeregistered,
        f"{label(CHIP)} is deregistered effective 2024-08-01, but it is a member of "
        "深圳市域产教联合体 from 2024-02-01 until 2024-09-01; record its exit effective "
        "2024-08-01 at the latest first",
    ):
        units.deregister_unit(CHIP, effective_on="2024-08-01", principal=P)
    units.deregister_unit(CHIP, effective_on="2024-09-01", principal=P)
    assert units.unit(CHIP).deregistered_on.isoformat() == "2024-09-01"


def test_a_unit_cannot_be_deregistered_before_a_change_of_its_record(units):
    units.rename_unit(CHIP, name="苏州芯科技有限公司", effective_on="2024-06-01", principal=P)
    with pytest.raises(
        LedgerError, match=re.escape("its record already holds a change effective 2024-06-01")
    ):
        units.deregister_unit(CHIP, effective_on="2024-05-01", principal=P)


def test_a_body_cannot_be_dissolved_before_facts_recorded_after_that_date(units):
    body = found(units, kind="city", name="深圳市域产教联合体")
    admit(units, body, CHIP, "2024-02-01")
    leave(units, body, CHIP, "2024-09-01")
    with refused(
        units,
        CommunityDissolved,
        f"深圳市域产教联合体 cannot be dissolved effective 2024-08-01: {label(CHIP)} is a "
        "member from 2024-02-01 until 2024-09-01",
    ):
        units.dissolve_community(body, effective_on="2024-08-01", principal=P)
    units.dissolve_community(body, effective_on="2024-09-01", principal=P)


def test_the_recommending_lead_keeps_leading_on_the_recommendations_date(units):
    body = found(units)
    admit(units, body, HUAWEI, "2024-03-01", role="lead")
    units.set_recommending_province(body, lead=HUAWEI, effective_on="2024-06-01", principal=P)
    with refused(
        units,
        NotALead,
        "全国新能源汽车行业产教融合共同体's recommending province was set effective "
        f"2024-06-01 as the province of its lead {label(HUAWEI)}, which must lead it "
        "that day; choose another recommending province first",
    ):
        leave(units, body, HUAWEI, "2024-05-01")
    leave(units, body, HUAWEI, "2024-06-02")


# --- the breaches before a command, known from the command before -----------------


def test_a_command_on_a_body_as_the_last_command_left_it_walks_the_rules_once(units, monkeypatch):
    """Each command after the first finds the breaches before it known: the rules are
    walked once, after it decides; a refusal comes all the same."""
    walks: list[int] = []
    walk = ledger_module.breaches
    monkeypatch.setattr(ledger_module, "breaches", lambda t, n: walks.append(1) or walk(t, n))
    body = found(units)
    admit(units, body, HUAWEI, "2024-06-01", role="lead")
    assert len(walks) == 2  # the first command on the body: before and after
    admit(units, body, ZJU, "2024-06-01", role="lead")
    admit(units, body, CHIP, "2024-06-01")
    assert len(walks) == 4
    with refused(
        units,
        LeadAlreadyHeld,
        f"{label(BYD)} cannot lead 全国新能源汽车行业产教融合共同体 from 2024-07-01: "
        f"{label(HUAWEI)} leads as enterprise since 2024-06-01; an industry community "
        "has one lead enterprise at a time",
    ):
        admit(units, body, BYD, "2024-07-01", role="lead")
    assert len(walks) == 5
    admit(units, body, BYD, "2024-07-01")  # the body as the refused command found it
    assert len(walks) == 6


class _Aggregate:
    def __init__(self, version: int, unsaved: int = 0) -> None:
        self.id = uuid4()
        self.version = version
        self.pending_events = [object()] * unsaved


def test_breaches_found_on_events_not_yet_saved_are_kept_only_once_they_are():
    """Until its save succeeds, another writer may store a different event under the
    same version: what was found on the command's own must not be taken for it."""
    checked = CheckedTimelines()
    body, council = _Aggregate(7, unsaved=1), _Aggregate(3)
    timeline = Timeline(body, council)  # type: ignore[arg-type]
    pending = checked.found(timeline, frozenset({"a breach"}))
    assert pending is not None
    body.pending_events = []  # as a reader of version 7 finds it
    assert checked.known(timeline) is None
    checked.saved([pending], [council])  # a save without the body's event
    assert checked.known(timeline) is None
    checked.saved([pending], [body])
    assert checked.known(timeline) == frozenset({"a breach"})
    body.pending_events = [object()]
    assert checked.known(timeline) is None  # a timeline holding unsaved events is not looked up
    body.pending_events = []
    assert checked.known(Timeline(body, council, deregistered={uuid4(): date(2025, 1, 1)})) is None
    assert checked.known(Timeline(body)) is None  # without the council: another timeline


def test_only_the_last_timelines_checked_are_kept():
    checked = CheckedTimelines(size=2)
    timelines = [Timeline(_Aggregate(1)) for _ in range(3)]  # type: ignore[arg-type]
    for t in timelines:
        assert checked.found(t, frozenset()) is None
    assert [checked.known(t) for t in timelines] == [None, frozenset(), frozenset()]


def test_a_units_bodies_are_found_as_the_log_stands_whoever_recorded_them(units):
    """A deregistration checks every body the unit belongs to, found from the log's
    admissions as it stands when asked (read once, then only what is new): bodies and
    admissions another process recorded count, an annulled admission does not."""
    first = found(units, kind="city", name="深圳市域产教联合体")
    admit(units, first, CHIP, "2024-02-01")
    leave(units, first, CHIP, "2024-09-01")
    assert list(units.communities_of(units.unit(CHIP).id)) == [units.community(first)]
    with Ledger(units.url) as other:  # another process, after this one has read the log
        second = found(other, kind="city", name="苏州市域产教联合体")
        admit(other, second, CHIP, "2024-03-01")
        third = found(other, kind="city", name="无锡市域产教联合体")
        admit(other, third, CHIP, "2024-03-01")
        other.annul_member_record(third, CHIP, reason="错录", principal=P)
    assert list(units.community_ids()) == [first, second, third]
    assert [b.id for b in units.communities_of(units.unit(CHIP).id)] == [first, second]
    with refused(
        units,
        UnitDeregistered,
        f"{label(CHIP)} is deregistered effective 2024-10-01, but it is a member of "
        "苏州市域产教联合体 from 2024-03-01; record its exit effective 2024-10-01 at the "
        "latest first",
    ):
        units.deregister_unit(CHIP, effective_on="2024-10-01", principal=P)
