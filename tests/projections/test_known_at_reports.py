"""Every report as the ledger knew it at a time, from the read models, on both stores:
what was recorded later — a backdated contribution, an admission, a reversal, an
amendment that splits costs again, a rename or relocation effective earlier, a
resolution and a revocation — is left out; without a time it is all in. The known-at
answers are those ``replay --until`` computes from the events recorded by then."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest
from freezegun import freeze_time

from bootstrap import Ledger
from domain.errors import AgreementNotFound, CommunityNotFound, CouncilNotFound, InvalidDate
from domain.values import DATE_FORMS
from projections import cost_sharing_model, membership_model, provinces, register_model
from projections.machinery import Store
from projections.read_models import MODELS
from projections.replay import replay
from tests.factories import credit_code

P = "secretary:test"
A, B, C = (credit_code(950 + i, division="320506") for i in range(3))
FOUNDED = datetime(2025, 3, 1, 2, 0, tzinfo=UTC)  # 10:00 in China
COUNCIL = datetime(2025, 3, 1, 2, 10, tzinfo=UTC)
DRAFTED = datetime(2025, 3, 1, 2, 20, tzinfo=UTC)
APPROVED = datetime(2025, 3, 1, 2, 30, tzinfo=UTC)
T = datetime(2025, 3, 1, 3, 0, tzinfo=UTC)  # what the ledger knew at 11:00 in China
LATER = datetime(2025, 4, 1, 2, 0, tzinfo=UTC)
AS_OF = "2025-03-01"


class Recorded(msgspec.Struct):
    body: Any
    agreement: Any
    store: Store


@pytest.fixture
def recorded(ledger: Ledger) -> Recorded:
    """On 2025-03-01 (China), by 11:00: a Suzhou city body with A and B (both in
    Suzhou) admitted, a council of both, resolutions 2025-001 (approving), 2025-002
    (for an amendment) and 2025-003 (ordinary); an agreement between A (60 % of
    costs, 50 % of benefits) and B, approved, with A's contribution of 1000.00, costs
    of 500.00 and 100.00 and a benefit of 200.00. On 2025-04-01, backdated: C
    admitted from 2025-02-01 (Shanghai), B's contribution of 300.00 dated
    2025-02-21, the amendment to 50/30 and 50/70 from 2025-02-24, the 100.00 cost
    reversed, A renamed and moved to Hangzhou effective January, and 2025-004
    revoking 2025-003."""
    with freeze_time(FOUNDED) as clock:
        for code, name, kind, level, division in (
            (A, "苏州精密机械有限公司", "enterprise", None, "320506"),
            (B, "苏州科技大学", "university", None, "320508"),
            (C, "上海工业职业技术学院", "vocational_school", "higher", "310115"),
        ):
            ledger.register_unit(
                code=code, name=name, unit_type=kind, level=level, division=division, principal=P
            )
        body = ledger.found_community(
            name="苏州市域产教联合体",
            kind="city",
            industry="智能制造",
            division="320506",
            founded_on="2025-01-01",
            principal=P,
        ).id
        for code in (A, B):
            ledger.admit_member(
                body, code, role="participant", effective_on="2025-01-15", principal=P
            )
        clock.move_to(COUNCIL)
        for i, code in enumerate((A, B)):
            ledger.assign_seat(
                body,
                code,
                representative=f"代表{i}",
                office="chair" if i == 0 else "director",
                effective_on="2025-01-20",
                principal=P,
            )
        meeting = ledger.record_meeting(body, held_on="2025-02-15", present=[A, B], principal=P)
        for matter, title in (
            ("agreement", "批准协议"),
            ("agreement", "修订协议"),
            ("ordinary", "年度计划"),
        ):
            ledger.record_resolution(
                body,
                meeting=meeting,
                matter=matter,
                title=title,
                votes_for=2,
                votes_against=0,
                abstentions=0,
                principal=P,
            )
        clock.move_to(DRAFTED)
        parties = [
            {"unit_id": A, "cost_share_bp": 6000, "benefit_share_bp": 5000},
            {"unit_id": B, "cost_share_bp": 4000, "benefit_share_bp": 5000},
        ]
        agreement = ledger.draft_agreement(
            body, title="共享实训基地", parties=parties, drafted_on="2025-02-10", principal=P
        ).id
        clock.move_to(APPROVED)
        ledger.approve_agreement(agreement, resolution="2025-001", principal=P)
        ledger.record_contribution(
            agreement,
            A,
            kind="funds",
            amount="1000.00",
            contributed_on="2025-02-20",
            description="启动资金",
            principal=P,
        )
        ledger.record_cost(
            agreement, amount="500.00", incurred_on="2025-02-25", description="耗材", principal=P
        )
        mistaken = ledger.record_cost(
            agreement,
            amount="100.00",
            incurred_on="2025-02-26",
            description="重复录入",
            principal=P,
        )
        ledger.record_benefit(
            agreement,
            amount="200.00",
            realized_on="2025-02-27",
            description="培训收入",
            principal=P,
        )
        clock.move_to(LATER)
        ledger.admit_member(body, C, role="participant", effective_on="2025-02-01", principal=P)
        ledger.record_contribution(
            agreement,
            B,
            kind="equipment",
            amount="300.00",
            contributed_on="2025-02-21",
            description="实训设备",
            principal=P,
        )
        ledger.amend_agreement(
            agreement,
            resolution="2025-002",
            effective_on="2025-02-24",
            parties=[
                {"unit_id": A, "cost_share_bp": 5000, "benefit_share_bp": 3000},
                {"unit_id": B, "cost_share_bp": 5000, "benefit_share_bp": 7000},
            ],
            principal=P,
        )
        ledger.reverse_entry(agreement, entry=mistaken.number, reason="重复录入", principal=P)
        ledger.rename_unit(
            A, name="苏州精密智造股份有限公司", effective_on="2025-01-01", principal=P
        )
        ledger.relocate_unit(A, division="330106", effective_on="2025-01-10", principal=P)
        later = ledger.record_meeting(body, held_on="2025-03-20", present=[A, B], principal=P)
        ledger.record_resolution(
            body,
            meeting=later,
            matter="ordinary",
            title="撤销年度计划",
            votes_for=2,
            votes_against=0,
            abstentions=0,
            revokes="2025-003",
            principal=P,
        )
        return Recorded(body, agreement, Store(ledger, MODELS))


def parties(report: Any) -> list[tuple]:
    return [
        (
            p.code,
            p.name,
            p.cost_share_bp,
            p.cost_due,
            p.contributed,
            p.balance,
            p.benefit_share_bp,
            p.benefit_due,
        )
        for p in report.parties
    ]


def test_the_cost_sharing_report_as_known_at_a_time(recorded):
    known = cost_sharing_model.report(recorded.store, recorded.agreement, AS_OF, known_at=T)
    assert (known.status, known.known_at) == ("active", T)
    assert (
        known.total_costs,
        known.total_contributed,
        known.total_balance,
        known.total_benefits,
    ) == ("600.00", "1000.00", "400.00", "200.00")
    assert parties(known) == [
        (A, "苏州精密机械有限公司", 6000, "360.00", "1000.00", "640.00", 5000, "100.00"),
        (B, "苏州科技大学", 4000, "240.00", "0.00", "-240.00", 5000, "100.00"),
    ]
    now = cost_sharing_model.report(recorded.store, recorded.agreement, AS_OF)
    assert (
        now.known_at,
        now.total_costs,
        now.total_contributed,
        now.total_balance,
        now.total_benefits,
    ) == (None, "500.00", "1300.00", "800.00", "200.00")
    assert parties(now) == [
        (A, "苏州精密智造股份有限公司", 5000, "250.00", "1000.00", "750.00", 3000, "60.00"),
        (B, "苏州科技大学", 5000, "250.00", "300.00", "50.00", 7000, "140.00"),
    ]
    drafted = cost_sharing_model.report(recorded.store, recorded.agreement, AS_OF, known_at=DRAFTED)
    assert (drafted.status, drafted.total_costs, drafted.total_contributed) == (
        "draft",
        "0.00",
        "0.00",
    )
    with pytest.raises(AgreementNotFound, match="had not been recorded yet at 2025-03-01T02:10"):
        cost_sharing_model.report(recorded.store, recorded.agreement, AS_OF, known_at=COUNCIL)


def slices(parts: list[Any]) -> list[tuple[str, str, int]]:
    return [(s.key, s.amount, s.share_bp) for s in parts if s.amount != "0.00"]


def test_the_investment_summary_as_known_at_a_time(recorded):
    known = cost_sharing_model.investment(recorded.store, recorded.body, AS_OF, known_at=T)
    assert (known.total_contributed, known.known_at) == ("1000.00", T)
    assert [(a.status, a.contributed, a.costs, a.benefits) for a in known.agreements] == [
        ("active", "1000.00", "600.00", "200.00")
    ]
    assert slices(known.by_kind) == [("funds", "1000.00", 10000)]
    assert slices(known.by_source) == [("enterprise", "1000.00", 10000)]
    assert slices(known.by_province) == [("320000", "1000.00", 10000)]  # A still in Suzhou
    now = cost_sharing_model.investment(recorded.store, recorded.body, AS_OF)
    assert (now.total_contributed, now.known_at) == ("1300.00", None)
    assert [(a.contributed, a.costs, a.benefits) for a in now.agreements] == [
        ("1300.00", "500.00", "200.00")
    ]
    assert slices(now.by_kind) == [("funds", "1000.00", 7692), ("equipment", "300.00", 2308)]
    assert slices(now.by_source) == [("enterprise", "1000.00", 7692), ("school", "300.00", 2308)]
    assert slices(now.by_province) == [("330000", "1000.00", 7692), ("320000", "300.00", 2308)]
    assert (
        cost_sharing_model.investment(
            recorded.store, recorded.body, AS_OF, known_at=COUNCIL
        ).agreements
        == []
    )
    with pytest.raises(CommunityNotFound, match="had not been recorded yet at 2025-02-28T15:59"):
        cost_sharing_model.investment(recorded.store, recorded.body, AS_OF, known_at="2025-02-28")


def province_rows(view: Any) -> tuple:
    return (
        [(p.province, p.units) for p in view.provinces],
        view.total,
        view.outside_home,
        view.outside_home_share,
        view.local,
        view.non_local,
    )


def test_the_province_distribution_as_known_at_a_time(recorded):
    store = recorded.store
    known = provinces.distribution(store, recorded.body, AS_OF, known_at=T)
    assert province_rows(known) == ([("320000", 2)], 2, 0, "0.0000", 2, 0)
    assert known.known_at == T
    now = provinces.distribution(store, recorded.body, AS_OF)
    assert province_rows(now) == (
        [("310000", 1), ("320000", 1), ("330000", 1)],
        3,
        2,
        "0.6667",
        1,
        2,
    )
    national = provinces.distribution(store, None, AS_OF, known_at=T)
    assert province_rows(national) == ([("320000", 2)], 2, 0, "0.0000", None, None)
    assert [(t.unit_type, t.units) for t in national.by_type] == [
        ("enterprise", 1),
        ("university", 1),
    ]
    # a known-at time after everything counts every body as the kept counts do
    assert msgspec.structs.replace(
        provinces.distribution(store, None, AS_OF, known_at=LATER), known_at=None
    ) == provinces.distribution(store, None, AS_OF)
    with pytest.raises(CommunityNotFound, match="had not been recorded yet"):
        provinces.distribution(store, recorded.body, AS_OF, known_at="2025-02-28")


def test_member_names_and_provinces_as_known_at_a_time(recorded):
    known = membership_model.members(recorded.store, recorded.body, AS_OF, known_at=T)
    assert [(m.code, m.name, m.province) for m in known.members] == [
        (A, "苏州精密机械有限公司", "320000"),
        (B, "苏州科技大学", "320000"),
    ]
    now = membership_model.members(recorded.store, recorded.body, AS_OF)
    assert [(m.code, m.name, m.province) for m in now.members] == [
        (A, "苏州精密智造股份有限公司", "330000"),
        (B, "苏州科技大学", "320000"),
        (C, "上海工业职业技术学院", "310000"),
    ]


def register_rows(view: Any) -> list[tuple]:
    return [(r.number, r.matter, r.revoked_by) for r in view.resolutions]


def test_the_resolution_register_as_known_at_a_time(recorded):
    known = register_model.register(recorded.store, recorded.body, known_at=T)
    assert register_rows(known) == [
        ("2025-001", "agreement", None),
        ("2025-002", "agreement", None),
        ("2025-003", "ordinary", None),
    ]
    assert known.known_at == T
    now = register_model.register(recorded.store, recorded.body)
    assert register_rows(now) == [
        ("2025-001", "agreement", None),
        ("2025-002", "agreement", None),
        ("2025-003", "ordinary", "2025-004"),
        ("2025-004", "ordinary", None),
    ]
    with pytest.raises(
        CouncilNotFound,
        match="the council of 苏州市域产教联合体 had not been recorded yet at 2025-03-01T02:05:00",
    ):
        register_model.register(recorded.store, recorded.body, known_at="2025-03-01T10:05:00+08:00")


def test_known_at_answers_are_those_of_a_replay_until_that_time(recorded, ledger):
    then = replay(ledger, T)
    assert str(then.cutoff.as_of) == AS_OF
    store = recorded.store
    [report] = then.cost_sharing
    unknown = {"known_at": None}
    assert report == msgspec.structs.replace(
        cost_sharing_model.report(store, recorded.agreement, AS_OF, known_at=T), **unknown
    )
    assert then.provinces == msgspec.structs.replace(
        provinces.distribution(store, None, AS_OF, known_at=T), **unknown
    )
    [members] = then.members
    assert members.members == membership_model.members(store, recorded.body, AS_OF, T).members


@pytest.mark.parametrize("value", ["yesterday", "2025-02-30", "20250301"])
def test_a_known_at_time_the_parser_refuses_is_refused_by_every_report(recorded, value):
    message = (
        "known-at time must be a timestamp such as 2025-07-15T09:30:00+08:00 "
        f"or a date {DATE_FORMS}; got {value!r}"
    )
    store = recorded.store
    for ask in (
        lambda: cost_sharing_model.report(store, recorded.agreement, known_at=value),
        lambda: cost_sharing_model.investment(store, recorded.body, known_at=value),
        lambda: provinces.distribution(store, None, known_at=value),
        lambda: register_model.register(store, recorded.body, known_at=value),
        lambda: membership_model.members(store, recorded.body, known_at=value),
    ):
        with pytest.raises(InvalidDate) as refused:
            ask()
        assert str(refused.value) == message
