"""The server signs checkpoints by itself while the log grows (CHANJIAO_CHECKPOINT_EVERY)."""

from __future__ import annotations

import logging
import time

import pytest
from starlette.testclient import TestClient

from adapters.settings import Settings
from api import checkpointing
from api.app import create_app
from domain.errors import ConfigurationError
from tests.factories import credit_code


def register(ledger, serial: int) -> None:
    ledger.register_unit(
        code=credit_code(serial),
        name=f"单位{serial}",
        unit_type="enterprise",
        division="320506",
        principal="p",
    )


def wait_for(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_the_server_signs_a_checkpoint_whenever_the_log_has_grown(ledger):
    register(ledger, 1)
    with TestClient(create_app(ledger, checkpoint_every=0.1)):
        wait_for(lambda: [c.size for c in ledger.checkpoints()] == [1])
        register(ledger, 2)
        wait_for(lambda: [c.size for c in ledger.checkpoints()] == [1, 2])
        time.sleep(0.3)  # a log that has not grown gets no new checkpoint
        assert [c.size for c in ledger.checkpoints()] == [1, 2]
    assert ledger.verify().ok


def test_nothing_is_signed_for_an_empty_log_or_one_already_covered(ledger):
    assert checkpointing.checkpoint_if_grown(ledger) is None
    register(ledger, 1)
    assert checkpointing.checkpoint_if_grown(ledger).size == 1
    assert checkpointing.checkpoint_if_grown(ledger) is None


def test_a_log_that_no_longer_verifies_is_logged_and_never_signed(ledger, caplog):
    register(ledger, 1)
    with ledger.factory.datastore.transaction(commit=True) as cursor:
        cursor.execute(f"DELETE FROM {ledger.chain.table}")
    with (
        caplog.at_level(logging.ERROR, "chanjiao.audit"),
        TestClient(create_app(ledger, checkpoint_every=0.05)),
    ):
        wait_for(lambda: "no checkpoint was signed" in caplog.text)
    assert ledger.checkpoints() == []


@pytest.mark.parametrize("text", ["soon", "-5"])
def test_a_bad_interval_is_refused_in_the_users_terms(ledger, monkeypatch, text):
    monkeypatch.setenv("CHANJIAO_CHECKPOINT_EVERY", text)
    with pytest.raises(ConfigurationError, match="CHANJIAO_CHECKPOINT_EVERY"):
        create_app(ledger)
    monkeypatch.setenv("CHANJIAO_CHECKPOINT_EVERY", "0")
    assert Settings.from_environ().checkpoint_every == 0
