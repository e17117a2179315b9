"""Benefit agreements through the ledger: shares, approval, amendment, termination,
entries, reversal and the exact settlement.

Most rules are checked in memory; the lifecycle with a reload, and the refusals
that must leave nothing behind, run on SQLite and PostgreSQL too."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from uuid import UUID, uuid4

import msgspec
import pytest
from freezegun import freeze_time
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bootstrap import Ledger
from domain.agreement import Entries, Entry, EntryKind, Party, Position, Status
from domain.allocation import allocate
from domain.errors import (
    AgreementNotFound,
    AgreementRuleBroken,
    CommunityDissolved,
    EffectiveDateTooEarly,
    EntryNotFound,
    InvalidAmount,
    InvalidChoice,
    InvalidInput,
    InvalidShares,
    LedgerError,
    NotAMember,
    NothingToChange,
    ResolutionNotUsable,
    ResolutionRequired,
    UnitNotFound,
)
from domain.values import MAX_FEN, format_fen, unit_id_for
from tests.factories import credit_code

P = "secretary:lin"

A, B, C, D, E, F, OUTSIDER = (credit_code(700 + i) for i in range(7))
UNITS = {
    A: ("苏州精密机械有限公司", "enterprise", None),
    B: ("苏州科技大学", "university", None),
    C: ("苏州工业职业技术学院", "vocational_school", "higher"),
    D: ("苏州工业园区管理委员会", "government", None),
    E: ("苏州芯电子有限公司", "enterprise", None),
    F: ("苏州智能制造研究院", "research_institute", None),
    OUTSIDER: ("无锡外地企业有限公司", "enterprise", None),
}
MEMBERS = [A, B, C, D, E, F]  # admitted 2024-02-01
SEATED = [A, B, C, D]  # council seats from 2024-03-01; E and F hold none

FIRST = (  # (unit, cost share, benefit share)
    (A, 5000, 6000),
    (B, 3000, 4000),
    (C, 2000, 0),
)


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time("2025-12-01T02:00:00Z"):
        yield


# --- helpers --------------------------------------------------------------------------


def body_with_council(ledger: Ledger, name: str = "苏州市域产教联合体") -> UUID:
    """A city body founded 2024-01-01 with members A–F from 2024-02-01 and a council
    of A (chair), B, C and D from 2024-03-01."""
    for code, (unit_name, unit_type, level) in UNITS.items():
        try:
            ledger.unit(code)
        except UnitNotFound:
            ledger.register_unit(
                code=code,
                name=unit_name,
                unit_type=unit_type,
                level=level,
                division="320506",
                principal=P,
            )
    body = ledger.found_community(
        name=name,
        kind="city",
        industry="智能制造",
        division="320506",
        founded_on="2024-01-01",
        principal=P,
    ).id
    for code in MEMBERS:
        ledger.admit_member(body, code, role="participant", effective_on="2024-02-01", principal=P)
    for i, code in enumerate(SEATED):
        ledger.assign_seat(
            body,
            code,
            representative=f"代表{i}",
            office="chair" if i == 0 else "director",
            effective_on="2024-03-01",
            principal=P,
        )
    return body


def resolve(
    ledger: Ledger,
    body: UUID,
    held_on: str,
    matter: str = "agreement",
    votes: tuple[int, int] = (4, 0),
    revokes: str | None = None,
) -> str | None:
    """A council meeting of all four seats and one resolution; its register number
    (None when rejected)."""
    # a meeting per resolution, some on one day: the council meets again (--again)
    meeting = ledger.record_meeting(body, held_on=held_on, present=SEATED, again=True, principal=P)
    return ledger.record_resolution(
        body,
        meeting=meeting,
        matter=matter,
        title=f"{matter} {held_on}",
        votes_for=votes[0],
        votes_against=votes[1],
        abstentions=0,
        revokes=revokes,
        principal=P,
    ).number


def parties(*rows: tuple[str, int | str, int | str]) -> list[dict]:
    return [{"unit_id": u, "cost_share_bp": c, "benefit_share_bp": b} for u, c, b in rows]


def draft(
    ledger: Ledger, body: UUID, rows=FIRST, on: str = "2024-04-01", title: str = "共享实训基地"
) -> UUID:
    return ledger.draft_agreement(
        body, title=title, kind="training_base", parties=parties(*rows), drafted_on=on, principal=P
    ).id


def active(ledger: Ledger, rows=FIRST) -> tuple[UUID, UUID]:
    """A body and an agreement drafted 2024-04-01, approved from 2024-05-10."""
    body = body_with_council(ledger)
    agreement = draft(ledger, body, rows)
    ledger.approve_agreement(agreement, resolution=resolve(ledger, body, "2024-05-10"), principal=P)
    return body, agreement


def cost(ledger, agreement, amount: str, on: str):
    return ledger.record_cost(
        agreement, amount=amount, incurred_on=on, description="耗材", principal=P
    )


def benefit(ledger, agreement, amount: str, on: str):
    return ledger.record_benefit(
        agreement, amount=amount, realized_on=on, description="培训收入", principal=P
    )


def contribute(ledger, agreement, unit: str, amount: str, on: str, kind: str = "funds"):
    return ledger.record_contribution(
        agreement,
        unit,
        kind=kind,
        amount=amount,
        contributed_on=on,
        description="投入",
        principal=P,
    )


def by_unit(positions: list[Position]) -> dict[str, tuple[int, int, int]]:
    """code → (costs due, benefits due, contributed)."""
    codes = {unit_id_for(code): code for code in UNITS}
    return {codes[p.unit_id]: (p.costs_due, p.benefits_due, p.contributed) for p in positions}


def assert_columns_add_up(
    positions: list[Position], costs: int, benefits: int, contributions: int
) -> None:
    assert sum(p.costs_due for p in positions) == costs
    assert sum(p.benefits_due for p in positions) == benefits
    assert sum(p.contributed for p in positions) == contributions


@contextmanager
def refused(ledger: Ledger, error: type[LedgerError], match: str) -> Iterator[None]:
    """The command is refused with ``error`` (its message matching) and records nothing."""
    before = ledger.recorder.max_notification_id()
    with pytest.raises(error, match=match):
        yield
    assert ledger.recorder.max_notification_id() == before


# --- on both stores -----------------------------------------------------------------


def test_what_the_issue_requires_is_refused_and_nothing_is_recorded(ledger):
    body = body_with_council(ledger)
    for (c_cost, a_benefit), problem in [
        ((1999, 6000), "the cost shares add up to 9999 basis points (99.99%)"),
        ((2001, 6000), "the cost shares add up to 10001 basis points (100.01%)"),
        ((2000, 5999), "the benefit shares add up to 9999 basis points (99.99%)"),
        ((2000, 6001), "the benefit shares add up to 10001 basis points (100.01%)"),
    ]:
        with refused(ledger, InvalidShares, re.escape(problem) + r".*exactly 10000 \(100%\)"):
            draft(ledger, body, ((A, 5000, a_benefit), (B, 3000, 4000), (C, c_cost, 0)))
    with refused(ledger, InvalidShares, "the benefit shares add up to 10001 basis points"):
        draft(ledger, body, ((A, "50%", "60%"), (B, "30%", "40.01%"), (C, "20%", 0)))

    rows = ((A, 5000, 6000), (B, 3000, 4000), (E, 2000, 0))
    agreement = draft(ledger, body, rows)
    with refused(ledger, AgreementRuleBroken, "共享实训基地' has not been approved yet"):
        contribute(ledger, agreement, A, "100.00", "2024-04-15")
    ledger.approve_agreement(agreement, resolution=resolve(ledger, body, "2024-05-10"), principal=P)
    with refused(ledger, AgreementRuleBroken, "took effect 2024-05-10; a contribution cannot"):
        contribute(ledger, agreement, A, "100.00", "2024-05-09")
    with refused(
        ledger,
        AgreementRuleBroken,
        "苏州工业园区管理委员会 .* is not a party to agreement '共享实训基地' on 2024-06-01",
    ):
        contribute(ledger, agreement, D, "100.00", "2024-06-01")
    with refused(
        ledger,
        NotAMember,
        "无锡外地企业有限公司 .* is not an active member of 苏州市域产教联合体 on 2024-06-01",
    ):
        contribute(ledger, agreement, OUTSIDER, "100.00", "2024-06-01")

    contribute(ledger, agreement, E, "100.00", "2024-08-31")
    with refused(
        ledger,
        NotAMember,
        "苏州芯电子有限公司 .* is a party to agreement '共享实训基地' "
        "with shares in force from 2024-05-10, so it must be a member of 苏州市域产教联合体 "
        r"on every day of that; it would not be on 2024-09-01 \(amend or terminate",
    ):
        ledger.exit_member(body, E, reason="withdrawal", effective_on="2024-09-01", principal=P)
    ledger.amend_agreement(
        agreement,
        parties=parties((A, 6000, 6000), (B, 4000, 4000)),
        effective_on="2024-09-01",
        resolution=resolve(ledger, body, "2024-08-20"),
        principal=P,
    )
    ledger.exit_member(body, E, reason="withdrawal", effective_on="2024-09-01", principal=P)
    with refused(
        ledger,
        NotAMember,
        "苏州芯电子有限公司 .* is not an active member of "
        "苏州市域产教联合体 on 2024-09-01; only members contribute",
    ):
        contribute(ledger, agreement, E, "100.00", "2024-09-01")
    assert [(e.number, e.unit_id, e.amount_fen) for e in ledger.agreement(agreement).entries] == [
        (1, unit_id_for(E), 10_000)
    ]


def test_a_whole_lifecycle_reads_back_the_same_from_a_fresh_ledger(ledger):
    body, agreement = active(ledger)
    contribute(ledger, agreement, A, "500000.00", "2024-06-01")
    contribute(ledger, agreement, B, "120000.50", "2024-06-15", kind="equipment")
    contribute(ledger, agreement, C, "80000", "2024-07-01", kind="site")
    cost(ledger, agreement, "1000.01", "2024-08-01")  # 50001 / 30000 / 20000
    mistake = cost(ledger, agreement, "0.01", "2024-09-01")
    benefit(ledger, agreement, "300.00", "2024-10-01")  # 18000 / 12000 / 0
    new_shares = ((A, 3334, 5000), (B, 3333, 2500), (C, 3333, 2500))
    ledger.amend_agreement(
        agreement,
        parties=parties(*new_shares),
        resolution=resolve(ledger, body, "2025-01-15"),
        principal=P,
    )
    cost(ledger, agreement, "1.00", "2025-02-01")  # new shares: 34 / 33 / 33
    benefit(ledger, agreement, "0.03", "2025-03-01")  # new shares: 1 / 1 / 1
    cost(ledger, agreement, "1.00", "2025-01-14")  # recorded late, old shares: 50 / 30 / 20
    ledger.reverse_entry(agreement, entry=mistake.number, reason="重复录入", principal=P)
    ledger.terminate_agreement(
        agreement,
        effective_on="2025-07-01",
        resolution=resolve(ledger, body, "2025-06-30"),
        principal=P,
    )

    expected = {
        A: (50_001 + 50 + 34, 18_000 + 1, 50_000_000),
        B: (30_000 + 30 + 33, 12_000 + 1, 12_000_050),
        C: (20_000 + 20 + 33, 0 + 1, 8_000_000),
    }
    record = ledger.agreement(agreement)
    final = record.settle(date(2025, 7, 1))
    assert by_unit(final) == expected
    assert_columns_add_up(final, costs=100_201, benefits=30_003, contributions=70_000_050)
    assert [(p.cost_share_bp, p.benefit_share_bp) for p in final] == [
        (3334, 5000),
        (3333, 2500),
        (3333, 2500),
    ]

    with Ledger(ledger.url) as reopened:
        again = reopened.agreement(agreement)
        assert list(reopened.agreement_ids(body)) == [agreement]
    assert (again.status, again.approved_on, again.terminated_on) == (
        Status.TERMINATED,
        date(2024, 5, 10),
        date(2025, 7, 1),
    )
    assert [(t.effective_on, t.resolution) for t in again.terms] == [
        (date(2024, 5, 10), "2024-001"),
        (date(2025, 1, 15), "2025-001"),
    ]
    assert again.terminated_by == "2025-002"
    assert again.entries == record.entries
    assert again.entry(mistake.number).reversed_because == "重复录入"
    for as_of in (date(2024, 5, 9), date(2024, 8, 1), date(2025, 1, 14), date(2025, 7, 1)):
        assert again.settle(as_of) == record.settle(as_of)


# --- drafting -------------------------------------------------------------------------


def test_parties_listed_twice_without_any_share_or_not_at_all_are_refused(memory_ledger):
    body = body_with_council(memory_ledger)
    with refused(
        memory_ledger, InvalidShares, "苏州科技大学 .* is listed as a party more than once"
    ):
        draft(memory_ledger, body, ((A, 5000, 5000), (B, 2500, 2500), (B, 2500, 2500)))
    with refused(
        memory_ledger,
        InvalidShares,
        "苏州工业职业技术学院 .* has neither a cost share nor a benefit share",
    ):
        draft(memory_ledger, body, ((A, 5000, 6000), (B, 5000, 4000), (C, 0, 0)))
    with refused(memory_ledger, InvalidShares, "an agreement needs at least one party"):
        draft(memory_ledger, body, ())
    with refused(
        memory_ledger,
        InvalidShares,
        r"party 2's cost share must be whole basis "
        r"points .* got '33.333%'",
    ):
        draft(memory_ledger, body, ((A, "66.66%", 5000), (B, "33.333%", 5000)))
    with refused(memory_ledger, InvalidShares, "party 1 must name its unit_id and both shares"):
        memory_ledger.draft_agreement(
            body,
            title="x",
            parties=[{"cost_share_bp": 10_000}],
            drafted_on="2024-04-01",
            principal=P,
        )
    one = draft(memory_ledger, body, ((A, 10_000, 10_000),), title="独资基地")
    assert memory_ledger.agreement(one).draft == (Party(unit_id_for(A), 10_000, 10_000),)


def test_every_party_must_be_a_member_of_the_body_on_the_drafting_date(memory_ledger):
    body = body_with_council(memory_ledger)
    with refused(
        memory_ledger,
        NotAMember,
        "无锡外地企业有限公司 .* is not a member of "
        "苏州市域产教联合体 on 2024-04-01; an agreement's parties are member units",
    ):
        draft(memory_ledger, body, ((A, 5000, 5000), (OUTSIDER, 5000, 5000)))
    with refused(memory_ledger, NotAMember, "is not a member of 苏州市域产教联合体 on 2024-01-20"):
        draft(memory_ledger, body, ((A, 5000, 5000), (B, 5000, 5000)), on="2024-01-20")
    memory_ledger.exit_member(body, E, reason="withdrawal", effective_on="2024-03-15", principal=P)
    with refused(memory_ledger, NotAMember, "苏州芯电子有限公司 .* on 2024-04-01"):
        draft(memory_ledger, body, ((A, 5000, 5000), (E, 5000, 5000)))
    draft(memory_ledger, body, ((A, 5000, 5000), (E, 5000, 5000)), on="2024-03-14")


# --- approval -------------------------------------------------------------------------


def test_approval_needs_an_adopted_unrevoked_agreement_resolution_of_the_same_body(memory_ledger):
    body = body_with_council(memory_ledger)
    other = body_with_council(memory_ledger, name="无锡产教联合体")
    agreement = draft(memory_ledger, body)
    approve = lambda number, on=None: memory_ledger.approve_agreement(  # noqa: E731
        agreement, resolution=number, effective_on=on, principal=P
    )
    with refused(memory_ledger, ResolutionRequired, "name the approving resolution"):
        approve("")
    with refused(memory_ledger, InvalidInput, "must be a register number such as 2025-007"):
        approve("第一号")
    early = resolve(memory_ledger, body, "2024-03-20")
    with refused(
        memory_ledger,
        EffectiveDateTooEarly,
        "'共享实训基地' was drafted on 2024-04-01; it cannot take effect 2024-03-31",
    ):
        approve(early, "2024-03-31")

    assert resolve(memory_ledger, body, "2024-05-01", votes=(1, 3)) is None  # rejected: no number
    with refused(
        memory_ledger,
        ResolutionNotUsable,
        "苏州市域产教联合体's register has no resolution 2024-002",
    ):
        approve("2024-002")
    ordinary = resolve(memory_ledger, body, "2024-05-02", matter="ordinary")
    with refused(
        memory_ledger,
        ResolutionNotUsable,
        f"resolution {ordinary} of 苏州市域产教联合体 is on the matter 'ordinary', not 'agreement'",
    ):
        approve(ordinary)
    foreign = [
        resolve(memory_ledger, other, day) for day in ("2024-05-03", "2024-05-04", "2024-05-05")
    ]
    assert foreign[-1] == "2024-003"  # this body's register stops at 2024-002
    with refused(
        memory_ledger, ResolutionNotUsable, "联合体's register has no resolution 2024-003"
    ):
        approve("2024-003")
    revoked = resolve(memory_ledger, body, "2024-05-05")
    revoking = resolve(memory_ledger, body, "2024-05-06", revokes=revoked)
    with refused(memory_ledger, ResolutionNotUsable, f"{revoked} .* was revoked by {revoking}"):
        approve(revoked)
    late = resolve(memory_ledger, body, "2024-06-01")
    with refused(
        memory_ledger,
        ResolutionNotUsable,
        f"{late} of 苏州市域产教联合体 was passed on 2024-06-01, after 2024-05-31",
    ):
        approve(late, "2024-05-31")

    record = approve(late)
    assert (record.status, record.approved_on, record.terms[0].resolution) == (
        Status.ACTIVE,
        date(2024, 6, 1),
        late,
    )
    assert record.terms[0].parties == memory_ledger.agreement(agreement).draft
    again = resolve(memory_ledger, body, "2024-07-01")
    with refused(
        memory_ledger,
        AgreementRuleBroken,
        f"'共享实训基地' was already approved, effective 2024-06-01 by resolution {late}",
    ):
        approve(again)


def test_approval_is_refused_if_a_party_has_left_the_body_by_its_effective_date(memory_ledger):
    body = body_with_council(memory_ledger)
    agreement = draft(memory_ledger, body, ((A, 5000, 5000), (E, 5000, 5000)))
    memory_ledger.exit_member(body, E, reason="withdrawal", effective_on="2024-05-01", principal=P)
    number = resolve(memory_ledger, body, "2024-05-10")
    with refused(
        memory_ledger,
        NotAMember,
        "苏州芯电子有限公司 .* is not a member of 苏州市域产教联合体 on 2024-05-10",
    ):
        memory_ledger.approve_agreement(agreement, resolution=number, principal=P)
    assert memory_ledger.agreement(agreement).status is Status.DRAFT


# --- amendment ------------------------------------------------------------------------


def test_only_an_active_agreement_is_amended_and_only_with_new_shares(memory_ledger):
    body = body_with_council(memory_ledger)
    agreement = draft(memory_ledger, body)
    amend = lambda rows, number, on=None: memory_ledger.amend_agreement(  # noqa: E731
        agreement, parties=parties(*rows), resolution=number, effective_on=on, principal=P
    )
    new = ((A, 4000, 5000), (B, 4000, 5000), (C, 2000, 0))
    before_approval = resolve(memory_ledger, body, "2024-04-20")
    with refused(memory_ledger, AgreementRuleBroken, "'共享实训基地' is still a draft; approve"):
        amend(new, before_approval)
    approval = resolve(memory_ledger, body, "2024-05-10")
    memory_ledger.approve_agreement(agreement, resolution=approval, principal=P)

    with refused(
        memory_ledger,
        AgreementRuleBroken,
        f"resolution {approval} already set this "
        "agreement's shares effective 2024-05-10; each change needs its own",
    ):
        amend(new, approval, "2024-06-01")
    same_day = resolve(memory_ledger, body, "2024-05-10")
    with refused(
        memory_ledger,
        EffectiveDateTooEarly,
        "last set effective 2024-05-10; an "
        "amendment must take effect after that, not on 2024-05-10",
    ):
        amend(new, same_day)
    june = resolve(memory_ledger, body, "2024-06-01")
    same_again = (FIRST[2], FIRST[0], FIRST[1])  # the same shares, listed in another order
    with refused(memory_ledger, NothingToChange, "'共享实训基地' already has exactly these shares"):
        amend(same_again, june)
    with refused(memory_ledger, InvalidShares, "the cost shares add up to 9999"):
        amend(((A, 4000, 5000), (B, 3999, 5000), (C, 2000, 0)), june)
    with refused(memory_ledger, NotAMember, "无锡外地企业有限公司 .* on 2024-06-01"):
        amend((*new, (OUTSIDER, 0, 0)), june)

    record = amend(new, june)
    assert [(t.effective_on, t.resolution) for t in record.terms] == [
        (date(2024, 5, 10), approval),
        (date(2024, 6, 1), june),
    ]
    with refused(
        memory_ledger,
        AgreementRuleBroken,
        f"resolution {june} already set this agreement's shares effective 2024-06-01",
    ):
        amend(FIRST, june, "2024-07-01")
    ending = resolve(memory_ledger, body, "2024-07-30")
    memory_ledger.terminate_agreement(
        agreement, effective_on="2024-08-01", resolution=ending, principal=P
    )
    after_end = resolve(memory_ledger, body, "2024-08-05")
    with refused(
        memory_ledger,
        AgreementRuleBroken,
        f"was terminated effective 2024-08-01 by resolution {ending}",
    ):
        amend(FIRST, after_end)


def test_an_amendment_cannot_drop_a_party_that_contributed_on_or_after_its_date(memory_ledger):
    body, agreement = active(memory_ledger)
    contribute(memory_ledger, agreement, C, "5000.00", "2025-02-01", kind="personnel")
    number = resolve(memory_ledger, body, "2025-01-10")
    without_c = parties((A, 6000, 6000), (B, 4000, 4000))
    for day in ("2025-01-15", "2025-02-01"):
        with refused(
            memory_ledger,
            AgreementRuleBroken,
            "苏州工业职业技术学院 .* contributed on 2025-02-01 \\(entry 1\\); an "
            "amendment that removes it as a party must take effect after that",
        ):
            memory_ledger.amend_agreement(
                agreement, parties=without_c, resolution=number, effective_on=day, principal=P
            )
    memory_ledger.amend_agreement(
        agreement, parties=without_c, resolution=number, effective_on="2025-02-02", principal=P
    )
    with refused(
        memory_ledger,
        AgreementRuleBroken,
        "苏州工业职业技术学院 .* is not a party to agreement '共享实训基地' on 2025-02-02",
    ):
        contribute(memory_ledger, agreement, C, "1.00", "2025-02-02")
    contribute(memory_ledger, agreement, C, "1.00", "2025-02-01")  # still a party that day
    positions = memory_ledger.agreement(agreement).settle(date(2025, 3, 1))
    assert by_unit(positions)[C] == (0, 0, 500_100)
    assert [(p.cost_share_bp, p.benefit_share_bp) for p in positions] == [
        (6000, 6000),
        (4000, 4000),
        (0, 0),
    ]


def test_costs_and_benefits_are_split_by_the_shares_in_force_on_their_own_dates(memory_ledger):
    body, agreement = active(memory_ledger)
    cost(memory_ledger, agreement, "1000.01", "2024-06-01")  # 50001 / 30000 / 20000
    benefit(memory_ledger, agreement, "0.01", "2025-01-14")  # 1 / 0 / 0 (remainders 6000/4000)
    memory_ledger.amend_agreement(
        agreement,
        parties=parties((A, 3334, 2500), (B, 3333, 2500), (C, 3333, 5000)),
        resolution=resolve(memory_ledger, body, "2024-12-20"),
        effective_on="2025-01-15",
        principal=P,
    )
    cost(memory_ledger, agreement, "1.00", "2025-01-15")  # 34 / 33 / 33
    cost(memory_ledger, agreement, "1.00", "2025-01-14")  # recorded later, old shares: 50/30/20
    benefit(memory_ledger, agreement, "0.01", "2025-01-15")  # 0 / 0 / 1
    benefit(memory_ledger, agreement, "0.02", "2025-02-01")  # remainders tie: 1 / 0 / 1
    contribute(memory_ledger, agreement, B, "20000.00", "2025-02-01")

    positions = memory_ledger.agreement(agreement).settle(date(2025, 11, 30))
    assert by_unit(positions) == {
        A: (50_001 + 34 + 50, 1 + 0 + 1, 0),
        B: (30_000 + 33 + 30, 0 + 0 + 0, 2_000_000),
        C: (20_000 + 33 + 20, 0 + 1 + 1, 0),
    }
    assert_columns_add_up(positions, costs=100_201, benefits=4, contributions=2_000_000)
    assert [p.balance for p in positions] == [-50_085, 2_000_000 - 30_063, -20_053]


# --- termination ----------------------------------------------------------------------


def test_termination_needs_a_resolution_and_must_follow_the_shares_and_every_entry(memory_ledger):
    body, agreement = active(memory_ledger)
    late_cost = cost(memory_ledger, agreement, "99.00", "2024-09-30")
    number = resolve(memory_ledger, body, "2024-06-01")
    terminate = lambda on, resolution=number: memory_ledger.terminate_agreement(  # noqa: E731
        agreement, effective_on=on, resolution=resolution, principal=P
    )
    with refused(memory_ledger, ResolutionRequired, "name the terminating resolution"):
        terminate("2024-10-01", "")
    with refused(memory_ledger, ResolutionNotUsable, "was passed on 2024-06-01, after 2024-05-31"):
        terminate("2024-05-31")
    with refused(
        memory_ledger,
        AgreementRuleBroken,
        "resolution 2024-001 already set this agreement's shares",
    ):
        terminate("2024-10-01", "2024-001")
    amendment = resolve(memory_ledger, body, "2024-06-10")
    memory_ledger.amend_agreement(
        agreement,
        parties=parties((A, 5000, 5000), (B, 5000, 5000)),
        resolution=amendment,
        principal=P,
    )
    same_day = resolve(memory_ledger, body, "2024-06-10")
    with refused(
        memory_ledger,
        EffectiveDateTooEarly,
        "took effect 2024-06-10; it can be terminated only after that, not on 2024-06-10",
    ):
        terminate("2024-06-10", same_day)
    for day in ("2024-07-01", "2024-09-30"):
        with refused(
            memory_ledger,
            AgreementRuleBroken,
            "'共享实训基地' has a cost recorded on "
            "2024-09-30 \\(entry 1\\); its termination must take effect after that",
        ):
            terminate(day)
    memory_ledger.reverse_entry(
        agreement, entry=late_cost.number, reason="不属于本协议", principal=P
    )
    record = terminate("2024-07-01")
    assert (record.status, record.terminated_on, record.terminated_by) == (
        Status.TERMINATED,
        date(2024, 7, 1),
        number,
    )

    terminated = "'共享实训基地' was terminated effective 2024-07-01; {} cannot be recorded"
    for day in ("2024-07-01", "2024-12-31"):
        with refused(memory_ledger, AgreementRuleBroken, terminated.format("a shared cost")):
            cost(memory_ledger, agreement, "1.00", day)
        with refused(memory_ledger, AgreementRuleBroken, terminated.format("a benefit")):
            benefit(memory_ledger, agreement, "1.00", day)
        with refused(memory_ledger, AgreementRuleBroken, terminated.format("a contribution")):
            contribute(memory_ledger, agreement, A, "1.00", day)
    again = resolve(memory_ledger, body, "2024-07-20")
    with refused(memory_ledger, AgreementRuleBroken, "was terminated effective 2024-07-01"):
        terminate("2024-08-01", again)


# --- reversal -------------------------------------------------------------------------


def test_a_reversed_entry_drops_out_of_the_settlement_but_stays_on_record(memory_ledger):
    _, agreement = active(memory_ledger)
    contribute(memory_ledger, agreement, A, "100.00", "2024-06-01")
    wrong = cost(memory_ledger, agreement, "10000.00", "2024-06-02")
    cost(memory_ledger, agreement, "100.00", "2024-06-03")
    before = memory_ledger.agreement(agreement).settle(date(2024, 12, 31))
    assert sum(p.costs_due for p in before) == 1_010_000

    reversed_entry = memory_ledger.reverse_entry(
        agreement, entry=str(wrong.number), reason="金额录错", principal=P
    )
    assert (reversed_entry.number, reversed_entry.reversed_because) == (2, "金额录错")
    record = memory_ledger.agreement(agreement)
    assert [(e.number, e.kind, e.live) for e in record.entries] == [
        (1, EntryKind.CONTRIBUTION, True),
        (2, EntryKind.COST, False),
        (3, EntryKind.COST, True),
    ]
    after = record.settle(date(2024, 12, 31))
    assert by_unit(after) == {A: (5000, 0, 10_000), B: (3000, 0, 0), C: (2000, 0, 0)}

    with refused(
        memory_ledger,
        AgreementRuleBroken,
        "entry 2 of agreement '共享实训基地' was already reversed \\(金额录错\\)",
    ):
        memory_ledger.reverse_entry(agreement, entry=2, reason="再次", principal=P)
    for missing in (4, 99):
        with refused(memory_ledger, EntryNotFound, f"'共享实训基地' has no entry {missing}"):
            memory_ledger.reverse_entry(agreement, entry=missing, reason="x", principal=P)
    for bad in (0, -1, "two", True):
        with refused(memory_ledger, InvalidInput, "must be an entry number such as 3"):
            memory_ledger.reverse_entry(agreement, entry=bad, reason="x", principal=P)
    with refused(memory_ledger, InvalidInput, "reason for the reversal must not be empty"):
        memory_ledger.reverse_entry(agreement, entry=3, reason=" ", principal=P)


# --- settlement as of a date ------------------------------------------------------------


def test_a_settlement_counts_only_entries_up_to_its_date_with_the_shares_then_in_force(
    memory_ledger,
):
    body, agreement = active(memory_ledger)
    contribute(memory_ledger, agreement, B, "10.00", "2024-06-01")
    cost(memory_ledger, agreement, "100.00", "2024-06-30")
    memory_ledger.amend_agreement(
        agreement,
        parties=parties((A, 2000, 2000), (B, 2000, 2000), (F, 6000, 6000)),
        resolution=resolve(memory_ledger, body, "2024-09-01"),
        principal=P,
    )
    cost(memory_ledger, agreement, "100.00", "2024-09-01")
    record = memory_ledger.agreement(agreement)

    def shares(day: date) -> dict[str, tuple[int, int]]:
        codes = {unit_id_for(code): code for code in UNITS}
        return {codes[p.unit_id]: (p.cost_share_bp, p.benefit_share_bp) for p in record.settle(day)}

    drafted = {A: (5000, 6000), B: (3000, 4000), C: (2000, 0)}
    assert shares(date(2024, 1, 1)) == drafted  # before approval: the drafted shares
    assert shares(date(2024, 8, 31)) == drafted
    # F is listed from the day the amendment takes effect; C stays, with no share.
    assert shares(date(2024, 9, 1)) == {
        A: (2000, 2000),
        B: (2000, 2000),
        C: (0, 0),
        F: (6000, 6000),
    }
    assert [p.unit_id for p in record.settle(date(2024, 9, 1))] == [
        unit_id_for(u) for u in (A, B, C, F)
    ]

    assert by_unit(record.settle(date(2024, 5, 31))) == dict.fromkeys((A, B, C), (0, 0, 0))
    assert by_unit(record.settle(date(2024, 6, 1)))[B] == (0, 0, 1000)
    assert by_unit(record.settle(date(2024, 6, 29))) == by_unit(record.settle(date(2024, 6, 1)))
    assert by_unit(record.settle(date(2024, 8, 31))) == {
        A: (5000, 0, 0),
        B: (3000, 0, 1000),
        C: (2000, 0, 0),
    }
    assert by_unit(record.settle(date(2024, 9, 1))) == {
        A: (7000, 0, 0),
        B: (5000, 0, 1000),
        C: (2000, 0, 0),
        F: (6000, 0, 0),
    }


# --- amounts and reading -------------------------------------------------------------------


def test_amounts_must_be_positive_yuan_exact_to_the_fen(memory_ledger):
    _, agreement = active(memory_ledger)
    for amount, problem in [
        ("0", "amount must be more than 0 yuan"),
        ("0.00", "amount must be more than 0 yuan"),
        ("12.345", "'12.345' has more than two decimal places"),
        ("-5.00", "amount must not be negative; got '-5.00'"),
        (12.5, "not a float"),
        ("1000000000000.00", "larger than the ledger accepts"),
    ]:
        with refused(memory_ledger, InvalidAmount, problem):
            cost(memory_ledger, agreement, amount, "2024-06-01")
        with refused(memory_ledger, InvalidAmount, problem):
            benefit(memory_ledger, agreement, amount, "2024-06-01")
        with refused(memory_ledger, InvalidAmount, problem):
            contribute(memory_ledger, agreement, A, amount, "2024-06-01")
    assert cost(memory_ledger, agreement, format_fen(MAX_FEN), "2024-06-01").amount_fen == MAX_FEN
    assert cost(memory_ledger, agreement, " 0.01 ", "2024-06-01").amount_fen == 1


def test_agreement_ids_lists_one_bodys_agreements_in_drafting_order(memory_ledger):
    body = body_with_council(memory_ledger)
    other = body_with_council(memory_ledger, name="无锡产教联合体")
    first = draft(memory_ledger, body, title="实训基地", on="2024-06-01")
    elsewhere = draft(memory_ledger, other, title="外地学院", on="2024-03-01")
    second = draft(memory_ledger, body, title="产业学院", on="2024-03-01")
    assert list(memory_ledger.agreement_ids(body)) == [first, second]
    assert list(memory_ledger.agreement_ids(other)) == [elsewhere]
    assert list(memory_ledger.agreement_ids()) == [first, elsewhere, second]
    assert list(memory_ledger.agreement_ids(uuid4())) == []
    for unknown in (uuid4(), unit_id_for(A), body):
        with pytest.raises(AgreementNotFound, match=f"no agreement {unknown} has been drafted"):
            memory_ledger.agreement(unknown)


# --- the settlement's arithmetic, for any shares ----------------------------------------------

APPROVED_ON = date(2024, 5, 10)
LAST_DAY = date(2025, 11, 30)
SPAN = (LAST_DAY - APPROVED_ON).days


@st.composite
def share_sets(draw) -> tuple[tuple[str, int, int], ...]:
    """1–4 distinct members, cost and benefit shares each adding up to 10000, every
    party with some share."""
    units = draw(st.lists(st.sampled_from(MEMBERS), min_size=1, max_size=4, unique=True))

    def split() -> list[int]:
        cuts = sorted(
            draw(st.lists(st.integers(0, 10_000), min_size=len(units) - 1, max_size=len(units) - 1))
        )
        return [b - a for a, b in zip([0, *cuts], [*cuts, 10_000], strict=True)]

    costs, benefits = split(), split()
    assume(all(c or b for c, b in zip(costs, benefits, strict=True)))
    return tuple(zip(units, costs, benefits, strict=True))


entries = st.lists(
    st.tuples(
        st.sampled_from([EntryKind.COST, EntryKind.BENEFIT, EntryKind.CONTRIBUTION]),
        st.integers(0, SPAN),  # days after approval
        st.one_of(st.integers(1, 1_000), st.integers(1, MAX_FEN)),
        st.integers(0, 3),  # which party contributes
    ),
    min_size=1,
    max_size=8,
)


@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(old=share_sets(), new=share_sets(), amended_after=st.integers(1, SPAN), recorded=entries)
def test_every_column_adds_up_and_each_split_is_the_one_for_its_date(
    old, new, amended_after, recorded
):
    assume(set(old) != set(new))
    amended_on = APPROVED_ON + timedelta(days=amended_after)
    with Ledger("memory://") as ledger:
        body, agreement = active(ledger, old)
        ledger.amend_agreement(
            agreement,
            parties=parties(*new),
            resolution=resolve(ledger, body, amended_on.isoformat()),
            principal=P,
        )
        expected = {code: [0, 0, 0] for code, _, _ in old + new}  # costs, benefits, contributed
        totals = [0, 0, 0]
        for kind, after, fen, who in recorded:
            day = APPROVED_ON + timedelta(days=after)
            in_force = old if day < amended_on else new
            amount = format_fen(fen)
            if kind is EntryKind.CONTRIBUTION:
                unit = in_force[who % len(in_force)][0]
                contribute(ledger, agreement, unit, amount, day.isoformat())
                expected[unit][2] += fen
                totals[2] += fen
                continue
            column = 0 if kind is EntryKind.COST else 1
            weights = [shares[1 + column] for shares in in_force]
            for (unit, _, _), part in zip(in_force, allocate(fen, weights), strict=True):
                expected[unit][column] += part
            totals[column] += fen
            (cost if kind is EntryKind.COST else benefit)(
                ledger, agreement, amount, day.isoformat()
            )
        positions = ledger.agreement(agreement).settle(LAST_DAY)
    assert_columns_add_up(positions, *totals)
    assert {code: list(figures) for code, figures in by_unit(positions).items()} == expected
    in_force = {unit_id_for(code): (0, 0) for code, _, _ in old}
    in_force |= {unit_id_for(code): (c, b) for code, c, b in new}
    assert {p.unit_id: (p.cost_share_bp, p.benefit_share_bp) for p in positions} == in_force


def test_nothing_more_is_recorded_against_the_agreements_of_a_dissolved_body(memory_ledger):
    body, agreement = active(memory_ledger)
    with refused(memory_ledger, ResolutionRequired, "needs an adopted dissolution resolution"):
        memory_ledger.dissolve_community(body, effective_on="2025-01-01", principal=P)
    decided = resolve(memory_ledger, body, "2024-12-20", matter="dissolution")
    with refused(memory_ledger, NotAMember, "is a party to agreement '共享实训基地'"):
        memory_ledger.dissolve_community(
            body, effective_on="2025-01-01", resolution=decided, principal=P
        )
    memory_ledger.terminate_agreement(
        agreement,
        effective_on="2025-01-01",
        resolution=resolve(memory_ledger, body, "2024-12-21"),
        principal=P,
    )
    memory_ledger.dissolve_community(
        body, effective_on="2025-01-01", resolution=decided, principal=P
    )
    for record in (
        lambda: cost(memory_ledger, agreement, "10", "2024-12-01"),
        lambda: benefit(memory_ledger, agreement, "10", "2025-02-01"),
        lambda: contribute(memory_ledger, agreement, A, "10", "2024-12-01"),
    ):
        with refused(memory_ledger, CommunityDissolved, "was dissolved effective 2025-01-01"):
            record()


def fund(ledger, agreement, funder: str, amount: str, on: str):
    return ledger.record_funding(
        agreement,
        funder=funder,
        funder_kind="政府专项资金",
        kind="funds",
        amount=amount,
        received_on=on,
        description="专项资金",
        principal=P,
    )


def test_outside_funding_credits_no_party_and_changes_no_split(memory_ledger):
    _, agreement = active(memory_ledger)
    with refused(memory_ledger, AgreementRuleBroken, "took effect 2024-05-10"):
        fund(memory_ledger, agreement, "苏州市财政局", "1000", "2024-05-09")
    with refused(memory_ledger, InvalidChoice, "kind of funder"):
        memory_ledger.record_funding(
            agreement,
            funder="某基金会",
            funder_kind="天使",
            kind="funds",
            amount="1",
            received_on="2024-06-01",
            description="x",
            principal=P,
        )
    name = UNITS[A][0]
    with refused(memory_ledger, AgreementRuleBroken, "recorded as a party's contribution"):
        fund(memory_ledger, agreement, f" {name} ", "1000", "2024-06-01")  # a member, by name
    cost(memory_ledger, agreement, "1000", "2024-06-01")
    contribute(memory_ledger, agreement, A, "400", "2024-06-01")
    before = by_unit(memory_ledger.agreement(agreement).settle(date(2024, 12, 31)))
    entry = fund(memory_ledger, agreement, "苏州市财政局", "5000", "2024-06-02")
    assert (entry.kind, entry.funder, entry.unit_id) == (EntryKind.FUNDING, "苏州市财政局", None)
    record = memory_ledger.agreement(agreement)
    positions = record.settle(date(2024, 12, 31))
    assert by_unit(positions) == before  # nobody's cost is lower, nobody contributed more
    assert_columns_add_up(positions, costs=100_000, benefits=0, contributions=40_000)


def test_agreement_ids_reads_only_the_draftings_recorded_since_it_last_read(ledger):
    """An exit checks every agreement of its body: the log's draftings are read once,
    then only what was recorded since, by this process or another."""
    body = body_with_council(ledger)
    first = draft(ledger, body, title="实训基地", on="2024-06-01")
    read: list[int] = []
    select = ledger.recorder.select_notifications

    def counted(*args, **kwargs):
        page = select(*args, **kwargs)
        if "chanjiao.agreement.drafted.v1" in kwargs.get("topics", ()):
            read.append(len(page))
        return page

    ledger.recorder.select_notifications = counted  # type: ignore[method-assign]
    assert list(ledger.agreement_ids(body)) == [first]
    assert sum(read) == 1
    assert list(ledger.agreement_ids(body)) == [first]
    assert sum(read) == 1  # nothing recorded since: nothing read
    with Ledger(ledger.url) as other:  # another process drafts one more
        second = draft(other, body, title="产业学院", on="2024-03-01")
    elsewhere = draft(ledger, body_with_council(ledger, name="无锡产教联合体"), title="外地学院")
    assert list(ledger.agreement_ids(body)) == [first, second]
    assert sum(read) == 3
    assert list(ledger.agreement_ids()) == [first, second, elsewhere]
    assert sum(read) == 3


class Shelved:
    """Stored entries (``domain.agreement.Unread``) that count how often they are read."""

    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries
        self.reads = 0

    @property
    def count(self) -> int:
        return len(self.entries)

    def read(self) -> list[Entry]:
        self.reads += 1
        return self.entries


def cost_entry(number: int) -> Entry:
    return Entry(number, EntryKind.COST, date(2025, 3, number % 28 + 1), 100 * number, "耗材")


def test_entries_restored_unread_are_counted_and_the_latest_found_without_reading_them():
    stored = Shelved([cost_entry(n) for n in (1, 2, 3)])
    entries = Entries(unread=stored)
    entries.append(cost_entry(4))
    assert len(entries) == 4
    assert entries[-1].number == entries[3].number == 4
    with pytest.raises(IndexError):
        entries[4]
    assert stored.reads == 0
    assert entries[0].number == 1 and stored.reads == 1
    assert [e.number for e in entries] == [1, 2, 3, 4] and stored.reads == 1
    assert entries.parts[0] is None and len(entries) == 4


def test_a_copy_of_entries_is_changed_apart_and_both_read_the_same_stored_ones():
    stored = Shelved([cost_entry(n) for n in (1, 2)])
    kept = Entries(unread=stored)
    copied = kept.copy()
    copied.append(cost_entry(3))
    copied[0] = msgspec.structs.replace(copied[0], reversed_because="录入错误")
    assert [(e.number, e.live) for e in copied] == [(1, False), (2, True), (3, True)]
    assert [(e.number, e.live) for e in kept] == [(1, True), (2, True)]
    assert kept != copied and kept == Entries([cost_entry(1), cost_entry(2)])


def test_stored_entries_that_are_not_as_many_as_counted_are_refused_when_read():
    class Short(Shelved):
        count = 3  # type: ignore[assignment]

    entries = Entries(unread=Short([cost_entry(1), cost_entry(2)]))
    assert len(entries) == 3
    with pytest.raises(ValueError, match="2 stored entries read where 3 were"):
        list(entries)


def test_an_agreement_with_unread_entries_numbers_the_next_and_reverses_an_old_one(
    memory_ledger,
):
    _, agreement_id = active(memory_ledger)
    agreement = memory_ledger.agreement(agreement_id)
    stored = Shelved([cost_entry(n) for n in range(1, 6)])
    agreement.entries = Entries(unread=stored)
    entry = agreement.incur_cost(100, date(2025, 6, 1), "耗材", P)
    assert entry.number == 6 and stored.reads == 0
    reversed_entry = agreement.reverse(2, "录入错误", P)
    assert stored.reads == 1 and reversed_entry.number == 2 and not reversed_entry.live
    assert [e.number for e in agreement.entries if not e.live] == [2]
    assert [e.number for e in agreement.entries] == [1, 2, 3, 4, 5, 6]
