"""A write command's subcommand, made from its Struct (``application.messages``): a
positional argument or an option per field, help from the field's description, default
from its default; the words typed fill the Struct, which runs on the ledger, and the
answer is the API's (``api.answers``)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from msgspec import inspect as mi

from api.answers import ANSWERS, Answer
from application.messages import Command, Field, Party, Shape, fields, summary
from bootstrap import Ledger
from domain.errors import InvalidInput, InvalidShares


def _units(text: str) -> list[str]:
    """Units may also be given comma-separated: ``--present A,B C``."""
    return [u for u in text.split(",") if u.strip()]


def _party(text: str) -> list[Party]:
    """``UNIT:COST:BENEFIT``, shares in basis points (2500) or percent (25%), read by the
    ledger as given."""
    parts = text.split(":")
    if len(parts) != 3:
        raise InvalidShares(
            f"--party takes UNIT:COST_SHARE:BENEFIT_SHARE, e.g. "
            f"91320571MA1XXXXXXX:3000:2500 or …:30%:25%; got {text!r}"
        )
    unit, cost, benefit = parts
    return [Party(unit_id=unit, cost_share_bp=cost, benefit_share_bp=benefit)]  # type: ignore[arg-type]


def _majority(text: str) -> list[tuple[str, str]]:
    matter, sep, rule = text.partition("=")
    if not sep:
        raise InvalidInput(f"--majority takes MATTER=BASE:THRESHOLD, got {text!r}")
    return [(matter, rule)]


READERS: dict[str, Callable[[str], list[Any]]] = {
    "units": _units,
    "party": _party,
    "majority": _majority,
}
"""The command line's own formats, by the name a field's ``parse`` hint gives."""


def add_command(
    leaf: Callable[..., argparse.ArgumentParser],
    parent: Any,
    name: str,
    command: type[Command],
    *,
    answer: Answer | None = None,
) -> argparse.ArgumentParser:
    """``name`` under ``parent``: fill ``command`` from the arguments, run it, answer as
    ``answer`` (default: as the API does)."""
    view = answer or ANSWERS[command]

    def run(ledger: Ledger, a: argparse.Namespace) -> Any:
        cmd = fill(command, a)
        return view(ledger, a.store, cmd, cmd.run(ledger, a.principal))

    p = leaf(parent, name, run, summary(command))
    p.set_defaults(command=command, creates=True)
    for field in fields(command):
        _add(p, field)
    return p


def _dest(field: Field, prefix: str) -> str:
    return f"{prefix}{field.name}"


def _add(p: argparse.ArgumentParser, field: Field, prefix: str = "") -> None:
    if isinstance(field.kind, mi.StructType):  # its parts become options of their own
        for part in fields(field.kind.cls):
            _add(p, part, f"{prefix}{field.name}.")
        return
    hints = field.hints
    help_ = hints.get("help") or field.description
    if isinstance(field.default, str) and field.default:
        help_ = f"{help_} (default: {field.default})" if help_ else f"default: {field.default}"
    kw: dict[str, Any] = {"help": help_.replace("%", "%%") if help_ else None}
    date = isinstance(field.kind, mi.DateType)
    kw["metavar"] = hints.get("metavar") or ("YYYY-MM-DD" if date else None)
    if isinstance(field.kind, mi.IntType):
        kw["type"] = int
    if hints.get("positional"):
        p.add_argument(_dest(field, prefix), **kw)
        return
    flag = hints.get("flag") or "--" + field.json_name.replace("_", "-")
    kw["metavar"] = kw["metavar"] or flag.lstrip("-").replace("-", "_").upper()
    if isinstance(field.kind, mi.BoolType):
        kw.pop("metavar")
        # a flag that is off unless given (--again); one with no default says yes or no
        off = field.default is False
        kw["action"] = "store_true" if off else argparse.BooleanOptionalAction
    many = hints.get("many")
    if many == "append":
        kw["action"] = "append"
    elif many:
        kw["nargs"] = many
    if field.required and hints.get("cli_optional"):
        kw["default"] = None  # the subcommand fills it, or refuses
    elif field.required:
        kw["required"] = True
    else:
        kw["default"] = field.default
    p.add_argument(flag, dest=_dest(field, prefix), **kw)


def fill(shape: type[Shape], a: argparse.Namespace, prefix: str = "") -> Any:
    """The Struct of the words typed, unconverted: the ledger reads them."""
    given: dict[str, Any] = {}
    for field in fields(shape):
        if isinstance(field.kind, mi.StructType):
            given[field.name] = fill(field.kind.cls, a, f"{prefix}{field.name}.")
            continue
        value = getattr(a, _dest(field, prefix))
        reader = READERS.get(field.hints.get("parse", ""))
        if reader is not None and value is not None:
            texts = value if isinstance(value, list) else [value]
            items = [item for text in texts for item in reader(text)]
            value = dict(items) if isinstance(field.kind, mi.DictType) else items
        given[field.name] = value
    return shape(**given)
