"""The eventsourcing library's own recorder test cases, run against the SQLite and
PostgreSQL recorders with the settings the ledger gives them (from the database URL,
e.g. the bounded PostgreSQL lock timeout)."""

from __future__ import annotations

import pytest
from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.tests.persistence import ApplicationRecorderTestCase
from eventsourcing.utils import Environment

from adapters.settings import store_env
from bootstrap import Ledger


class LedgerRecorderCases(ApplicationRecorderTestCase):
    __test__ = False  # collected through the two stores below
    url: str

    def create_recorder(self):
        # Not closed in a cleanup: the library's concurrency case leaves its reader
        # threads to stop by themselves, and closing a SQLite connection under a
        # running query crashes the interpreter. The factory goes with the test.
        # The library's own recorder class: the ledger's subclass adds the hash chain,
        # which refuses what these cases write on purpose (an aggregate starting at a
        # version other than 1), and is tested on its own (test_tamper_evidence.py).
        env = store_env(self.url)
        del env["APPLICATION_RECORDER_TOPIC"]
        factory = InfrastructureFactory.construct(Environment(Ledger.name, env))
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
