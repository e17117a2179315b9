"""Generated requests against every operation of the app's own OpenAPI document
(schemathesis), as an admin: whatever is sent, the answer is never a 5xx.

``GET /events/stream`` is left out: it never ends."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi

from api.app import create_app
from bootstrap import Ledger
from tests.api.streaming_support import Journal


@dataclass
class Seeded:
    app: Any
    token: str
    ids: dict[str, list[str]]  # real ids to put in place of generated ones, by kind


@pytest.fixture(scope="module")
def seeded(module_database_url: str) -> Iterator[Seeded]:
    """The app on a ledger with a community's whole life (dissolved), an open
    community with members, a council and a draft agreement; and an admin token."""
    ledger = Ledger(module_database_url)
    try:
        journal = Journal()
        dissolved = journal.lifecycle(ledger, "seed")
        community = journal.community(ledger, "seed-founder", "种子联合体")
        codes = [journal.unit(ledger, f"seed-unit-{i}") for i in range(3)]
        for i, code in enumerate(codes):
            journal.admit(ledger, community, code, "seed")
            journal.seat(ledger, community, code, "seed", first=i == 0)
        journal.agreement(ledger, community, codes[:2], "seed")
        kinds = {"unit": "units", "community": "communities", "agreement": "agreements"}
        ids: dict[str, list[str]] = {k: [] for k in kinds.values()}
        for entry in journal.entries.values():
            kind = kinds.get(entry.type.split(".")[1])
            if kind and entry.subject not in ids[kind]:
                ids[kind].append(entry.subject)
        assert dissolved in ids["communities"] and community in ids["communities"]
        ids["units"] += codes  # a unit may be named by its credit code too
        app = create_app(ledger, heartbeat=0.5)
        token = app.state.service.tokens.issue(role="admin", name="fuzz", issued_by="test").token
        yield Seeded(app, token, ids)
    finally:
        # schemathesis starts an app's lifespan once and keeps it for the process
        # (keyed by id(app)): stop it before the ledger closes and the id is reused.
        asgi.shutdown_lifespans()
        ledger.close()


def _swap(value: Any, choices: list[str]) -> Any:
    """Most of the time one of ``choices`` (chosen by the generated value, so a case
    replays the same), otherwise the generated value itself."""
    pick = zlib.crc32(repr(value).encode()) % (len(choices) + 1)
    return value if pick == len(choices) else choices[pick]


def use_real_ids(case: Any, ids: dict[str, list[str]]) -> None:
    """Generated ids are random strings that name nothing; swap in seeded ones so
    requests get past the lookup into the ledger's rules."""
    kind = case.path.split("/")[1]
    for name, value in list((case.path_parameters or {}).items()):
        if name == "id" and kind in ids:
            case.path_parameters[name] = _swap(value, ids[kind])
        elif name == "unit_id":
            case.path_parameters[name] = _swap(value, ids["units"])
        elif name == "entry":
            case.path_parameters[name] = _swap(value, ["1", "2"])
    body = case.body if isinstance(case.body, dict) else {}
    if isinstance(body.get("unit_id"), str):
        body["unit_id"] = _swap(body["unit_id"], ids["units"])
    # Generated bodies may be of the wrong shape on purpose: swap only where it fits.
    parties = body.get("parties")
    for party in parties if isinstance(parties, list) else []:
        if isinstance(party, dict) and isinstance(party.get("unit_id"), str):
            party["unit_id"] = _swap(party["unit_id"], ids["units"])
    for field in ("present", "recused"):
        if isinstance(body.get(field), list):
            body[field] = [_swap(u, ids["units"]) if isinstance(u, str) else u for u in body[field]]


def _load_schema() -> schemathesis.BaseSchema:
    """The OpenAPI document as the app serves it (it does not depend on the store;
    the app it was read from is stopped again, each test calls its own app)."""
    ledger = Ledger("memory://")
    try:
        return schemathesis.openapi.from_asgi("/openapi.json", create_app(ledger))
    finally:
        asgi.shutdown_lifespans()
        ledger.close()


schema = _load_schema().exclude(path="/events/stream")


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    print_blob=True,
    database=None,
)
def test_no_generated_request_gets_a_server_error(case, seeded: Seeded) -> None:
    use_real_ids(case, seeded.ids)
    case.call_and_validate(
        app=seeded.app,
        headers={"Authorization": f"Bearer {seeded.token}"},
        checks=[not_a_server_error],
    )
