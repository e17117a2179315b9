"""Council seats, meetings and the resolution register, through the ledger."""

from __future__ import annotations

from datetime import date

import pytest
from freezegun import freeze_time
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bootstrap import Ledger
from domain.charter import Outcome
from domain.errors import (
    InvalidInput,
    NotAMember,
    ResolutionNotUsable,
    ResolutionRequired,
    SeatRuleBroken,
)
from tests.factories import credit_code

MEMBERS = [credit_code(200 + i) for i in range(12)]
OUTSIDER = credit_code(299)
P = "secretary:zhou"


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time("2025-12-01T02:00:00Z"):
        yield


def body_with_council(ledger: Ledger, seats: int = 12, name: str = "苏州工业园区市域产教联合体"):
    """A city body whose first ``seats`` members hold seats from 2024-03-01."""
    for code in [*MEMBERS, OUTSIDER]:
        if code not in _registered(ledger):
            ledger.register_unit(
                code=code,
                name=f"单位{code[-4:]}",
                unit_type="enterprise",
                division="320506",
                principal=P,
            )
    body = ledger.found_community(
        name=name,
        kind="city",
        industry="电子信息",
        division="320506",
        founded_on="2024-01-01",
        principal=P,
    )
    for code in MEMBERS:
        ledger.admit_member(
            body.id, code, role="participant", effective_on="2024-02-01", principal=P
        )
    for i, code in enumerate(MEMBERS[:seats]):
        ledger.assign_seat(
            body.id,
            code,
            representative=f"代表{i}",
            office="chair" if i == 0 else "director",
            effective_on="2024-03-01",
            principal=P,
        )
    return body.id


def _registered(ledger: Ledger) -> set[str]:
    codes = set()
    for code in [*MEMBERS, OUTSIDER]:
        try:
            ledger.unit(code)
            codes.add(code)
        except Exception:
            pass
    return codes


def resolve(
    ledger,
    body,
    matter="ordinary",
    present=8,
    f=None,
    a=0,
    ab=0,
    held_on="2025-03-10",
    recused=(),
    revokes=None,
    title="年度工作计划",
):
    # a meeting per resolution, some on one day: the council meets again (--again)
    meeting = ledger.record_meeting(
        body, held_on=held_on, present=MEMBERS[:present], again=True, principal=P
    )
    return ledger.record_resolution(
        body,
        meeting=meeting,
        matter=matter,
        title=title,
        votes_for=present - len(recused) if f is None else f,
        votes_against=a,
        abstentions=ab,
        recused=list(recused),
        revokes=revokes,
        principal=P,
    )


def test_only_active_members_hold_seats_and_there_is_one_chair(memory_ledger):
    body = body_with_council(memory_ledger, seats=2)
    with pytest.raises(NotAMember, match="only members hold council seats"):
        memory_ledger.assign_seat(
            body,
            OUTSIDER,
            representative="某人",
            office="director",
            effective_on="2024-03-01",
            principal=P,
        )
    with pytest.raises(SeatRuleBroken, match="already has a chair"):
        memory_ledger.assign_seat(
            body,
            MEMBERS[5],
            representative="某人",
            office="chair",
            effective_on="2024-03-01",
            principal=P,
        )
    with pytest.raises(SeatRuleBroken, match="already holds a council seat"):
        memory_ledger.assign_seat(
            body,
            MEMBERS[1],
            representative="某人",
            office="director",
            effective_on="2024-04-01",
            principal=P,
        )
    memory_ledger.vacate_seat(body, MEMBERS[0], effective_on="2024-06-01", principal=P)
    memory_ledger.assign_seat(
        body,
        MEMBERS[5],
        representative="新理事长",
        office="chair",
        effective_on="2024-06-01",
        principal=P,
    )
    council = memory_ledger.council(body)
    assert [
        s.representative for s in council.seats_on(date(2024, 6, 1)) if s.office == "chair"
    ] == ["新理事长"]


def test_a_members_exit_vacates_its_seat_in_the_same_transaction(memory_ledger):
    body = body_with_council(memory_ledger, seats=3)
    before = memory_ledger.recorder.max_notification_id()
    memory_ledger.exit_member(
        body, MEMBERS[2], reason="withdrawal", effective_on="2025-01-01", principal=P
    )
    council = memory_ledger.council(body)
    assert council.open_seat(memory_ledger.unit(MEMBERS[2]).id) is None
    assert len(council.seats_on(date(2025, 1, 1))) == 2
    assert memory_ledger.recorder.max_notification_id() == before + 2


def test_a_meeting_records_only_seat_holders_as_present(memory_ledger):
    body = body_with_council(memory_ledger, seats=4)
    with pytest.raises(SeatRuleBroken, match="held no council seat on 2025-03-10"):
        memory_ledger.record_meeting(body, held_on="2025-03-10", present=MEMBERS[:5], principal=P)
    with pytest.raises(SeatRuleBroken, match="held no council seat on 2024-02-15"):
        memory_ledger.record_meeting(body, held_on="2024-02-15", present=MEMBERS[:1], principal=P)


def test_resolutions_are_numbered_per_year_and_rejections_get_no_number(memory_ledger):
    body = body_with_council(memory_ledger)
    first = resolve(memory_ledger, body, held_on="2024-11-02")
    second = resolve(memory_ledger, body, held_on="2025-01-15")
    short = resolve(memory_ledger, body, present=5, held_on="2025-02-01")
    third = resolve(memory_ledger, body, held_on="2025-03-01")
    assert [first.number, second.number, short.number, third.number] == [
        "2024-001",
        "2025-001",
        None,
        "2025-002",
    ]
    assert short.outcome is Outcome.REJECTED
    assert short.reason == "quorum not met: 5 of 12 seats present, 8 needed"


def test_a_removal_at_the_exact_two_thirds_boundary_passes_and_one_short_fails(memory_ledger):
    body = body_with_council(memory_ledger)
    passed = resolve(memory_ledger, body, matter="removal", present=12, f=8, a=4)
    failed = resolve(memory_ledger, body, matter="removal", present=12, f=7, a=5)
    assert (passed.outcome, passed.reason) == (
        Outcome.ADOPTED,
        "adopted: 8 in favour, 8 needed (two-thirds of 12 voting seats)",
    )
    assert (failed.outcome, failed.reason) == (
        Outcome.REJECTED,
        "rejected: 7 in favour, 8 needed (two-thirds of 12 voting seats)",
    )


def test_a_tally_with_more_votes_than_seats_present_is_refused_and_nothing_recorded(memory_ledger):
    body = body_with_council(memory_ledger)
    meeting = memory_ledger.record_meeting(
        body, held_on="2025-03-10", present=MEMBERS[:8], principal=P
    )
    before = memory_ledger.recorder.max_notification_id()
    with pytest.raises(InvalidInput, match="counts 9 votes and abstentions, but only 8 seats"):
        memory_ledger.record_resolution(
            body,
            meeting=meeting,
            matter="ordinary",
            title="x",
            votes_for=9,
            votes_against=0,
            abstentions=0,
            principal=P,
        )
    with pytest.raises(InvalidInput, match="recused seats must have been present"):
        memory_ledger.record_resolution(
            body,
            meeting=meeting,
            matter="ordinary",
            title="x",
            votes_for=1,
            votes_against=0,
            abstentions=0,
            recused=[MEMBERS[10]],
            principal=P,
        )
    assert memory_ledger.recorder.max_notification_id() == before


def test_a_revoked_resolution_stays_in_the_register_marked_by_the_later_one(memory_ledger):
    body = body_with_council(memory_ledger)
    original = resolve(memory_ledger, body, held_on="2025-03-01", title="设立实训基地")
    revoking = resolve(
        memory_ledger, body, held_on="2025-04-01", revokes=original.number, title="撤销 2025-001"
    )
    register = memory_ledger.council(body).resolutions
    assert [(r.number, r.revokes, r.revoked_by) for r in register] == [
        ("2025-001", None, "2025-002"),
        ("2025-002", "2025-001", None),
    ]
    with pytest.raises(InvalidInput, match="already revoked by 2025-002"):
        resolve(memory_ledger, body, held_on="2025-05-01", revokes=original.number)
    assert revoking.in_force and not register[0].in_force


def test_once_the_charter_requires_it_an_admission_needs_a_valid_resolution(memory_ledger):
    body = body_with_council(memory_ledger)
    other = body_with_council(memory_ledger, name="另一个联合体")
    memory_ledger.adopt_charter(
        body,
        version="1.0",
        effective_on="2024-03-01",
        admission_requires_resolution=True,
        principal=P,
    )
    newcomer = credit_code(400)
    memory_ledger.register_unit(
        code=newcomer, name="新成员", unit_type="enterprise", division="320506", principal=P
    )
    admit = lambda r: memory_ledger.admit_member(  # noqa: E731
        body, newcomer, role="participant", effective_on="2025-05-01", resolution=r, principal=P
    )
    with pytest.raises(ResolutionRequired, match="requires an adopted admission resolution"):
        admit(None)
    ordinary = resolve(memory_ledger, body, held_on="2025-04-01")
    with pytest.raises(ResolutionNotUsable, match="is on the matter 'ordinary', not 'admission'"):
        admit(ordinary.number)
    foreign = resolve(memory_ledger, other, matter="admission", held_on="2025-04-01")
    assert foreign.number == "2025-001"
    with pytest.raises(ResolutionNotUsable, match="register has no resolution 2025-009"):
        admit("2025-009")
    rejected = resolve(memory_ledger, body, matter="admission", present=5, held_on="2025-04-02")
    assert rejected.number is None
    late = resolve(memory_ledger, body, matter="admission", held_on="2025-06-01")
    with pytest.raises(ResolutionNotUsable, match="was passed on 2025-06-01, after 2025-05-01"):
        admit(late.number)
    good = resolve(memory_ledger, body, matter="admission", held_on="2025-04-20")
    admit(good.number)
    period = memory_ledger.community(body).open_period(memory_ledger.unit(newcomer).id)
    assert period.admitted_by == good.number


def test_a_later_charter_needs_a_charter_resolution_and_governs_later_meetings(memory_ledger):
    body = body_with_council(memory_ledger)
    memory_ledger.adopt_charter(body, version="1.0", effective_on="2024-03-01", principal=P)
    with pytest.raises(ResolutionRequired, match="a new one needs the register number"):
        memory_ledger.adopt_charter(
            body, version="2.0", effective_on="2025-01-01", quorum="1/2", principal=P
        )
    amendment = resolve(memory_ledger, body, matter="charter", present=12, held_on="2025-01-10")
    memory_ledger.adopt_charter(
        body,
        version="2.0",
        resolution=amendment.number,
        quorum="1/2",
        removal_requires_resolution=True,
        principal=P,
    )
    before = resolve(memory_ledger, body, present=7, held_on="2025-01-09")
    after = resolve(memory_ledger, body, present=7, held_on="2025-01-10")
    assert before.outcome is Outcome.REJECTED and before.charter_version == "1.0"
    assert after.outcome is Outcome.ADOPTED and after.charter_version == "2.0"
    with pytest.raises(ResolutionRequired, match="requires an adopted removal resolution"):
        memory_ledger.exit_member(
            body, MEMBERS[11], reason="removal", effective_on="2025-02-01", principal=P
        )
    # Withdrawal is the member's own act: no resolution needed.
    memory_ledger.exit_member(
        body, MEMBERS[11], reason="withdrawal", effective_on="2025-02-01", principal=P
    )


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(order=st.permutations(range(12)), present=st.integers(0, 12), data=st.data())
def test_an_outcome_never_depends_on_the_order_seats_were_recorded_in(order, present, data):
    votes_for = data.draw(st.integers(0, present))
    results = []
    for sequence in (range(12), order):
        with Ledger("memory://") as ledger:
            for code in MEMBERS:
                ledger.register_unit(
                    code=code, name="u", unit_type="enterprise", division="320506", principal=P
                )
            body = ledger.found_community(
                name="b",
                kind="city",
                industry="i",
                division="320506",
                founded_on="2024-01-01",
                principal=P,
            ).id
            for code in MEMBERS:
                ledger.admit_member(
                    body, code, role="participant", effective_on="2024-02-01", principal=P
                )
            for i in sequence:
                ledger.assign_seat(
                    body,
                    MEMBERS[i],
                    representative=f"r{i}",
                    office="director",
                    effective_on=f"2024-03-{1 + i:02d}",
                    principal=P,
                )
            r = resolve(ledger, body, matter="removal", present=present, f=votes_for)
            results.append((r.outcome, r.reason, r.number))
    assert results[0] == results[1]


def test_dissolution_vacates_every_seat_with_the_memberships(memory_ledger):
    body = body_with_council(memory_ledger, seats=4)
    with pytest.raises(ResolutionRequired, match="its dissolution needs an adopted dissolution"):
        memory_ledger.dissolve_community(body, effective_on="2025-06-30", principal=P)
    decided = resolve(memory_ledger, body, "dissolution", present=4, held_on="2025-06-20")
    memory_ledger.dissolve_community(
        body, effective_on="2025-06-30", resolution=decided.number, principal=P
    )
    council = memory_ledger.council(body)
    assert council.seats_on(date(2025, 6, 29)) and council.seats_on(date(2025, 6, 30)) == []
    assert all(s.until == date(2025, 6, 30) for s in council.seats)


@pytest.mark.parametrize(
    ("matter", "present", "f", "a", "recused"),
    [
        ("ordinary", 8, 5, 3, 0),
        ("ordinary", 5, 5, 0, 0),  # no quorum
        ("removal", 12, 7, 5, 0),  # one short of two-thirds
        ("removal", 12, 8, 3, 1),  # two-thirds of the 11 voting seats
    ],
)
def test_a_preview_gives_the_outcome_and_reason_recording_gives_and_records_nothing(
    memory_ledger, matter, present, f, a, recused
):
    body = body_with_council(memory_ledger)
    meeting = memory_ledger.record_meeting(
        body, held_on="2025-03-10", present=MEMBERS[:present], principal=P
    )
    motion = {
        "meeting": meeting,
        "matter": matter,
        "votes_for": f,
        "votes_against": a,
        "abstentions": present - recused - f - a,
        "recused": MEMBERS[:recused],
    }
    head = memory_ledger.recorder.max_notification_id()
    preview = memory_ledger.preview_resolution(body, **motion)
    assert memory_ledger.recorder.max_notification_id() == head
    recorded = memory_ledger.record_resolution(body, title="预览", principal=P, **motion)
    assert (preview.outcome, preview.reason) == (recorded.outcome.value, recorded.reason)
    assert (preview.held_on, preview.seats, preview.present) == (date(2025, 3, 10), 12, present)


def test_a_preview_refuses_what_recording_would_refuse(memory_ledger):
    body = body_with_council(memory_ledger)
    meeting = memory_ledger.record_meeting(
        body, held_on="2025-03-10", present=MEMBERS[:8], principal=P
    )
    with pytest.raises(InvalidInput, match="recused seats must have been present"):
        memory_ledger.preview_resolution(
            body,
            meeting=meeting,
            matter="ordinary",
            votes_for=7,
            votes_against=0,
            abstentions=0,
            recused=[MEMBERS[11]],
        )
