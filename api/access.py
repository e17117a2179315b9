"""Which role may do what (api.md, Access), as one table of route classes."""

from __future__ import annotations

from enum import Enum
from uuid import UUID

from api.tokens import Role, TokenInfo
from domain.errors import LedgerError


class Access(str, Enum):
    """What a route does, as far as permissions go."""

    UNITS_WRITE = "units_write"  # register member units
    UNITS_CHANGE = "units_change"  # rename, relocate, deregister: a unit of every body
    UNITS_READ = "units_read"
    RECORD = "record"  # write for one community: members, council, agreements
    READ = "read"  # read one community's (or, without one, every community's) records
    REPORT = "report"
    EVENTS = "events"
    HISTORY = "history"
    AUDIT = "audit"  # verification and export


ALLOWED: dict[Role, frozenset[Access]] = {
    Role.ADMIN: frozenset(Access),
    Role.SECRETARY: frozenset(
        {Access.UNITS_WRITE, Access.UNITS_READ, Access.RECORD, Access.READ, Access.REPORT}
    ),
    Role.AUDITOR: frozenset(
        {Access.UNITS_READ, Access.READ, Access.REPORT, Access.EVENTS, Access.HISTORY, Access.AUDIT}
    ),
    # Units too, so that the unit ids in events can be resolved (api.md, Additions).
    Role.INTEGRATOR: frozenset({Access.EVENTS, Access.REPORT, Access.UNITS_READ}),
}

SCOPED = frozenset({Access.RECORD, Access.READ, Access.REPORT})
"""A secretary's token reaches these only for the communities it names."""


class Forbidden(LedgerError):
    """A known token outside its rights (HTTP 403)."""


def check(
    token: TokenInfo, access: Access, community: UUID | None, *, narrowed: bool = False
) -> None:
    """``narrowed``: the route limits its answer to the token's communities itself,
    so a secretary may call it without naming one."""
    role = check_role(token, access)
    if role is Role.SECRETARY and access in SCOPED:
        if community is None and narrowed:
            return
        if community is None:
            raise Forbidden(
                "a secretary's token reaches only its own communities; name one of them"
            )
        if community not in token.communities:
            raise Forbidden(f"this secretary's token does not cover community {community}")


def check_role(token: TokenInfo, access: Access) -> Role:
    """The role's part of ``check``: needs nothing looked up, so it comes first (a
    token outside its rights gets 403 whether or not the thing asked for exists)."""
    role = Role(token.role)
    if access not in ALLOWED[role]:
        raise Forbidden(f"a {role.value}'s token may not {_WHAT[access]}")
    return role


_WHAT = {
    Access.UNITS_WRITE: "register member units",
    Access.UNITS_CHANGE: "change member units, which may belong to any community",
    Access.UNITS_READ: "read member units",
    Access.RECORD: "record anything",
    Access.READ: "read communities' records",
    Access.REPORT: "read reports",
    Access.EVENTS: "read the event stream",
    Access.HISTORY: "read aggregates' histories",
    Access.AUDIT: "verify or export the ledger",
}
