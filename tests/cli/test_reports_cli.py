"""Read-model reports and the read models' own commands, on the demo, on both stores."""

from __future__ import annotations

import csv
import io
import json

import pytest

from domain.ledger import Ledger
from projections import governance, membership
from projections.provinces import distribution_from_events


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
            m.code for m in membership.members(ledger, demo["industry"], as_of="2024-12-31").members]
        register = ok(run, "council", "resolution", "list", demo["city"])
        assert [r["number"] for r in register["resolutions"]] == [
            r.number for r in governance.register(ledger, demo["city"]).resolutions]
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
