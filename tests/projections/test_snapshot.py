"""A read the API answers sees one state of the read models' tables throughout
(``Store.snapshot``): on PostgreSQL a REPEATABLE READ transaction begun by one
statement, after which the pooled connection is as it was."""

from __future__ import annotations

import contextlib

import psycopg

from bootstrap import Ledger
from projections.read_models import open_store
from tests.factories import credit_code


def test_a_snapshot_does_not_see_what_commits_while_it_is_open(postgres_url: str) -> None:
    ledger = Ledger(postgres_url)
    try:
        store = open_store(ledger)
        events = f"{ledger.recorder.datastore.schema}.{ledger.recorder.events_table_name}"
        count = f"SELECT COUNT(*) AS n FROM {events}"
        with store.snapshot() as query:
            conn = psycopg.connect(postgres_url.split("?")[0], autocommit=True)
            before = query(count)[0]["n"]
            ledger.register_unit(
                code=credit_code(1),
                name="甲",
                unit_type="enterprise",
                division="320506",
                principal="p",
            )
            with conn:
                assert conn.execute(count).fetchone()[0] == before + 1  # committed
            assert query(count)[0]["n"] == before  # and not seen in the snapshot
            isolation = query("SHOW transaction_isolation")[0]["transaction_isolation"]
            backend = query("SELECT pg_backend_pid() AS pid")[0]["pid"]
        assert isolation == "repeatable read"
        # The pooled connection it used begins its next transaction as any other.
        with contextlib.ExitStack() as held:
            for _ in range(store.datastore.pool.max_size):
                pooled = held.enter_context(store.datastore.get_connection())
                if pooled.info.backend_pid == backend:
                    break
            else:
                raise AssertionError("the snapshot's connection is not in the pool")
            assert pooled.isolation_level is None
            with pooled.transaction():
                level = pooled.execute("SHOW transaction_isolation").fetchone()
            assert level["transaction_isolation"] == "read committed"
        with store.snapshot() as query:
            assert query(count)[0]["n"] == before + 1
    finally:
        ledger.close()
