"""The cost-sharing read model answers exactly as the events do: reports, a body's
investment picture and the list of agreements, on every date — after random
histories of drafts, approvals, entries, amendments (also ones recorded after
entries dated later than they take effect), reversals, terminations, renamed and
relocated units; for a fixed history and the demo on SQLite and PostgreSQL; and
after a rebuild."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from uuid import UUID, uuid4

import pytest
from freezegun import freeze_time
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bootstrap import Ledger
from cli.demo import load_demo
from domain.agreement import Funder, ResourceKind
from domain.errors import LedgerError, UnitNotFound
from domain.values import MAX_FEN, format_fen, unit_id_for
from projections import cost_sharing, cost_sharing_model, membership
from projections.cost_sharing_model import CostSharing
from projections.machinery import Store
from projections.membership_model import Membership
from tests.factories import credit_code

P = "secretary:lin"
NOW = "2025-12-01T02:00:00Z"
A, B, C, D, E, F = (credit_code(900 + i) for i in range(6))
UNITS = {
    A: ("苏州精密机械有限公司", "enterprise", None),
    B: ("苏州科技大学", "university", None),
    C: ("苏州工业职业技术学院", "vocational_school", "higher"),
    D: ("苏州工业园区管理委员会", "government", None),
    E: ("苏州芯电子有限公司", "enterprise", None),
    F: ("苏州智能制造研究院", "research_institute", None),
}
MEMBERS = list(UNITS)  # members from 2024-02-01
SEATED = [A, B, C, D]  # the council from 2024-03-01
FIRST = ((A, 5000, 6000), (B, 3000, 4000), (C, 2000, 0))
DRAFTED_ON = date(2024, 4, 1)
LAST_DAY = date(2025, 11, 30)
SPAN = (LAST_DAY - DRAFTED_ON).days
DIVISIONS = ["320506", "310115", "330106", "440305", "110108"]


# --- setting up a body ----------------------------------------------------------------


def body_with_council(ledger: Ledger, name: str = "苏州市域产教联合体") -> UUID:
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
        again=True,  # a scenario may found several bodies of one name
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


def resolution(ledger: Ledger, body: UUID, held_on: str = "2024-03-15") -> str:
    """A fresh adopted agreement resolution of the body's council."""
    # a meeting per resolution, some on one day: the council meets again (--again)
    meeting = ledger.record_meeting(body, held_on=held_on, present=SEATED, again=True, principal=P)
    number = ledger.record_resolution(
        body,
        meeting=meeting,
        matter="agreement",
        title=f"协议 {held_on}",
        votes_for=4,
        votes_against=0,
        abstentions=0,
        principal=P,
    ).number
    assert number
    return number


def parties(rows) -> list[dict]:
    return [{"unit_id": u, "cost_share_bp": c, "benefit_share_bp": b} for u, c, b in rows]


def draft(ledger: Ledger, body: UUID, rows=FIRST, title: str = "共享实训基地") -> UUID:
    return ledger.draft_agreement(
        body,
        title=title,
        kind="training_base",
        parties=parties(rows),
        drafted_on=DRAFTED_ON.isoformat(),
        principal=P,
    ).id


def store_for(ledger: Ledger) -> Store:
    return Store(ledger, [Membership, CostSharing])


# --- comparing --------------------------------------------------------------------------


def assert_same(ledger: Ledger, store: Store, bodies, agreement_ids, days) -> None:
    """Every answer of the read model equals the one computed from the events."""
    for day in days:
        for agreement in agreement_ids:
            assert cost_sharing_model.report(store, agreement, day) == cost_sharing.report(
                ledger, agreement, day
            ), (agreement, day)
        for body in bodies:
            assert cost_sharing_model.investment(store, body, day) == cost_sharing.investment(
                ledger, body, day
            ), (body, day)
    for body in [None, *bodies]:
        assert cost_sharing_model.agreements(store, body) == cost_sharing.agreements(ledger, body)


def same_refusal(read, computed) -> None:
    with pytest.raises(LedgerError) as by_events:
        computed()
    with pytest.raises(LedgerError) as by_model:
        read()
    assert type(by_model.value) is type(by_events.value)
    assert str(by_model.value) == str(by_events.value)


# --- random histories ---------------------------------------------------------------------


@st.composite
def share_sets(draw) -> tuple[tuple[str, int, int], ...]:
    """1–4 distinct members, cost and benefit shares each adding up to 10000 (a party
    with neither share is refused, and simply skipped)."""
    units = draw(st.lists(st.sampled_from(MEMBERS), min_size=1, max_size=4, unique=True))

    def split() -> list[int]:
        cuts = sorted(
            draw(st.lists(st.integers(0, 10_000), min_size=len(units) - 1, max_size=len(units) - 1))
        )
        return [b - a for a, b in zip([0, *cuts], [*cuts, 10_000], strict=True)]

    return tuple(zip(units, split(), split(), strict=True))


days = st.integers(0, SPAN)  # days after drafting (or after approval, for entries)
amounts = st.one_of(st.integers(1, 100_000), st.integers(1, MAX_FEN))
which = st.sampled_from([0, 0, 0, 1])  # which of the two agreements; the first is approved
entries = [
    st.tuples(st.just("cost"), which, days, amounts),
    st.tuples(st.just("benefit"), which, days, amounts),
    st.tuples(
        st.just("contribute"),
        which,
        days,
        amounts,
        st.integers(0, 5),
        st.sampled_from(list(ResourceKind)),
    ),
    st.tuples(
        st.just("fund"),
        which,
        days,
        amounts,
        st.sampled_from(list(Funder)),
        st.sampled_from(list(ResourceKind)),
    ),
]
commands = st.one_of(
    *entries,
    *entries,  # entries twice as often as the rest
    st.tuples(st.just("approve"), which, days),
    st.tuples(st.just("amend"), which, days, share_sets()),
    # effective some days before the latest entry already recorded: re-splits it
    st.tuples(st.just("amend back"), which, st.integers(0, 90), share_sets()),
    st.tuples(st.just("reverse"), which, st.integers(0, 5)),
    st.tuples(st.just("terminate"), which, days),
    st.tuples(st.just("rename"), days, st.sampled_from(MEMBERS)),
    st.tuples(st.just("relocate"), days, st.sampled_from(MEMBERS), st.sampled_from(DIVISIONS)),
    st.tuples(st.just("check"), days),
)


def run(ledger: Ledger, body: UUID, agreement_ids: list[UUID], command: tuple) -> None:
    """One command of a random history; a refused one is simply skipped. Entries and
    amendments are dated after the agreement's approval, where most are accepted."""
    what, *args = command

    def on(offset: int, since: date = DRAFTED_ON) -> str:
        return min(since + timedelta(days=offset), LAST_DAY).isoformat()

    def after_approval(i: int, offset: int) -> str:
        return on(offset, ledger.agreement(agreement_ids[i]).approved_on or DRAFTED_ON)

    try:
        match what:
            case "cost":
                i, day, fen = args
                ledger.record_cost(
                    agreement_ids[i],
                    amount=format_fen(fen),
                    incurred_on=after_approval(i, day),
                    description="耗材",
                    principal=P,
                )
            case "benefit":
                i, day, fen = args
                ledger.record_benefit(
                    agreement_ids[i],
                    amount=format_fen(fen),
                    realized_on=after_approval(i, day),
                    description="培训收入",
                    principal=P,
                )
            case "contribute":
                i, day, fen, who, kind = args
                day = after_approval(i, day)
                listed = ledger.agreement(agreement_ids[i]).shares_as_of(date.fromisoformat(day))
                unit = listed[who].unit_id if who < len(listed) else MEMBERS[who]
                ledger.record_contribution(
                    agreement_ids[i],
                    unit,
                    kind=kind,
                    amount=format_fen(fen),
                    contributed_on=day,
                    description="投入",
                    principal=P,
                )
            case "fund":
                i, day, fen, funder, kind = args
                ledger.record_funding(
                    agreement_ids[i],
                    funder="市财政局",
                    funder_kind=funder,
                    kind=kind,
                    amount=format_fen(fen),
                    received_on=after_approval(i, day),
                    description="专项资金",
                    principal=P,
                )
            case "approve":
                i, day = args
                ledger.approve_agreement(
                    agreement_ids[i],
                    resolution=resolution(ledger, body),
                    effective_on=on(day),
                    principal=P,
                )
            case "amend" | "amend back":
                i, day, rows = args
                record = ledger.agreement(agreement_ids[i])
                if what == "amend":
                    effective_on = after_approval(i, day)
                else:
                    latest = max((e.on for e in record.entries), default=LAST_DAY)
                    effective_on = (latest - timedelta(days=day)).isoformat()
                ledger.amend_agreement(
                    agreement_ids[i],
                    parties=parties(rows),
                    resolution=resolution(ledger, body),
                    effective_on=effective_on,
                    principal=P,
                )
            case "reverse":  # one of the entries recorded (counted from the latest)
                i, back = args
                recorded = len(ledger.agreement(agreement_ids[i]).entries)
                ledger.reverse_entry(
                    agreement_ids[i], entry=max(recorded - back, 1), reason="录入错误", principal=P
                )
            case "terminate":  # some days after the latest entry that counts
                i, day = args
                record = ledger.agreement(agreement_ids[i])
                latest = max((e.on for e in record.live_entries()), default=None)
                ledger.terminate_agreement(
                    agreement_ids[i],
                    effective_on=on(day + 1, latest) if latest else after_approval(i, day + 1),
                    resolution=resolution(ledger, body),
                    principal=P,
                )
            case "rename":
                day, unit = args
                ledger.rename_unit(
                    unit,
                    name=f"{UNITS[unit][0]}（{on(day)}更名）",
                    effective_on=on(day),
                    principal=P,
                )
            case "relocate":
                day, unit, division = args
                ledger.relocate_unit(unit, division=division, effective_on=on(day), principal=P)
    except LedgerError:
        pass


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    first=share_sets(),
    second=share_sets(),
    approved_after=st.integers(0, 120),
    history=st.lists(commands, min_size=6, max_size=24),
    as_of=st.lists(days, min_size=2, max_size=3),
)
def test_after_any_history_the_read_model_answers_as_the_events_do(
    first, second, approved_after, history, as_of
):
    with freeze_time(NOW), Ledger("memory://") as ledger:
        store = store_for(ledger)
        body = body_with_council(ledger)
        agreement_ids = []
        for i, rows in enumerate((first, second)):
            try:
                agreement_ids.append(draft(ledger, body, rows, title=f"协议{i}"))
            except LedgerError:  # a party with neither share
                agreement_ids.append(draft(ledger, body, title=f"协议{i}"))
        run(ledger, body, agreement_ids, ("approve", 0, 39 + approved_after))
        for command in history:
            if command[0] == "check":  # catch up part-way and compare on one date
                assert_same(
                    ledger, store, [body], agreement_ids, [DRAFTED_ON + timedelta(days=command[1])]
                )
            else:
                run(ledger, body, agreement_ids, command)
        dates = [date(2024, 3, 1), DRAFTED_ON, LAST_DAY, None]
        dates += [DRAFTED_ON + timedelta(days=d) for d in as_of]
        dates += [e.on for a in agreement_ids for e in ledger.agreement(a).entries[:3]]
        assert_same(ledger, store, [body], agreement_ids, dates)


# --- a fixed history, on both stores ------------------------------------------------------


@contextmanager
def frozen() -> Iterator[None]:
    with freeze_time(NOW):
        yield


def fixed_history(ledger: Ledger) -> tuple[list[UUID], list[UUID]]:
    """Two bodies; a training base approved, amended twice — the first amendment
    recorded after entries dated later than it takes effect — with a reversal, a
    renamed and a relocated party, terminated and then given a late cost dated
    before its termination; a draft never approved; and another body's agreement."""
    body = body_with_council(ledger)
    other = body_with_council(ledger, "无锡市域产教联合体")
    base = draft(ledger, body)
    never = draft(ledger, body, ((A, 5000, 5000), (D, 5000, 5000)), title="草案")
    elsewhere = draft(ledger, other, ((E, 10_000, 10_000),), title="无锡协议")
    ledger.approve_agreement(
        base, resolution=resolution(ledger, body), effective_on="2024-05-10", principal=P
    )
    ledger.approve_agreement(
        elsewhere, resolution=resolution(ledger, other), effective_on="2024-06-01", principal=P
    )

    def entry(
        kind: str,
        agreement: UUID,
        amount: str,
        on: str,
        unit: str | None = None,
        resource: str = "funds",
    ):
        if kind == "cost":
            return ledger.record_cost(
                agreement, amount=amount, incurred_on=on, description="耗材", principal=P
            )
        if kind == "benefit":
            return ledger.record_benefit(
                agreement, amount=amount, realized_on=on, description="收入", principal=P
            )
        return ledger.record_contribution(
            agreement,
            unit,
            kind=resource,
            amount=amount,
            contributed_on=on,
            description="投入",
            principal=P,
        )

    entry("contribution", base, "500000.00", "2024-06-01", A)
    entry("contribution", base, "120000.50", "2024-06-15", B, "equipment")
    entry("contribution", base, "80000", "2024-07-01", C, "site")
    entry("contribution", elsewhere, "3000.00", "2024-07-01", E, "technology")
    entry("cost", base, "1000.01", "2024-08-01")
    entry("cost", elsewhere, "77.77", "2024-08-01")
    mistake = entry("cost", base, "0.01", "2024-09-01")
    entry("benefit", base, "300.00", "2024-10-01")
    entry("cost", base, "1.00", "2025-03-01")  # before the amendment effective 2025-01-15 …
    entry("benefit", base, "0.03", "2025-03-02")
    entry("contribution", base, "9.99", "2025-02-01", B, "personnel")
    ledger.relocate_unit(B, division="310115", effective_on="2024-07-01", principal=P)
    ledger.amend_agreement(
        base,
        parties=parties(((A, 3334, 5000), (B, 3333, 2500), (C, 3333, 2500))),
        resolution=resolution(ledger, body),
        effective_on="2025-01-15",
        principal=P,
    )
    # … so these two are split again by the new shares.
    entry("cost", base, "1.00", "2025-01-14")  # recorded late, old shares
    ledger.rename_unit(A, name="苏州精密智造股份有限公司", effective_on="2025-02-01", principal=P)
    ledger.reverse_entry(base, entry=mistake.number, reason="重复录入", principal=P)
    ledger.amend_agreement(
        base,
        parties=parties(((A, 4000, 5000), (B, 4000, 2500), (D, 2000, 2500))),
        resolution=resolution(ledger, body),
        effective_on="2025-06-01",
        principal=P,
    )
    entry("contribution", base, "2000.00", "2025-06-02", D, "site")
    entry("cost", base, "99.99", "2025-07-01")
    wrong = entry("benefit", base, "5.00", "2025-09-15")
    ledger.reverse_entry(base, entry=wrong.number, reason="不属于本协议", principal=P)
    ledger.terminate_agreement(
        base, effective_on="2025-09-01", resolution=resolution(ledger, body), principal=P
    )
    entry("cost", base, "12.34", "2025-08-31")  # recorded after the termination
    ledger.reverse_entry(base, entry=1, reason="金额有误", principal=P)
    return [body, other], [base, never, elsewhere]


FIXED_DATES = [
    "2024-03-01",
    "2024-04-01",
    "2024-05-09",
    "2024-05-10",
    "2024-07-01",
    "2024-08-01",
    "2025-01-14",
    "2025-01-15",
    "2025-03-01",
    "2025-06-01",
    "2025-08-31",
    "2025-09-01",
    "2025-11-30",
    None,
]


def test_a_fixed_history_reads_the_same_on_both_stores(ledger):
    with frozen():
        store = store_for(ledger)
        store.catch_up()  # caught up part-way: the amendments re-split what is already there
        bodies, agreement_ids = fixed_history(ledger)
        assert_same(ledger, store, bodies, agreement_ids, FIXED_DATES)
        with Ledger(ledger.url) as reopened:  # a second process reading the same tables
            again = store_for(reopened)
            assert_same(reopened, again, bodies, agreement_ids, FIXED_DATES[-4:])
        # the amendment recorded late moved the 2025-03-01 cost to the new shares
        figures = cost_sharing_model.report(store, agreement_ids[0], "2025-03-01").parties
        assert [(p.cost_share_bp, p.cost_due) for p in figures] == [
            (3334, "500.85"),
            (3333, "300.63"),
            (3333, "200.53"),
        ]


def test_bad_references_and_dates_are_refused_with_the_same_errors(memory_ledger):
    with frozen():
        store = store_for(memory_ledger)
        bodies, agreement_ids = fixed_history(memory_ledger)
        unknown, unit = uuid4(), unit_id_for(A)
        for args in [
            ("not-a-uuid",),
            (unknown,),
            (unit,),
            (bodies[0],),
            (agreement_ids[0], "2025-13-01"),
            (agreement_ids[0], "1949-09-30"),
            (agreement_ids[0], "20250101"),
            ("not-a-uuid", "2025-13-01"),
        ]:
            same_refusal(
                lambda: cost_sharing_model.report(store, *args),
                lambda: cost_sharing.report(memory_ledger, *args),
            )
        for args in [
            ("not-a-uuid",),
            (unknown,),
            (unit,),
            (agreement_ids[0],),
            (bodies[0], "2025-02-30"),
            ("nope", "nope"),
        ]:
            same_refusal(
                lambda: cost_sharing_model.investment(store, *args),
                lambda: cost_sharing.investment(memory_ledger, *args),
            )
        for ref in ["not-a-uuid", unknown, unit]:
            same_refusal(
                lambda: cost_sharing_model.agreements(store, ref),
                lambda: cost_sharing.agreements(memory_ledger, ref),
            )
        body = memory_ledger.community(bodies[1])
        assert cost_sharing_model.agreements(store, body) == cost_sharing.agreements(
            memory_ledger, body
        )
        assert cost_sharing_model.investment(store, body, "2025-01-01") == (
            cost_sharing.investment(memory_ledger, body, "2025-01-01")
        )


DEMO_DATES = [
    "2025-03-15",
    "2025-04-01",
    "2025-06-30",
    "2025-09-30",
    "2025-10-01",
    "2025-12-31",
    "2026-03-31",
    None,
]


def demo(ledger: Ledger, capsys) -> tuple[UUID, list[UUID]]:
    load_demo(ledger, "json")
    capsys.readouterr()
    [sip] = [b.id for b in membership.communities(ledger) if b.name == "苏州工业园区市域产教联合体"]
    return sip, [a.id for a in cost_sharing.agreements(ledger, sip).agreements]


def test_the_demo_reads_the_same_on_both_stores(ledger, capsys):
    sip, agreement_ids = demo(ledger, capsys)
    assert len(agreement_ids) == 2
    store = store_for(ledger)
    assert_same(ledger, store, [sip], agreement_ids, DEMO_DATES)
    assert cost_sharing_model.investment(store, sip, "2026-03-31").total_contributed == (
        cost_sharing.investment(ledger, sip, "2026-03-31").total_contributed
    )


def test_a_rebuilt_read_model_answers_the_same(ledger, capsys):
    sip, agreement_ids = demo(ledger, capsys)
    store = store_for(ledger)
    store.catch_up()
    before = [cost_sharing_model.report(store, a, d) for a in agreement_ids for d in DEMO_DATES]
    model = store.model(CostSharing)
    store.rebuild("cost_sharing")
    assert store.status()[1] == ("cost_sharing", store.head(), 0)
    assert [
        cost_sharing_model.report(store, a, d) for a in agreement_ids for d in DEMO_DATES
    ] == before
    assert_same(ledger, store, [sip], agreement_ids, DEMO_DATES)
    # Dropped outright and rebuilt from nothing, twice (the indexes move back each time).
    with store.datastore.transaction(commit=True) as cursor:
        for statement in model.drop_statements():
            cursor.execute(statement)
    store.rebuild("cost_sharing")
    store.rebuild("cost_sharing")
    rows = store.query(model.sql("SELECT COUNT(*) AS n FROM {entries}"))
    assert int(rows[0]["n"]) == sum(len(ledger.agreement(a).entries) for a in agreement_ids)
    assert_same(ledger, store, [sip], agreement_ids, DEMO_DATES)
    # … and it keeps up with what is recorded after the rebuild.
    ledger.reverse_entry(agreement_ids[0], entry=3, reason="重新核定", principal="demo")
    assert_same(ledger, store, [sip], agreement_ids, DEMO_DATES[-3:])
