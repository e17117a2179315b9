"""GB/T 2260 administrative divisions: which codes exist on a date, and their names.

The table is ``domain/data/divisions.tsv`` (ADR 0026), made by ``tools/build_divisions.py``
from the Ministry of Civil Affairs' year-end lists (1981 on) and the standard's
revisions: provinces, prefectures and counties, with the years each code was listed.

Dates are known to the year. A code is accepted on any day of the year it entered the
list through any day of the year it left it: the lists are taken on 31 December, so in
a year of change both the old and the new code are accepted. The name in force on a day
is the one in that year's list (for a code that left the list that year, the previous
year's). A code already in the first list (1981) is accepted on earlier dates too; a
code created after the last list is not known yet.

Read once, on first use; every lookup is a dictionary access.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from functools import cache, lru_cache
from importlib.resources import files
from typing import NamedTuple

from domain.errors import InvalidDivision

_SHOWN = 6
"""How many neighbouring divisions an error message lists before ``…``."""


_ZONE = (
    "; a county-level code whose fifth digit is 7 is how the statistics bureau's "
    "统计用区划代码 number a development zone (开发区, 工业园区, 高新区), which is not a "
    "GB/T 2260 division: record the district or county the unit lies in"
)
"""Added to the refusal of an unknown ``xxxx7x`` (ADR 0026): no GB/T 2260 code has a 7
there, so a secretary who writes one copied a development zone's statistical code."""


class Listing(NamedTuple):
    """One code under one name for a run of years: listed in the year-end lists of
    ``start`` to ``end - 1`` (``end`` None while it is in use)."""

    code: str
    name: str
    start: int
    end: int | None
    status: str
    """``u`` in use, ``c`` changed (renamed or renumbered), ``a`` abolished, ``g`` only in
    a GB/T 2260 revision."""
    successors: tuple[tuple[str, int], ...]
    """Where its area went: (code, year of the change)."""

    def accepted_in(self, year: int, first: int) -> bool:
        return (self.start <= year or self.start == first) and (
            self.end is None or year <= self.end
        )

    def listed_in(self, year: int, first: int) -> bool:
        return (self.start <= year or self.start == first) and (self.end is None or year < self.end)


class _Table(NamedTuple):
    by_code: dict[str, tuple[Listing, ...]]
    by_parent: dict[str, tuple[str, ...]]
    """Codes by the prefix they share with their parent: ``3302`` for a prefecture's
    counties, ``33`` for a province's prefectures and directly administered counties."""
    predecessors: dict[tuple[str, int], tuple[Listing, ...]]
    """Listings whose area went to (code, year)."""
    first: int
    last: int


@cache
def _table() -> _Table:
    text = files("domain").joinpath("data/divisions.tsv").read_text(encoding="utf-8")
    by_code: dict[str, list[Listing]] = defaultdict(list)
    predecessors: dict[tuple[str, int], list[Listing]] = defaultdict(list)
    years: set[int] = set()
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        code, name, start, end, status, successors = line.split("\t")
        listing = Listing(
            code,
            name,
            int(start),
            int(end) if end else None,
            status,
            tuple(
                (c, int(y)) for c, _, y in (s.partition("/") for s in successors.split(";") if s)
            ),
        )
        by_code[code].append(listing)
        if status != "g":
            years.add(listing.start)
            if listing.end is not None:
                years.add(listing.end - 1)
        for successor in listing.successors:
            if successor[0] != code:
                predecessors[successor].append(listing)
    by_parent: dict[str, list[str]] = defaultdict(list)
    for code in sorted(by_code):
        by_parent[_parent_prefix(code)].append(code)
    return _Table(
        {c: tuple(ls) for c, ls in by_code.items()},  # the file is sorted by code and year
        {p: tuple(cs) for p, cs in by_parent.items()},
        {k: tuple(v) for k, v in predecessors.items()},
        min(years),
        max(years),
    )


def _parent_prefix(code: str) -> str:
    if code[2:] == "0000":
        return ""
    if code[4:] == "00" or code[2:4] == "90":  # a prefecture, or 省直辖 (4190xx, 4290xx …)
        return code[:2]
    return code[:4]


def coverage() -> tuple[int, int]:
    """The first and last year-end lists the table holds (1981 and 2024 today)."""
    table = _table()
    return table.first, table.last


def history(code: str) -> tuple[Listing, ...]:
    """Every name ``code`` has had, oldest first; empty if it never existed."""
    return _table().by_code.get(code, ())


def _in_force(code: str, on: date | None) -> Listing | None:
    return _in_force_in(code, None if on is None else on.year)


@lru_cache(maxsize=1 << 16)
def _in_force_in(code: str, year: int | None) -> Listing | None:
    """The listing of ``code`` in force in ``year`` (today's if None). The table is
    the year-end lists shipped with the code, so the answer for a code and a year never
    changes: remembered, since every member of a list asks it (2-3 µs a call)."""
    table = _table()
    listings = table.by_code.get(code, ())
    if year is None:
        return next((ls for ls in reversed(listings) if ls.end is None), None)
    accepted = [ls for ls in listings if ls.accepted_in(year, table.first)]
    if not accepted:
        return None
    listed = [ls for ls in accepted if ls.listed_in(year, table.first)]
    return (listed or accepted)[-1]


def division_name(code: str, on: date | None = None) -> str | None:
    """The name ``code`` had on ``on`` (today's list if None); None if it was not a
    division then."""
    listing = _in_force(code, on)
    return listing.name if listing else None


def is_valid(code: str, on: date | None = None) -> bool:
    """Whether ``code`` was a division on ``on`` (in the latest list if None)."""
    return _in_force(code, on) is not None


def counties(province: str, on: date | None = None) -> list[str]:
    """The county-level codes (区, 县, 县级市) of ``province`` (``32``) that were
    divisions on ``on`` (in the latest list if None), in code order."""
    return [
        code
        for code in _table().by_code
        if code.startswith(province) and code[4:] != "00" and is_valid(code, on)
    ]


def full_name(code: str, on: date | None = None) -> str | None:
    """``浙江省杭州市西湖区``: the province's, the prefecture's and the division's names on
    ``on``, as a report shows them; None if ``code`` was not a division then."""
    listing = _in_force(code, on)
    if listing is None:
        return None
    parts = [listing.name]
    for parent in (code[:4] + "00", code[:2] + "0000"):
        if parent != code and (name := division_name(parent, on)) and name not in parts[0]:
            parts.insert(0, name)
    return "".join(parts)


def check_division(code: str, on: date | None = None) -> str:
    """The name of ``code`` on ``on`` (today's list if None), or ``InvalidDivision``
    saying what the user may have meant."""
    listing = _in_force(code, on)
    if listing is not None:
        return listing.name
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        raise InvalidDivision(f"division code must be 6 digits (GB/T 2260); got {code!r}")
    raise InvalidDivision(_refusal(code, on))


def _when(on: date | None) -> str:
    return f"on {on.isoformat()}" if on else "today"


def _refusal(code: str, on: date | None) -> str:
    table = _table()
    listings = table.by_code.get(code, ())
    if not listings:
        message = f"division {code} does not exist in GB/T 2260 ({_neighbours(code, on)})"
        if code[4] == "7":
            message += _ZONE
    else:
        last = listings[-1]
        year = on.year if on else table.last + 1
        if year < listings[0].start:
            first = listings[0]
            message = (
                f"division {code} ({first.name}) was created in {first.start}; "
                f"{_when(on)} it did not exist yet"
            )
            before = _live(table.predecessors.get((code, first.start), ()), on)
            if before:
                message += f" (its area was in {_listed(before)})"
        else:
            ended = next(
                (ls for ls in reversed(listings) if ls.end is not None and ls.end < year), last
            )
            verb = "abolished" if ended.status == "a" else "changed"
            if ended.status == "g":
                message = (
                    f"division {code} ({ended.name}) was in GB/T 2260 only until {ended.end - 1}"
                )
            else:
                message = f"division {code} ({ended.name}) was {verb} in {ended.end}"
            after = _successors(ended, on)
            if after:
                message += f"; {_when(on)} use {_listed(after, ' or ')}"
    if on is not None and on.year > table.last:
        message += (
            f" (the GB/T 2260 list shipped ends with {table.last}: a division created "
            "since is not in it yet)"
        )
    return message


def _live(listings: tuple[Listing, ...] | list[Listing], on: date | None) -> list[Listing]:
    """The listings among ``listings`` whose codes were divisions on ``on``, by code."""
    found = {}
    for listing in listings:
        now = _in_force(listing.code, on)
        if now is not None:
            found[now.code] = now
    return [found[c] for c in sorted(found)]


def _successors(listing: Listing, on: date | None) -> list[Listing]:
    """The divisions on ``on`` that ``listing``'s area went to when it ended, following
    later changes of those."""
    table = _table()
    found: dict[str, Listing] = {}
    seen: set[tuple[str, int]] = set()
    todo = [s for s in listing.successors if s[1] == listing.end]
    while todo:
        successor = todo.pop()
        if successor in seen:
            continue
        seen.add(successor)
        code, year = successor
        now = _in_force(code, on)
        if now is not None:
            found[code] = now
            continue
        for later in table.by_code.get(code, ()):
            if later.end is not None and later.end >= year:
                todo.extend(s for s in later.successors if s[1] == later.end)
    return [found[c] for c in sorted(found)]


def _listed(listings: list[Listing], last: str = ", ") -> str:
    items = [f"{ls.code} {ls.name}" for ls in listings]
    if len(items) > _SHOWN:
        return ", ".join(items[:_SHOWN]) + ", …"
    if len(items) < 2:
        return "".join(items)
    return ", ".join(items[:-1]) + last + items[-1]


def _neighbours(code: str, on: date | None) -> str:
    """Where ``code`` would sit: its prefecture and that one's counties, or its province
    and that one's prefectures."""
    table = _table()
    province = code[:2] + "0000"
    province_name = division_name(province, on)
    if province_name is None:
        return f"no province has the code {code[:2]}"
    prefecture = code[:4] + "00"
    if code[4:] != "00" and (name := division_name(prefecture, on)):
        counties = _live([history(c)[-1] for c in table.by_parent.get(code[:4], ())], on)
        where = f"{prefecture} is {name}"
        return f"{where}; its counties are {_listed(counties)}" if counties else where
    below = list(table.by_parent.get(code[:2], ()))
    for prefix, codes in table.by_parent.items():
        # a municipality's districts (1101xx) and the like have no prefecture above them
        if len(prefix) == 4 and prefix[:2] == code[:2] and not is_valid(prefix + "00", on):
            below.extend(codes)
    divisions = _live([history(c)[-1] for c in below], on)
    where = f"{province} is {province_name}"
    return f"{where}; its divisions are {_listed(divisions)}" if divisions else where
