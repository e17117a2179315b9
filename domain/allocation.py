"""Splitting an amount of fen over shares so the parts add up exactly to the whole.

The largest-remainder (Hamilton) method: every part first gets the whole fen of
its exact share (rounded down); the fen left over — fewer than there are parts —
go one each to the parts whose exact shares lost the most in that rounding. Ties
go to the part listed first, so the same inputs always give the same split and an
auditor can redo it by hand from the report.

Pure integer arithmetic: ``total × weight`` is divided with ``divmod``, never
with floats, so a split is exact for any amount the ledger accepts.
"""

from __future__ import annotations

from collections.abc import Sequence


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """``total`` (fen, may be negative) split in proportion to ``weights``
    (non-negative integers, e.g. basis points, with a positive sum).

    Each part is within one fen of its exact share and the parts sum to ``total``.
    A negative total is split as the mirror image of its positive amount.
    """
    if not weights or any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError(f"weights must be non-negative with a positive sum; got {weights!r}")
    if total < 0:
        return [-part for part in allocate(-total, weights)]
    whole = sum(weights)
    floors, remainders = [], []
    for weight in weights:
        floor, remainder = divmod(total * weight, whole)
        floors.append(floor)
        remainders.append(remainder)
    left_over = total - sum(floors)
    # Largest remainder first; among equal remainders, the earlier part first.
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:left_over]:
        floors[i] += 1
    return floors
