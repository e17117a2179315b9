"""The membership read model: units (with their name and location histories),
communities, and membership periods with their roles — each fact with its
effective date *and* the time it was recorded, so "members on D as the ledger
knew it at T" is a query, not a replay.

A period's row carries what its member list needs: the unit's code and type, and
three histories kept as JSON text, each entry ``[since, seq, recorded_at, value]``
in the order recorded — the period's roles, the unit's names and its divisions. So
the members of a body on a date, as known at a time, are one range scan of the
periods' primary key, each row's role, name and division picked from its histories
in Python (``at``), with no lookup per member (ADR 0025). A role change appends to
its period's roles; a renaming or a relocation to the unit's row and to every one of
its periods' rows. Histories only grow, so a batch appends to the text of the rows
it does not hold (``substr(h, 1, length(h) - 1) || ',<entries>]'``), which needs
nothing read back."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date, datetime
from functools import lru_cache
from typing import Any
from uuid import UUID

import msgspec

from application import names as named
from domain.community import Community, MemberRecord
from domain.unit import MemberUnit
from domain.values import parse_date, province_name, province_of, today
from projections.known_at import LATEST, as_known_at, founded
from projections.machinery import ReadModel, Store, iso, rows_param, rowset
from projections.membership import Member, MemberList, Period, name_of_division

BEGINNING = date.min.isoformat()  # a unit's registered name and division hold from here

Entry = tuple[str, int, str, str]
"""One entry of a history: (since, seq, recorded_at, value); ``seq`` is the event's
version, which orders entries with the same ``since``."""

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(list[Entry]).decode


def entry(since: str | None, seq: int, at: str | None, value: str) -> str:
    """One entry as JSON text."""
    return _encode((since, seq, at, value)).decode()


def appended(history: str, entries: str) -> str:
    """``history`` (a JSON list, never empty) with ``entries`` (",e1,e2") added."""
    return history[:-1] + entries + "]"


def history(text: str) -> list[Entry]:
    """The entries of a history kept as JSON text."""
    return _decode(text)


@lru_cache(maxsize=16_384)
def in_force(text: str, day: str, bound: str = LATEST) -> str | None:
    """The value of a history in force on ``day`` as recorded by ``bound``: of the
    entries since that day or before, recorded by then, the one with the latest
    (since, seq); None if there is none.

    Remembered: a list of members asks it three times a member, and the same body's
    list is asked again and again with the same histories and the same day; a hit
    costs a hash of the text where a miss decodes it (0.15 → 0.02 ms for a list of 30 members)."""
    found, key = None, ("", -1)
    for since, seq, recorded_at, value in _decode(text):
        if since <= day and recorded_at <= bound and (since, seq) > key:
            found, key = value, (since, seq)
    return found


def latest(text: str) -> str:
    """The value of a history that is in force last."""
    return max(_decode(text), key=lambda e: (e[0], e[1]))[3]


class _Unit:
    """A unit as a batch sees it: its code, its histories as JSON text, its
    divisions as (since, division) for the national counts, and its buffered row if
    it was registered in the batch."""

    __slots__ = ("code", "division_history", "divisions", "names", "row")

    def __init__(
        self,
        code: str,
        names: str,
        division_history: str,
        row: list[Any] | None = None,
    ) -> None:
        self.code, self.names, self.division_history, self.row = code, names, division_history, row
        self.divisions = [(e[0], e[3]) for e in _decode(division_history)]


class _Period:
    """A membership period as a batch sees it: read from the table, or admitted in
    the batch (then ``row`` is its buffered row, still open to change)."""

    __slots__ = ("admitted_on", "community", "exited_on", "row", "unit_type", "version")

    def __init__(
        self,
        community: str,
        version: int,
        unit_type: str,
        admitted_on: str,
        exited_on: str | None,
        row: list[Any] | None = None,
    ) -> None:
        self.community, self.version, self.unit_type = community, version, unit_type
        self.admitted_on, self.exited_on, self.row = admitted_on, exited_on, row


class _Changes:
    """What a batch changes in a period's or a unit's row that it does not hold:
    the exit, and entries to append to each history (",e1,e2", or "")."""

    __slots__ = ("divisions", "exit", "names", "roles")

    def __init__(self) -> None:
        self.exit: tuple[Any, ...] = (None, None, None, None)
        self.roles = self.names = self.divisions = ""


# The columns of a period's row, in order.
(
    _COMMUNITY,
    _VERSION,
    _UNIT,
    _TYPE,
    _CODE,
    _ADMITTED_ON,
    _ADMITTED_BY,
    _ADMITTED_AT,
    _EXITED_ON,
    _EXIT_REASON,
    _EXITED_BY,
    _EXITED_AT,
    _ROLES,
    _NAMES,
    _DIVISIONS,
    _ANNULLED_AT,
) = range(16)
PERIOD_COLUMNS = (
    "community_id",
    "version",
    "unit_id",
    "unit_type",
    "code",
    "admitted_on",
    "admitted_by",
    "admitted_at",
    "exited_on",
    "exit_reason",
    "exited_by",
    "exited_at",
    "roles",
    "names",
    "divisions",
    "annulled_at",
)
_UNIT_NAMES, _UNIT_DIVISIONS = 5, 6  # of a unit's row
_HISTORIES = {
    "names": ("names", _UNIT_NAMES, _NAMES),
    "divisions": ("division_history", _UNIT_DIVISIONS, _DIVISIONS),
}
"""A unit's histories: its attribute, its column in a unit's row and in a period's."""


Presence = list[tuple[str, str, int]]
"""(day, item, +1 or -1): how a membership changes the national counts."""


Home = str | list[tuple[str, str]]


def presence(period: _Period, home: Home, divisions: list[tuple[str, str]]) -> Presence:
    """What one membership period adds to the national counts: its unit type and
    its province (and whether that is outside the body's home province) from the
    day it starts, moving with the unit's relocations, until the day it ends.
    ``divisions``: the unit's (since, division), in the order recorded. ``home``:
    the body's home province, or its (since, province) in the order they take
    effect for an industry body whose recommending province changed it."""
    if not isinstance(home, str):
        return _by_home(period, home, divisions)
    start, end = period.admitted_on, period.exited_on
    if len(divisions) == 1:  # never relocated, as most units: one province throughout
        province = province_of(divisions[0][1])
        items = ["t:" + period.unit_type, "p:" + province]
        if province != home:
            items.append(OUTSIDE)
        if end is None:
            return [(start, item, 1) for item in items]
        return [(start, item, 1) for item in items] + [(end, item, -1) for item in items]
    out: Presence = [(start, "t:" + period.unit_type, 1)]

    def count(day: str, province: str, sign: int) -> None:
        out.append((day, "p:" + province, sign))
        if province != home:
            out.append((day, OUTSIDE, sign))

    province = province_of(next(d for since, d in reversed(divisions) if since <= start))
    count(start, province, 1)
    for since, division in divisions:
        if since <= start:
            continue
        if end is not None and since >= end:
            break
        if province_of(division) != province:
            count(since, province, -1)
            province = province_of(division)
            count(since, province, 1)
    if end is not None:
        out.append((end, "t:" + period.unit_type, -1))
        count(end, province, -1)
    return out


def _by_home(
    period: _Period, homes: list[tuple[str, str]], divisions: list[tuple[str, str]]
) -> Presence:
    """A period of a body whose home changed: each stretch counted at the home of its
    days (at a change the type and province counts leave and come back: they net
    out, and only the outside-home count moves)."""
    out: Presence = []
    ends = [since for since, _ in homes[1:]] + [None]
    for (since, home), until in zip(homes, ends, strict=True):
        start = max(period.admitted_on, since)
        stops = [e for e in (period.exited_on, until) if e is not None]
        end = min(stops) if stops else None
        if end is None or start < end:
            out += presence(
                _Period(period.community, period.version, period.unit_type, start, end),
                home,
                divisions,
            )
    return out


OUTSIDE = "outside"
MEMO_UNITS = 500_000
"""Units whose divisions and periods the model remembers between batches; past
this many it forgets them all and reads again what the next batch needs, so a
long-running process stays bounded in memory."""
GRAINS = (("Y", 4), ("M", 7), ("D", 10))
"""The national counts are kept per year, month and day (the day's ISO text cut to
4, 7 or 10 characters), so a date's figure sums at most a few thousand rows: the
years before it, the months of its year before its month, the days of its month
up to it."""


class Membership(ReadModel):
    name = "membership"
    tables = {
        "units": "unit_id {id} PRIMARY KEY, code TEXT NOT NULL, unit_type TEXT NOT NULL, "
        "level TEXT, deregistered_on {date}, names TEXT NOT NULL, divisions TEXT NOT NULL",
        "communities": "community_id {id} PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, "
        "industry TEXT NOT NULL, division TEXT NOT NULL, founded_on {date} NOT NULL, "
        "dissolved_on {date}, recorded_at TEXT NOT NULL, position BIGINT NOT NULL",
        # One row per membership period, keyed by its body and the version of the
        # admission in the body's stream; the histories are JSON lists of entries.
        # An annulment (Community.MemberRecordAnnulled) closes the row to answers as
        # known from its time (annulled_at) and, unless it took back the admission,
        # adds the period as it was before the annulled fact, keyed by the
        # annulment's version, known from that time (admitted_at): so an answer as
        # known at a time before it still sees the fact.
        "periods": "community_id {id} NOT NULL, version BIGINT NOT NULL, "
        "unit_id {id} NOT NULL, unit_type TEXT NOT NULL, code TEXT NOT NULL, "
        "admitted_on {date} NOT NULL, admitted_by TEXT, admitted_at TEXT NOT NULL, "
        "exited_on {date}, exit_reason TEXT, exited_by TEXT, exited_at TEXT, "
        "roles TEXT NOT NULL, names TEXT NOT NULL, divisions TEXT NOT NULL, "
        "annulled_at TEXT, PRIMARY KEY (community_id, version)",
        # Changes of the national membership counts, per grain (GRAINS) and item
        # ("p:<province>", "t:<unit type>", OUTSIDE the body's home province): the
        # count on a date is the sum of the changes up to it.
        "counts": "grain TEXT NOT NULL, period TEXT NOT NULL, item TEXT NOT NULL, "
        "n BIGINT NOT NULL, PRIMARY KEY (grain, period, item)",
        # An industry body's recommending provinces, in the order recorded (``seq``,
        # the event's version), which is also the order they take effect.
        "recommendations": "community_id {id} NOT NULL, seq BIGINT NOT NULL, "
        "since {date} NOT NULL, province TEXT NOT NULL, unit_id {id} NOT NULL, "
        "recorded_at TEXT NOT NULL, PRIMARY KEY (community_id, seq)",
    }
    indexes = {"by_unit": "periods(unit_id)"}
    retired = ("names", "divisions", "roles")  # now histories in the rows (ADR 0025)
    topics = (
        MemberUnit.Registered.TOPIC,
        MemberUnit.Renamed.TOPIC,
        MemberUnit.Relocated.TOPIC,
        MemberUnit.RegistrationCorrected.TOPIC,
        MemberUnit.Deregistered.TOPIC,
        Community.Founded.TOPIC,
        Community.MemberAdmitted.TOPIC,
        Community.MemberRoleChanged.TOPIC,
        Community.MemberExited.TOPIC,
        Community.MemberRecordAnnulled.TOPIC,
        Community.Dissolved.TOPIC,
        Community.RecommendingProvinceSet.TOPIC,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._forget()

    def _forget(self) -> None:
        """Drop what is remembered of the tables between batches."""
        self.memo_at = -1  # the position the remembered state is true at
        self.units: dict[str, _Unit] = {}
        self.periods: dict[str, list[_Period]] = {}
        self.homes: dict[str, Home] = {}

    def begin(self, events: Sequence[Any], c: Any) -> None:
        """Know the units, membership periods and home provinces the batch's
        admissions, role changes, exits, renamings and relocations need.

        What the previous batch left is still true if the model's position has not
        moved since it committed (any other writer would have moved it), so a
        rebuild or a busy catch-up reads nothing here; otherwise it is read again, in
        a few queries, for the units and bodies of this batch only."""
        if self.memo_at != self.position or len(self.periods) > MEMO_UNITS:
            self._forget()
        self.changes: Counter[tuple[str, str]] = Counter()
        self.fresh: list[_Period | _Unit] = []  # added in this batch: rows still buffered
        self.changed: dict[tuple[str, int], _Changes] = {}  # periods added before
        self.changed_units: dict[str, _Changes] = {}  # units added before
        self.rehomed: dict[str, set[str]] = {}  # body → the units of its periods
        # Ids as the events have them (UUIDs), made text once each.
        ids, new, joined = set(), set(), set()  # joined: (body, unit) of membership events
        for e in events:
            if isinstance(e, MemberUnit.Registered | Community.Founded):
                new.add(e.originator_id)  # nothing to read: it starts in this batch
            elif isinstance(
                e, MemberUnit.Relocated | MemberUnit.Renamed | MemberUnit.RegistrationCorrected
            ):
                ids.add(e.originator_id)
            elif isinstance(
                e,
                Community.MemberAdmitted
                | Community.MemberRoleChanged
                | Community.MemberExited
                | Community.MemberRecordAnnulled,
            ):
                joined.add((e.originator_id, e.unit_id))
            elif isinstance(e, Community.RecommendingProvinceSet):
                self.rehomed[str(e.originator_id)] = set()
        units = {str(u) for u in ids.union(unit for _, unit in joined)}
        bodies = {str(b) for b in {b for b, _ in joined}}.union(self.rehomed)
        for body, unit in joined if self.rehomed else ():
            if (known := self.rehomed.get(str(body))) is not None:
                known.add(str(unit))
        new = {str(i) for i in new}
        self._rehomed_units(c, units)
        wanted = sorted(units.difference(self.periods, new))
        for r in self.select_in(
            c, "SELECT unit_id, code, names, divisions FROM {units} WHERE unit_id {in}", wanted
        ):
            self.units[r["unit_id"]] = _Unit(r["code"], r["names"], r["divisions"])
        for unit in wanted:
            self.periods[unit] = []
        for r in self.select_in(
            c,
            "SELECT community_id, version, unit_id, unit_type, admitted_on, exited_on "
            "FROM {periods} WHERE unit_id {in} AND annulled_at IS NULL "
            "ORDER BY community_id, version",
            wanted,
        ):
            self.periods[r["unit_id"]].append(
                _Period(
                    r["community_id"],
                    r["version"],
                    r["unit_type"],
                    r["admitted_on"],
                    r["exited_on"],
                )
            )
            bodies.add(r["community_id"])
        homeless = sorted(bodies.difference(self.homes, new))
        for r in self.select_in(
            c, "SELECT community_id, division FROM {communities} WHERE community_id {in}", homeless
        ):
            self.homes[r["community_id"]] = province_of(r["division"])
        for r in self.select_in(
            c,
            "SELECT community_id, since, province FROM "
            "{recommendations} WHERE community_id {in} "
            "ORDER BY community_id, seq",
            homeless,
        ):
            self._rehome(r["community_id"], r["since"], r["province"])

    def _rehomed_units(self, c: Any, units: set[str]) -> None:
        """The units of every period of the bodies whose recommending province the
        batch changes: those periods move in the national counts."""
        for r in self.select_in(
            c,
            "SELECT DISTINCT community_id, unit_id FROM {periods} WHERE community_id {in}",
            sorted(self.rehomed),
        ):
            self.rehomed[r["community_id"]].add(r["unit_id"])
        for known in self.rehomed.values():
            units.update(known)

    def _rehome(self, body: str, since: str, province: str) -> Home:
        """Add a recommending province to the body's homes; returns the old ones."""
        old = self.homes[body]
        self.homes[body] = [
            *([(BEGINNING, old)] if isinstance(old, str) else old),
            (since, province),
        ]
        return old

    def committed(self, position: int) -> None:
        self.memo_at = position

    def abandoned(self) -> None:
        self._forget()

    def apply(self, event: Any, c: Any) -> None:
        oid = str(event.originator_id)
        w = self.writes
        match event:  # the most frequent first
            case Community.MemberAdmitted():
                unit, day, at = str(event.unit_id), iso(event.effective_on), iso(event.timestamp)
                version = event.originator_version
                u = self.units[unit]
                row = [
                    oid,
                    version,
                    unit,
                    event.unit_type,
                    u.code,
                    day,
                    event.resolution,
                    at,
                    None,
                    None,
                    None,
                    None,
                    f"[{entry(day, version, at, event.role)}]",
                    u.names,
                    u.division_history,
                    None,
                ]
                w.insert("periods", row)
                period = _Period(oid, version, event.unit_type, day, None, row)
                self.periods[unit].append(period)
                self.fresh.append(period)
                self._count(presence(period, self.homes[oid], u.divisions))
            case Community.MemberRoleChanged():
                period = self._open(oid, str(event.unit_id))
                more = "," + entry(
                    iso(event.effective_on),
                    event.originator_version,
                    iso(event.timestamp),
                    event.role,
                )
                if period.row is not None:  # admitted in this batch: still buffered
                    period.row[_ROLES] = appended(period.row[_ROLES], more)
                else:
                    self._changes(period).roles += more
            case Community.MemberExited():
                unit = str(event.unit_id)
                period = self._open(oid, unit)
                home, history = self.homes[oid], self.units[unit].divisions
                old = presence(period, home, history)
                exit = (
                    iso(event.effective_on),
                    event.reason,
                    event.resolution,
                    iso(event.timestamp),
                )
                period.exited_on = exit[0]
                if period.row is not None:
                    period.row[_EXITED_ON : _EXITED_AT + 1] = exit
                else:
                    self._changes(period).exit = exit
                self._count(presence(period, home, history), old)
            case MemberUnit.Registered():
                at = iso(event.timestamp)
                names = f"[{entry(BEGINNING, event.originator_version, at, event.name)}]"
                divisions = f"[{entry(BEGINNING, event.originator_version, at, event.division)}]"
                row = [oid, event.code, event.unit_type, event.level, None, names, divisions]
                w.insert("units", row)
                u = self.units[oid] = _Unit(event.code, names, divisions, row)
                self.fresh.append(u)
                self.periods[oid] = []
            case MemberUnit.Renamed():
                self._rename(oid, iso(event.effective_on), event)
            case MemberUnit.Relocated():
                self._relocate(oid, iso(event.effective_on), event)
            case MemberUnit.RegistrationCorrected():
                # as registered: entries from the beginning, known from now (ADR 0029)
                self._rename(oid, BEGINNING, event)
                self._relocate(oid, BEGINNING, event)
                w.later(
                    "UPDATE {units} SET unit_type = ?, level = ? WHERE unit_id = ?",
                    (event.unit_type.value, event.level and event.level.value, oid),
                )
            case MemberUnit.Deregistered():
                w.later(
                    "UPDATE {units} SET deregistered_on = ? WHERE unit_id = ?",
                    (iso(event.effective_on), oid),
                )
            case Community.Founded():
                w.insert(
                    "communities",
                    (
                        oid,
                        event.name,
                        event.kind,
                        event.industry,
                        event.division,
                        iso(event.founded_on),
                        None,
                        iso(event.timestamp),
                        self.position,
                    ),
                )
                self.homes[oid] = province_of(event.division)
            case Community.RecommendingProvinceSet():
                since = iso(event.effective_on)
                w.insert(
                    "recommendations",
                    (
                        oid,
                        event.originator_version,
                        since,
                        event.province,
                        str(event.unit_id),
                        iso(event.timestamp),
                    ),
                )
                moved = [
                    (p, self.units[unit].divisions)
                    for unit in sorted(self.rehomed[oid])
                    for p in self.periods[unit]
                    if p.community == oid and (p.exited_on is None or p.exited_on > since)
                ]
                old = self._rehome(oid, since, event.province)
                for p, history in moved:
                    self._count(presence(p, self.homes[oid], history), presence(p, old, history))
            case Community.MemberRecordAnnulled():
                self._annul(event, c)
            case Community.Dissolved():
                w.later(
                    "UPDATE {communities} SET dissolved_on = ? WHERE community_id = ?",
                    (iso(event.effective_on), oid),
                )

    def _rename(self, oid: str, since: str, event: Any) -> None:
        """A name from ``since`` in the unit's names and those of its periods' rows."""
        self._grow(oid, "names", since, event, event.name)

    def _grow(self, oid: str, which: str, since: str, event: Any, value: str) -> _Unit:
        """An entry at the end of one of the unit's histories (``names`` or
        ``divisions``), in its row and its periods' rows, buffered or sent at the end."""
        attr, unit_column, period_column = _HISTORIES[which]
        more = "," + entry(since, event.originator_version, iso(event.timestamp), value)
        u = self.units[oid]
        text = appended(getattr(u, attr), more)
        setattr(u, attr, text)
        targets: list[tuple[list[Any] | None, int, Callable[[], _Changes]]] = [
            (u.row, unit_column, lambda: self._unit_changes(oid))
        ]
        targets += [(p.row, period_column, lambda p=p: self._changes(p)) for p in self.periods[oid]]
        for row, column, changes in targets:
            if row is not None:
                row[column] = text
            else:
                found = changes()
                setattr(found, which, getattr(found, which) + more)
        return u

    def _relocate(self, oid: str, since: str, event: Any) -> None:
        """A division from ``since`` in the unit's divisions and its periods' rows, and
        the national counts of the periods it moves."""
        u = self._grow(oid, "divisions", since, event, event.division)
        history = u.divisions
        moved = [p for p in self.periods[oid] if p.exited_on is None or p.exited_on > since]
        before = [presence(p, self.homes[p.community], history) for p in moved]
        history.append((since, event.division))
        for p, old in zip(moved, before, strict=True):
            self._count(presence(p, self.homes[p.community], history), old)

    def _annul(self, event: Any, c: Any) -> None:
        """Rare: what the batch holds is sent first, then the period's row is read,
        closed and (but for an admission) replaced, here and now."""
        self._flush(c)
        oid, unit, at = str(event.originator_id), str(event.unit_id), iso(event.timestamp)
        period = next(p for p in reversed(self.periods[unit]) if p.community == oid)
        home, divisions = self.homes[oid], self.units[unit].divisions
        old = presence(period, home, divisions)
        [row] = self.run(
            c,
            "SELECT * FROM {periods} WHERE community_id = ? AND version = ?",
            (oid, period.version),
        ).fetchall()
        self.run(
            c,
            "UPDATE {periods} SET annulled_at = ? WHERE community_id = ? AND version = ?",
            (at, oid, period.version),
        )
        if event.record == MemberRecord.ADMISSION:
            self.periods[unit].remove(period)
            self._count([], old)
            return
        before = [row[k] for k in PERIOD_COLUMNS]
        before[_VERSION], before[_ADMITTED_AT] = event.originator_version, at
        if event.record == MemberRecord.EXIT:
            before[_EXITED_ON : _EXITED_AT + 1] = (None, None, None, None)
            period.exited_on = None
        else:  # a role change: the last entry of the roles
            roles = history(before[_ROLES])[:-1]
            before[_ROLES] = "[" + ",".join(entry(*e) for e in roles) + "]"
        self.run(
            c,
            f"INSERT INTO {{periods}} VALUES ({', '.join('?' * len(before))})",
            before,
        )
        period.version = event.originator_version
        self._count(presence(period, home, divisions), old)

    def _open(self, community: str, unit: str) -> _Period:
        for period in self.periods[unit]:
            if period.community == community and period.exited_on is None:
                return period
        raise RuntimeError(
            f"membership read model: unit {unit} has no open period in "
            f"{community} at position {self.position}"
        )

    def _changes(self, period: _Period) -> _Changes:
        key = (period.community, period.version)
        found = self.changed.get(key)
        if found is None:
            found = self.changed[key] = _Changes()
        return found

    def _unit_changes(self, unit: str) -> _Changes:
        found = self.changed_units.get(unit)
        if found is None:
            found = self.changed_units[unit] = _Changes()
        return found

    def _count(self, new: Presence, old: Presence | None = None) -> None:
        for day, item, sign in new:
            self.changes[day, item] += sign
        for day, item, sign in old or ():
            self.changes[day, item] -= sign

    def finish(self, c: Any) -> None:
        self._flush(c)

    def _flush(self, c: Any) -> None:
        """Send what the batch holds: rows, changes to rows, counts."""
        super().finish(c)
        for added in self.fresh:
            added.row = None  # sent: later changes update the table
        self.fresh = []
        self._update(c)
        self.changed, self.changed_units = {}, {}
        rows: Counter[tuple[str, str, str]] = Counter()
        for (day, item), n in self.changes.items():
            if n:
                for grain, width in GRAINS:
                    rows[grain, day[:width], item] += n
        rows = Counter({key: n for key, n in rows.items() if n})  # not those that cancel out
        self.changes = Counter()
        if not rows:
            return
        if self.dialect.arrays:
            self.run(
                c,
                "INSERT INTO {counts} AS c SELECT * FROM "
                + rowset("g text, p text, i text, n bigint")
                + " x ON CONFLICT (grain, period, item) DO UPDATE SET n = c.n + excluded.n",
                [rows_param([(*key, n) for key, n in rows.items()])],
            )
        else:
            c.executemany(
                self.sql(
                    "INSERT INTO {counts} AS c VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (grain, period, item) "
                    "DO UPDATE SET n = c.n + excluded.n"
                ),
                [(*key, n) for key, n in rows.items()],
            )

    def _update(self, c: Any) -> None:
        """The batch's changes to rows added before it: one statement per table (one
        row each on SQLite). A history with nothing to add gets "]" for its "]"."""
        periods = [
            (community, version, *ch.exit, ch.roles + "]", ch.names + "]", ch.divisions + "]")
            for (community, version), ch in self.changed.items()
        ]
        units = [
            (unit, ch.names + "]", ch.divisions + "]") for unit, ch in self.changed_units.items()
        ]
        grow = "{0} = substr({1}{0}, 1, length({1}{0}) - 1) || {2}"
        if periods and self.dialect.arrays:
            self.run(
                c,
                "UPDATE {periods} p SET exited_on = COALESCE(x.o, p.exited_on), "
                "exit_reason = COALESCE(x.r, p.exit_reason), "
                "exited_by = COALESCE(x.b, p.exited_by), "
                "exited_at = COALESCE(x.a, p.exited_at), "
                + ", ".join(grow.format(h, "p.", "x." + h) for h in ("roles", "names", "divisions"))
                + " FROM "
                + rowset(
                    "c {id}, v bigint, o {date}, r text, b text, a text, "
                    "roles text, names text, divisions text"
                )
                + " x WHERE p.community_id = x.c AND p.version = x.v",
                [rows_param(periods)],
            )
        elif periods:
            c.executemany(
                self.sql(
                    "UPDATE {periods} SET exited_on = COALESCE(?, exited_on), "
                    "exit_reason = COALESCE(?, exit_reason), exited_by = COALESCE(?, exited_by), "
                    "exited_at = COALESCE(?, exited_at), "
                    + ", ".join(grow.format(h, "", "?") for h in ("roles", "names", "divisions"))
                    + " WHERE community_id = ? AND version = ?"
                ),
                [(*p[2:], p[0], p[1]) for p in periods],
            )
        if units and self.dialect.arrays:
            self.run(
                c,
                "UPDATE {units} u SET "
                + ", ".join(grow.format(h, "u.", "x." + h) for h in ("names", "divisions"))
                + " FROM "
                + rowset("id {id}, names text, divisions text")
                + " x WHERE u.unit_id = x.id",
                [rows_param(units)],
            )
        elif units:
            c.executemany(
                self.sql(
                    "UPDATE {units} SET "
                    + ", ".join(grow.format(h, "", "?") for h in ("names", "divisions"))
                    + " WHERE unit_id = ?"
                ),
                [(*u[1:], u[0]) for u in units],
            )


# The body's row, with each of its periods that holds on the date as known at the
# time (one row with no period if there is none): one range scan of the periods' key.
_MEMBERS = """
SELECT c.name, c.recorded_at, p.unit_id, p.code, p.unit_type, p.admitted_on, p.roles,
  p.names, p.divisions
FROM {communities} c LEFT JOIN {periods} p ON p.community_id = c.community_id
  AND p.admitted_on <= ? AND p.admitted_at <= ?
  AND NOT (p.exited_on IS NOT NULL AND p.exited_on <= ? AND p.exited_at <= ?)
  AND (p.annulled_at IS NULL OR p.annulled_at > ?)
WHERE c.community_id = ?
"""


def members(
    store: Store,
    community: str | UUID,
    as_of: str | date | None = None,
    known_at: str | datetime | None = None,
) -> MemberList:
    """Members on ``as_of`` (default today in China) as recorded by ``known_at``
    (default: everything) — the same answer as ``projections.membership.members``:
    one range scan of the body's periods, each member's role, name and division
    picked from the histories its row carries."""
    day = parse_date(as_of, "as-of date") if as_of is not None else today()
    at = as_known_at(known_at)
    community_id = named.community_id(store.ledger.directory, community)
    model = store.model(Membership)
    t, d = at.bound, iso(day)
    assert d is not None
    # Rows as tuples, taken apart in _MEMBERS's order: a list of hundreds of members
    # is hundreds of rows, and a dict for each cost about as much as reading it.
    rows = store.read(model.sql(_MEMBERS), (d, t, d, t, t, str(community_id)), tuples=True)
    founded(rows[0][1] if rows else None, community_id, at)
    name = rows[0][0]
    listed = [r[2:] for r in rows if r[2] is not None]  # not the body's row alone
    # Ids are read as text on both stores: msgspec parses a list of them in C, where
    # ``UUID(text)`` took 1 µs each.
    unit_ids = msgspec.convert([r[0] for r in listed], list[UUID])
    result = []
    for (_, code, unit_type, admitted_on, roles, names, divisions), unit_id in zip(
        listed, unit_ids, strict=True
    ):
        division = in_force(divisions, d, t)
        result.append(
            Member(
                unit_id=unit_id,
                code=code,
                name=in_force(names, d, t),
                type=unit_type,
                province=province_of(division),
                province_name=province_name(division),
                role=in_force(roles, d, t),
                since=date.fromisoformat(admitted_on),
                division=division,
                division_name=name_of_division(division, day),
            )
        )
    result.sort(key=lambda m: (m.role != "lead", m.since, m.code))
    return MemberList(
        community_id=community_id,
        community_name=name,
        as_of=day,
        known_at=at.moment,
        members=result,
    )


_UNIT_PERIODS = """
SELECT p.community_id, c.name AS community_name, p.admitted_on, p.admitted_by, p.exited_on,
  p.exit_reason, p.exited_by, p.roles
FROM {periods} p JOIN {communities} c ON c.community_id = p.community_id
WHERE p.unit_id = ? AND p.annulled_at IS NULL ORDER BY c.position, p.version
"""


def unit_memberships(store: Store, unit_id: UUID) -> list[Period]:
    """A unit's membership periods in every body, in the order the bodies were
    founded and the periods opened — as ``projections.membership.unit_view`` lists them."""
    store.ready()
    model = store.model(Membership)
    return [
        Period(
            community_id=UUID(r["community_id"]),
            community_name=r["community_name"],
            role=latest(r["roles"]),
            admitted_on=date.fromisoformat(r["admitted_on"]),
            admitted_by=r["admitted_by"],
            exited_on=_day(r["exited_on"]),
            exit_reason=r["exit_reason"],
            exited_by=r["exited_by"],
        )
        for r in store.query(model.sql(_UNIT_PERIODS), (str(unit_id),))
    ]


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None
