"""``chanjiao token issue|list|revoke`` and ``chanjiao serve``'s refusal."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from api.tokens import digest


def test_issue_prints_the_token_alone_on_stdout_and_keeps_only_its_digest(run, database_url):
    code, out, err = run("token", "issue", "--role", "auditor", "--name", "审计处 王")
    assert code == 0, err
    token = out.strip()
    assert token.startswith("cj_") and "\n" not in token
    assert "shown only this once" in err
    code, listing, _ = run("token", "list", "--format", "json")
    rows = json.loads(listing)
    assert [(r["name"], r["role"], r["revoked_at"]) for r in rows] == [
        ("审计处 王", "auditor", None)
    ]
    assert token not in listing
    import sqlite3  # the digest, never the token, is in the database (SQLite case)

    if database_url.startswith("sqlite"):
        with sqlite3.connect(database_url.removeprefix("sqlite:///")) as db:
            stored = db.execute("SELECT digest FROM api_tokens").fetchall()
        assert stored == [(digest(token),)]


def test_a_secretarys_token_must_name_existing_communities(run):
    code, _, err = run("token", "issue", "--role", "secretary", "--name", "li")
    assert code == 2 and "--community" in err
    code, _, err = run(
        "token",
        "issue",
        "--role",
        "secretary",
        "--name",
        "li",
        "--community",
        "3f1c2d4e-0000-4000-8000-000000000000",
    )
    assert code == 3 and "has been founded" in err
    code, _, err = run("token", "issue", "--role", "root", "--name", "li")
    assert code == 2 and "role" in err


def test_revoking_marks_the_token_and_a_second_revocation_is_refused(run):
    run("token", "issue", "--role", "integrator", "--name", "erp")
    token_id = json.loads(run("token", "list", "--format", "json")[1])[0]["id"]
    code, out, err = run("token", "revoke", token_id, "--format", "json")
    assert code == 0, err
    assert json.loads(out)["revoked_at"] is not None
    code, _, err = run("token", "revoke", token_id)
    assert code == 2 and "already revoked" in err
    code, _, err = run("token", "revoke", "deadbeef")
    assert code == 3 and "no token" in err


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::"])
def test_serve_refuses_other_machines_while_no_token_is_issued(run, host):
    code, _, err = run("serve", "--host", host, "--port", "1")
    assert code == 2
    assert "chanjiao token issue --role admin" in err


def test_the_cli_issues_tokens_that_expire_by_default(run):
    code, _, err = run("token", "issue", "--role", "auditor", "--name", "审计")
    assert code == 0 and "valid until" in err
    listed = json.loads(run("token", "list", "--format", "json")[1])
    expires = datetime.fromisoformat(listed[0]["expires_at"])
    assert timedelta(days=364) < expires - datetime.now(UTC) <= timedelta(days=365)
    code, _, err = run("token", "issue", "--role", "auditor", "--name", "长期", "--expires-in", "0")
    assert code == 0 and "valid until revoked" in err


def test_a_secretarys_token_names_its_communities_by_name_or_id(run):
    code, out, err = run(
        *("community", "found", "--name", "苏州工业园区市域产教联合体", "--kind", "city"),
        *("--industry", "智能制造", "--division", "320506", "--founded-on", "2024-01-01"),
        *("--format", "json"),
    )
    assert code == 0, err
    body = json.loads(out)["id"]
    code, _, err = run(
        "token", "issue", "--role", "secretary", "--name", "秘书处", "--community", "园区"
    )
    assert code == 0, err
    code, listing, _ = run("token", "list", "--format", "json")
    assert json.loads(listing)[0]["communities"] == [body]
    code, _, err = run(
        "token", "issue", "--role", "secretary", "--name", "x", "--community", "没有"
    )
    assert code == 3 and "没有" in err
