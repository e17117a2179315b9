"""``chanjiao``: the council secretary's command line.

Each subcommand parses its arguments, calls the ledger and renders the answer; a
write command's subcommand is made from the command's Struct (``cli.commands``).
Errors are one line on stderr and a non-zero exit code:
2 invalid input, 3 not found, 4 conflict with what is recorded, 5 store unavailable,
6 stored events were changed behind the ledger's back (`audit verify` names them; a command,
proof, export or rebuild that would rely on one refuses), 7 `audit verify-bundle` without
`--key-id` found the bundle consistent only with the key it carries.
"""

from __future__ import annotations

import argparse
import getpass
import importlib.metadata
import sys
from collections.abc import Callable, Sequence
from typing import Any

from eventsourcing.persistence import PersistenceError

from adapters.settings import DEFAULT_DATABASE_URL, check_database, redacted
from api.tokens import Tokens
from application import messages as m
from bootstrap import Ledger, read_settings
from cli import (
    agreements,
    annual,
    audit,
    governance,
    history,
    projections,
    relay,
    serve,
    webhook,
)
from cli.args import community_arg, from_file, known_at_arg, unit_arg
from cli.commands import add_command
from cli.render import emit
from cli.spreadsheet import spreadsheet_arg
from cli.titles import in_chinese
from domain.errors import (
    ConfigurationError,
    Conflict,
    InvalidInput,
    LedgerError,
    NotFound,
    TamperedRecord,
)
from projections import directory, leads, membership, membership_model
from projections.read_models import open_store

Handler = Callable[[Ledger, argparse.Namespace], Any]


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not hasattr(args, "run"):
        parser().print_help(sys.stderr)
        return 2
    url = args.db or args.root_db
    try:
        args.settings = read_settings()
        url = url or args.settings.database_url
        args.principal = args.principal or args.settings.principal or f"cli:{_user()}"
        if getattr(args, "offline", False):  # needs no database (audit verify-bundle)
            result = args.run(None, args)
            if result is not None:
                emit(result, args.format)
            return getattr(args, "exit_code", 0)
        check_database(url, may_create=args.creates)
        ledger = Ledger(url, settings=args.settings)
        try:
            args.store = open_store(ledger)
            result = args.run(ledger, args)
        finally:
            ledger.close()
    except InvalidInput as e:
        return _fail(e, 2)
    except NotFound as e:
        return _fail(e, 3)
    except TamperedRecord as e:
        return _fail(e, 6)
    except Conflict as e:
        return _fail(e, 4)
    except (ConfigurationError, LedgerError) as e:
        return _fail(e, 2)
    except (PersistenceError, OSError) as e:
        target = redacted(url or DEFAULT_DATABASE_URL)
        return _fail(f"cannot use the database {target}: {e}".strip(), 5)
    if result is not None:
        emit(result, args.format, wide=getattr(args, "wide", False))
    return getattr(args, "exit_code", 0)


def _fail(error: object, code: int) -> int:
    print(f"chanjiao: {error}", file=sys.stderr)
    return code


# --- handlers: one ledger call each -----------------------------------------------


def unit_show(ledger: Ledger, a: argparse.Namespace) -> Any:
    return _unit_view(ledger, a, a.unit)


def _unit_view(ledger: Ledger, a: argparse.Namespace, ref: Any) -> Any:
    unit = ledger.unit(ref)
    periods = membership_model.unit_memberships(a.store, unit.id)
    return membership.unit_view(ledger, unit.id, periods)


def unit_list(ledger: Ledger, a: argparse.Namespace) -> Any:
    return directory.unit_list(a.store, a.search, a.limit)


def community_show(ledger: Ledger, a: argparse.Namespace) -> Any:
    return leads.community_detail(a.store, a.community, as_of=a.as_of)


def community_list(ledger: Ledger, a: argparse.Namespace) -> Any:
    return membership.communities(ledger)


def member_list(ledger: Ledger, a: argparse.Namespace) -> Any:
    return membership_model.members(a.store, a.community, as_of=a.as_of, known_at=a.known_at)


def demo(ledger: Ledger, a: argparse.Namespace) -> Any:
    from cli.demo import load_demo

    load_demo(ledger, a.format)
    issued = Tokens(a.store).issue(role="admin", name="demo", issued_by=a.principal)
    print(
        "\nStart the server with `chanjiao serve`, then open the console in a browser at\n"
        "  http://127.0.0.1:8000/\n"
        f"and sign in with this token: {issued.token}\n"
        "\nTo try the HTTP API, with the server running, in another terminal:\n"
        f"  export TOKEN={issued.token}\n"
        '  curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8000/communities\n'
        '  curl -N -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8000/events/stream\n'
        f"(an admin token, id {issued.info.id}; revoke it with "
        f"`chanjiao token revoke {issued.info.id}`)"
    )
    return None


# --- the parser -------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    def common(formats: tuple[str, ...]) -> argparse.ArgumentParser:
        options = argparse.ArgumentParser(add_help=False)
        options.add_argument(
            "--db",
            metavar="URL",
            help="sqlite:///FILE (default sqlite:///chanjiao.db) or postgresql://USER@HOST/DB; "
            "default from CHANJIAO_DATABASE_URL",
        )
        options.add_argument("--format", choices=formats, default="table")
        options.add_argument(
            "--principal",
            metavar="NAME",
            help="who is recording (default from CHANJIAO_PRINCIPAL, else cli:<login>)",
        )
        return options

    plain, tabular = common(("table", "json")), common(("table", "json", "csv"))

    root = argparse.ArgumentParser(
        prog="chanjiao",
        description="产教融合共同体成员与治理账本 · Membership and governance ledger for "
        "industry–education communities.",
    )
    root.add_argument("--version", action="version", version=f"chanjiao {_version()}")
    # Also before the command (``chanjiao --db URL community list``); a subcommand's own
    # default would overwrite the same destination, hence a second one.
    root.add_argument("--db", dest="root_db", metavar="URL", help=argparse.SUPPRESS)
    groups = root.add_subparsers(title="commands", metavar="COMMAND")

    def group(name: str, help_: str) -> argparse._SubParsersAction:
        return groups.add_parser(name, help=help_).add_subparsers(metavar="ACTION")

    def leaf(
        parent: Any, name: str, run: Handler, help_: str, *, csv: bool = False
    ) -> argparse.ArgumentParser:
        """A command; it only reads (``creates``, False) unless it says otherwise: a
        command that only reads refuses to start a new, empty ledger."""
        p = parent.add_parser(name, help=help_, parents=[tabular if csv else plain])
        p.set_defaults(run=run, creates=False)
        return p

    units = group("unit", "register and maintain member units")
    add_command(leaf, units, "register", m.RegisterUnit)
    add_command(leaf, units, "rename", m.RenameUnit)
    add_command(leaf, units, "relocate", m.RelocateUnit)
    add_command(leaf, units, "correct", m.CorrectRegistration)
    add_command(leaf, units, "deregister", m.DeregisterUnit)
    p = add_command(leaf, units, "qualify", m.QualifyUnit)
    p.add_argument("--file", metavar="FILE", help="the list or notice: its SHA-256 is kept")
    p.set_defaults(run=from_file(p.get_default("run"), "file", ("sha256",), required=False))
    add_command(leaf, units, "end-qualification", m.EndQualification)
    unit_arg(leaf(units, "show", unit_show, "a unit, its history and its memberships"))
    for name, help_ in (
        ("list", "the registered units by credit code; with TEXT, those it names"),
        ("search", "the units whose name (now or before) contains TEXT, or whose code starts so"),
    ):
        p = leaf(units, name, unit_list, help_, csv=True)
        p.add_argument("search", metavar="TEXT", nargs="?" if name == "list" else None)
        p.add_argument(
            "--limit", type=int, default=200, metavar="N", help="show at most N (default 200)"
        )
        spreadsheet_arg(p)

    bodies = group("community", "found and inspect communities")
    add_command(leaf, bodies, "found", m.FoundCommunity)
    p = leaf(bodies, "show", community_show, "one community; an industry body's leads")
    community_arg(p)
    p.add_argument("--as-of", metavar="YYYY-MM-DD", help="effective date (default: today)")
    add_command(leaf, bodies, "recommend", m.SetRecommendingProvince)
    p = leaf(bodies, "list", community_list, "every community", csv=True)
    p.add_argument("--wide", action="store_true", help="with each body's full id")
    spreadsheet_arg(p)
    add_command(leaf, bodies, "dissolve", m.DissolveCommunity)

    members = group("member", "admissions, exits and the member list")
    add_command(leaf, members, "admit", m.AdmitMember)
    add_command(leaf, members, "exit", m.ExitMember)
    add_command(leaf, members, "role", m.ChangeMemberRole)
    add_command(leaf, members, "annul", m.AnnulMemberRecord)
    p = leaf(members, "list", member_list, "members on a date, as recorded by a time", csv=True)
    community_arg(p)
    p.add_argument("--as-of", metavar="YYYY-MM-DD", help="effective date (default: today)")
    known_at_arg(p)
    spreadsheet_arg(p)

    governance.add_commands(group, leaf)
    annual.add_commands(group, leaf, groups, agreements.add_commands(group, leaf))
    projections.add_commands(group, leaf)
    serve.add_commands(group, leaf, groups)
    webhook.add_commands(group, leaf, relay.add_commands(group, leaf))
    audit.add_commands(group, leaf)
    history.add_commands(leaf, groups)
    p = leaf(groups, "demo", demo, "load a realistic sample ledger into the configured store")
    p.set_defaults(creates=True)
    in_chinese(root)
    return root


def _version() -> str:
    try:
        return importlib.metadata.version("chanjiao")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout not installed
        return "(not installed)"


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
