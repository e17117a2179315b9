"""The eventsourcing library's own recorder test cases, run against the SQLite and
PostgreSQL recorders exactly as the ledger configures them (settings from the
database URL, e.g. the bounded PostgreSQL lock timeout)."""

from __future__ import annotations

import pytest
from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.tests.persistence import ApplicationRecorderTestCase
from eventsourcing.utils import Environment

from adapters.settings import store_env
from application.ledger import Ledger


class LedgerRecorderCases(ApplicationRecorderTestCase):
    __test__ = False  # collected through the two stores below
    url: str

    def create_recorder(self):
        # Not closed in a cleanup: the library's concurrency case leaves its reader
        # threads to stop by themselves, and closing a SQLite connection under a
        # running query crashes the interpreter. The factory goes with the test.
        factory = InfrastructureFactory.construct(Environment(Ledger.name, store_env(self.url)))
        return factory.application_recorder()

    # Timing prints, not checks; the benchmark in bench/ measures throughput.
    test_performance = None
    test_concurrent_throughput = None


class TestSQLiteRecorderAsConfigured(LedgerRecorderCases):
    __test__ = True

    @pytest.fixture(autouse=True)
    def _store(self, tmp_path):
        self.url = f"sqlite:///{tmp_path / 'recorder.db'}"


class TestPostgresRecorderAsConfigured(LedgerRecorderCases):
    __test__ = True

    @pytest.fixture(autouse=True)
    def _store(self, postgres_url):
        self.url = postgres_url
