"""Output for people (rich tables) and for scripts (JSON)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import msgspec
from rich.console import Console
from rich.table import Table

from domain.codec import to_json
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
