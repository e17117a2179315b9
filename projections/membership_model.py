"""The membership read model: units (with their name and location histories),
communities, and membership periods with their roles — each fact with its
effective date *and* the time it was recorded, so "members on D as the ledger
knew it at T" is a query, not a replay."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from domain.commands import as_uuid
from domain.community import Community
from domain.errors import CommunityNotFound
from domain.unit import MemberUnit
from domain.values import parse_date, parse_timestamp, province_name, province_of, today
from projections.machinery import ReadModel, Store, iso
from projections.membership import Member, MemberList, Period

BEGINNING = date.min.isoformat()  # a unit's registered name and division hold from here


class Membership(ReadModel):
    name = "membership"
    tables = {  # noqa: RUF012
        "units": "unit_id TEXT PRIMARY KEY, code TEXT NOT NULL, unit_type TEXT NOT NULL, "
        "level TEXT, deregistered_on TEXT",
        "names": "unit_id TEXT NOT NULL, since TEXT NOT NULL, seq BIGINT NOT NULL, "
        "name TEXT NOT NULL, PRIMARY KEY (unit_id, since, seq)",
        "divisions": "unit_id TEXT NOT NULL, since TEXT NOT NULL, seq BIGINT NOT NULL, "
        "division TEXT NOT NULL, PRIMARY KEY (unit_id, since, seq)",
        "communities": "community_id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, "
        "industry TEXT NOT NULL, division TEXT NOT NULL, founded_on TEXT NOT NULL, "
        "dissolved_on TEXT, recorded_at TEXT NOT NULL, position BIGINT NOT NULL",
        "periods": "period_id TEXT PRIMARY KEY, community_id TEXT NOT NULL, "
        "unit_id TEXT NOT NULL, unit_type TEXT NOT NULL, admitted_on TEXT NOT NULL, "
        "admitted_by TEXT, admitted_at TEXT NOT NULL, exited_on TEXT, exit_reason TEXT, "
        "exited_by TEXT, exited_at TEXT, version BIGINT NOT NULL",
        "roles": "period_id TEXT NOT NULL, since TEXT NOT NULL, role TEXT NOT NULL, "
        "recorded_at TEXT NOT NULL, PRIMARY KEY (period_id, since)",
    }
    indexes = {  # noqa: RUF012
        "by_community": "periods(community_id, admitted_on)",
        "by_unit": "periods(unit_id)",
    }
    topics = (
        MemberUnit.Registered.TOPIC, MemberUnit.Renamed.TOPIC, MemberUnit.Relocated.TOPIC,
        MemberUnit.Deregistered.TOPIC, Community.Founded.TOPIC, Community.MemberAdmitted.TOPIC,
        Community.MemberRoleChanged.TOPIC, Community.MemberExited.TOPIC,
        Community.Dissolved.TOPIC,
    )  # fmt: skip

    def apply(self, event: Any, c: Any) -> None:  # noqa: C901 (one branch per event type)
        unit = str(event.originator_id)
        match event:
            case MemberUnit.Registered():
                self.run(c, "INSERT INTO {units} VALUES (?, ?, ?, ?, NULL)",
                         (unit, event.code, event.unit_type, event.level))  # fmt: skip
                self.run(c, "INSERT INTO {names} VALUES (?, ?, ?, ?)",
                         (unit, BEGINNING, event.originator_version, event.name))  # fmt: skip
                self.run(c, "INSERT INTO {divisions} VALUES (?, ?, ?, ?)",
                         (unit, BEGINNING, event.originator_version, event.division))  # fmt: skip
            case MemberUnit.Renamed():
                self.run(c, "INSERT INTO {names} VALUES (?, ?, ?, ?)",
                         (unit, iso(event.effective_on), event.originator_version, event.name))
            case MemberUnit.Relocated():
                self.run(c, "INSERT INTO {divisions} VALUES (?, ?, ?, ?)",
                         (unit, iso(event.effective_on), event.originator_version,
                          event.division))  # fmt: skip
            case MemberUnit.Deregistered():
                self.run(c, "UPDATE {units} SET deregistered_on = ? WHERE unit_id = ?",
                         (iso(event.effective_on), unit))  # fmt: skip
            case Community.Founded():
                self.run(c, "INSERT INTO {communities} VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?)",
                         (unit, event.name, event.kind, event.industry, event.division,
                          iso(event.founded_on), iso(event.timestamp), self.position))  # fmt: skip
            case Community.MemberAdmitted():
                period = f"{unit}:{event.originator_version}"
                self.run(c, "INSERT INTO {periods} VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL, "
                         "NULL, NULL, ?)",
                         (period, unit, str(event.unit_id), event.unit_type,
                          iso(event.effective_on), event.resolution, iso(event.timestamp),
                          event.originator_version))  # fmt: skip
                self.run(c, "INSERT INTO {roles} VALUES (?, ?, ?, ?)",
                         (period, iso(event.effective_on), event.role, iso(event.timestamp)))
            case Community.MemberRoleChanged():
                self.run(c, "INSERT INTO {roles} SELECT period_id, ?, ?, ? FROM {periods} "
                         "WHERE community_id = ? AND unit_id = ? AND exited_on IS NULL",
                         (iso(event.effective_on), event.role, iso(event.timestamp), unit,
                          str(event.unit_id)))  # fmt: skip
            case Community.MemberExited():
                self.run(c, "UPDATE {periods} SET exited_on = ?, exit_reason = ?, exited_by = ?, "
                         "exited_at = ? WHERE community_id = ? AND unit_id = ? "
                         "AND exited_on IS NULL",
                         (iso(event.effective_on), event.reason, event.resolution,
                          iso(event.timestamp), unit, str(event.unit_id)))  # fmt: skip
            case Community.Dissolved():
                self.run(c, "UPDATE {communities} SET dissolved_on = ? WHERE community_id = ?",
                         (iso(event.effective_on), unit))  # fmt: skip


_MEMBERS = """
SELECT p.unit_id, p.admitted_on, u.code, u.unit_type,
  (SELECT r.role FROM {roles} r WHERE r.period_id = p.period_id AND r.since <= ?
     AND r.recorded_at <= ? ORDER BY r.since DESC LIMIT 1) AS role,
  (SELECT n.name FROM {names} n WHERE n.unit_id = p.unit_id AND n.since <= ?
     ORDER BY n.since DESC, n.seq DESC LIMIT 1) AS name,
  (SELECT d.division FROM {divisions} d WHERE d.unit_id = p.unit_id AND d.since <= ?
     ORDER BY d.since DESC, d.seq DESC LIMIT 1) AS division
FROM {periods} p JOIN {units} u ON u.unit_id = p.unit_id
WHERE p.community_id = ? AND p.admitted_on <= ? AND p.admitted_at <= ?
  AND NOT (p.exited_on IS NOT NULL AND p.exited_on <= ? AND p.exited_at <= ?)
"""

LATEST = "9999-12-31T23:59:59.999999"  # "everything recorded so far"


def members(
    store: Store,
    community: str | UUID,
    as_of: str | date | None = None,
    known_at: str | datetime | None = None,
) -> MemberList:
    """Members on ``as_of`` (default today in China) as recorded by ``known_at``
    (default: everything) — the same answer as ``projections.membership.members``."""
    day = parse_date(as_of, "as-of date") if as_of is not None else today()
    moment = parse_timestamp(known_at, "known-at time") if known_at is not None else None
    community_id = as_uuid(community, "community id")
    store.catch_up()
    model = store.model(Membership)
    t = iso(moment) if moment else LATEST
    d = iso(day)
    with store.snapshot() as query:
        body = query(
            model.sql("SELECT name, recorded_at FROM {communities} WHERE community_id = ?"),
            (str(community_id),),
        )
        rows = query(model.sql(_MEMBERS), (d, t, d, d, str(community_id), d, t, d, t))
    if not body:
        raise CommunityNotFound(f"no community {community_id} has been founded")
    if body[0]["recorded_at"] > t:
        raise CommunityNotFound(
            f"community {community_id} had not been recorded yet at {moment.isoformat()}"  # type: ignore[union-attr]
        )
    result = [
        Member(
            unit_id=UUID(r["unit_id"]), code=r["code"], name=r["name"], type=r["unit_type"],
            province=province_of(r["division"]), province_name=province_name(r["division"]),
            role=r["role"], since=date.fromisoformat(r["admitted_on"]),
        )  # fmt: skip
        for r in rows
    ]
    result.sort(key=lambda m: (m.role != "lead", m.since, m.code))
    return MemberList(
        community_id=community_id, community_name=body[0]["name"], as_of=day, known_at=moment,
        members=result,
    )  # fmt: skip


_UNIT_PERIODS = """
SELECT p.community_id, c.name AS community_name, p.admitted_on, p.admitted_by, p.exited_on,
  p.exit_reason, p.exited_by,
  (SELECT r.role FROM {roles} r WHERE r.period_id = p.period_id
     ORDER BY r.since DESC LIMIT 1) AS role
FROM {periods} p JOIN {communities} c ON c.community_id = p.community_id
WHERE p.unit_id = ? ORDER BY c.position, p.version
"""


def unit_memberships(store: Store, unit_id: UUID) -> list[Period]:
    """A unit's membership periods in every body, in the order the bodies were
    founded and the periods opened — as ``projections.membership.unit_view`` lists them."""
    store.catch_up()
    model = store.model(Membership)
    return [
        Period(
            community_id=UUID(r["community_id"]), community_name=r["community_name"],
            role=r["role"], admitted_on=date.fromisoformat(r["admitted_on"]),
            admitted_by=r["admitted_by"], exited_on=_day(r["exited_on"]),
            exit_reason=r["exit_reason"], exited_by=r["exited_by"],
        )  # fmt: skip
        for r in store.query(model.sql(_UNIT_PERIODS), (str(unit_id),))
    ]


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None
