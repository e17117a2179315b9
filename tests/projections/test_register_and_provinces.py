"""The resolution register and the cross-province distribution, from the read
models and from the events: the same answers, and the same refusals.

A property test runs random command histories on a fresh in-memory ledger and
compares, afterwards, members (on dates and as known at times), registers and
distributions; the demo is compared on SQLite and PostgreSQL; and a small body
checks the worked numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple
from uuid import uuid4

import psycopg
import pytest
from freezegun import freeze_time
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bootstrap import Ledger
from cli.demo import BODIES, load_demo
from cli.render import emit
from domain.charter import Matter
from domain.council import Office
from domain.errors import (
    CommunityNotFound,
    CouncilNotFound,
    InvalidInput,
    LedgerError,
)
from domain.values import CommunityKind, ExitReason, Role, UnitType
from projections import governance, machinery, membership, membership_model, provinces
from projections.machinery import Store
from projections.membership_model import Membership
from projections.provinces import Body, ProvinceCount, TypeCount, bp_text, city_of, share_bp
from projections.register_model import ResolutionRegister, register
from projections.tables import csv_rows
from tests.conftest import STORES
from tests.factories import credit_code

P = "secretary:test"

# --- helpers -----------------------------------------------------------------------


def outcome(fn: Any, *args: Any, **kwargs: Any) -> tuple:
    """An answer, or the refusal (its type and message), to compare across paths."""
    try:
        return ("answer", fn(*args, **kwargs))
    except LedgerError as e:
        return ("refused", type(e).__name__, str(e))


def store_for(ledger: Ledger) -> Store:
    return Store(ledger, [Membership, ResolutionRegister])


def assert_same_answers(
    ledger: Ledger, store: Store, days: list[date], known_ats: list[datetime | None]
) -> int:
    """Read model == events for members, registers and distributions; returns the
    number of comparisons made."""
    compared = 0
    bodies = list(ledger.community_ids())
    for body in bodies:
        for day in days:
            for known_at in known_ats:
                assert outcome(membership_model.members, store, body, day, known_at) == outcome(
                    membership.members, ledger, body, day, known_at
                ), (body, day, known_at)
                compared += 1
            assert outcome(provinces.distribution, store, body, day) == outcome(
                provinces.distribution_from_events, ledger, body, day
            ), (body, day)
            compared += 1
        assert outcome(register, store, body) == outcome(governance.register, ledger, body)
        compared += 1
    for day in days:
        assert provinces.distribution(store, None, day) == provinces.distribution_from_events(
            ledger, None, day
        ), day
        compared += 1
    return compared


# --- random histories --------------------------------------------------------------

CODES = [credit_code(700 + i) for i in range(10)]
DIVISIONS = [
    "110105",
    "110108",  # 北京 (a province-level city)
    "310115",  # 上海
    "320506",
    "320508",
    "320106",  # 苏州 ×2, 南京
    "330212",  # 宁波
    "440305",
    "440105",  # 深圳, 广州
    "500112",
    "500230",  # 重庆: a district and a county
    "650104",  # 乌鲁木齐
]
BASE = date(2023, 1, 1)
LAST = date(2026, 5, 31)
NOW = datetime(2026, 6, 1, tzinfo=UTC)

# Commands, weighted towards what builds a history (admissions, seats, resolutions).
KINDS = (
    ["admit"] * 8
    + ["exit"] * 3
    + ["role"] * 3
    + ["annul"] * 2
    + ["correct"] * 2
    + ["relocate"] * 3
    + ["seat"] * 4
    + ["meeting"] * 3
    + ["resolve"] * 5
    + ["catch_up"] * 2
    + ["register", "found", "rename", "deregister", "dissolve", "vacate", "charter"]
)


class Op(NamedTuple):
    """One command, its parameters drawn generically and read per kind: ``body`` and
    ``unit`` pick among the bodies and units that exist; ``choice`` picks a unit type,
    division, role, office, reason or tally (and whether to revoke); ``step`` moves
    the date commands take effect on forward (a negative step backdates this one
    command); ``mask`` picks the seats present or recused, and whether to aim at a
    current member or seat holder; ``pick`` a meeting, or a charter resolution."""

    kind: str
    body: int = 0
    unit: int = 0
    choice: int = 0
    step: int = 0
    mask: int = 0
    pick: int | None = None


op = st.builds(
    Op,
    st.sampled_from(KINDS),
    st.integers(0, 3),
    st.integers(0, len(CODES) - 1),
    st.integers(0, 10_000),
    st.integers(-10, 40),
    st.integers(0, 255),
    st.none() | st.integers(0, 20),
)
registrations = st.builds(lambda c: Op("register", choice=c), st.integers(0, 10_000))
foundings = st.builds(
    lambda c, s: Op("found", choice=c, step=s), st.integers(0, 10_000), st.integers(0, 30)
)
histories = st.tuples(
    st.lists(registrations, min_size=4, max_size=10),
    st.lists(foundings, min_size=1, max_size=3),
    st.lists(op, min_size=30, max_size=100),
).map(lambda parts: parts[0] + parts[1] + parts[2])


def pick(options: list, n: int) -> Any:
    return options[n % len(options)]


class History:
    """Carries out the commands, keeping the date the next one takes effect."""

    def __init__(self, ledger: Ledger, store: Store) -> None:
        self.ledger, self.store = ledger, store
        self.units: list[str] = []  # codes registered, in order
        self.bodies: list = []
        self.cursor = BASE
        self.effective: set[date] = set()

    def run(self, op: Op) -> None:
        if op.step >= 0:
            self.cursor = min(LAST, self.cursor + timedelta(days=op.step))
        day = self.cursor + timedelta(days=min(op.step, 0) * 4)  # backdated up to 40 days
        self._run(op, day)
        self.effective.add(day)

    def _run(self, op: Op, day: date) -> None:
        ledger = self.ledger
        if op.kind == "catch_up":
            self.store.catch_up()
            return
        if op.kind == "register":  # the next code; once all are taken, refused
            code = CODES[len(self.units) % len(CODES)]
            unit_type = pick(list(UnitType), op.choice)
            ledger.register_unit(
                code=code,
                name=f"单位{code[-4:]}",
                unit_type=unit_type,
                principal=P,
                division=pick(DIVISIONS, op.choice // 7),
                level="higher" if unit_type is UnitType.VOCATIONAL_SCHOOL else None,
            )
            self.units.append(code)
            return
        if not self.units:
            return
        code = pick(self.units, op.unit)
        if op.kind == "relocate":
            ledger.relocate_unit(
                code, division=pick(DIVISIONS, op.choice), effective_on=day, principal=P
            )
            return
        if op.kind == "rename":
            ledger.rename_unit(
                code, name=f"单位{code[-4:]}（{day}更名）", effective_on=day, principal=P
            )
            return
        if op.kind == "correct":  # a registration typed wrong, corrected before it moves
            kind = pick(list(UnitType), op.choice // 11) if op.choice % 5 == 0 else None
            ledger.correct_registration(
                code,
                name=f"单位{code[-4:]}（更正）" if op.choice % 2 else None,
                division=pick(DIVISIONS, op.choice // 3),
                unit_type=kind,
                level="higher" if kind is UnitType.VOCATIONAL_SCHOOL else None,
                reason="登记有误",
                principal=P,
            )
            return
        if op.kind == "deregister" and op.choice % 4 == 0:  # rarely: the unit is done with
            ledger.deregister_unit(code, effective_on=day, principal=P)
            return
        if op.kind == "found":
            self.bodies.append(
                ledger.found_community(
                    name=f"联合体{len(self.bodies)}",
                    kind=pick(list(CommunityKind), op.choice),
                    industry="智能制造",
                    division=pick(DIVISIONS, op.choice // 3),
                    founded_on=day,
                    principal=P,
                ).id
            )
            return
        if not self.bodies:
            return
        b = pick(self.bodies, op.body)
        if op.kind in ("meeting", "resolve", "vacate") and op.mask % 4:
            # mostly a body that has a council
            with_council = [x for x in self.bodies if self._council(x)]
            b = pick(with_council, op.body) if with_council else b
        if op.kind in ("exit", "role", "seat", "vacate") and op.mask % 4:
            # mostly a current member (or seat holder), so that the command can succeed
            current = [p.unit_id for p in ledger.community(b).active_members]
            if op.kind == "vacate":
                council = self._council(b)
                current = [s.unit_id for s in council.seats if s.until is None] if council else []
            code = pick(current, op.unit) if current else code
        if op.kind == "annul" and op.mask % 4:
            # mostly a unit with a membership record in the body
            recorded = [p.unit_id for p in ledger.community(b).periods]
            code = pick(recorded, op.unit) if recorded else code
        match op.kind:
            case "admit":
                ledger.admit_member(
                    b, code, role=pick(list(Role), op.choice), effective_on=day, principal=P
                )
            case "exit":
                ledger.exit_member(
                    b, code, reason=pick(list(ExitReason), op.choice), effective_on=day, principal=P
                )
            case "role":
                ledger.change_member_role(
                    b, code, role=pick(list(Role), op.choice), effective_on=day, principal=P
                )
            case "annul":
                ledger.annul_member_record(b, code, reason="录入有误", principal=P)
            case "dissolve" if op.choice % 3 == 0:  # rarely: the body is done with
                ledger.dissolve_community(b, effective_on=day, principal=P)
            case "seat":
                ledger.assign_seat(
                    b,
                    code,
                    representative=f"代表{str(code)[-4:]}",
                    office=pick(list(Office), op.choice),
                    effective_on=day,
                    principal=P,
                )
            case "vacate":
                ledger.vacate_seat(b, code, effective_on=day, principal=P)
            case "meeting":
                holders = sorted(str(s.unit_id) for s in ledger.council(b).seats_on(day))
                # mostly every seat holder (a quorum); else some of them
                present = [u for n, u in enumerate(holders) if op.mask % 4 or op.mask >> n & 1]
                ledger.record_meeting(b, held_on=day, present=present, principal=P)
            case "resolve":
                self._resolve(b, op)
            case "charter":
                cited = [
                    r.number for r in self._register(b) if r.number and r.matter is Matter.CHARTER
                ]
                ledger.adopt_charter(
                    b,
                    version=f"{len(cited) + 1}.{op.choice}",
                    effective_on=day,
                    principal=P,
                    resolution=pick(cited, op.pick) if cited and op.pick is not None else None,
                )

    def _resolve(self, b: Any, op: Op) -> None:
        council = self.ledger.council(b)
        if not council.meetings:
            return
        meeting = pick(council.meetings, op.pick or 0)
        recused = [
            u for n, u in enumerate(meeting.present) if op.mask % 3 == 0 and op.mask >> n & 1
        ]
        voting = len(meeting.present) - len(recused)
        # a tally that fits the seats present, mostly in favour: for, against, abstentions
        f = voting - (0 if op.choice % 3 else op.choice // 3 % (voting + 1))
        a = op.choice // 5 % (voting - f + 1)
        ab = op.choice // 50 % (voting - f - a + 1)
        adopted = [r.number for r in council.resolutions if r.number]
        revoke = op.choice // 1331 % 3 == 0 and adopted  # a third of them revoke one
        self.ledger.record_resolution(
            b,
            meeting=meeting.number,
            matter=pick(list(Matter), op.mask),
            title=f"决议{len(council.resolutions) + 1}",
            votes_for=f,
            votes_against=a,
            abstentions=ab,
            recused=recused,
            principal=P,
            revokes=pick(adopted, op.choice // 3) if revoke else None,
        )

    def _register(self, b: Any) -> list:
        council = self._council(b)
        return council.resolutions if council else []

    def _council(self, b: Any) -> Any:
        try:
            return self.ledger.council(b)
        except CouncilNotFound:
            return None


def check_history(history, url: str) -> None:
    # hypothesis keeps its own clock (its gc timer runs while the clock is frozen)
    with freeze_time(NOW, ignore=["hypothesis"]) as clock:
        ledger = Ledger(url)
        try:
            store = store_for(ledger)
            run = History(ledger, store)
            recorded: list[datetime] = []
            for command in history:
                clock.tick(1)  # each command recorded a second after the last
                recorded.append(datetime.now(UTC))
                try:
                    run.run(command)
                except LedgerError:
                    continue  # refused: nothing written
            # a few of the dates things took effect on, and the day before each
            chosen = sorted(run.effective)[1 :: max(1, len(run.effective) // 3)]
            dates = sorted({LAST, *chosen, *(d - timedelta(days=1) for d in chosen)})
            half = timedelta(milliseconds=500)
            known_ats: list[datetime | None] = [None, NOW - half]  # before anything
            known_ats += [recorded[len(recorded) * k // 3] + half for k in (1, 2)]
            assert_same_answers(ledger, store, dates, known_ats)
        finally:
            ledger.close()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(history=histories)
def test_random_histories_read_the_same_from_the_read_models_as_from_the_events(
    history, monkeypatch
):
    monkeypatch.setattr(machinery, "BATCH", 7)  # several transactions per catch-up
    check_history(history, "memory://")


@pytest.mark.parametrize("store", STORES)
@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(history=histories)
def test_random_histories_read_the_same_on_both_stores(
    history, store, monkeypatch, tmp_path, request
):
    """Fewer examples, each on a database of its own: a new SQLite file, or a new
    PostgreSQL schema."""
    monkeypatch.setattr(machinery, "BATCH", 7)
    if store == "sqlite":
        check_history(history, f"sqlite:///{tmp_path / uuid4().hex}.db")
        return
    server = request.getfixturevalue("postgres_server")
    schema = f"test_{uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        check_history(history, f"{server}?schema={schema}")
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


# --- the demo, on both stores --------------------------------------------------------

DEMO_DATES = ["2023-07-01", "2024-06-30", "2024-07-01", "2025-04-10", "2025-06-30", "2026-01-01"]


def test_the_demo_reads_the_same_from_the_read_models_on_both_stores(ledger, capsys):
    load_demo(ledger, "json")
    assert "Loaded" in capsys.readouterr().out
    store = store_for(ledger)
    days = [date.fromisoformat(d) for d in DEMO_DATES]
    assert assert_same_answers(ledger, store, days, [None]) == 3 * (6 * 2 + 1) + 6
    names = {c.name: c.id for c in membership.communities(ledger)}
    sip, nev = names[BODIES["sip"]["name"]], names[BODIES["nev"]["name"]]
    suzhou = register(store, sip)
    assert suzhou == governance.register(ledger, sip)
    assert [(r.number, r.revoked_by) for r in suzhou.resolutions if r.revokes or r.revoked_by] == [
        ("2024-002", "2025-001"),
        ("2025-001", None),
    ]
    assert [r.outcome for r in suzhou.resolutions].count("rejected") == 1
    # The figures on 2025-06-30, checked by hand against the demo's history.
    city = provinces.distribution(store, sip, "2025-06-30")
    assert (
        city.total,
        city.home_province,
        city.outside_home,
        city.outside_home_bp,
        city.outside_home_share,
        city.local,
        city.non_local,
    ) == (
        12,
        "320000",
        2,
        1667,
        "0.1667",
        10,
        2,
    )
    industry = provinces.distribution(store, nev, "2025-06-30")
    assert (industry.total, industry.outside_home_bp, industry.province_count, industry.local) == (
        13,
        8462,
        10,
        None,
    )
    everyone = provinces.distribution(store, None, "2025-06-30")
    assert (
        everyone.total,
        everyone.outside_home,
        everyone.outside_home_share,
        everyone.home_province,
        everyone.community_id,
    ) == (33, 13, "0.3939", None, None)


# --- a small body, by hand ------------------------------------------------------------

# (key, type, division): 6 in 江苏 (4 in 苏州, 2 in 南京) and 5 outside it
HAND = [
    ("a", "enterprise", "320506"),
    ("b", "enterprise", "320506"),
    ("c", "vocational_school", "320508"),
    ("d", "university", "320505"),
    ("e", "university", "320106"),
    ("f", "research_institute", "320115"),
    ("g", "enterprise", "310115"),
    ("h", "university", "310110"),
    ("i", "enterprise", "330212"),
    ("j", "industry_organization", "110105"),
    ("k", "enterprise", "440305"),
]
LEAVER = ("l", "enterprise", "650104")
CHONGQING = [("cq1", "500112"), ("cq2", "500230"), ("sc", "510104")]
KEYS = [key for key, _, _ in [*HAND, LEAVER]] + [key for key, _ in CHONGQING]
CODE = {key: credit_code(800 + n) for n, key in enumerate(KEYS)}


@pytest.fixture
def hand(ledger):
    with freeze_time("2025-12-01T02:00:00Z"):
        for key, unit_type, where in [*HAND, LEAVER]:
            ledger.register_unit(
                code=CODE[key],
                name=f"单位{key}",
                unit_type=unit_type,
                division=where,
                principal=P,
                level="higher" if unit_type == "vocational_school" else None,
            )
        sip = ledger.found_community(
            name="苏州工业园区市域产教联合体",
            kind="city",
            industry="电子信息",
            division="320506",
            founded_on="2024-01-01",
            principal=P,
        ).id
        cq = ledger.found_community(
            name="重庆市域产教联合体",
            kind="city",
            industry="汽车",
            division="500112",
            founded_on="2024-01-01",
            principal=P,
        ).id
        for key, _, _ in [*HAND, LEAVER]:
            ledger.admit_member(
                sip, CODE[key], role="participant", effective_on="2024-02-01", principal=P
            )
        ledger.exit_member(
            sip, CODE["l"], reason="withdrawal", effective_on="2025-01-01", principal=P
        )
        # 上海 → 苏州 from July: on 2025-06-30 it still counts in 上海
        ledger.relocate_unit(CODE["g"], division="320505", effective_on="2025-07-01", principal=P)
        # Chongqing: a district, a county of the same city, and one from 四川
        for key, where in CHONGQING:
            ledger.register_unit(
                code=CODE[key],
                name=f"单位{key}",
                unit_type="enterprise",
                division=where,
                principal=P,
            )
            ledger.admit_member(
                cq, CODE[key], role="participant", effective_on="2024-02-01", principal=P
            )
        ledger.admit_member(
            cq, CODE["a"], role="participant", effective_on="2024-02-01", principal=P
        )
    return ledger, store_for(ledger), sip, cq


def both(hand, community, as_of):
    ledger, store, _, _ = hand
    answer = provinces.distribution(store, community, as_of)
    assert answer == provinces.distribution_from_events(ledger, community, as_of)
    return answer


def test_eleven_members_five_outside_the_home_province(hand):
    _, _, sip, _ = hand
    view = both(hand, sip, "2025-06-30")
    assert (
        view.total,
        view.home_province,
        view.home_province_name,
        view.outside_home,
        view.outside_home_bp,
        view.outside_home_share,
    ) == (
        11,
        "320000",
        "江苏",
        5,
        4545,
        "0.4545",
    )
    assert view.provinces == [
        ProvinceCount("320000", "江苏", 6),
        ProvinceCount("310000", "上海", 2),
        ProvinceCount("110000", "北京", 1),
        ProvinceCount("330000", "浙江", 1),
        ProvinceCount("440000", "广东", 1),
    ]
    assert view.province_count == 5
    assert (view.local, view.non_local) == (4, 7)  # 苏州 3205xx; 南京 is in 江苏 but not local
    assert view.by_type == [
        TypeCount("enterprise", 5),
        TypeCount("university", 3),
        TypeCount("industry_organization", 1),
        TypeCount("research_institute", 1),
        TypeCount("vocational_school", 1),
    ]
    assert (view.type_count, view.kind, view.community_name) == (
        5,
        "city",
        "苏州工业园区市域产教联合体",
    )


def test_a_unit_counts_where_it_was_on_the_date_and_a_leaver_until_it_left(hand):
    _, _, sip, _ = hand
    after = both(hand, sip, "2025-07-01")  # g has moved to 苏州
    assert (after.outside_home, after.outside_home_bp, after.outside_home_share, after.local) == (
        4,
        3636,
        "0.3636",
        5,
    )
    before = both(hand, sip, "2024-12-31")  # l (新疆) had not yet left
    assert (before.total, before.outside_home, before.outside_home_bp) == (12, 6, 5000)
    assert ProvinceCount("650000", "新疆", 1) in before.provinces
    empty = both(hand, sip, "2024-01-15")  # founded, nobody admitted yet
    assert (
        empty.total,
        empty.provinces,
        empty.outside_home_bp,
        empty.outside_home_share,
        empty.local,
        empty.non_local,
    ) == (0, [], None, None, 0, 0)


def test_of_two_relocations_on_one_day_the_later_recorded_holds(hand):
    ledger, store, sip, _ = hand
    with freeze_time("2025-12-01T03:00:00Z"):
        for where in ("330212", "110105"):  # 深圳 → 宁波 → 北京, all on 2025-08-01
            ledger.relocate_unit(CODE["k"], division=where, effective_on="2025-08-01", principal=P)
    view = both(hand, sip, "2025-08-01")
    assert ProvinceCount("110000", "北京", 2) in view.provinces
    assert "330000" in {p.province for p in view.provinces}  # i, not k
    assert "440000" not in {p.province for p in view.provinces}
    on_day = membership_model.members(store, sip, as_of="2025-08-01")
    assert on_day == membership.members(ledger, sip, as_of="2025-08-01")
    assert {m.province for m in on_day.members if m.code == CODE["k"]} == {"110000"}


def test_a_province_level_city_is_local_across_its_districts_and_counties(hand):
    _, _, _, cq = hand
    view = both(hand, cq, "2025-06-30")
    # 500112 and 500230 are local; 成都 and 苏州 are not
    assert (view.total, view.local, view.non_local, view.outside_home, view.outside_home_bp) == (
        4,
        2,
        2,
        2,
        5000,
    )


def test_nationally_each_membership_counts_once_per_body(hand):
    view = both(hand, None, "2025-06-30")
    # unit a is in both bodies and counts twice; each membership is compared with
    # the home province of its own body: 5 outside 江苏 + 2 outside 重庆
    assert (view.total, view.outside_home, view.outside_home_bp, view.home_province) == (
        15,
        7,
        4667,
        None,
    )
    assert (view.community_id, view.community_name, view.kind, view.local, view.non_local) == (
        None,
        None,
        None,
        None,
        None,
    )
    assert view.provinces[:3] == [
        ProvinceCount("320000", "江苏", 7),
        ProvinceCount("310000", "上海", 2),
        ProvinceCount("500000", "重庆", 2),
    ]


def test_unknown_bodies_and_bodies_without_a_council_are_refused_alike(hand):
    ledger, store, sip, _ = hand
    stranger = uuid4()
    pairs = [
        (register, governance.register),
        (provinces.distribution, provinces.distribution_from_events),
    ]
    for query, events in pairs:
        assert outcome(query, store, stranger) == outcome(events, ledger, stranger)
        assert outcome(query, store, stranger)[1] == "CommunityNotFound"
        with pytest.raises(InvalidInput, match="community id must be a UUID"):
            query(store, "not-an-id")
    assert (
        outcome(register, store, sip)
        == outcome(governance.register, ledger, sip)
        == (
            "refused",
            "CouncilNotFound",
            "苏州工业园区市域产教联合体 has no council yet: assign its first seat to start one",
        )
    )
    with pytest.raises(CommunityNotFound):
        provinces.distribution(store, stranger)


def test_the_distribution_renders_as_a_table_and_as_csv(hand, capsys):
    _, _, sip, _ = hand
    view = both(hand, sip, "2025-06-30")
    emit(view, "table")
    out = capsys.readouterr().out
    assert "by province" in out and "outside 江苏" in out and "5 (45.45%)" in out
    assert csv_rows(view)[0] == ["dimension", "key", "name", "units", "share"]
    assert csv_rows(view)[1] == ["province", "320000", "江苏", "6", ""]
    assert csv_rows(view)[-3:] == [
        ["outside_home", "320000", "江苏", "5", "0.4545"],
        ["local", "", "", "4", ""],
        ["non_local", "", "", "7", ""],
    ]
    emit(both(hand, None, "2025-06-30"), "csv")
    assert capsys.readouterr().out.splitlines()[-1] == "outside_home,,,7,0.4667"


def test_shares_are_basis_points_rounded_half_up_and_cities_are_code_prefixes():
    assert [
        share_bp(5, 11),
        share_bp(2, 3),
        share_bp(1, 3),
        share_bp(1, 20_000),
        share_bp(0, 4),
        share_bp(4, 4),
        share_bp(0, 0),
    ] == [
        4545,
        6667,
        3333,
        1,
        0,
        10_000,
        None,
    ]
    assert [bp_text(4545), bp_text(10_000), bp_text(7), bp_text(None)] == [
        "0.4545",
        "1.0000",
        "0.0007",
        None,
    ]
    assert [
        city_of("320506"),
        city_of("500230"),
        city_of("110108"),
        city_of("310115"),
        city_of("120116"),
    ] == ["3205", "50", "11", "31", "12"]
    body = Body(uuid4(), "x", "development", "330200")
    view = provinces.for_body(date(2025, 1, 1), body, [("enterprise", "330212")] * 2)
    assert (view.local, view.non_local, view.outside_home_bp) == (None, None, 0)
