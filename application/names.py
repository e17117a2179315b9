"""Things named the way people name them: a unit, a body or an agreement may be given
by its id, a unit by its credit code, and each by its name or a part of it that only
it has. The names are found in a ``Directory`` (the read models keep one:
``projections.directory``); a ledger without one takes ids and codes only."""

from __future__ import annotations

import unicodedata
from typing import NamedTuple, Protocol
from uuid import UUID

from application.commands import as_uuid, unit_ref
from domain.errors import (
    AgreementNotFound,
    AmbiguousName,
    CommunityNotFound,
    NotFound,
    UnitNotFound,
)

SHOWN = 8
"""Candidates listed when a name is ambiguous; the rest are counted."""


class Named(NamedTuple):
    id: UUID
    name: str
    detail: str
    """What tells two of the same name apart: a unit's credit code, a body's founding
    date, an agreement's body."""


class Directory(Protocol):
    """Everything whose name contains a text (``normal`` forms compared)."""

    def units(self, text: str) -> list[Named]: ...

    def communities(self, text: str) -> list[Named]: ...

    def agreements(self, text: str) -> list[Named]: ...


def normal(text: str) -> str:
    """``text`` for comparing names: full-width forms as their ASCII (NFKC), case
    folded, without spaces of any width."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def written_as_id(ref: str) -> bool:
    """Whether ``ref`` is written as an id or a credit code rather than a name: 16 or
    more letters and digits of the Latin alphabet, and hyphens."""
    text = str(ref).strip()
    return len(text) >= 16 and text.isascii() and text.replace("-", "").isalnum()


def pick(found: list[Named], text: str, what: str, how: str, missing: type[NotFound]) -> UUID:
    """The one of ``found`` that ``text`` names: the only one whose whole name it is,
    else the only one whose name contains it. None or several is an error that says
    what was typed and, for several, lists them."""
    wanted = normal(text)
    whole = [n for n in found if normal(n.name) == wanted]
    candidates = whole or found
    if len(candidates) == 1:
        return candidates[0].id
    if not candidates:
        raise missing(f"no {what} is named {text.strip()!r} or has it in its name")
    listed = "; ".join(f"{n.name} ({n.detail})" for n in candidates[:SHOWN])
    more = f"; and {len(candidates) - SHOWN} more" if len(candidates) > SHOWN else ""
    raise AmbiguousName(
        f"{text.strip()!r} names {len(candidates)} {what}s: {listed}{more}; "
        f"type more of the name, or {how}"
    )


def unit_id(directory: Directory | None, ref: str | UUID) -> UUID:
    """The unit ``ref`` names: its id, its credit code, or its name (or a part of it)."""
    if isinstance(ref, UUID) or directory is None or written_as_id(ref):
        return unit_ref(ref)
    return pick(directory.units(ref), ref, "member unit", "give its credit code", UnitNotFound)


def community_id(directory: Directory | None, ref: str | UUID) -> UUID:
    """The body ``ref`` names: its id, or its name (or a part of it)."""
    if isinstance(ref, UUID) or directory is None or written_as_id(ref):
        return as_uuid(ref, "community id")
    return pick(
        directory.communities(ref),
        ref,
        "community",
        "give its id (chanjiao community list --wide)",
        CommunityNotFound,
    )


def agreement_id(directory: Directory | None, ref: str | UUID) -> UUID:
    """The agreement ``ref`` names: its id, or its title (or a part of it)."""
    if isinstance(ref, UUID) or directory is None or written_as_id(ref):
        return as_uuid(ref, "agreement id")
    return pick(
        directory.agreements(ref),
        ref,
        "agreement",
        "give its id (chanjiao agreement list --wide)",
        AgreementNotFound,
    )
