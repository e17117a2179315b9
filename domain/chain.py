"""Per-aggregate hash chains over the stored events (ADR 0014).

Each event's hash is ``SHA-256(previous hash ‖ "chanjiao-event-v1\\n" ‖ topic ‖ "\\n" ‖
aggregate id ‖ "\\n" ‖ version ‖ "\\n" ‖ stored state)``, the previous hash being that
of the same aggregate's previous version (32 zero bytes for the first). The stored
state is the JSON of the event's fields, recorded time and principal, so the hash
covers all of them. Hashes are kept in ``audit_chain``, written in the transaction
that records the events; before appending, the aggregate's stored head is checked
against its hash, and an aggregate recorded before chains existed is chained first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from uuid import UUID

import msgspec

from domain.errors import TamperedRecord

GENESIS = bytes(32)


def event_hash(prev: bytes, topic: str, aggregate: UUID, version: int, state: bytes) -> bytes:
    head = f"chanjiao-event-v1\n{topic}\n{aggregate}\n{version}\n".encode()
    return hashlib.sha256(prev + head + state).digest()


class Chain:
    """The chain table next to the library's events table, on either store."""

    def __init__(self, recorder: Any) -> None:
        postgres = type(recorder).__module__.endswith("postgres")
        self.p = "%s" if postgres else "?"
        schema = recorder.datastore.schema if postgres else ""
        prefix = f"{schema}." if schema else ""
        self.events = f"{prefix}{recorder.events_table_name}"
        self.table = f"{prefix}audit_chain"
        self.postgres = postgres
        # The events table keeps ids as uuid (PostgreSQL) or 32 hex digits (SQLite).
        self.key = (lambda u: u) if postgres else (lambda u: u.hex)
        self.position = "notification_id" if postgres else "rowid"

    def create_statement(self) -> str:
        kind = "uuid" if self.postgres else "TEXT"
        return (
            f"CREATE TABLE IF NOT EXISTS {self.table} (originator_id {kind} NOT NULL, "
            "originator_version INTEGER NOT NULL, hash TEXT NOT NULL, "
            "PRIMARY KEY (originator_id, originator_version))"
        )

    def append(self, cursor: Any, stored_events: Sequence[Any]) -> None:
        """Chain ``stored_events`` on to their aggregates' stored heads (inside the
        recording transaction)."""
        heads: dict[UUID, tuple[int, bytes]] = {}
        rows = []
        for s in sorted(stored_events, key=lambda s: (str(s.originator_id), s.originator_version)):
            aggregate = s.originator_id if isinstance(s.originator_id, UUID) else UUID(s.originator_id)
            version = s.originator_version
            if aggregate not in heads:
                heads[aggregate] = (version - 1, self._head(cursor, aggregate, version - 1))
            at, prev = heads[aggregate]
            digest = event_hash(prev, s.topic, aggregate, version, bytes(s.state))
            heads[aggregate] = (version, digest)
            rows.append((self.key(aggregate), version, digest.hex()))
        p = self.p
        cursor.executemany(f"INSERT INTO {self.table} VALUES ({p}, {p}, {p})", rows)

    def _head(self, cursor: Any, aggregate: UUID, version: int) -> bytes:
        """The hash of ``aggregate`` at ``version``, after checking the stored event
        against it; chains an aggregate recorded before chains existed."""
        if version == 0:
            return GENESIS
        p = self.p
        # One round trip: the hashes of the head and the version before, and the head.
        cursor.execute(
            f"SELECT c.originator_version AS v, c.hash, e.topic, e.state FROM {self.table} c "
            f"LEFT JOIN {self.events} e ON e.originator_id = c.originator_id "
            "AND e.originator_version = c.originator_version "
            f"WHERE c.originator_id = {p} AND c.originator_version IN ({p}, {p})",
            (self.key(aggregate), version - 1, version),
        )
        rows = {r["v"]: r for r in cursor.fetchall()}
        known = {v: bytes.fromhex(r["hash"]) for v, r in rows.items()}
        if version not in known:
            return self._chain_history(cursor, aggregate, version)
        row = rows[version] if rows[version]["topic"] is not None else None
        prev = known.get(version - 1, GENESIS if version == 1 else None)
        if row is None or prev is None or known[version] != event_hash(
            prev, row["topic"], aggregate, version, bytes(row["state"])
        ):
            raise TamperedRecord(
                f"the stored record of {aggregate} at version {version} does not match its "
                "hash; nothing was recorded — run `chanjiao audit verify`"
            )
        return known[version]

    def _chain_history(self, cursor: Any, aggregate: UUID, version: int) -> bytes:
        p = self.p
        cursor.execute(
            f"SELECT originator_version AS v, topic, state FROM {self.events} "
            f"WHERE originator_id = {p} AND originator_version <= {p} ORDER BY originator_version",
            (self.key(aggregate), version),
        )
        prev, rows = GENESIS, []
        for expected, row in enumerate(cursor.fetchall(), start=1):
            if row["v"] != expected:
                raise TamperedRecord(f"{aggregate} has no stored version {expected}")
            prev = event_hash(prev, row["topic"], aggregate, row["v"], bytes(row["state"]))
            rows.append((self.key(aggregate), row["v"], prev.hex()))
        if len(rows) != version:
            raise TamperedRecord(f"{aggregate} has no stored version {len(rows) + 1}")
        cursor.executemany(
            f"INSERT INTO {self.table} VALUES ({p}, {p}, {p}) ON CONFLICT DO NOTHING", rows
        )
        return prev


class Problem(msgspec.Struct, frozen=True):
    kind: str  # altered, deleted, inserted, reordered
    aggregate: UUID
    version: int
    position: int | None
    detail: str


class Verification(msgspec.Struct, frozen=True):
    ok: bool
    events_checked: int
    problems: list[Problem]


def verify(
    chain: Chain, datastore: Any, progress: Callable[[int], None] | None = None, page: int = 5000
) -> Verification:
    """Recompute every aggregate's chain from the stored events, in position order,
    and name each event altered, deleted, inserted or reordered behind the ledger's back."""
    counted = [0]
    problems = list(_walk(chain, datastore, progress, page, counted))
    return Verification(not problems, counted[0], problems)


def _walk(
    chain: Chain, datastore: Any, progress: Any, page: int, counted: list[int]
) -> Iterator[Problem]:
    p, pos = chain.p, chain.position
    seen: dict[UUID, tuple[int, bytes | None, int]] = {}  # version, stored hash, position
    after, checked = 0, 0
    while True:
        with datastore.transaction(commit=False) as cursor:
            cursor.execute(
                f"SELECT e.{pos} AS position, e.originator_id AS aggregate, "
                "e.originator_version AS version, e.topic, e.state, c.hash "
                f"FROM {chain.events} e LEFT JOIN {chain.table} c "
                "ON c.originator_id = e.originator_id "
                "AND c.originator_version = e.originator_version "
                f"WHERE e.{pos} > {p} ORDER BY e.{pos} LIMIT {p}",
                (after, page),
            )
            rows = cursor.fetchall()
        for row in rows:
            checked += 1
            yield from _check(seen, row)
        counted[0] = checked
        if progress:
            progress(checked)
        if len(rows) < page:
            break
        after = rows[-1]["position"]
    with datastore.transaction(commit=False) as cursor:
        cursor.execute(
            f"SELECT c.originator_id AS aggregate, c.originator_version AS version "
            f"FROM {chain.table} c LEFT JOIN {chain.events} e "
            "ON c.originator_id = e.originator_id "
            "AND c.originator_version = e.originator_version "
            "WHERE e.originator_id IS NULL ORDER BY c.originator_id, c.originator_version"
        )
        for row in cursor.fetchall():
            yield Problem("deleted", _uuid(row["aggregate"]), row["version"], None,
                          "the event is gone; its hash is still on record")  # fmt: skip


def _check(seen: dict[UUID, tuple[int, bytes | None, int]], row: Any) -> Iterator[Problem]:
    aggregate, version, position = _uuid(row["aggregate"]), row["version"], row["position"]
    stored = bytes.fromhex(row["hash"]) if row["hash"] else None
    last_version, last_hash, _ = seen.get(aggregate, (0, GENESIS, 0))
    if version <= last_version:
        yield Problem("reordered", aggregate, version, position,
                      f"version {version} comes after version {last_version} in the log")  # fmt: skip
    elif version > last_version + 1:
        yield Problem("deleted", aggregate, last_version + 1, None,
                      f"versions {last_version + 1}–{version - 1} are missing before "
                      f"position {position}")  # fmt: skip
    if stored is None:
        yield Problem("inserted", aggregate, version, position,
                      "the event has no hash: written behind the ledger's back (or before "
                      "this ledger kept hashes)")  # fmt: skip
    elif version == last_version + 1 and last_hash is not None:
        actual = event_hash(last_hash, row["topic"], aggregate, version, bytes(row["state"]))
        if actual != stored:
            yield Problem("altered", aggregate, version, position,
                          "the stored event does not match its hash")  # fmt: skip
    # Go on from the hash on record, so one altered event is reported once.
    seen[aggregate] = (max(version, last_version), stored, position)


def _uuid(value: Any) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))
