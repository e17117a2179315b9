"""Fixtures for the HTTP API tests: the app on each store, a TestClient, tokens of
every role, and a small realistic ledger recorded through the API itself.

``world`` is built afresh for each test (on ``database_url``: SQLite and
PostgreSQL). ``shared_world`` is built once per test module and store, for tests
that only read or whose writes do not disturb one another."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bootstrap import Ledger
from tests.api.support import Api, Caller, World, build_world, issue, serving


@pytest.fixture
def app_client(ledger: Ledger) -> Iterator[tuple[Starlette, TestClient]]:
    with serving(ledger) as pair:
        yield pair


@pytest.fixture
def app(app_client) -> Starlette:
    return app_client[0]


@pytest.fixture
def client(app_client) -> TestClient:
    return app_client[1]


@pytest.fixture
def caller(app):
    """``caller(role, *communities, name=None)``: a new token's Caller."""

    def make(role: str, *communities: Any, name: str | None = None) -> Caller:
        return issue(app, role, *communities, name=name)

    return make


@pytest.fixture
def admin(app) -> Caller:
    return issue(app, "admin", name="ops")


@pytest.fixture
def api(app, client, admin) -> Api:
    return Api(app, client, admin)


@pytest.fixture
def world(api) -> World:
    return build_world(api)


# --- one app per module and store, for tests that share a world ---------------------


@pytest.fixture(scope="module")
def shared_api(module_database_url: str) -> Iterator[Api]:
    ledger = Ledger(module_database_url)
    try:
        with serving(ledger) as (app, client):
            yield Api(app, client, issue(app, "admin", name="ops"))
    finally:
        ledger.close()


@pytest.fixture(scope="module")
def shared_world(shared_api: Api) -> World:
    return build_world(shared_api)
