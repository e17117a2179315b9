"""Each write command is defined once (application/messages.py): its route and its
subcommand are made from the same Struct and run it the same way."""

from __future__ import annotations

import argparse
from datetime import date

import msgspec
import pytest

from api.endpoint import request_body
from api.resources import ENDPOINTS
from application import messages as m
from cli.commands import fill
from cli.main import parser


def subcommands(p: argparse.ArgumentParser, help_: str | None = None):
    """(the subcommand's help, its parser), for every subcommand made from a command."""
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, child in action.choices.items():
                yield from subcommands(child, helps[name])
    if p.get_default("command") is not None:
        yield help_, p


ROUTES = {e.command: e for e in ENDPOINTS if e.command is not None}
CLI = {p.get_default("command"): (help_, p) for help_, p in subcommands(parser())}


def test_every_command_has_one_route_and_one_subcommand():
    routed = [e.command for e in ENDPOINTS if e.command is not None]
    assert len(routed) == len(set(routed))
    assert set(ROUTES) == set(CLI)
    assert set(ROUTES) == set(m.Command.__subclasses__())


@pytest.mark.parametrize("command", sorted(ROUTES, key=lambda c: c.__name__))
def test_a_route_decodes_the_body_and_its_path_into_the_command(command):
    endpoint = ROUTES[command]
    body = request_body(command)
    assert endpoint.body is body and body.__name__ == command.__name__
    in_path = {f.name for f in m.fields(command) if f.path}
    in_body = {f.name for f in msgspec.structs.fields(body)}
    assert in_path.isdisjoint(in_body)
    assert in_path | in_body == set(command.__struct_fields__)
    title, _, english = CLI[command][0].partition("：")  # the command line titles it in Chinese
    assert title and endpoint.summary == m.summary(command) == english


@pytest.mark.parametrize("command", sorted(CLI, key=lambda c: c.__name__))
def test_a_subcommands_help_is_the_fields_description(command):
    _, p = CLI[command]
    helps = {a.dest: a.help for a in p._actions}
    for field in m.fields(command):
        if field.description and not field.hints.get("help"):
            assert helps[field.name].replace("%%", "%").startswith(field.description)


def test_the_command_line_passes_the_words_typed_for_the_ledger_to_read():
    args = parser().parse_args(
        ["unit", "rename", "91320571MA1XXXXXXX", "--name", "新名", "--effective-on", "2025-13-01"]
    )
    assert fill(args.command, args) == m.RenameUnit(
        unit_id="91320571MA1XXXXXXX",
        name="新名",
        effective_on="2025-13-01",  # type: ignore[arg-type]
    )
    decoded = msgspec.json.decode(
        b'{"name": "x", "effective_on": "2025-07-01"}', type=request_body(m.RenameUnit)
    )
    assert decoded.effective_on == date(2025, 7, 1)


def test_the_command_lines_own_formats_fill_the_same_shapes_as_a_body():
    args = parser().parse_args(
        [
            *("council", "resolution", "record", "c-1", "--meeting", "2", "--matter", "removal"),
            *("--title", "t", "--for", "5", "--against", "1", "--abstain", "0"),
            *("--recused", "u-1,u-2", "u-3"),
        ]
    )
    command = fill(args.command, args)
    assert command.votes == m.Votes(for_=5, against=1, abstain=0)
    assert (command.meeting_id, command.recused, command.revokes) == (
        2,
        ["u-1", "u-2", "u-3"],
        None,
    )
    args = parser().parse_args(
        ["charter", "adopt", "c-1", "--version", "2.0", "--majority", "removal=seats:two_thirds"]
    )
    assert fill(args.command, args).rules == m.Rules(majorities={"removal": "seats:two_thirds"})
    args = parser().parse_args(
        ["agreement", "draft", "c-1", "--title", "t", "--party", "u-1:30%:2500"]
    )
    [party] = fill(args.command, args).parties
    assert (party.unit_id, party.cost_share_bp, party.benefit_share_bp) == ("u-1", "30%", "2500")
