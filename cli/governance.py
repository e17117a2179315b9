"""``chanjiao charter …`` and ``chanjiao council …``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from application import messages as m
from bootstrap import Ledger
from cli.args import community_arg, known_at_arg
from cli.commands import add_command
from cli.spreadsheet import spreadsheet_arg
from projections import governance, register_model


def charter_show(ledger: Ledger, a: argparse.Namespace) -> Any:
    return governance.charter(ledger, a.community, as_of=a.as_of)


def seat_list(ledger: Ledger, a: argparse.Namespace) -> Any:
    return governance.seats(ledger, a.community, as_of=a.as_of)


def meeting(ledger: Ledger, store: Any, cmd: m.RecordMeeting, number: int) -> Any:
    """The command line's own answer to a meeting (the API's is ``MeetingAnswer``)."""
    return governance.MeetingRecorded(cmd.community_id, number, cmd.held_on, len(cmd.present))


def meeting_list(ledger: Ledger, a: argparse.Namespace) -> Any:
    return governance.meetings(ledger, a.community)


def resolution_list(ledger: Ledger, a: argparse.Namespace) -> Any:
    return register_model.register(a.store, a.community, known_at=a.known_at)


def add_commands(group: Callable[..., Any], leaf: Callable[..., argparse.ArgumentParser]) -> None:
    charters = group("charter", "a body's charter: quorum, majorities, what needs a resolution")
    add_command(leaf, charters, "adopt", m.AdoptCharter)
    p = leaf(charters, "show", charter_show, "the charter in force on a date")
    community_arg(p)
    p.add_argument("--as-of", metavar="YYYY-MM-DD")

    councils = group("council", "seats, meetings and the resolution register")
    actions = councils.add_parser("seat", help="council seats").add_subparsers(metavar="ACTION")
    add_command(leaf, actions, "assign", m.AssignSeat)
    add_command(leaf, actions, "vacate", m.VacateSeat)
    add_command(leaf, actions, "annul", m.AnnulSeatRecord)
    p = spreadsheet_arg(leaf(actions, "list", seat_list, "the seats held on a date", csv=True))
    community_arg(p)
    p.add_argument("--as-of", metavar="YYYY-MM-DD")

    actions = councils.add_parser("meeting", help="council meetings").add_subparsers(
        metavar="ACTION"
    )
    add_command(leaf, actions, "record", m.RecordMeeting, answer=meeting)
    add_command(leaf, actions, "annul", m.AnnulMeeting)
    p = leaf(
        actions, "list", meeting_list, "the meetings, numbered as resolutions name them", csv=True
    )
    community_arg(spreadsheet_arg(p))

    actions = councils.add_parser("resolution", help="the resolution register").add_subparsers(
        metavar="ACTION"
    )
    add_command(leaf, actions, "record", m.RecordResolution)
    p = spreadsheet_arg(leaf(actions, "list", resolution_list, "the register, in order", csv=True))
    community_arg(p)
    known_at_arg(p)
