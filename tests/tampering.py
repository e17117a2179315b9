"""Changing stored events straight in the database — the SQLite file, or the
PostgreSQL rows over a connection of its own — as someone with access to it, not
to the ledger, would."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from typing import Any
from uuid import UUID

import psycopg

from bootstrap import Ledger
from tests.factories import credit_code


def body_with_an_admission(ledger: Ledger) -> UUID:
    """A body (version 1) that admitted a unit on 2024-02-01 (version 2): an event to
    alter is ``b'"2024-02-01"'`` at version 2."""
    unit = ledger.register_unit(
        code=credit_code(1), name="甲公司", unit_type="enterprise", division="320506", principal="p"
    )
    body = ledger.found_community(
        name="苏州联合体",
        kind="city",
        industry="电子",
        division="320500",
        founded_on="2024-01-01",
        principal="p",
    )
    ledger.admit_member(
        body.id, unit.id, role="participant", effective_on="2024-02-01", principal="p"
    )
    return body.id


def alter_stored_event(url: str, aggregate: UUID, version: int, old: bytes, new: bytes) -> int:
    """Replace ``old`` by ``new`` (as many bytes) in the stored data of ``aggregate`` at
    ``version``; returns the event's position."""
    assert len(old) == len(new) and old != new
    names = Ledger(url)  # only to learn the table names the ledger uses
    try:
        chain = names.chain
    finally:
        names.close()
    p = chain.p
    where = f"WHERE originator_id = {p} AND originator_version = {p}"
    key = (chain.key(aggregate), version)
    with _connection(url, chain.postgres) as db:
        position, state = db.execute(
            f"SELECT {chain.position}, state FROM {chain.events} {where}", key
        ).fetchone()
        assert bytes(state).count(old) == 1, (old, bytes(state))
        db.execute(
            f"UPDATE {chain.events} SET state = {p} {where}", (bytes(state).replace(old, new), *key)
        )
    return position


def _connection(url: str, postgres: bool) -> Any:
    if postgres:
        return psycopg.connect(url.partition("?")[0], autocommit=True)
    return closing(sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None))
