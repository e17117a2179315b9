"""Aggregates are kept in memory and each command gets its own copy (ADR 0020). The
copy shares every value with the kept aggregate and copies only its containers, which
is sound only while nothing else in an aggregate's state can be changed in place.
These tests walk every aggregate of a full history to hold that."""

from __future__ import annotations

import copy
import dataclasses
import enum
from datetime import date, datetime
from types import MappingProxyType
from typing import Any
from uuid import UUID

import msgspec
import pytest

from cli.demo import UNITS, load_demo
from domain.agreement import BenefitAgreement, Entries
from domain.community import Community
from domain.council import Council
from domain.unit import MemberUnit

IMMUTABLE_LEAVES = (str, int, float, bool, bytes, date, datetime, UUID, enum.Enum, type(None))


def is_mutable(value: Any) -> bool:
    """Could this object be changed in place by code that holds it?"""
    if isinstance(value, IMMUTABLE_LEAVES):
        return False
    if isinstance(value, (tuple, frozenset, MappingProxyType)):
        return False  # their items are walked on their own
    if dataclasses.is_dataclass(value):
        return not type(value).__dataclass_params__.frozen  # type: ignore[attr-defined]
    if isinstance(value, msgspec.Struct):
        return not type(value).__struct_config__.frozen
    return True


def children(value: Any) -> list[Any]:
    if isinstance(value, (dict, MappingProxyType)):
        return [*value.keys(), *value.values()]
    if isinstance(value, (list, tuple, set, frozenset, Entries)):
        return list(value)
    if dataclasses.is_dataclass(value):
        return [getattr(value, f.name) for f in dataclasses.fields(value)]
    if isinstance(value, msgspec.Struct):
        return [getattr(value, f) for f in value.__struct_fields__]
    if hasattr(value, "__dict__") and not isinstance(value, (type, enum.Enum)):
        return list(vars(value).values())
    return []


def reachable(root: Any) -> dict[int, Any]:
    seen: dict[int, Any] = {}
    stack = [root]
    while stack:
        value = stack.pop()
        if id(value) in seen or isinstance(value, IMMUTABLE_LEAVES):
            continue
        seen[id(value)] = value
        stack.extend(children(value))
    return seen


def shared_mutable(kept: Any, copied: Any) -> list[str]:
    here = reachable(kept)
    return [
        f"{type(value).__name__}: {value!r}"[:160]
        for key, value in reachable(copied).items()
        if key in here and is_mutable(value)
    ]


@pytest.fixture(scope="module")
def demo_ledger():
    from bootstrap import Ledger

    ledger = Ledger("memory://")
    demo_history(ledger)
    yield ledger
    ledger.close()


def demo_history(ledger) -> None:
    """The demo's history, and a rename, a relocation and a vacated seat besides."""
    load_demo(ledger, "json")
    code = UNITS[0].code
    ledger.rename_unit(code, name="更名后的单位", effective_on="2025-03-01", principal="p")
    ledger.relocate_unit(code, division="320505", effective_on="2025-04-01", principal="p")
    council = next(a for a in every_aggregate(ledger) if isinstance(a, Council))
    seat = next(s for s in council.seats if s.until is None and s.office != "chair")
    ledger.vacate_seat(council.community_id, seat.unit_id, effective_on="2025-10-01", principal="p")


def every_aggregate(ledger) -> list[Any]:
    notifications = ledger.recorder.select_notifications(start=1, limit=100_000)
    ids = dict.fromkeys(n.originator_id for n in notifications)
    return [ledger.repository.get(i) for i in ids]


def test_the_history_has_every_kind_of_change_the_state_can_hold(demo_ledger):
    """So that the walk below meets each kind of record, changed as well as new."""
    kept = every_aggregate(demo_ledger)
    kinds = {type(a) for a in kept}
    assert kinds == {MemberUnit, Community, Council, BenefitAgreement}
    assert any(len(a.names) > 1 for a in kept if isinstance(a, MemberUnit))
    assert any(p.exited_on for a in kept if isinstance(a, Community) for p in a.periods)
    assert any(len(p.roles) > 1 for a in kept if isinstance(a, Community) for p in a.periods)
    assert any(s.until for a in kept if isinstance(a, Council) for s in a.seats)
    assert any(r.revoked_by for a in kept if isinstance(a, Council) for r in a.resolutions)
    agreements = [a for a in kept if isinstance(a, BenefitAgreement)]
    assert any(not e.live for a in agreements for e in a.entries)
    assert any(len(a.terms) > 1 for a in agreements)


def test_a_copy_shares_nothing_that_can_be_changed_in_place(demo_ledger):
    for kept in every_aggregate(demo_ledger):
        copied = copy.deepcopy(kept)
        assert type(copied) is type(kept)
        assert vars(copied) == vars(kept)
        assert shared_mutable(kept, copied) == [], type(kept).__name__


def test_the_check_finds_a_record_that_can_be_changed_in_place():
    """The walk is able to fail: a mutable record inside a frozen one is found."""

    @dataclasses.dataclass
    class Loose:
        value: int

    @dataclasses.dataclass(frozen=True)
    class Holder:
        inner: tuple[Loose, ...]

    kept = MemberUnit.__new__(MemberUnit)
    kept.__dict__["records"] = [Holder((Loose(1),))]
    assert shared_mutable(kept, copy.deepcopy(kept)) == ["Loose: " + repr(Loose(1))]
