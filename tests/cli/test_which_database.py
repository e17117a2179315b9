"""The database is the one the user meant: a malformed URL is refused saying what to
write, a command that only reads never starts a new empty ledger, a server that cannot
be reached answers at once with the cause, and ``--version`` says what is installed."""

from __future__ import annotations

import importlib.metadata
import json
import time

import psycopg
import pytest

from adapters.settings import EVENTS_TABLE
from bootstrap import Ledger
from cli.main import main
from tests.factories import credit_code

REGISTER = ["unit", "register", "--code", credit_code(1), "--name", "苏州工业职业技术学院"]
REGISTER += ["--type", "vocational_school", "--level", "higher", "--division", "320500"]


def chanjiao(capsys, *args: str) -> tuple[int, str, str]:
    code = main([*args, "--principal", "secretary:li"])
    out, err = capsys.readouterr()
    return code, out, err


def test_version_names_the_installed_package(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"chanjiao {importlib.metadata.version('chanjiao')}"


def test_reading_where_there_is_no_ledger_is_refused_and_creates_nothing(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CHANJIAO_DATABASE_URL", raising=False)
    for command in (["community", "list"], ["member", "list", "x"], ["audit", "verify"]):
        code, out, err = chanjiao(capsys, *command)
        assert (code, out) == (3, ""), command
        assert err.startswith("chanjiao: no ledger at chanjiao.db: run `chanjiao demo`"), err
        assert "pass --db" in err
    assert list(tmp_path.iterdir()) == []

    # Recording starts the ledger; then reading finds it.
    assert chanjiao(capsys, *REGISTER)[0] == 0
    code, out, _ = chanjiao(capsys, "community", "list", "--format", "json")
    assert (code, json.loads(out)) == (0, [])
    assert [p.name for p in tmp_path.iterdir()] == ["chanjiao.db"]


def test_the_database_may_be_named_before_the_command_too(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    assert chanjiao(capsys, "--db", url, *REGISTER)[0] == 0
    code, out, _ = chanjiao(capsys, "--db", url, "unit", "show", credit_code(1), "--format", "json")
    assert code == 0 and json.loads(out)["name"] == "苏州工业职业技术学院"
    # After the command, --db wins, as the command's own option.
    code, _, err = chanjiao(
        capsys, "--db", url, "community", "list", "--db", f"sqlite:///{tmp_path / 'other.db'}"
    )
    assert code == 3 and "no ledger at" in err


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:ledger.db", "needs three slashes before a file name: write sqlite:///ledger.db"),
        ("ledger.db", "is not understood (for that file, write sqlite:///ledger.db)"),
        ("mysql://root@localhost/x", "is not understood: use sqlite:///FILE"),
        ("postgresql://postgres@127.0.0.1:abc/test", "has a port that is not a number"),
        ("postgresql://postgres@127.0.0.1:5432", "names no database after the host"),
        ("postgresql://127.0.0.1/test?sslmode=require", "an option the ledger does not know"),
        ("postgresql://127.0.0.1/test?connect_timeout=soon", "connect_timeout must be a whole"),
        ("postgresql://[::1/test", "is not a URL"),
    ],
)
def test_a_malformed_url_is_refused_saying_what_to_write(
    tmp_path, monkeypatch, capsys, url, message
):
    monkeypatch.chdir(tmp_path)
    code, out, err = chanjiao(capsys, "community", "list", "--db", url)
    assert (code, out) == (2, "")
    assert message in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_a_password_is_never_echoed(capsys):
    code, _, err = chanjiao(capsys, "community", "list", "--db", "postgresql://u:s3cret@h:x/db")
    assert code == 2 and "s3cret" not in err and "u:***@h:x" in err


def test_a_server_that_refuses_is_reported_at_once_with_the_cause(capsys):
    started = time.monotonic()
    code, out, err = chanjiao(
        capsys, "community", "list", "--db", "postgresql://postgres@127.0.0.1:1/test"
    )
    assert (code, out) == (5, "")
    assert time.monotonic() - started < 3  # the library's pool would wait its 10 s
    assert "Connection refused" in err and "port 1" in err


def test_a_missing_postgresql_database_is_named(postgres_server, capsys):
    missing = postgres_server.rsplit("/", 1)[0] + "/chanjiao_no_such_database"
    code, _, err = chanjiao(capsys, *REGISTER, "--db", missing)
    assert code == 5 and 'database "chanjiao_no_such_database" does not exist' in err


def test_an_empty_postgresql_schema_is_not_made_a_ledger_by_reading(postgres_url, capsys):
    code, out, err = chanjiao(capsys, "community", "list", "--db", postgres_url)
    schema = postgres_url.rsplit("schema=", 1)[1]
    assert (code, out) == (3, "")
    assert f"no ledger in the database test, schema {schema}, on 127.0.0.1:5432" in err
    with psycopg.connect(postgres_url.split("?")[0]) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s", [schema]
        ).fetchone()
    assert tables == (0,)
    assert chanjiao(capsys, *REGISTER, "--db", postgres_url)[0] == 0
    code, out, _ = chanjiao(capsys, "community", "list", "--db", postgres_url, "--format", "json")
    assert (code, json.loads(out)) == (0, [])


def test_the_events_table_checked_is_the_one_the_library_makes(postgres_url):
    with Ledger(postgres_url) as ledger:
        assert ledger.recorder.events_table_name == EVENTS_TABLE
