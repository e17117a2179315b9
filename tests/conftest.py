"""Stores for the tests: every persistence-dependent test runs on SQLite and on
PostgreSQL. Without a reachable PostgreSQL server the PostgreSQL runs are skipped
with the reason shown, unless ``CHANJIAO_REQUIRE_POSTGRES=1`` (as in CI), which
turns that into a failure."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import freezegun
import psycopg
import pytest

from bootstrap import Ledger

POSTGRES_URL = os.environ.get(
    "CHANJIAO_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("CHANJIAO_REQUIRE_POSTGRES") == "1"
STORES = ["sqlite", "postgres"]

# Tests freeze the clock to pin events' recorded times; the connection pool's own
# timers must keep running or every frozen PostgreSQL test waits out a timeout.
freezegun.configure(extend_ignore_list=["psycopg", "psycopg_pool"])

# The HTTP API is imported here, before any test freezes the clock: a module first
# imported under freeze_time binds `date` to freezegun's FakeDate for good, and the
# request shapes built from its annotations then refuse every real date in a body
# ("founded_on must be FakeDate, not text") in whichever tests run after.
import api.app  # noqa: E402, F401


@pytest.fixture(scope="session")
def _session_key_file(tmp_path_factory: pytest.TempPathFactory):
    return tmp_path_factory.mktemp("key") / "signing.key"


@pytest.fixture(scope="session", autouse=True)
def _session_signing_key(_session_key_file) -> Iterator[None]:
    """The same key for apps and ledgers made once per module, which read their settings
    when they are made, before any test's own fixtures."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CHANJIAO_SIGNING_KEY", str(_session_key_file))
        yield


@pytest.fixture(autouse=True)
def signing_key_file(_session_key_file, monkeypatch: pytest.MonkeyPatch):
    """Checkpoints are signed with one key for the whole run (as one ledger keeps
    one key), never one in the working directory."""
    monkeypatch.setenv("CHANJIAO_SIGNING_KEY", str(_session_key_file))
    return _session_key_file


def _postgres_problem() -> str | None:
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return None
    except psycopg.Error as e:
        return f"PostgreSQL at {POSTGRES_URL} is not reachable: {str(e).strip()}"


@pytest.fixture(scope="session")
def postgres_server() -> str:
    problem = _postgres_problem()
    if problem and REQUIRE_POSTGRES:
        pytest.fail(f"{problem} (CHANJIAO_REQUIRE_POSTGRES=1)", pytrace=False)
    if problem:
        pytest.skip(problem)
    return POSTGRES_URL


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh schema for one test, dropped afterwards."""
    with fresh_schema(postgres_server) as url:
        yield url


@contextmanager
def fresh_schema(server: str, prefix: str = "test") -> Iterator[str]:
    """A new PostgreSQL schema on ``server`` as a ledger URL, dropped afterwards."""
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{server}?schema={schema}"
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(scope="module", params=STORES)
def module_database_url(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[str]:
    """One store per test module and kind, for tests that share what they record."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('module') / 'ledger.db'}"
        return
    with fresh_schema(request.getfixturevalue("postgres_server")) as url:
        yield url


@pytest.fixture(params=STORES)
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def ledger(database_url: str) -> Iterator[Ledger]:
    app = Ledger(database_url)
    try:
        yield app
    finally:
        app.close()


@pytest.fixture
def memory_ledger() -> Iterator[Ledger]:
    app = Ledger("memory://")
    try:
        yield app
    finally:
        app.close()
