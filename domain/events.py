"""What every ledger event carries, besides the library's id, version and timestamp.

Event classes name themselves with an explicit, versioned ``TOPIC``
(``chanjiao.community.member_admitted.v1``): that string, not the Python path, is
what is stored, so modules can be moved without breaking a ledger (ADR 0002).
"""

from __future__ import annotations

from typing import TypeVar

from eventsourcing.domain import Aggregate


class LedgerEvent(Aggregate.Event):
    """Base of every event: ``principal`` names who recorded it."""

    principal: str


class LedgerCreated(LedgerEvent, Aggregate.Created):
    """Base of every event that starts an aggregate."""


class LedgerAggregate(Aggregate):
    """Base of every aggregate: its state is scalars, tuples, frozen records and lists
    or dicts of them, so a copy shares every value and copies only the containers.

    The application keeps aggregates in memory and hands each command its own copy
    (ADR 0020), so a command that decides and then fails to save leaves the kept one
    as it was. ``copy.deepcopy`` of a whole history grew with every event; this copy
    costs a pointer per list item. Nothing in an aggregate's state may be changed in
    place except its lists and dicts (``tests/domain/test_kept_aggregates.py`` walks
    every aggregate to hold that)."""

    def __deepcopy__(self, memo: dict[int, object]) -> LedgerAggregate:
        clone = object.__new__(type(self))
        clone.__dict__.update(
            {
                name: value.copy() if type(value) in COPIED else value
                for name, value in vars(self).items()
            }
        )
        return clone


_T = TypeVar("_T", bound=type)

COPIED: set[type] = {list, dict, set}
"""The containers in an aggregate's state that its copy copies (each with a ``copy``
method); a domain class that is one registers itself with ``copied_with_aggregate``."""


def copied_with_aggregate(cls: _T) -> _T:
    COPIED.add(cls)
    return cls
