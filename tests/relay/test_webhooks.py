"""Webhooks (ADR 0031) against a local receiver that fails, times out and answers
slowly: each event is POSTed as a CloudEvent, signed so that the Standard Webhooks
reference library verifies it, at least once and in order per endpoint, retried with
backoff, then marked failed and redelivered on demand; one bad endpoint never delays
another; the state survives a restart."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.testclient import TestClient

from adapters.webhooks import WebhookTables, new_secret
from api.app import create_app
from api.describe import openapi
from api.resources import ENDPOINTS
from bootstrap import Ledger
from cli.main import main
from cli.serve import deliver_webhooks
from projections.read_models import open_store
from tests.api.streaming_support import Journal
from tests.relay.webhook_support import delivering, receiving
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
FAST = {"timeout": 0.5, "retry_for": 30.0, "backoff": 0.2, "poll": 0.1}


@pytest.fixture
def secret(tmp_path: Path) -> tuple[str, Path]:
    text = new_secret()
    path = tmp_path / "webhook.secret"
    path.write_text(text + "\n")
    path.chmod(0o600)
    return text, path


def add(database_url: str, url: str, secret_file: Path, *args: str, capsys=None) -> str:
    code = main(
        [
            *("webhook", "add", url, "--db", database_url),
            *("--secret-file", str(secret_file), "--format", "json", *args),
        ]
    )
    assert code == 0
    assert capsys is not None
    return json.loads(capsys.readouterr().out)["id"]


def deliveries(database_url: str, webhook: str, capsys, *args: str) -> list[dict]:
    assert (
        main(["webhook", "deliveries", webhook, "--db", database_url, "--format", "json", *args])
        == 0
    )
    return json.loads(capsys.readouterr().out)


def delivered(database_url: str, webhook: str, capsys) -> bool:
    rows = deliveries(database_url, webhook, capsys)
    return bool(rows) and rows[0]["status"] == "delivered"


def test_each_event_is_posted_once_in_order_signed_as_the_reference_library_checks(
    database_url: str, ledger: Ledger, secret: tuple[str, Path], capsys
) -> None:
    journal = Journal()
    journal.lifecycle(ledger, "hooks")
    with receiving() as receiver:
        webhook = add(database_url, receiver.url("all"), secret[1], "--after", "0", capsys=capsys)
        with delivering(database_url, **FAST):
            wait_until(lambda: len(receiver.delivered("all")) == len(journal.entries))
            units = [journal.unit(ledger, "live") for _ in range(3)]  # live, after the backlog
            wait_until(lambda: len(receiver.delivered("all")) == len(journal.entries))
            time.sleep(0.3)
    assert len(units) == 3
    assert receiver.ids("all") == journal.positions()  # once each, in order
    reference = Webhook(secret[0])
    documented = openapi(ENDPOINTS)["webhooks"]["event"]["post"]  # what integrators are told
    for r in receiver.delivered("all"):
        assert {p["name"] for p in documented["parameters"]} <= set(r.headers)
        assert r.headers["content-type"] == "application/cloudevents+json"
        data = reference.verify(r.body, r.headers)  # the spec's own library: raises if not
        assert data["position"] == int(r.headers["webhook-id"])
        event = JSONFormat().read(CloudEvent, r.body)
        assert event.get_type() == journal.entries[data["position"]].type
        assert abs(int(r.headers["webhook-timestamp"]) - time.time()) < 120
        tampered = r.body.replace(b'"position"', b'"Position"')
        with pytest.raises(WebhookVerificationError):
            reference.verify(tampered, r.headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(new_secret()).verify(r.body, r.headers)
    rows = deliveries(database_url, webhook, capsys, "--limit", "1000")
    assert {d["status"] for d in rows} == {"delivered"} and len(rows) == len(journal.entries)


def test_a_failing_endpoint_is_retried_with_backoff_and_never_delays_another(
    database_url: str, ledger: Ledger, secret: tuple[str, Path], capsys
) -> None:
    journal = Journal()
    for _ in range(5):
        journal.unit(ledger, "u")
    flaky = lambda n: (503, 0.0) if n <= 3 else (200, 0.0)  # noqa: E731
    with receiving(flaky=flaky) as receiver:
        a = add(database_url, receiver.url("flaky"), secret[1], "--after", "0", capsys=capsys)
        add(database_url, receiver.url("good"), secret[1], "--after", "0", capsys=capsys)
        started = time.monotonic()
        with delivering(database_url, **FAST):
            wait_until(lambda: len(receiver.delivered("good")) == 5, what="the good endpoint")
            good_done = time.monotonic() - started
            wait_until(lambda: len(receiver.delivered("flaky")) == 5, timeout=60)
    assert receiver.ids("good") == receiver.ids("flaky") == journal.positions()
    # The good endpoint was done before the flaky one's first event got through:
    first_ok = receiver.delivered("flaky")[0].at - started
    assert good_done < first_ok
    tries = sorted(
        r.at
        for r in receiver.received
        if r.path == "flaky" and r.headers["webhook-id"] == str(journal.positions()[0])
    )
    assert len(tries) == 4
    gaps = [b - a for a, b in itertools.pairwise(tries)]
    assert gaps[0] >= 0.2 * 0.8 and gaps[1] >= 0.4 * 0.8 and gaps[2] >= 0.8 * 0.8, gaps
    first = [
        d for d in deliveries(database_url, a, capsys) if d["position"] == journal.positions()[0]
    ]
    assert first[0]["attempts"] == 4 and first[0]["status"] == "delivered"


def test_a_dead_endpoint_is_given_up_then_redelivered_on_demand(
    database_url: str, ledger: Ledger, secret: tuple[str, Path], capsys
) -> None:
    journal = Journal()
    for _ in range(2):
        journal.unit(ledger, "u")
    state = {"dead": True}
    with receiving(dead=lambda n: (500 if state["dead"] else 200, 0.0)) as receiver:
        webhook = add(database_url, receiver.url("dead"), secret[1], "--after", "0", capsys=capsys)
        with delivering(database_url, **{**FAST, "retry_for": 0.6}):
            wait_until(
                lambda: len(deliveries(database_url, webhook, capsys, "--failed")) == 2,
                what="both marked failed",
            )
            failed = deliveries(database_url, webhook, capsys, "--failed")
            assert {d["last_result"] for d in failed} == {"500"}
            assert all(d["attempts"] >= 2 for d in failed)
            state["dead"] = False
            assert main(["webhook", "redeliver", webhook, "--failed", "--db", database_url]) == 0
            assert "2 deliveries" in capsys.readouterr().err
            wait_until(lambda: len(receiver.delivered("dead")) == 2, what="the redeliveries")
    assert receiver.ids("dead") == journal.positions()
    assert not deliveries(database_url, webhook, capsys, "--failed")


def test_a_timeout_is_a_failed_attempt_and_a_slow_answer_in_time_is_not(
    database_url: str, ledger: Ledger, secret: tuple[str, Path], capsys
) -> None:
    journal = Journal()
    journal.unit(ledger, "u")
    hangs_once = lambda n: (200, 2.0) if n == 1 else (200, 0.0)  # noqa: E731
    slow = lambda n: (200, 0.3)  # noqa: E731
    with receiving(hangs=hangs_once, slow=slow) as receiver:
        hangs = add(database_url, receiver.url("hangs"), secret[1], "--after", "0", capsys=capsys)
        slowly = add(database_url, receiver.url("slow"), secret[1], "--after", "0", capsys=capsys)
        with delivering(database_url, **FAST):
            # The receiver sees the slow POST before it answers; the relay marks it
            # delivered only once the answer is in, so wait on the relay's state.
            for webhook in (hangs, slowly):
                wait_until(lambda w=webhook: delivered(database_url, w, capsys))
        assert len(receiver.delivered("slow")) == 1
    (h,) = deliveries(database_url, hangs, capsys)
    assert h["attempts"] == 2
    (s,) = deliveries(database_url, slowly, capsys)
    assert (s["attempts"], s["status"]) == (1, "delivered")


def test_filters_and_from_now_on(
    database_url: str, ledger: Ledger, secret: tuple[str, Path], capsys
) -> None:
    journal = Journal()
    one = journal.community(ledger, "f", "苏州市域产教联合体")
    other = journal.community(ledger, "f", "无锡市域产教联合体")
    before = journal.unit(ledger, "f")
    journal.admit(ledger, one, before, "f")
    admitted = "chanjiao.community.member_admitted.v1"
    with receiving() as receiver:
        add(
            database_url,
            receiver.url("one"),
            secret[1],
            "--community",
            "苏州市域产教联合体",
            "--type",
            admitted,
            capsys=capsys,
        )  # from now on: the admission above is not sent
        with delivering(database_url, **FAST):
            codes = [journal.unit(ledger, "f") for _ in range(2)]
            for code in codes:
                journal.admit(ledger, one, code, "f")
                journal.admit(ledger, other, code, "f")
            wanted = [
                p
                for p, e in sorted(journal.entries.items())
                if e.type == admitted and e.subject == one
            ][1:]
            wait_until(lambda: receiver.ids("one") == wanted)
            time.sleep(0.5)
    assert receiver.ids("one") == wanted


def test_delivery_state_survives_a_sigkill(
    database_url: str, ledger: Ledger, secret: tuple[str, Path], tmp_path: Path, capsys
) -> None:
    """Killed while retrying: restarted, it goes on counting the attempts of the same
    delivery (its retry time is not reset) and sends nothing already delivered."""
    journal = Journal()
    for _ in range(3):
        journal.unit(ledger, "u")
    state = {"down": False}
    with receiving(ep=lambda n: (503 if state["down"] else 200, 0.0)) as receiver:
        webhook = add(database_url, receiver.url("ep"), secret[1], "--after", "0", capsys=capsys)
        env = {
            **os.environ,
            "CHANJIAO_WEBHOOK_BACKOFF": "0.2",
            "CHANJIAO_WEBHOOK_TIMEOUT": "1",
            "PYTHONPATH": str(ROOT),
        }
        command = [sys.executable, "-m", "cli.main", "relay", "webhooks", "--db", database_url]
        command += ["--poll", "0.1"]
        log = open(tmp_path / "relay.log", "ab")  # noqa: SIM115
        first = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        try:
            wait_until(lambda: len(receiver.delivered("ep")) == 3)
            state["down"] = True
            journal.unit(ledger, "while down")
            wait_until(
                lambda: any(d["attempts"] >= 2 for d in deliveries(database_url, webhook, capsys)),
                what="retries",
            )
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        (retrying,) = [
            d for d in deliveries(database_url, webhook, capsys) if d["status"] == "pending"
        ]
        state["down"] = False
        second = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        try:
            wait_until(lambda: len(receiver.delivered("ep")) == 4)
            time.sleep(0.5)
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(20) == 0
            log.close()
    assert receiver.ids("ep") == journal.positions()
    (done,) = [
        d
        for d in deliveries(database_url, webhook, capsys)
        if d["position"] == retrying["position"]
    ]
    assert done["status"] == "delivered" and done["attempts"] == retrying["attempts"] + 1
    assert done["first_attempt_at"] == retrying["first_attempt_at"]


def test_chanjiao_serve_delivers_webhooks_too(
    database_url: str, ledger: Ledger, secret: tuple[str, Path], capsys
) -> None:
    with receiving() as receiver:
        add(database_url, receiver.url("served"), secret[1], capsys=capsys)
        with TestClient(create_app(ledger, companions=[deliver_webhooks])):
            code = Journal().unit(ledger, "served")
            wait_until(lambda: len(receiver.delivered("served")) == 1)
    assert json.loads(receiver.delivered("served")[0].body)["data"]["code"] == code


@pytest.mark.parametrize(
    "args, words, exit_code",
    [
        (["ftp://example.org/x"], "http:// or https://", 2),
        (["http://127.0.0.1:9/x", "--type", "chanjiao.no.such.v1"], "unknown event type", 2),
        (["http://127.0.0.1:9/x", "--after", "99999"], "--after is a position", 2),
        (["http://127.0.0.1:9/x", "--community", "没有这个共同体"], "没有这个共同体", 3),
    ],
)
def test_bad_webhooks_are_refused_and_nothing_is_stored(
    database_url: str, ledger: Ledger, secret: tuple[str, Path], args, words, exit_code, capsys
) -> None:
    code = main(["webhook", "add", *args, "--db", database_url, "--secret-file", str(secret[1])])
    assert code == exit_code
    assert words in capsys.readouterr().err
    assert WebhookTables(open_store(ledger)).endpoints(removed=True) == []


def test_a_secret_file_that_is_missing_open_to_others_or_not_a_secret_is_refused(
    database_url: str, ledger: Ledger, tmp_path: Path, capsys
) -> None:
    open_to_all = tmp_path / "open.secret"
    open_to_all.write_text(new_secret())
    open_to_all.chmod(0o644)
    garbage = tmp_path / "garbage.secret"
    garbage.write_text("hunter2")
    garbage.chmod(0o600)
    for path, words in (
        (tmp_path / "missing", "cannot read the webhook secret file"),
        (open_to_all, "may be read by others"),
        (garbage, "does not hold a webhook secret"),
    ):
        code = main(
            [
                "webhook",
                "add",
                "http://127.0.0.1:9/x",
                "--db",
                database_url,
                "--secret-file",
                str(path),
            ]
        )
        assert code == 2
        err = capsys.readouterr().err
        assert words in err and "hunter2" not in err
    assert WebhookTables(open_store(ledger)).endpoints(removed=True) == []


def test_list_remove_and_unknown_ids(
    database_url: str, ledger: Ledger, secret: tuple[str, Path], capsys
) -> None:
    webhook = add(database_url, "https://hooks.example.org/chanjiao", secret[1], capsys=capsys)
    assert main(["webhook", "list", "--db", database_url, "--format", "json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["id"] == webhook and listed["url"] == "https://hooks.example.org/chanjiao"
    assert "whsec_" not in json.dumps(listed)  # the secret stays in its file
    assert main(["webhook", "list", "--db", database_url]) == 0
    assert "地址" in capsys.readouterr().out  # the headings speak Chinese
    assert main(["webhook", "remove", webhook, "--db", database_url, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["removed_at"]
    assert main(["webhook", "list", "--db", database_url, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    for command in (
        ["remove", "wh_nope"],
        ["redeliver", "wh_nope", "--failed"],
        ["deliveries", "wh_nope"],
    ):
        assert main(["webhook", *command, "--db", database_url]) == 3
        assert "no webhook 'wh_nope'" in capsys.readouterr().err
    assert main(["webhook", "redeliver", webhook, "12345", "--db", database_url]) == 3
    assert "has no delivery of the event at position 12345" in capsys.readouterr().err
