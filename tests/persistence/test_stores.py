"""The ledger on each store: events survive the round trip typed, bad input writes
nothing, and a reopened ledger reads back what was recorded."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID

import pytest
from freezegun import freeze_time

from adapters.settings import store_env
from bootstrap import Ledger
from domain.charter import Matter, Outcome
from domain.community import Community
from domain.errors import AlreadyRegistered, ConfigurationError, InvalidCreditCode
from domain.unit import MemberUnit
from domain.values import CommunityKind, ExitReason, Role, UnitType, VocationalLevel
from projections.membership import members
from tests.factories import credit_code, wrong_check

SCHOOL, FIRM = credit_code(7, prefix="12"), credit_code(8)


def populate(ledger: Ledger) -> UUID:
    ledger.register_unit(
        code=SCHOOL,
        name="深圳职业技术大学",
        unit_type="vocational_school",
        level="undergraduate",
        division="440305",
        principal="secretary:li",
    )
    ledger.register_unit(
        code=FIRM, name="比亚迪", unit_type="enterprise", division="440307", principal="p"
    )
    ledger.rename_unit(FIRM, name="比亚迪股份有限公司", effective_on="2024-05-01", principal="p")
    ledger.relocate_unit(FIRM, division="440310", effective_on="2024-06-01", principal="p")
    body = ledger.found_community(
        name="新能源汽车行业产教融合共同体",
        kind="industry",
        industry="新能源汽车",
        division="440300",
        founded_on="2024-01-01",
        principal="p",
    )
    ledger.admit_member(body.id, SCHOOL, role="lead", effective_on="2024-02-01", principal="p")
    ledger.assign_seat(
        body.id,
        SCHOOL,
        representative="许建领",
        office="chair",
        effective_on="2024-02-01",
        principal="p",
    )
    meeting = ledger.record_meeting(body.id, held_on="2024-02-01", present=[SCHOOL], principal="p")
    ledger.record_resolution(
        body.id,
        meeting=meeting,
        matter="admission",
        title="接纳比亚迪",
        votes_for=1,
        votes_against=0,
        abstentions=0,
        principal="p",
    )
    ledger.admit_member(
        body.id,
        FIRM,
        role="participant",
        effective_on="2024-02-01",
        resolution="2024-001",
        principal="p",
    )
    ledger.change_member_role(body.id, FIRM, role="lead", effective_on="2024-03-01", principal="p")
    ledger.exit_member(body.id, FIRM, reason="withdrawal", effective_on="2025-01-01", principal="p")
    ledger.deregister_unit(FIRM, effective_on="2025-02-01", principal="p")
    return body.id


@freeze_time("2025-07-15T02:00:00.123456Z")
def test_every_event_type_comes_back_typed_and_equal(ledger):
    body_id = populate(ledger)
    school = next(iter(ledger.events.get(ledger.unit(SCHOOL).id)))
    assert isinstance(school, MemberUnit.Registered)
    assert school.unit_type is UnitType.VOCATIONAL_SCHOOL
    assert school.level is VocationalLevel.UNDERGRADUATE
    assert school.principal == "secretary:li"
    assert school.timestamp == datetime(2025, 7, 15, 2, 0, 0, 123456, tzinfo=UTC)
    firm = [type(e).__name__ for e in ledger.events.get(ledger.unit(FIRM).id)]
    assert firm == ["Registered", "Renamed", "Relocated", "Deregistered"]
    events = list(ledger.events.get(body_id))
    assert [type(e) for e in events] == [
        Community.Founded,
        Community.MemberAdmitted,
        Community.MemberAdmitted,
        Community.MemberRoleChanged,
        Community.MemberExited,
    ]
    founded, lead, admitted, changed, exited = events
    assert founded.kind is CommunityKind.INDUSTRY and founded.founded_on == date(2024, 1, 1)
    assert lead.role is Role.LEAD and admitted.resolution == "2024-001"
    assert isinstance(admitted.unit_id, UUID) and admitted.effective_on == date(2024, 2, 1)
    council = [type(e).__name__ for e in ledger.events.get(ledger.council(body_id).id)]
    assert council == ["Established", "SeatAssigned", "MeetingHeld", "ResolutionRecorded"]
    resolution = list(ledger.events.get(ledger.council(body_id).id))[-1]
    assert resolution.matter is Matter.ADMISSION and resolution.outcome is Outcome.ADOPTED
    assert changed.role is Role.LEAD and exited.reason is ExitReason.WITHDRAWAL


def test_the_stored_topics_are_the_stable_versioned_event_names(ledger):
    with freeze_time("2025-07-15"):
        populate(ledger)
    topics = {n.topic for n in ledger.recorder.select_notifications(start=1, limit=100)}
    assert topics == {
        "chanjiao.unit.registered.v1",
        "chanjiao.unit.renamed.v1",
        "chanjiao.unit.relocated.v1",
        "chanjiao.unit.deregistered.v1",
        "chanjiao.community.founded.v1",
        "chanjiao.community.member_admitted.v1",
        "chanjiao.community.member_role_changed.v1",
        "chanjiao.community.member_exited.v1",
        "chanjiao.council.established.v1",
        "chanjiao.council.seat_assigned.v1",
        "chanjiao.council.meeting_held.v1",
        "chanjiao.council.resolution_recorded.v1",
    }
    founded = ledger.recorder.select_notifications(
        start=1, limit=1, topics=["chanjiao.community.founded.v1"]
    )[0]
    assert b'"originator_topic":"chanjiao.community"' in founded.state


def test_a_reopened_ledger_reads_back_the_same_answers(database_url):
    with freeze_time("2025-07-15"):
        first = Ledger(database_url)
        body_id = populate(first)
        answer = members(first, body_id, as_of="2024-12-31")
        first.close()
        second = Ledger(database_url)
        try:
            assert members(second, body_id, as_of="2024-12-31") == answer
            assert [m.code for m in answer.members] == [SCHOOL, FIRM]
            assert second.unit(FIRM).name_on(date(2024, 12, 31)) == "比亚迪股份有限公司"
        finally:
            second.close()


def test_refused_input_writes_nothing_to_the_store(ledger):
    with freeze_time("2025-07-15"):
        populate(ledger)
        before = ledger.recorder.max_notification_id()
        with pytest.raises(InvalidCreditCode, match="check character should be"):
            ledger.register_unit(
                code=wrong_check(credit_code(50)),
                name="x",
                unit_type="enterprise",
                division="440305",
                principal="p",
            )
        with pytest.raises(AlreadyRegistered):
            ledger.register_unit(
                code=SCHOOL, name="重复", unit_type="university", division="440305", principal="p"
            )
        assert ledger.recorder.max_notification_id() == before


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://root@localhost/x", "is not understood"),
        ("sqlite://", "names no file"),
        ("postgresql://localhost/", "names no database"),
    ],
)
def test_a_database_url_the_ledger_cannot_use_is_refused_clearly(url, message):
    with pytest.raises(ConfigurationError, match=message):
        store_env(url)


def test_a_postgresql_url_becomes_the_library_settings_with_a_bounded_lock_wait():
    env = store_env("postgresql://ledger:s%40cret@db.example:6543/chanjiao?schema=prod")
    assert env["POSTGRES_USER"] == "ledger" and env["POSTGRES_PASSWORD"] == "s@cret"
    assert (env["POSTGRES_HOST"], env["POSTGRES_PORT"]) == ("db.example", "6543")
    assert (env["POSTGRES_DBNAME"], env["POSTGRES_SCHEMA"]) == ("chanjiao", "prod")
    assert int(env["POSTGRES_LOCK_TIMEOUT"]) > 0
