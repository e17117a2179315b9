"""How the ledger decides a resolution: table-driven, at every boundary."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.charter import (
    FOUNDING_RULES,
    Base,
    Majority,
    Matter,
    Outcome,
    Tally,
    Threshold,
    decide,
    make_rules,
    parse_share,
)
from domain.errors import InvalidInput


def rules_with(base: Base, threshold: Threshold, quorum: str = "1/2"):
    return make_rules(FOUNDING_RULES, quorum=quorum, majorities={"ordinary": f"{base}:{threshold}"})


def tally(f, a=0, ab=0, present=12, recused=0, seats=12) -> Tally:
    return Tally(
        votes_for=f, votes_against=a, abstentions=ab, present=present, recused=recused, seats=seats
    )


# (base, threshold, tally, outcome, reason fragment)
CASES = [
    # cast = for + against; abstentions do not count
    (
        Base.CAST,
        Threshold.MORE_THAN_HALF,
        tally(5, 4, 3),
        "adopted",
        "5 in favour, 5 needed (more than half of 9 votes cast)",
    ),
    (
        Base.CAST,
        Threshold.MORE_THAN_HALF,
        tally(5, 5, 2),
        "rejected",
        "5 in favour, 6 needed (more than half of 10 votes cast)",
    ),
    (
        Base.CAST,
        Threshold.TWO_THIRDS,
        tally(6, 3, 3),
        "adopted",
        "6 in favour, 6 needed (two-thirds of 9 votes cast)",
    ),
    (
        Base.CAST,
        Threshold.TWO_THIRDS,
        tally(5, 3, 4),
        "rejected",
        "5 in favour, 6 needed (two-thirds of 8 votes cast)",
    ),
    # present = present − recused; abstentions count against
    (
        Base.PRESENT,
        Threshold.MORE_THAN_HALF,
        tally(6, 0, 5, present=11),
        "adopted",
        "6 in favour, 6 needed (more than half of 11 voting seats present)",
    ),
    (
        Base.PRESENT,
        Threshold.MORE_THAN_HALF,
        tally(5, 0, 5, present=10),
        "rejected",
        "5 in favour, 6 needed (more than half of 10 voting seats present)",
    ),
    (
        Base.PRESENT,
        Threshold.TWO_THIRDS,
        tally(6, 3, 0, present=10, recused=1),
        "adopted",
        "6 in favour, 6 needed (two-thirds of 9 voting seats present)",
    ),
    (
        Base.PRESENT,
        Threshold.TWO_THIRDS,
        tally(6, 4, 0, present=10),
        "rejected",
        "6 in favour, 7 needed (two-thirds of 10 voting seats present)",
    ),
    # seats = all seats − recused; absent seats count against
    (
        Base.SEATS,
        Threshold.MORE_THAN_HALF,
        tally(7, 0, 0, present=8),
        "adopted",
        "7 in favour, 7 needed (more than half of 12 voting seats)",
    ),
    (
        Base.SEATS,
        Threshold.MORE_THAN_HALF,
        tally(6, 0, 0, present=8),
        "rejected",
        "6 in favour, 7 needed (more than half of 12 voting seats)",
    ),
    (
        Base.SEATS,
        Threshold.TWO_THIRDS,
        tally(8, 0, 0, present=9),
        "adopted",
        "8 in favour, 8 needed (two-thirds of 12 voting seats)",
    ),
    (
        Base.SEATS,
        Threshold.TWO_THIRDS,
        tally(7, 1, 0, present=9),
        "rejected",
        "7 in favour, 8 needed (two-thirds of 12 voting seats)",
    ),
]


@pytest.mark.parametrize(("base", "threshold", "the_tally", "outcome", "reason"), CASES)
def test_each_base_and_threshold_decides_at_its_exact_boundary(
    base, threshold, the_tally, outcome, reason
):
    decision = decide(rules_with(base, threshold), Matter.ORDINARY, the_tally)
    assert decision.outcome == outcome
    assert decision.reason == f"{outcome}: {reason}"


def test_recused_seats_leave_the_seats_base():
    # 12 seats, 1 recused: two-thirds of 11 is 7.33…, so 8 are needed, not 7.
    decision = decide(
        rules_with(Base.SEATS, Threshold.TWO_THIRDS),
        Matter.ORDINARY,
        tally(7, 0, 0, present=9, recused=1),
    )
    assert decision.reason == "rejected: 7 in favour, 8 needed (two-thirds of 11 voting seats)"


@pytest.mark.parametrize(
    ("quorum", "present", "seats", "outcome", "reason"),
    [
        ("2/3", 8, 12, "adopted", None),
        ("2/3", 7, 12, "rejected", "quorum not met: 7 of 12 seats present, 8 needed"),
        ("2/3", 5, 12, "rejected", "quorum not met: 5 of 12 seats present, 8 needed"),
        ("1/2", 6, 12, "adopted", None),
        ("1/2", 3, 7, "rejected", "quorum not met: 3 of 7 seats present, 4 needed"),
        ("1", 6, 7, "rejected", "quorum not met: 6 of 7 seats present, 7 needed"),
    ],
)
def test_quorum_is_a_share_of_all_seats_rounded_up(quorum, present, seats, outcome, reason):
    decision = decide(
        rules_with(Base.CAST, Threshold.MORE_THAN_HALF, quorum=quorum),
        Matter.ORDINARY,
        tally(present, present=present, seats=seats),
    )
    assert decision.outcome == outcome
    if reason:
        assert decision.reason == reason


def test_no_votes_cast_is_no_majority():
    decision = decide(
        rules_with(Base.CAST, Threshold.MORE_THAN_HALF), Matter.ORDINARY, tally(0, 0, 8, present=8)
    )
    assert decision == decision.__class__(
        Outcome.REJECTED, "rejected: no votes cast, so no majority"
    )


@pytest.mark.parametrize(
    ("the_tally", "message"),
    [
        (
            tally(9, 2, 2, present=12),
            "counts 13 votes and abstentions, but only 12 seats could vote",
        ),
        (
            tally(9, 2, 0, present=12, recused=2),
            r"but only 10 seats could vote \(12 present, 2 recused\)",
        ),
        (tally(1, present=2, recused=3), "3 seats recused but only 2 present"),
        (tally(-1), "cannot be negative"),
    ],
)
def test_an_impossible_tally_is_refused(the_tally, message):
    with pytest.raises(InvalidInput, match=message):
        decide(FOUNDING_RULES, Matter.ORDINARY, the_tally)


def test_the_founding_phase_rules_are_those_of_the_policy():
    r = FOUNDING_RULES
    assert Fraction(r.quorum) == Fraction(2, 3)
    for matter in ("ordinary", "admission", "resources", "agreement"):
        assert r.majorities[Matter(matter)] == Majority(Base.PRESENT, Threshold.MORE_THAN_HALF)
    for matter in ("removal", "charter", "dissolution"):
        assert r.majorities[Matter(matter)] == Majority(Base.SEATS, Threshold.TWO_THIRDS)
    assert not r.admission_requires_resolution and not r.removal_requires_resolution


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0", "more than 0"),
        ("3/2", "at most 1"),
        ("0.66", "fraction of seats"),
        ("2/0", "divides by zero"),
        ("two thirds", "fraction of seats"),
    ],
)
def test_a_quorum_must_be_an_exact_share_of_the_seats(text, message):
    with pytest.raises(InvalidInput, match=message):
        parse_share(text)


def test_changed_rules_keep_what_was_not_changed_and_refuse_unknown_words():
    rules = make_rules(
        FOUNDING_RULES,
        quorum="1/2",
        majorities={"admission": "cast:two_thirds"},
        admission_requires_resolution=True,
    )
    assert rules.quorum == "1/2" and rules.admission_requires_resolution
    assert rules.majorities[Matter.ADMISSION] == Majority(Base.CAST, Threshold.TWO_THIRDS)
    assert rules.majorities[Matter.REMOVAL] == FOUNDING_RULES.majorities[Matter.REMOVAL]
    with pytest.raises(InvalidInput, match="majority base for admission must be one of cast"):
        make_rules(FOUNDING_RULES, majorities={"admission": "all:two_thirds"})
    with pytest.raises(InvalidInput, match="matter must be one of ordinary"):
        make_rules(FOUNDING_RULES, majorities={"budget": "cast:two_thirds"})


@settings(max_examples=300)
@given(
    seats=st.integers(1, 60),
    data=st.data(),
    base=st.sampled_from(Base),
    threshold=st.sampled_from(Threshold),
    quorum=st.sampled_from(["1/2", "2/3", "3/4", "1"]),
)
def test_the_outcome_agrees_with_exact_rational_arithmetic(seats, data, base, threshold, quorum):
    present = data.draw(st.integers(0, seats))
    recused = data.draw(st.integers(0, present))
    f = data.draw(st.integers(0, present - recused))
    a = data.draw(st.integers(0, present - recused - f))
    ab = data.draw(st.integers(0, present - recused - f - a))
    t = tally(f, a, ab, present=present, recused=recused, seats=seats)
    decision = decide(rules_with(base, threshold, quorum), Matter.ORDINARY, t)
    denominator = {Base.CAST: f + a, Base.PRESENT: present - recused, Base.SEATS: seats - recused}[
        base
    ]
    share = Fraction(1, 2) if threshold is Threshold.MORE_THAN_HALF else Fraction(2, 3)
    quorate = Fraction(present, seats) >= Fraction(quorum)
    if threshold is Threshold.MORE_THAN_HALF:
        passes = denominator > 0 and Fraction(f, denominator) > share
    else:
        passes = denominator > 0 and Fraction(f, denominator) >= share
    assert (decision.outcome is Outcome.ADOPTED) == (quorate and passes)
