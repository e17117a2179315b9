"""The largest-remainder split and the share parser, by their properties and by
examples an auditor can redo by hand."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.allocation import allocate
from domain.errors import InvalidShares
from domain.values import MAX_FEN, parse_bp

totals = st.integers(-MAX_FEN, MAX_FEN)
weight_lists = st.lists(st.integers(0, 10_000), min_size=1, max_size=12).filter(
    lambda ws: sum(ws) > 0
)


# --- allocate: properties -------------------------------------------------------


@given(total=totals, weights=weight_lists)
def test_the_parts_add_up_exactly_to_the_total(total, weights):
    parts = allocate(total, weights)
    assert len(parts) == len(weights)
    assert all(isinstance(p, int) for p in parts)
    assert sum(parts) == total


@given(total=totals, weights=weight_lists)
def test_each_part_is_within_one_fen_of_its_exact_share(total, weights):
    whole = sum(weights)
    for part, weight in zip(allocate(total, weights), weights, strict=True):
        assert abs(part - Fraction(total * weight, whole)) < 1


@given(total=totals, weights=weight_lists)
def test_a_part_never_moves_further_than_rounding_toward_or_away_from_zero(total, weights):
    # Each part is the exact share rounded down or up (by magnitude), never anything else.
    whole = sum(weights)
    for part, weight in zip(allocate(total, weights), weights, strict=True):
        exact = Fraction(total * weight, whole)
        assert part in (exact.__floor__(), exact.__ceil__())


@given(total=totals, weights=weight_lists)
def test_zero_weights_get_nothing(total, weights):
    for part, weight in zip(allocate(total, weights), weights, strict=True):
        if weight == 0:
            assert part == 0


@given(total=totals, weights=weight_lists)
def test_the_split_is_deterministic_and_leaves_its_input_alone(total, weights):
    given_weights = list(weights)
    first = allocate(total, weights)
    allocate(-total + 1, [1] * len(weights))  # another split in between changes nothing
    assert allocate(total, weights) == first
    assert allocate(total, tuple(weights)) == first
    assert weights == given_weights


@given(total=totals, weights=weight_lists, data=st.data())
def test_a_part_depends_only_on_the_inputs_not_on_zero_weight_parts_around_it(total, weights, data):
    # Parties without a share, wherever they are listed, change no one else's part.
    position = data.draw(st.integers(0, len(weights)), label="where a zero weight is inserted")
    padded = [*weights[:position], 0, *weights[position:]]
    parts = allocate(total, padded)
    assert parts[position] == 0
    assert parts[:position] + parts[position + 1 :] == allocate(total, weights)


@given(total=totals, weights=weight_lists, factor=st.integers(1, 1000))
def test_only_the_proportions_of_the_weights_matter(total, weights, factor):
    assert allocate(total, [w * factor for w in weights]) == allocate(total, weights)


@given(total=totals, weights=weight_lists)
def test_a_negative_total_is_the_mirror_image_of_the_positive_one(total, weights):
    assert allocate(-total, weights) == [-p for p in allocate(total, weights)]


@given(total=st.integers(0, MAX_FEN), weights=weight_lists)
def test_a_larger_weight_never_gets_a_smaller_part(total, weights):
    parts = allocate(total, weights)
    for i, wi in enumerate(weights):
        for j, wj in enumerate(weights):
            if wi > wj:
                assert parts[i] >= parts[j]


# --- allocate: worked examples ----------------------------------------------------


@pytest.mark.parametrize(
    ("total", "weights", "parts"),
    [
        # 100 fen in three equal shares: 33 each, and the fen left over goes to the
        # part listed first.
        (100, [1, 1, 1], [34, 33, 33]),
        (100, [3333, 3333, 3334], [33, 33, 34]),  # largest remainder wins, not position
        (100, [3334, 3333, 3333], [34, 33, 33]),
        (-100, [1, 1, 1], [-34, -33, -33]),
        # 1000.01 yuan at 50% / 30% / 20%: exact shares 50000.5, 30000.3, 20000.2.
        (100_001, [5000, 3000, 2000], [50_001, 30_000, 20_000]),
        # 0.02 yuan over three equal shares: the first two parts get a fen each.
        (2, [1, 1, 1], [1, 1, 0]),
        (1, [0, 5000, 5000], [0, 1, 0]),
        (7, [10_000], [7]),
        (0, [2500, 7500], [0, 0]),
        # The largest amount the ledger accepts, split 1/3 each: nothing lost.
        (MAX_FEN, [1, 1, 1], [33_333_333_333_333] * 3),
        # and at 50% / 30% / 20%: remainders .5, .7 and .8, so the two fen left over go
        # to the 30% and the 20% parts.
        (MAX_FEN, [5000, 3000, 2000], [49_999_999_999_999, 30_000_000_000_000, 20_000_000_000_000]),
    ],
)
def test_worked_examples(total, weights, parts):
    assert allocate(total, weights) == parts


@pytest.mark.parametrize("weights", [[], (), [-1, 2], [5000, -1, 5001], [0], [0, 0, 0]])
def test_weights_that_cannot_be_split_over_are_refused(weights):
    with pytest.raises(ValueError, match="weights must be non-negative with a positive sum"):
        allocate(100, weights)


# --- parse_bp -------------------------------------------------------------------------

basis_points = st.integers(0, 10_000)


def as_percentage(bp: int) -> str:
    return f"{bp // 100}.{bp % 100:02d}%"


@given(bp=basis_points)
def test_every_share_from_0_to_10000_reads_as_an_int_its_digits_or_a_percentage(bp):
    assert parse_bp(bp) == bp
    assert parse_bp(str(bp)) == bp
    assert parse_bp(f" {bp} ") == bp
    assert parse_bp(as_percentage(bp)) == bp


@given(bp=basis_points)
def test_shorter_percentages_mean_the_same_share(bp):
    whole, hundredths = divmod(bp, 100)
    if hundredths == 0:
        assert parse_bp(f"{whole}%") == bp
    if hundredths % 10 == 0:
        assert parse_bp(f"{whole}.{hundredths // 10}%") == bp


def test_percentage_examples():
    assert parse_bp("33.33%") == 3333
    assert parse_bp("25%") == 2500
    assert parse_bp("0.01%") == 1
    assert parse_bp("100%") == 10_000
    assert parse_bp("7.5%") == 750


@given(bp=st.integers(10_001, 10**30))
def test_more_than_the_whole_is_refused(bp):
    for value in (bp, str(bp)):
        with pytest.raises(InvalidShares):
            parse_bp(value)
    if bp <= 99_999:
        with pytest.raises(InvalidShares, match="from 0 to 10000 basis points"):
            parse_bp(bp)


@given(bp=st.integers(10_001, 99_999))
def test_a_percentage_over_100_is_refused(bp):
    with pytest.raises(InvalidShares, match="from 0 to 10000 basis points"):
        parse_bp(as_percentage(bp))


@given(bp=st.integers(max_value=-1))
def test_negative_shares_are_refused(bp):
    with pytest.raises(InvalidShares, match="from 0 to 10000 basis points"):
        parse_bp(bp, "cost share")
    for text in (str(bp), f"{bp}%"):
        with pytest.raises(InvalidShares, match="whole basis points"):
            parse_bp(text)


@given(bp=basis_points, extra=st.integers(0, 9))
def test_a_percentage_finer_than_a_basis_point_is_refused_not_rounded(bp, extra):
    text = f"{as_percentage(bp)[:-1]}{extra}%"  # a third decimal place
    with pytest.raises(InvalidShares, match="at most two decimals"):
        parse_bp(text)


@given(value=st.one_of(st.booleans(), st.floats(allow_nan=True), st.none(), st.just(b"2500")))
def test_bools_floats_and_other_types_are_refused(value):
    with pytest.raises(InvalidShares, match="must be a whole number of basis points"):
        parse_bp(value, "party 1's cost share")


def test_a_refusal_names_the_share_and_the_value():
    with pytest.raises(InvalidShares, match=r"party 2's benefit share .* got '33.333%'"):
        parse_bp("33.333%", "party 2's benefit share")
    with pytest.raises(InvalidShares, match=r"cost share must be from 0 to 10000 .* got 10001"):
        parse_bp(10_001, "cost share")
    with pytest.raises(InvalidShares, match="whole basis points"):
        parse_bp("2500.5")
    with pytest.raises(InvalidShares, match="whole basis points"):
        parse_bp("")
