"""What every ledger command shares: re-running on conflict, and parsing the
references and dates adapters pass in."""

from __future__ import annotations

import functools
import random
import re
import threading
import time
from collections.abc import Callable
from datetime import date
from typing import Any, ParamSpec, TypeVar
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from application.repository import READS, ReadSet
from domain.divisions import check_division
from domain.errors import ConcurrentChange, InvalidDate, InvalidInput
from domain.unit import MemberUnit
from domain.values import (
    parse_credit_code,
    parse_date,
    parse_division,
    parse_text,
    today,
    unit_id_for,
)

P = ParamSpec("P")
R = TypeVar("R")

MAX_ATTEMPTS = 8

_RETRYING = threading.Lock()
"""Held by a command run again after a conflict: the threads of one process that lost a
race on the same aggregate re-run one after another instead of racing again."""


def command(method: Callable[P, R]) -> Callable[P, R]:
    """Run get → decide → save again when the save is refused because an aggregate
    changed underneath it: the re-run reads the new state and re-checks every rule
    (ADR 0006). Only if that keeps happening does the caller get ConcurrentChange.

    A command reads kept aggregates as kept, without asking the store what others
    recorded since; its save is refused if any of them was stale when read (ADR
    0034), and the re-run reads every aggregate fresh. An attempt that ends without
    recording anything (a refusal, or nothing to do) had no save to check its reads:
    if it read anything unchecked, one query asks whether any of it was stale, and
    if so it is decided again on fresh state before its answer counts. A command run by
    another command shares the outer one's reads."""

    @functools.wraps(method)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        if READS.get() is not None:
            return method(*args, **kwargs)
        ledger: Any = args[0]
        fresh = False
        for attempt in range(MAX_ATTEMPTS):
            reads = ReadSet(fresh=fresh)
            token = READS.set(reads)
            try:
                if attempt:
                    with _RETRYING:
                        result = method(*args, **kwargs)
                else:
                    result = method(*args, **kwargs)
            except IntegrityError:
                time.sleep(random.uniform(0, 0.005 * 2**attempt))
                fresh = True
                continue
            except Exception:
                if stale(ledger, reads):
                    fresh = True
                    continue
                raise
            finally:
                READS.reset(token)
            if stale(ledger, reads):
                fresh = True
                continue
            return result
        raise ConcurrentChange(
            f"the record kept changing while {method.__name__.replace('_', ' ')} "
            f"was being recorded ({MAX_ATTEMPTS} attempts); nothing was recorded, try again"
        )

    return run


def stale(ledger: Any, reads: ReadSet) -> bool:
    """An attempt that recorded nothing, decided on kept aggregates read unchecked, of
    which one has changed in the store since."""
    return (
        reads.unchecked
        and not reads.saved
        and ledger.recorder.reads_changed(reads.versions, reads.head)
    )


def unit_ref(ref: str | UUID) -> UUID:
    """A unit is named by its id or by its 18-character credit code."""
    if isinstance(ref, UUID):
        return ref
    text = str(ref).strip()
    if len(text) == 18:
        return unit_id_for(parse_credit_code(text))
    return as_uuid(text, "unit (an id or an 18-character credit code)")


def as_uuid(ref: str | UUID, what: str) -> UUID:
    if isinstance(ref, UUID):
        return ref
    try:
        return UUID(str(ref).strip())
    except ValueError:
        raise InvalidInput(f"{what} must be a UUID such as 8c0e…; got {ref!r}") from None


def effective(value: str | date, what: str = "effective date") -> date:
    """A business date that has already come: a future date is a typing mistake."""
    day = parse_date(value, what)
    if day > today():
        raise InvalidDate(f"{what} {day} is in the future (today is {today()} in China)")
    return day


def listed_division(value: str, on: date | None) -> str:
    """A GB/T 2260 code that was a division on ``on`` (in the latest list shipped if
    None), or ``InvalidDivision`` naming what to write instead (ADR 0026).

    Only a command's input is checked: events already recorded are never checked again,
    so a code abolished since stays readable in the history."""
    code = parse_division(value)
    check_division(code, on)
    return code


_NUMBER = re.compile(r"[0-9]{4}-[0-9]{3,}")


def resolution_number(reference: str | None, what: str = "resolution") -> str | None:
    """A register number such as ``2025-007``, or nothing."""
    if reference is None or not str(reference).strip():
        return None
    text = str(reference).strip()
    if not _NUMBER.fullmatch(text):
        raise InvalidInput(f"{what} must be a register number such as 2025-007; got {reference!r}")
    return text


def principal_name(principal: str) -> str:
    return parse_text(principal, "principal", max_length=120)


def label(unit: MemberUnit) -> str:
    return f"{unit.name} ({unit.code})"
