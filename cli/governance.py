"""``chanjiao charter …`` and ``chanjiao council …``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from bootstrap import Ledger
from cli.args import community_arg, effective_arg, known_at_arg, unit_arg
from domain.errors import InvalidInput
from projections import governance, register_model


def charter_adopt(ledger: Ledger, a: argparse.Namespace) -> Any:
    body = ledger.adopt_charter(
        a.community,
        version=a.version,
        effective_on=a.effective_on,
        resolution=a.resolution,
        quorum=a.quorum,
        majorities=dict(_pair(m) for m in a.majority),
        admission_requires_resolution=a.admission_requires_resolution,
        removal_requires_resolution=a.removal_requires_resolution,
        principal=a.principal,
    )
    return governance.charter(ledger, body.id, as_of=body.charters[-1].effective_on)


def charter_show(ledger: Ledger, a: argparse.Namespace) -> Any:
    return governance.charter(ledger, a.community, as_of=a.as_of)


def seat_assign(ledger: Ledger, a: argparse.Namespace) -> Any:
    ledger.assign_seat(
        a.community,
        a.unit,
        representative=a.representative,
        office=a.office,
        effective_on=a.effective_on,
        principal=a.principal,
    )
    return governance.seats(ledger, a.community, as_of=a.effective_on)


def seat_vacate(ledger: Ledger, a: argparse.Namespace) -> Any:
    ledger.vacate_seat(a.community, a.unit, effective_on=a.effective_on, principal=a.principal)
    return governance.seats(ledger, a.community, as_of=a.effective_on)


def seat_list(ledger: Ledger, a: argparse.Namespace) -> Any:
    return governance.seats(ledger, a.community, as_of=a.as_of)


def meeting_record(ledger: Ledger, a: argparse.Namespace) -> Any:
    present = [u for item in a.present for u in item.split(",") if u.strip()]
    number = ledger.record_meeting(
        a.community, held_on=a.held_on, present=present, principal=a.principal
    )
    return governance.MeetingRecorded(str(a.community), number, a.held_on, len(present))


def resolution_record(ledger: Ledger, a: argparse.Namespace) -> Any:
    recused = [u for item in a.recused for u in item.split(",") if u.strip()]
    resolution = ledger.record_resolution(
        a.community,
        meeting=a.meeting,
        matter=a.matter,
        title=a.title,
        votes_for=a.votes_for,
        votes_against=a.votes_against,
        abstentions=a.abstain,
        recused=recused,
        revokes=a.revokes,
        principal=a.principal,
    )
    return governance.entry(resolution)


def resolution_list(ledger: Ledger, a: argparse.Namespace) -> Any:
    return register_model.register(a.store, a.community, known_at=a.known_at)


def _pair(text: str) -> tuple[str, str]:
    matter, sep, rule = text.partition("=")
    if not sep:
        raise InvalidInput(f"--majority takes MATTER=BASE:THRESHOLD, got {text!r}")
    return matter, rule


def add_commands(group: Callable[..., Any], leaf: Callable[..., argparse.ArgumentParser]) -> None:
    charters = group("charter", "a body's charter: quorum, majorities, what needs a resolution")
    p = leaf(charters, "adopt", charter_adopt, "record a charter (rules not given are kept)")
    community_arg(p)
    p.add_argument("--version", required=True, help="the charter's version, e.g. 2.0")
    p.add_argument(
        "--resolution",
        help="register number of the charter resolution (absent only for the founding charter)",
    )
    p.add_argument(
        "--effective-on",
        metavar="YYYY-MM-DD",
        help="default: the adopting resolution's meeting date",
    )
    p.add_argument("--quorum", metavar="SHARE", help="share of all seats present, e.g. 2/3")
    p.add_argument(
        "--majority",
        action="append",
        default=[],
        metavar="MATTER=BASE:THRESHOLD",
        help="e.g. removal=seats:two_thirds; bases cast, present, seats; thresholds "
        "more_than_half, two_thirds; repeatable",
    )
    for what in ("admission", "removal"):
        p.add_argument(
            f"--{what}-requires-resolution",
            dest=f"{what}_requires_resolution",
            action=argparse.BooleanOptionalAction,
            default=None,
            help=f"whether {what}s need an adopted {what} resolution",
        )
    p = leaf(charters, "show", charter_show, "the charter in force on a date")
    community_arg(p)
    p.add_argument("--as-of", metavar="YYYY-MM-DD")

    councils = group("council", "seats, meetings and the resolution register")
    actions = councils.add_parser("seat", help="council seats").add_subparsers(metavar="ACTION")
    p = leaf(actions, "assign", seat_assign, "give a member unit a seat")
    community_arg(p)
    unit_arg(p)
    p.add_argument("--representative", required=True, help="the person holding the seat")
    p.add_argument(
        "--office",
        default="director",
        help="chair, vice_chair, secretary_general, executive_director or director (default)",
    )
    effective_arg(p)
    p = leaf(actions, "vacate", seat_vacate, "record that a seat was vacated")
    community_arg(p)
    unit_arg(p)
    effective_arg(p)
    p = leaf(actions, "list", seat_list, "the seats held on a date")
    community_arg(p)
    p.add_argument("--as-of", metavar="YYYY-MM-DD")

    actions = councils.add_parser("meeting", help="council meetings").add_subparsers(
        metavar="ACTION"
    )
    p = leaf(actions, "record", meeting_record, "record a meeting and who was present")
    community_arg(p)
    p.add_argument("--held-on", required=True, metavar="YYYY-MM-DD")
    p.add_argument(
        "--present",
        nargs="+",
        required=True,
        metavar="UNIT",
        help="the seat holders present (ids or credit codes)",
    )

    actions = councils.add_parser("resolution", help="the resolution register").add_subparsers(
        metavar="ACTION"
    )
    p = leaf(
        actions,
        "record",
        resolution_record,
        "record a motion and its tally; the ledger decides the outcome",
    )
    community_arg(p)
    p.add_argument("--meeting", required=True, type=int, help="the meeting's number")
    p.add_argument(
        "--matter",
        required=True,
        help="ordinary, admission, removal, charter, dissolution, resources or agreement",
    )
    p.add_argument("--title", required=True)
    p.add_argument("--for", dest="votes_for", required=True, type=int)
    p.add_argument("--against", dest="votes_against", required=True, type=int)
    p.add_argument("--abstain", required=True, type=int)
    p.add_argument("--recused", nargs="*", default=[], metavar="UNIT")
    p.add_argument("--revokes", metavar="NUMBER", help="an earlier resolution it revokes")
    p = leaf(actions, "list", resolution_list, "the register, in order")
    community_arg(p)
    known_at_arg(p)
