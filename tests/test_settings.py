"""The ``CHANJIAO_*`` settings: read once, into ``Settings``, when a command or the server
starts (README, Configuration)."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from adapters.settings import Settings
from api.app import create_app
from bootstrap import Ledger
from cli.main import main
from domain.errors import ConfigurationError
from tests.api.support import issue
from tests.factories import credit_code

EVERY_VARIABLE = {
    "CHANJIAO_DATABASE_URL": "postgresql://ledger@db.example.org/ledger",
    "CHANJIAO_PRINCIPAL": "secretary:wang",
    "CHANJIAO_EVENT_SOURCE": "/ledgers/suzhou",
    "CHANJIAO_PUBLIC_URL": "https://ledger.example.org",
    "CHANJIAO_SIGNING_KEY": "/etc/chanjiao/signing.key",
    "CHANJIAO_CHECKPOINT_EVERY": "600",
    "CHANJIAO_STREAM_SEND_TIMEOUT": "2.5",
    "CHANJIAO_TOKEN_CACHE": "0.5",
}


def test_nothing_set_gives_the_documented_defaults():
    settings = Settings.from_environ({"CHANJIAO_PUBLIC_URL": " ", "CHANJIAO_PRINCIPAL": ""})
    assert settings == Settings(
        database_url="sqlite:///chanjiao.db",
        principal=None,  # cli:<login name>
        event_source="/chanjiao",
        public_url=None,  # where `chanjiao serve` listens
        signing_key=Path("chanjiao-signing.key"),
        checkpoint_every=3600.0,
        stream_send_timeout=15.0,
        token_cache=5.0,
    )


def test_every_variable_is_read():
    assert Settings.from_environ(EVERY_VARIABLE) == Settings(
        database_url="postgresql://ledger@db.example.org/ledger",
        principal="secretary:wang",
        event_source="/ledgers/suzhou",
        public_url="https://ledger.example.org",
        signing_key=Path("/etc/chanjiao/signing.key"),
        checkpoint_every=600.0,
        stream_send_timeout=2.5,
        token_cache=0.5,
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CHANJIAO_CHECKPOINT_EVERY", "hourly", "a number of seconds, 0 or more"),
        ("CHANJIAO_CHECKPOINT_EVERY", "-5", "a number of seconds, 0 or more"),
        ("CHANJIAO_STREAM_SEND_TIMEOUT", "0", "a number of seconds, above 0"),
        ("CHANJIAO_STREAM_SEND_TIMEOUT", "inf", "a number of seconds, above 0"),
        ("CHANJIAO_TOKEN_CACHE", "-1", "a number of seconds, 0 or more (0: no cache)"),
        ("CHANJIAO_TOKEN_CACHE", "5s", "a number of seconds, 0 or more (0: no cache)"),
        ("CHANJIAO_TOKEN_CACHE", "nan", "a number of seconds, 0 or more (0: no cache)"),
        ("CHANJIAO_PUBLIC_URL", "ledger.example.org", "an absolute URL"),
    ],
)
def test_a_value_the_ledger_cannot_use_is_refused_naming_the_variable(name, value, message):
    with pytest.raises(ConfigurationError) as refused:
        Settings.from_environ({name: value})
    assert str(refused.value).startswith(f"{name} must be")
    assert message in str(refused.value) and repr(value) in str(refused.value)


def test_the_cli_reads_the_settings_when_it_runs(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    monkeypatch.setenv("CHANJIAO_DATABASE_URL", url)
    monkeypatch.setenv("CHANJIAO_PRINCIPAL", "secretary:wang")
    code = credit_code(1)
    args = ["unit", "register", "--code", code, "--name", "甲公司", "--type", "enterprise"]
    assert main([*args, "--division", "320506"]) == 0
    ledger = Ledger(url)
    try:
        first = next(iter(ledger.events.get(ledger.unit(code).id)))
        assert first.principal == "secretary:wang"
    finally:
        ledger.close()


def test_the_cli_refuses_a_bad_setting_in_one_line(monkeypatch, capsys):
    monkeypatch.setenv("CHANJIAO_STREAM_SEND_TIMEOUT", "soon")
    assert main(["community", "list", "--db", "memory://"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "chanjiao: CHANJIAO_STREAM_SEND_TIMEOUT must be a number of seconds, above 0; got 'soon'\n"
    )


def test_the_api_takes_its_settings_when_the_app_is_made(memory_ledger, monkeypatch):
    monkeypatch.setenv("CHANJIAO_EVENT_SOURCE", "/ledgers/suzhou")
    monkeypatch.setenv("CHANJIAO_PUBLIC_URL", "https://ledger.example.org/")
    memory_ledger.register_unit(
        code=credit_code(1), name="甲公司", unit_type="enterprise", division="320506", principal="p"
    )
    app = create_app(memory_ledger)
    with TestClient(app) as client:
        token = issue(app, "auditor").token
        events = client.get("/events", headers={"Authorization": f"Bearer {token}"}).json()
    assert [(e["source"], e["dataschema"]) for e in events] == [
        (
            "/ledgers/suzhou",
            "https://ledger.example.org/events/schemas/chanjiao.unit.registered.v1",
        )
    ]


def test_a_token_cache_of_zero_means_none():
    assert Settings.from_environ({"CHANJIAO_TOKEN_CACHE": "0"}).token_cache == 0.0
