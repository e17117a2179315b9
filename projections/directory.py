"""The ledger's directory of names: which units, bodies and agreements a name or a part
of one may mean, read from the read models (``application.names.Directory``).

A name matches by its current form (case and spaces ignored); a unit is also found by
a name it had before, when no current name matches. The scan is a ``LIKE`` over the
names' text: tens of milliseconds at 200,000 units, for a command a person typed."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from uuid import UUID

import msgspec

from application.names import Named, normal
from domain.errors import InvalidInput
from domain.values import province_name
from projections.cost_sharing_model import CostSharing
from projections.machinery import Store
from projections.membership import name_of_division
from projections.membership_model import Membership, history, latest


class Directory:
    def __init__(self, store: Store) -> None:
        self.store = store

    def units(self, text: str) -> list[Named]:
        model = self.store.model(Membership)
        rows = self.store.read(
            model.sql(
                "SELECT unit_id, code, names FROM {units} WHERE lower(names) LIKE ? "
                "ESCAPE '!' ORDER BY code"
            ),
            (_pattern(text),),
        )
        wanted = normal(text)
        now, before = [], []
        for r in rows:
            name = latest(r["names"])
            found = Named(UUID(r["unit_id"]), name, r["code"])
            if wanted in normal(name):
                now.append(found)
            elif any(wanted in normal(e[3]) for e in history(r["names"])):
                before.append(found)
        return now or before

    def communities(self, text: str) -> list[Named]:
        model = self.store.model(Membership)
        rows = self.store.read(
            model.sql(
                "SELECT community_id, name, division, founded_on FROM {communities} "
                "WHERE lower(name) LIKE ? ESCAPE '!' ORDER BY founded_on, name"
            ),
            (_pattern(text),),
        )
        return _matching(
            text,
            [Named(UUID(r["community_id"]), r["name"], f"founded {r['founded_on']}") for r in rows],
        )

    def agreements(self, text: str) -> list[Named]:
        model = self.store.model(CostSharing)
        rows = self.store.read(
            model.sql(
                "SELECT a.agreement_id, a.title, c.name FROM {agreements} a "
                "JOIN {communities} c ON c.community_id = a.community_id "
                "WHERE lower(a.title) LIKE ? ESCAPE '!' ORDER BY a.seq"
            ),
            (_pattern(text),),
        )
        return _matching(
            text, [Named(UUID(r["agreement_id"]), r["title"], r["name"]) for r in rows]
        )


def _pattern(text: str) -> str:
    """A ``LIKE`` pattern for the names that may contain ``text``: those containing
    its longest run of Chinese characters (which have no case and one width), else its
    longest run of Latin letters and digits. The whole is then matched in Python,
    where case, spaces and full-width forms are ignored (``normal``)."""
    plain = unicodedata.normalize("NFKC", text).lower()
    runs = re.findall(r"[^\x00-\x7f\W]+", plain) or re.findall(r"[a-z0-9]+", plain) or [""]
    word = max(runs, key=len)
    escaped = word.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return f"%{escaped}%"


def _matching(text: str, found: list[Named]) -> list[Named]:
    wanted = normal(text)
    return [n for n in found if wanted in normal(n.name)]


# --- the register of units, for people looking for one --------------------------------


class UnitSummary(msgspec.Struct, frozen=True):
    id: UUID
    code: str
    name: str
    type: str
    level: str | None
    division: str
    division_name: str | None
    province_name: str
    deregistered_on: date | None


class UnitList(msgspec.Struct, frozen=True):
    search: str | None
    total: int
    """How many units match; ``units`` holds the first ``limit`` of them by code."""
    units: list[UnitSummary]


def unit_list(store: Store, search: str | None = None, limit: int = 200) -> UnitList:
    """The registered units, by credit code; with ``search``, those whose name (now or
    before) contains it, as names are matched (``application.names``), or whose credit
    code starts with it."""
    if limit < 1:
        raise InvalidInput(f"limit must be 1 or more; got {limit}")
    model = store.model(Membership)
    sql = "SELECT unit_id, code, unit_type, level, deregistered_on, names, divisions FROM {units}"
    params: tuple[str, ...] = ()
    text = (search or "").strip()
    if text:
        sql += " WHERE lower(names) LIKE ? ESCAPE '!' OR code LIKE ?"
        params = (_pattern(text), text.upper() + "%")
    rows = store.read(model.sql(sql + " ORDER BY code"), params)
    wanted = normal(text)
    found = []
    for r in rows:
        if text and not (
            r["code"].startswith(text.upper())
            or any(wanted in normal(e[3]) for e in history(r["names"]))
        ):
            continue
        found.append(r)
    units = []
    for r in found[:limit]:
        division = latest(r["divisions"])
        units.append(
            UnitSummary(
                id=UUID(str(r["unit_id"])),
                code=r["code"],
                name=latest(r["names"]),
                type=r["unit_type"],
                level=r["level"],
                division=division,
                division_name=name_of_division(division),
                province_name=province_name(division),
                deregistered_on=date.fromisoformat(r["deregistered_on"])
                if r["deregistered_on"]
                else None,
            )
        )
    return UnitList(search=text or None, total=len(found), units=units)
