"""A body's charter and how it decides a resolution's outcome.

Pure and exact: shares are ``fractions.Fraction``; comparisons are made by cross-
multiplying integers, never with floats. ``decide`` is a function of the rules and
the tally only, so an outcome cannot depend on the order anything was recorded in.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from enum import StrEnum
from fractions import Fraction
from types import MappingProxyType

import msgspec

from domain.errors import InvalidInput
from domain.values import chinese, parse_choice


class Matter(StrEnum):
    ORDINARY = "ordinary"
    ADMISSION = "admission"
    REMOVAL = "removal"
    CHARTER = "charter"
    DISSOLUTION = "dissolution"
    RESOURCES = "resources"
    AGREEMENT = "agreement"


chinese(
    Matter,
    {
        Matter.ORDINARY: ("一般事项", "一般", "日常事项"),
        Matter.ADMISSION: ("成员加入", "吸纳成员", "入会", "加入"),
        Matter.REMOVAL: ("成员清退", "清退"),
        Matter.CHARTER: ("章程修订", "章程", "修改章程"),
        Matter.DISSOLUTION: ("解散",),
        Matter.RESOURCES: ("资源配置", "资源"),
        Matter.AGREEMENT: ("利益分享协议", "协议"),
    },
)


class Base(StrEnum):
    """What the majority is counted against."""

    CAST = "cast"  # votes for + against
    PRESENT = "present"  # seats present − recused
    SEATS = "seats"  # all seats − recused


chinese(
    Base,
    {
        Base.CAST: ("投票数", "所投票数"),
        Base.PRESENT: ("出席席位", "出席"),
        Base.SEATS: ("全体席位", "全部席位", "全体"),
    },
)


class Threshold(StrEnum):
    MORE_THAN_HALF = "more_than_half"  # for > base / 2
    TWO_THIRDS = "two_thirds"  # for ≥ base × 2/3


chinese(
    Threshold,
    {
        Threshold.MORE_THAN_HALF: ("过半数", "半数以上", "过半"),
        Threshold.TWO_THIRDS: ("三分之二", "三分之二以上", "2/3"),
    },
)


class Outcome(StrEnum):
    ADOPTED = "adopted"
    REJECTED = "rejected"


chinese(Outcome, {Outcome.ADOPTED: ("通过",), Outcome.REJECTED: ("未通过", "否决")})


class Majority(msgspec.Struct, frozen=True):
    base: Base
    threshold: Threshold


class Rules(msgspec.Struct, frozen=True):
    quorum: str  # the share of all seats that must be present, as a fraction "2/3"
    majorities: Mapping[Matter, Majority]
    admission_requires_resolution: bool
    removal_requires_resolution: bool

    def kept(self) -> Rules:
        """These rules with a read-only table of majorities, as an aggregate keeps them
        (its state is never changed in place; ADR 0020). Events carry the plain dict."""
        return msgspec.structs.replace(self, majorities=MappingProxyType(dict(self.majorities)))


FOUNDING_RULES = Rules(
    quorum="2/3",
    majorities={
        Matter.ORDINARY: Majority(Base.PRESENT, Threshold.MORE_THAN_HALF),
        Matter.ADMISSION: Majority(Base.PRESENT, Threshold.MORE_THAN_HALF),
        Matter.RESOURCES: Majority(Base.PRESENT, Threshold.MORE_THAN_HALF),
        Matter.AGREEMENT: Majority(Base.PRESENT, Threshold.MORE_THAN_HALF),
        Matter.REMOVAL: Majority(Base.SEATS, Threshold.TWO_THIRDS),
        Matter.CHARTER: Majority(Base.SEATS, Threshold.TWO_THIRDS),
        Matter.DISSOLUTION: Majority(Base.SEATS, Threshold.TWO_THIRDS),
    },
    admission_requires_resolution=False,
    removal_requires_resolution=False,
).kept()
"""Before any charter is adopted (the founding phase)."""


def parse_share(text: str, what: str = "quorum") -> Fraction:
    """A share such as ``2/3``, ``1/2`` or ``1``: more than 0, at most 1, exact."""
    if not isinstance(text, str) or not re.fullmatch(r"\s*[0-9]{1,4}(/[0-9]{1,4})?\s*", text):
        raise InvalidInput(f"{what} must be a fraction of seats such as 2/3 or 1/2; got {text!r}")
    numerator, _, denominator = text.strip().partition("/")
    if denominator and int(denominator) == 0:
        raise InvalidInput(f"{what} {text.strip()} divides by zero")
    share = Fraction(int(numerator), int(denominator or 1))
    if not 0 < share <= 1:
        raise InvalidInput(f"{what} must be more than 0 and at most 1 of the seats; got {text}")
    return share


def make_rules(
    base: Rules,
    *,
    quorum: str | None = None,
    majorities: dict[str, str] | None = None,
    admission_requires_resolution: bool | None = None,
    removal_requires_resolution: bool | None = None,
) -> Rules:
    """New rules from ``base`` with the given changes, checked.

    ``majorities`` maps a matter to ``BASE:THRESHOLD`` (``removal`` → ``seats:two_thirds``).
    """
    changed = dict(base.majorities)
    for matter_text, rule in (majorities or {}).items():
        matter = parse_choice(Matter, matter_text, "matter")
        base_text, _, threshold_text = str(rule).replace("：", ":").partition(":")
        changed[matter] = Majority(
            parse_choice(Base, base_text, f"majority base for {matter}"),
            parse_choice(Threshold, threshold_text, f"majority threshold for {matter}"),
        )
    share = parse_share(quorum) if quorum is not None else Fraction(base.quorum)
    return Rules(
        quorum=str(share),
        majorities=changed,
        admission_requires_resolution=(
            base.admission_requires_resolution
            if admission_requires_resolution is None
            else admission_requires_resolution
        ),
        removal_requires_resolution=(
            base.removal_requires_resolution
            if removal_requires_resolution is None
            else removal_requires_resolution
        ),
    )


class Tally(msgspec.Struct, frozen=True):
    votes_for: int
    votes_against: int
    abstentions: int
    present: int  # seats present at the meeting
    recused: int  # of those present, how many may not vote
    seats: int  # all seats held on the meeting date


class Decision(msgspec.Struct, frozen=True):
    outcome: Outcome
    reason: str


def check_tally(tally: Tally) -> None:
    """Refuse a tally that cannot have happened."""
    counts = (tally.votes_for, tally.votes_against, tally.abstentions, tally.recused)
    if any(n < 0 for n in counts):
        raise InvalidInput("votes, abstentions and recusals cannot be negative")
    if tally.recused > tally.present:
        raise InvalidInput(f"{tally.recused} seats recused but only {tally.present} present")
    voters = tally.present - tally.recused
    votes = tally.votes_for + tally.votes_against + tally.abstentions
    if votes > voters:
        raise InvalidInput(
            f"the tally counts {votes} votes and abstentions, but only {voters} seats "
            f"could vote ({tally.present} present, {tally.recused} recused)"
        )


def quorum_needed(quorum: str, seats: int) -> int:
    share = Fraction(quorum)
    return math.ceil(share * seats)


def decide(rules: Rules, matter: Matter, tally: Tally) -> Decision:
    """Adopted or rejected, and why, under ``rules``."""
    check_tally(tally)
    needed_present = quorum_needed(rules.quorum, tally.seats)
    if tally.seats == 0 or tally.present < needed_present:
        return Decision(
            Outcome.REJECTED,
            f"quorum not met: {tally.present} of {tally.seats} seats present, "
            f"{needed_present} needed",
        )
    majority = rules.majorities[matter]
    base, described = {
        Base.CAST: (tally.votes_for + tally.votes_against, "votes cast"),
        Base.PRESENT: (tally.present - tally.recused, "voting seats present"),
        Base.SEATS: (tally.seats - tally.recused, "voting seats"),
    }[majority.base]
    if majority.threshold is Threshold.MORE_THAN_HALF:
        needed, words = base // 2 + 1, "more than half"
    else:
        needed, words = math.ceil(Fraction(2 * base, 3)), "two-thirds"
    if base == 0:
        return Decision(Outcome.REJECTED, f"rejected: no {described}, so no majority")
    outcome = Outcome.ADOPTED if tally.votes_for >= needed else Outcome.REJECTED
    return Decision(
        outcome,
        f"{outcome}: {tally.votes_for} in favour, {needed} needed ({words} of {base} {described})",
    )
