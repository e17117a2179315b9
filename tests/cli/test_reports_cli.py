"""Read-model reports and the read models' own commands, on the demo, on both stores."""

from __future__ import annotations

import csv
import io
import json

import pytest

from bootstrap import Ledger
from domain.values import DATE_FORMS
from projections import governance, membership
from projections.provinces import distribution_from_events
from tests.projections.test_known_at_reports import AS_OF, recorded  # noqa: F401 (a fixture)


@pytest.fixture
def demo(run, database_url) -> dict[str, str]:
    code, _, err = run("demo")
    assert code == 0, err
    ledger = Ledger(database_url)
    try:
        return {b.kind: str(b.id) for b in membership.communities(ledger)}
    finally:
        ledger.close()


def ok(run, *args: str):
    code, out, err = run(*args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def test_reports_from_the_read_models_equal_those_computed_from_events(run, demo, database_url):
    ledger = Ledger(database_url)
    try:
        national = ok(run, "report", "provinces", "--as-of", "2025-06-30")
        expected = distribution_from_events(ledger, None, as_of="2025-06-30")
        assert national["total"] == expected.total == 33
        assert national["province_count"] == expected.province_count
        city = ok(run, "report", "provinces", demo["city"], "--as-of", "2025-06-30")
        assert (city["home_province"], city["local"], city["non_local"]) == ("320000", 10, 2)
        listed = ok(run, "member", "list", demo["industry"], "--as-of", "2024-12-31")
        assert [m["code"] for m in listed["members"]] == [
            m.code for m in membership.members(ledger, demo["industry"], as_of="2024-12-31").members
        ]
        register = ok(run, "council", "resolution", "list", demo["city"])
        assert [r["number"] for r in register["resolutions"]] == [
            r.number for r in governance.register(ledger, demo["city"]).resolutions
        ]
    finally:
        ledger.close()
    code, out, _ = run("report", "provinces", demo["city"], "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out.removeprefix("\ufeff"))))
    assert code == 0 and {"province", "type"} <= {r["dimension"] for r in rows}


def test_projections_status_and_rebuild(run, demo):
    status = ok(run, "projections", "status")
    assert {m["name"] for m in status["read_models"]} == {"membership", "cost_sharing", "register"}
    assert all(m["behind"] == 0 and m["position"] == status["head"] for m in status["read_models"])
    [rebuilt] = ok(run, "projections", "rebuild", "register")
    assert (rebuilt["name"], rebuilt["position"]) == ("register", status["head"])
    assert len(ok(run, "council", "resolution", "list", demo["city"])["resolutions"]) == 9
    code, out, err = run("projections", "rebuild", "nonsense")
    assert (code, out) == (2, "") and "read model must be one of" in err


KNOWN_AT = "2025-03-01T11:00:00+08:00"  # T of the history below, in China time


def test_every_report_takes_known_at_and_agrees_with_replay(run, recorded, ledger):
    """The history of tests/projections/test_known_at_reports.py: what was recorded
    after 11:00 on 2025-03-01 (China) is left out of each report given that time."""
    body, agreement = str(recorded.body), str(recorded.agreement)
    asked = ("--as-of", AS_OF, "--known-at", KNOWN_AT)
    report = ok(run, "report", "cost-sharing", agreement, *asked)
    assert (report["known_at"], report["total_costs"], report["total_contributed"]) == (
        "2025-03-01T03:00:00Z",
        "600.00",
        "1000.00",
    )
    assert [p["name"] for p in report["parties"]] == ["苏州精密机械有限公司", "苏州科技大学"]
    now = ok(run, "report", "cost-sharing", agreement, "--as-of", AS_OF)
    assert (now["known_at"], now["total_costs"], now["total_contributed"]) == (
        None,
        "500.00",
        "1300.00",
    )
    invested = ok(run, "report", "investment", body, *asked)
    assert (invested["total_contributed"], [s["key"] for s in invested["by_province"]]) == (
        "1000.00",
        ["320000"],
    )
    one = ok(run, "report", "provinces", body, *asked)
    assert ([(p["province"], p["units"]) for p in one["provinces"]], one["total"]) == (
        [("320000", 2)],
        2,
    )
    national = ok(run, "report", "provinces", *asked)
    assert (national["total"], national["outside_home"]) == (2, 0)
    register = ok(run, "council", "resolution", "list", body, "--known-at", KNOWN_AT)
    assert [(r["number"], r["revoked_by"]) for r in register["resolutions"]] == [
        ("2025-001", None),
        ("2025-002", None),
        ("2025-003", None),
    ]
    then = ok(run, "replay", "--until", KNOWN_AT)
    assert then["cost_sharing"] == [{**report, "known_at": None}]
    assert then["provinces"] == {**national, "known_at": None}
    code, out, _ = run("report", "cost-sharing", agreement, *asked)
    assert code == 0 and "as recorded by 2025-03-01T03:00:00+00:00" in out


def test_a_wrong_known_at_is_refused_by_every_report_and_nothing_is_written(run, recorded, ledger):
    head = ledger.recorder.max_notification_id()
    body, agreement = str(recorded.body), str(recorded.agreement)
    for command in (
        ["report", "cost-sharing", agreement],
        ["report", "investment", body],
        ["report", "provinces"],
        ["report", "provinces", body],
        ["council", "resolution", "list", body],
        ["member", "list", body],
    ):
        code, out, err = run(*command, "--known-at", "2025-03-01 11h")
        assert (code, out) == (2, ""), command
        assert err == (
            "chanjiao: known-at time must be a timestamp such as "
            f"2025-07-15T09:30:00+08:00 or a date {DATE_FORMS}; got '2025-03-01 11h'\n"
        )
    assert ledger.recorder.max_notification_id() == head
