"""Output for people (rich tables) and for scripts (JSON)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import msgspec
from rich.console import Console
from rich.table import Table

from domain.codec import to_json
from projections.governance import (
    CharterView,
    MeetingRecorded,
    Register,
    RegisterEntry,
    SeatList,
)
from projections.membership import CommunityView, MemberList, UnitView


def console() -> Console:
    # Wide enough that Chinese names are not wrapped when output goes to a file.
    return Console(width=None if sys.stdout.isatty() else 160, highlight=False)


def emit(value: Any, fmt: str) -> None:
    if fmt == "json":
        sys.stdout.write(msgspec.json.format(to_json(value).decode(), indent=2))
        sys.stdout.write("\n")
        return
    out = console()
    match value:
        case MemberList():
            out.print(member_table(value))
        case UnitView():
            out.print(unit_table(value))
        case CommunityView():
            out.print(community_table([value], title=value.name))
        case [CommunityView(), *_] | []:
            out.print(community_table(value))
        case Register():
            out.print(register_table(value.community_name, value.resolutions))
        case RegisterEntry():
            out.print(register_table("resolution recorded", [value]))
        case SeatList():
            out.print(seat_table(value))
        case CharterView():
            out.print(charter_table(value))
        case MeetingRecorded():
            out.print(
                f"Meeting {value.meeting} held on {value.held_on} recorded with "
                f"{value.present} seats present; record its resolutions with --meeting "
                f"{value.meeting}."
            )
        case _:
            out.print(value)


def member_table(view: MemberList) -> Table:
    known = f", as recorded by {view.known_at.isoformat()}" if view.known_at else ""
    table = Table(title=f"{view.community_name}: members on {view.as_of}{known}")
    for column in ("code", "name", "type", "province", "role", "since"):
        table.add_column(column)
    for m in view.members:
        table.add_row(m.code, m.name, m.type, m.province_name, m.role, str(m.since))
    table.caption = f"{len(view.members)} members"
    return table


def unit_table(view: UnitView) -> Table:
    level = f" ({view.level})" if view.level else ""
    status = f", deregistered {view.deregistered_on}" if view.deregistered_on else ""
    table = Table(
        title=f"{view.name} · {view.code} · {view.type}{level} · "
        f"{view.province_name} {view.division}{status}",
        caption=f"id {view.id}",
    )
    for column in ("community", "role", "from", "to", "exit reason", "resolutions"):
        table.add_column(column)
    for p in view.memberships:
        resolutions = " / ".join(r for r in (p.admitted_by, p.exited_by) if r)
        table.add_row(
            p.community_name,
            p.role,
            str(p.admitted_on),
            str(p.exited_on or ""),
            p.exit_reason or "",
            resolutions,
        )
    return table


def community_table(views: Sequence[CommunityView], title: str = "communities") -> Table:
    table = Table(title=title)
    for column in ("id", "name", "kind", "industry", "division", "founded", "members"):
        table.add_column(column)
    for c in views:
        name = c.name + (f" (dissolved {c.dissolved_on})" if c.dissolved_on else "")
        table.add_row(
            str(c.id), name, c.kind, c.industry, c.division, str(c.founded_on),
            str(c.active_members),
        )  # fmt: skip
    return table


def register_table(title: str, entries: Sequence[RegisterEntry]) -> Table:
    table = Table(title=f"{title}: resolution register")
    for column in ("number", "date", "matter", "title", "for/against/abstain", "outcome",
                   "revoked by"):  # fmt: skip
        table.add_column(column)
    for r in entries:
        tally = f"{r.votes_for}/{r.votes_against}/{r.abstentions}"
        if r.recused:
            tally += f" ({r.recused} recused)"
        outcome = r.reason if r.outcome == "rejected" else "adopted"
        if r.revokes:
            outcome += f", revokes {r.revokes}"
        table.add_row(
            r.number or "—", str(r.held_on), r.matter, r.title, tally, outcome,
            r.revoked_by or "",
        )  # fmt: skip
    return table


def seat_table(view: SeatList) -> Table:
    table = Table(title=f"{view.community_name}: council seats on {view.as_of}")
    for column in ("office", "representative", "unit", "code", "since"):
        table.add_column(column)
    for seat in view.seats:
        table.add_row(
            seat.office.replace("_", "-"), seat.representative, seat.unit_name, seat.code,
            str(seat.since),
        )  # fmt: skip
    table.caption = f"{len(view.seats)} seats"
    return table


def charter_table(view: CharterView) -> Table:
    if view.version is None:
        title = f"{view.community_name}: founding-phase rules (no charter adopted) on {view.as_of}"
    else:
        by = f", adopted by {view.adopted_by}" if view.adopted_by else ""
        title = (
            f"{view.community_name}: charter {view.version} in force since "
            f"{view.effective_on}{by}"
        )
    table = Table(title=title)
    table.add_column("rule")
    table.add_column("value")
    table.add_row("quorum", f"{view.quorum} of all seats present")
    for matter, majority in view.majorities.items():
        words = "more than half" if majority.threshold == "more_than_half" else "two-thirds"
        table.add_row(f"majority: {matter}", f"{words} of {majority.base}")
    table.add_row("admission needs a resolution", "yes" if view.admission_requires_resolution else "no")
    table.add_row("removal needs a resolution", "yes" if view.removal_requires_resolution else "no")
    return table
