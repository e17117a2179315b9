"""The published contracts, checked with the tools integrators use on them:
``/openapi.json`` with openapi-spec-validator and a client generated from it by
openapi-python-client that then talks to a live server; ``/asyncapi.json`` with the
official AsyncAPI parser (``@asyncapi/parser``, run by Node from ``tools/asyncapi``),
and every published event against its message's payload schema there."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
from openapi_spec_validator import validate
from starlette.testclient import TestClient

from api.app import create_app
from bootstrap import Ledger
from tests.api.streaming_support import DIVISION, Journal, serving
from tests.factories import credit_code

ROOT = Path(__file__).resolve().parents[2]
PARSER = ROOT / "tools" / "asyncapi"
REQUIRED = os.environ.get("CHANJIAO_REQUIRE_TOOLS") == "1"  # .ci/run: never skip


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Both documents as the server serves them."""
    ledger = Ledger(f"sqlite:///{tmp_path_factory.mktemp('contracts') / 'ledger.db'}")
    try:
        with TestClient(create_app(ledger)) as client:
            return {
                "openapi": client.get("/openapi.json").json(),
                "asyncapi": client.get("/asyncapi.json").json(),
            }
    finally:
        ledger.close()


# --- OpenAPI -----------------------------------------------------------------------


def test_the_openapi_document_is_valid(documents: dict[str, Any]) -> None:
    validate(documents["openapi"])  # raises on the first error


def test_schema_names_do_not_collide(documents: dict[str, Any]) -> None:
    """msgspec names a schema by its module path when two Structs share a name, and a
    hand-written ``$ref`` to the short name then points nowhere."""
    names = documents["openapi"]["components"]["schemas"]
    assert "Problem" in names
    assert not [n for n in names if "." in n]


def _generate(document: dict[str, Any], into: Path) -> None:
    source = into / "openapi.json"
    source.write_text(json.dumps(document), encoding="utf-8")
    tool = Path(sys.executable).with_name("openapi-python-client")
    env = {**os.environ, "PATH": f"{tool.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        [tool, "generate", "--path", source, "--meta", "none", "--output-path", "chanjiao_client"],
        cwd=into,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # The one part it leaves out: the audit bundle is JSON Lines, not JSON.
    warnings = [line for line in done.stdout.splitlines() if line.startswith("WARNING")]
    assert all("/audit/export" in w for w in warnings), done.stdout


@pytest.fixture(scope="module")
def generated(documents: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    into = tmp_path_factory.mktemp("client")
    _generate(documents["openapi"], into)
    sys.path.insert(0, str(into))
    try:
        yield importlib.import_module("chanjiao_client")
    finally:
        sys.path.remove(str(into))
        for name in [m for m in sys.modules if m.split(".")[0] == "chanjiao_client"]:
            del sys.modules[name]


def test_a_generated_client_records_and_reads(generated: Any, tmp_path: Path) -> None:
    from chanjiao_client.api.default import (
        get_communities_id_members,
        get_units,
        post_communities,
        post_communities_id_members,
        post_units,
    )
    from chanjiao_client.models import (
        AdmitMember,
        FoundCommunity,
        MemberList,
        Problem,
        RegisterUnit,
        UnitView,
    )

    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    try:
        with serving(ledger) as server:
            client = generated.AuthenticatedClient(
                base_url=server.url, token=server.token("admin"), raise_on_unexpected_status=True
            )
            code = credit_code(7)
            unit = post_units.sync(
                client=client,
                body=RegisterUnit(
                    code=code, name="苏州精工机械有限公司", type_="enterprise", division=DIVISION
                ),
            )
            assert isinstance(unit, UnitView) and unit.code == code
            body = post_communities.sync(
                client=client,
                body=FoundCommunity(
                    name="苏州市域产教联合体",
                    kind="city",
                    industry="智能制造",
                    division=DIVISION,
                    founded_on=date.fromisoformat("2024-01-01"),
                ),
            )
            admitted = post_communities_id_members.sync(
                str(body.id),
                client=client,
                body=AdmitMember(unit_id="精工机械", effective_on=date.fromisoformat("2024-03-01")),
            )
            assert not isinstance(admitted, Problem), admitted
            members = get_communities_id_members.sync(
                str(body.id), client=client, as_of=date.fromisoformat("2024-06-30")
            )
            assert isinstance(members, MemberList)
            assert [m.name for m in members.members] == ["苏州精工机械有限公司"]
            assert get_units.sync(client=client, code=code).id == unit.id

            refused = post_communities_id_members.sync_detailed(
                str(body.id),
                client=client,
                body=AdmitMember(unit_id="精工机械", effective_on=date.fromisoformat("2024-04-01")),
            )
            assert refused.status_code == 409
            assert isinstance(refused.parsed, Problem) and "already" in refused.parsed.detail
    finally:
        ledger.close()


# --- AsyncAPI ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def parser() -> Path:
    """``node tools/asyncapi/check.mjs``, its packages installed from the npm registry
    by ``npm ci`` (what .ci/run does first) when they are not there yet."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        if REQUIRED:
            pytest.fail("Node.js and npm are needed to check /asyncapi.json")
        pytest.skip("Node.js and npm are not installed")
    if not (PARSER / "node_modules" / "@asyncapi" / "parser").is_dir():
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--prefix", PARSER],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr
    return PARSER / "check.mjs"


def _parse(parser: Path, document: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    source = tmp_path / "asyncapi.json"
    source.write_text(json.dumps(document), encoding="utf-8")
    done = subprocess.run(
        ["node", parser, source], capture_output=True, text=True, timeout=120, cwd=PARSER
    )
    report = json.loads(done.stdout or "{}")
    report["returncode"] = done.returncode
    report["stderr"] = done.stderr
    return report


def test_the_asyncapi_document_parses_with_the_official_parser(
    parser: Path, documents: dict[str, Any], tmp_path: Path
) -> None:
    report = _parse(parser, documents["asyncapi"], tmp_path)
    assert report["returncode"] == 0 and report["errors"] == [], report
    assert report["warnings"] == [], report["warnings"]
    assert report["messages"] == len(documents["asyncapi"]["components"]["messages"]) > 40
    assert report["servers"] == ["http", "nats"]  # the SSE stream, and the relay's JetStream


def test_the_parser_would_catch_a_broken_reference(
    parser: Path, documents: dict[str, Any], tmp_path: Path
) -> None:
    """The check above can fail: the same document with one dangling ``$ref``."""
    broken = json.loads(json.dumps(documents["asyncapi"]))
    first = next(iter(broken["components"]["messages"].values()))
    first["payload"]["allOf"][0] = {"$ref": "#/$defs/CloudEvent"}
    report = _parse(parser, broken, tmp_path)
    assert report["returncode"] == 1
    assert any("does not exist" in e["message"] for e in report["errors"]), report


def test_every_published_event_matches_its_message_payload(
    documents: dict[str, Any], ledger: Ledger
) -> None:
    """Each CloudEvent on the stream, envelope and data, validates against the payload
    schema the AsyncAPI document gives its type."""
    journal = Journal()
    journal.lifecycle(ledger, "contracts")
    doc = documents["asyncapi"]
    defs = json.loads(
        json.dumps(doc["components"]["schemas"]).replace("#/components/schemas/", "#/$defs/")
    )
    by_type = {
        m["name"]: json.loads(json.dumps(m["payload"]).replace("#/components/schemas/", "#/$defs/"))
        for m in doc["components"]["messages"].values()
    }
    app = create_app(ledger)
    with TestClient(app) as client:
        token = app.state.service.tokens.issue(role="integrator", name="i", issued_by="t").token
        events = client.get(
            "/events", params={"limit": 1000}, headers={"Authorization": f"Bearer {token}"}
        ).json()
    assert {e["type"] for e in events} == set(by_type), "the lifecycle covers every type"
    for event in events:
        schema = {**by_type[event["type"]], "$defs": defs}
        validator = jsonschema_rs.Draft202012Validator(schema, validate_formats=True)
        errors = [e.message for e in validator.iter_errors(event)]
        assert not errors, (event["type"], errors)
        wrong = {**event, "type": next(t for t in by_type if t != event["type"])}
        assert not validator.is_valid(wrong)
