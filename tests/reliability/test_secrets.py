"""Secrets (issue 8, scenario 6): tokens compared in constant time, never logged, never
stored in clear, expiring when told; the signing key never leaves its file; error
bodies leak no stack trace and no SQL."""

from __future__ import annotations

import base64
import hmac
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import freezegun
import httpx
import pytest
from eventsourcing.persistence import OperationalError
from starlette.testclient import TestClient

from adapters.signing import SigningKey
from api.tokens import TokenRequired, Tokens
from bootstrap import Ledger
from cli.main import main
from projections.read_models import open_store
from tests.api.support import PROBLEM, issue
from tests.reliability.server import ServerProcess, issue_token


def everything_stored(ledger: Ledger) -> str:
    """Every row of every table of the ledger's database, as text."""
    chain = ledger.chain
    with ledger.factory.datastore.transaction(commit=False) as cursor:
        if chain.postgres:
            schema = ledger.factory.datastore.schema or "public"
            cursor.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (schema,),
            )
            tables = [f"{schema}.{r['table_name']}" for r in cursor.fetchall()]
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            tables = [r["name"] for r in cursor.fetchall()]
        dump = []
        for table in tables:
            cursor.execute(f"SELECT * FROM {table}")
            for row in cursor.fetchall():
                dump.append(
                    " ".join(
                        bytes(v).decode("utf-8", "replace")
                        if isinstance(v, bytes | memoryview)
                        else str(v)
                        for v in dict(row).values()
                    )
                )
    assert len(tables) >= 5, tables
    return "\n".join(dump)


def test_tokens_are_checked_in_constant_time_against_their_digest(app, monkeypatch):
    tokens = app.state.service.tokens
    caller = issue(app, "admin")
    compared = []
    real = hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert tokens.check(caller.token).id == caller.id
    with pytest.raises(TokenRequired):
        tokens.check(caller.token[:-1] + ("A" if caller.token[-1] != "A" else "B"))
    assert len(compared) == 2 and all(len(a) == len(b) == 64 for a, b in compared)


def test_tokens_are_never_stored_or_logged_in_clear(database_url, tmp_path, capsys):
    token = issue_token(database_url)
    ledger = Ledger(database_url)
    server = ServerProcess(database_url, tmp_path / "server.log").start()
    try:
        good = {"Authorization": f"Bearer {token}"}
        wrong = {"Authorization": f"Bearer {token[:-3]}xyz"}
        for headers in (good, wrong):
            httpx.post(
                f"{server.url}/units",
                headers=headers,
                timeout=10,
                json={
                    "code": "91320506000000001K",
                    "name": "甲",
                    "type": "enterprise",
                    "division": "320506",
                },
            )
            httpx.get(f"{server.url}/communities", headers=headers, timeout=10)
        Tokens(open_store(ledger)).revoke(token.split("_")[1])
        httpx.get(f"{server.url}/communities", headers=good, timeout=10)
    finally:
        server.stop()
    secret = token.split("_", 2)[2]
    log = server.output()
    assert "/communities" in log and "401" in log  # the log is there, and says what happened
    assert secret not in log and token not in log
    stored = everything_stored(ledger)
    assert secret not in stored
    ledger.close()


def test_an_expired_token_is_refused_and_says_so(app, client):
    tokens = app.state.service.tokens
    issued = tokens.issue(role="admin", name="short", issued_by="t", valid_for=timedelta(days=1))
    headers = {"Authorization": f"Bearer {issued.token}"}
    assert client.get("/communities", headers=headers).status_code == 200
    with freezegun.freeze_time(datetime.now(UTC) + timedelta(days=1, seconds=1)):
        response = client.get("/communities", headers=headers)
    assert response.status_code == 401 and "expired" in response.json()["detail"]
    with pytest.raises(Exception, match="positive period"):
        tokens.issue(role="admin", name="x", issued_by="t", valid_for=timedelta(0))


def test_the_signing_key_never_leaves_its_file(ledger, tmp_path, capsys, caplog):
    ledger.register_unit(
        code="91320506000000001K",
        name="甲",
        unit_type="enterprise",
        division="320506",
        principal="p",
    )
    with caplog.at_level(logging.DEBUG):
        checkpoint = ledger.checkpoint()
        bundle = tmp_path / "b.jsonl"
        assert main(["audit", "export", str(bundle), "--db", ledger.url]) == 0
        assert main(["audit", "checkpoints", "--format", "json", "--db", ledger.url]) == 0
    key = SigningKey.load()
    private = key._private.private_bytes_raw()
    pem = Path(key.path).read_text()
    body = "".join(pem.splitlines()[1:-1])
    forms = {private.hex(), base64.b64encode(private).decode(), body}
    outside = "\n".join(
        [
            bundle.read_text(),
            capsys.readouterr().out,
            caplog.text,
            json.dumps(json_of(checkpoint)),
            everything_stored(ledger),
        ]
    )
    assert key.public.hex() in outside  # the public half is meant to travel
    for form in forms:
        assert form not in outside


def json_of(value):
    from adapters.codec import to_json

    return json.loads(to_json(value))


def test_error_bodies_leak_no_stack_trace_and_no_sql(world, monkeypatch):
    def crash(*args, **kwargs):
        raise RuntimeError('SELECT digest FROM api_tokens WHERE token_id = "x" -- internal')

    def unreachable(*args, **kwargs):
        raise OperationalError(
            'connection to server at "10.0.0.5", port 5432 failed: '
            "FATAL: password authentication failed; SELECT 1"
        )

    for failure, status in ((crash, 500), (unreachable, 503)):
        monkeypatch.setattr(type(world.api.ledger), "found_community", failure)
        # As a real server answers: the crash logged, not raised into the client.
        client = TestClient(world.api.app, raise_server_exceptions=False)
        response = client.post(
            "/communities",
            headers=world.admin.headers,
            json={
                "name": "某联合体",
                "kind": "city",
                "industry": "机械",
                "division": "320200",
                "founded_on": "2024-01-01",
            },
        )
        assert response.status_code == status
        assert response.headers["content-type"].split(";")[0] == PROBLEM
        text = response.text
        for leak in ("SELECT", "api_tokens", "Traceback", "10.0.0.5", "password", 'File "'):
            assert leak not in text, (status, leak, text)
        if status == 503:
            assert response.headers["retry-after"] == "1"
