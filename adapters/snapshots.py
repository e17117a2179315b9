"""Snapshots of aggregates, so that a process that starts cold (every command-line run)
loads a long aggregate from its latest snapshot and the events after it instead of
replaying every event (ADR 0024).

The library takes them (``Application.snapshotting_intervals``): after a save that
records an aggregate's version ``n × INTERVAL``, the aggregate is rebuilt at that
version from the stored events (and the snapshot before) and its state is stored in a
table of its own (``stored_snapshots`` on SQLite, ``ledger_snapshots`` on PostgreSQL),
beside the events and outside the hash chain: a snapshot is derived data, like the
read models, and nothing that answers for the record (audit, proofs, exports, read
models, replay) reads it. Each aggregate keeps its latest snapshot only: a new one
replaces the ones before (in the same transaction on SQLite).

The state is stored typed: each kind's fields are named here with their types
(``KINDS``), encoded with msgspec and decoded straight into them, so a date comes
back a ``date``, a frozen record its class, a tuple a tuple. The library's own
snapshot would come back through the events' mapper as untyped JSON.
An agreement's entries are the exception: they are stored compressed, in chunks, and
restored unread until a command looks at an older one (``PackedEntries``).

A snapshot is used only by the code that could have written it: its stored topic
carries a fingerprint of its kind's fields, of every source file of ``domain/`` (the
events' ``apply`` that made the state) and of the library's aggregate module. After
any change to those, older snapshots are passed over and the aggregate is replayed
from its first event, until the next snapshot is taken. A snapshot that does not
decode is passed over too (and logged): never a wrong state, at worst a replay (an
agreement's packed entries, decoded later, raise ``DamagedSnapshot`` instead).
Taking one never fails a command: its events are already recorded when it is taken,
and a snapshot that cannot be taken or stored is logged and left out.
"""

from __future__ import annotations

import hashlib
import logging
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cached_property, lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypedDict
from uuid import UUID

import eventsourcing.domain
import msgspec
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import (
    AggregateRecorder,
    EventStore,
    InfrastructureFactory,
    InterfaceError,
    Mapper,
    MapperDeserialisationError,
    OperationalError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresAggregateRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteAggregateRecorder, SQLiteDatastore
from eventsourcing.utils import get_topic, retry

import domain
from adapters.codec import _enc_hook as _event_enc_hook
from adapters.dialect import Dialect
from adapters.recorders import TABLE_CREATION_LOCK
from application.repository import project
from domain.agreement import AgreementKind, BenefitAgreement, Entries, Entry, Party, Terms
from domain.annual import Figure, Filing
from domain.community import Charter, Community, MembershipPeriod, Recommendation
from domain.council import Council, Meeting, Resolution, Seat
from domain.unit import Held, MemberUnit
from domain.values import CommunityKind, UnitType, VocationalLevel

INTERVAL = 1000
"""A snapshot every this many versions of an aggregate: a cold load replays at most
``INTERVAL - 1`` events after it (about 10 ms), and one command in this many pays for
taking one."""

log = logging.getLogger("chanjiao.snapshots")

COMMON: dict[str, Any] = {"_created_on": datetime, "_modified_on": datetime}
"""What the library's ``Aggregate`` keeps besides id, version and pending events."""


def _as_decoded(state: dict[str, Any], where: str) -> None:
    """Most kinds' state is used as decoded."""


def _keep_rules(state: dict[str, Any], where: str) -> None:
    """A community's charters hold their rules' majorities read-only (ADR 0020)."""
    state["charters"] = [replace(c, rules=c.rules.kept()) for c in state["charters"]]


ENTRIES_A_CHUNK = 1000
"""An agreement's entries are stored in compressed chunks of at most this many."""

_entries_decoder = msgspec.json.Decoder(list[Entry])


class StoredEntries(msgspec.Struct, frozen=True):
    """An agreement's entries as its snapshot holds them: how many, and the JSON arrays
    of them, zlib-compressed (a chunk is about a tenth of its JSON)."""

    count: int
    chunks: tuple[bytes, ...]


class DamagedSnapshot(RuntimeError):
    """A snapshot's packed entries that do not decode. They are read only when a
    command asks for an older entry, after the snapshot was loaded, so this cannot be
    passed over for a replay as an undecodable snapshot is: the command stops, having
    recorded nothing, and says how to have the agreement replayed."""


class PackedEntries:
    """Stored entries not read yet (``domain.agreement.Unread``): a cold load fetches
    and decodes about a tenth of the bytes, and builds no entry until a command asks
    for one (ADR 0024's second amendment). A snapshot taken before they are read
    stores the same chunks again, and the entries recorded since in new ones."""

    __slots__ = ("_entries", "stored", "where")

    def __init__(self, stored: StoredEntries, where: str) -> None:
        self.stored = stored
        self.where = where  # whose snapshot, for an error
        self._entries: tuple[Entry, ...] | None = None

    @property
    def count(self) -> int:
        return self.stored.count

    def read(self) -> tuple[Entry, ...]:
        """The entries, decoded once (copies of the agreement share this object)."""
        if self._entries is None:
            try:
                self._entries = tuple(
                    entry
                    for chunk in self.stored.chunks
                    for entry in _entries_decoder.decode(zlib.decompress(chunk))
                )
            except (zlib.error, msgspec.MsgspecError) as e:
                raise DamagedSnapshot(
                    f"the snapshot of agreement {self.where} holds entries that do not "
                    f"decode ({e}); nothing was recorded. Delete the agreement's rows from "
                    "the snapshots table (ledger_snapshots on PostgreSQL, stored_snapshots "
                    "on SQLite) and it is replayed from its events, which are untouched"
                ) from e
        return self._entries


def _pack(entries: Entries) -> StoredEntries:
    unread, held = entries.parts
    chunks: tuple[bytes, ...] = ()
    if isinstance(unread, PackedEntries):
        chunks = unread.stored.chunks
    elif unread is not None:  # not made by this module: stored as read
        held = [*unread.read(), *held]
    return StoredEntries(
        len(entries),
        chunks
        + tuple(
            zlib.compress(_encoder.encode(held[i : i + ENTRIES_A_CHUNK]))
            for i in range(0, len(held), ENTRIES_A_CHUNK)
        ),
    )


def _entries_unread(state: dict[str, Any], where: str) -> None:
    """An agreement's entries stay packed until a command reads them."""
    state["entries"] = Entries(unread=PackedEntries(state["entries"], where))


@dataclass(frozen=True)
class Kind:
    """An aggregate class and its state's fields, as a snapshot stores them."""

    cls: type
    fields: dict[str, Any]
    restore: Callable[[dict[str, Any], str], None] = _as_decoded
    """Makes the decoded state the aggregate's, given whose snapshot it is (for errors)."""

    @cached_property
    def topic(self) -> str:
        """The stored topic: the aggregate's and the fingerprint of what made it."""
        described = repr(sorted((name, repr(kind)) for name, kind in self.fields.items()))
        digest = hashlib.sha256(f"{self.cls.TOPIC}\n{described}\n".encode())  # type: ignore[attr-defined]
        digest.update(_code_digest())
        return f"{self.cls.TOPIC}.snapshot:{digest.hexdigest()[:32]}"  # type: ignore[attr-defined]

    @cached_property
    def decoder(self) -> msgspec.json.Decoder[Any]:
        state = TypedDict(f"{self.cls.__name__}State", {**COMMON, **self.fields})  # type: ignore[misc]
        stored = TypedDict(  # type: ignore[misc]  # noqa: UP013 - named after the kind
            f"{self.cls.__name__}Snapshot", {"timestamp": datetime, "state": state}
        )
        return msgspec.json.Decoder(stored)


KINDS = [
    Kind(
        MemberUnit,
        {
            "code": str,
            "unit_type": UnitType,
            "level": VocationalLevel | None,
            "names": list[tuple[date, str]],
            "divisions": list[tuple[date, str]],
            "deregistered_on": date | None,
            "qualifications": tuple[Held, ...],
        },
    ),
    Kind(
        Community,
        {
            "name": str,
            "kind": CommunityKind,
            "industry": str,
            "division": str,
            "founded_on": date,
            "periods": list[MembershipPeriod],
            "charters": list[Charter],
            "dissolved_on": date | None,
            "recommendations": tuple[Recommendation, ...],
            "filings": tuple[Filing, ...],
            "figures": tuple[Figure, ...],
        },
        _keep_rules,
    ),
    Kind(
        Council,
        {
            "community_id": UUID,
            "seats": list[Seat],
            "meetings": list[Meeting],
            "resolutions": list[Resolution],
        },
    ),
    Kind(
        BenefitAgreement,
        {
            "community_id": UUID,
            "title": str,
            "kind": AgreementKind,
            "draft": tuple[Party, ...],
            "drafted_on": date,
            "terms": list[Terms],
            "entries": StoredEntries,
            "terminated_on": date | None,
            "terminated_by": str | None,
        },
        _entries_unread,
    ),
]
_BY_CLASS = {get_topic(k.cls): k for k in KINDS}  # as the library's Snapshot names them
_BY_TOPIC = {k.cls.TOPIC: k for k in KINDS}  # type: ignore[attr-defined]  # as stored


@lru_cache(maxsize=1)
def _code_digest() -> bytes:
    """SHA-256 of the code that makes an aggregate's state from its events: every
    source file of ``domain/`` and the library's ``eventsourcing/domain.py``."""
    digest = hashlib.sha256()
    files = sorted(Path(domain.__file__).parent.rglob("*.py"))
    for path in [*files, Path(eventsourcing.domain.__file__)]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.digest()


class StaleSnapshot(MapperDeserialisationError):
    """A snapshot written by other code than this (or of no kind known here)."""


def _enc_hook(obj: Any) -> Any:
    if isinstance(obj, MappingProxyType):
        return dict(obj)
    if isinstance(obj, Entries):
        return _pack(obj)
    return _event_enc_hook(obj)


_encoder = msgspec.json.Encoder(enc_hook=_enc_hook)


class SnapshotMapper(Mapper[UUID]):
    """The library's ``Snapshot`` ⇄ a stored row, the state typed both ways."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        snapshot: Snapshot = domain_event
        kind = _BY_CLASS.get(snapshot.topic)
        if kind is None:
            raise TypeError(f"no snapshot is kept of {snapshot.topic}")
        if set(snapshot.state) != set(COMMON) | set(kind.fields):
            raise TypeError(
                f"{kind.cls.__name__}'s state holds {sorted(snapshot.state)}, but its snapshot "
                f"names {sorted({*COMMON, *kind.fields})} (adapters/snapshots.py KINDS)"
            )
        data = _encoder.encode({"timestamp": snapshot.timestamp, "state": snapshot.state})
        if self.compressor:
            data = self.compressor.compress(data)
        if self.cipher:
            data = self.cipher.encrypt(data)
        return StoredEvent(
            originator_id=snapshot.originator_id,
            originator_version=snapshot.originator_version,
            topic=kind.topic,
            state=data,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Snapshot:
        where = f"{stored_event.originator_id} version {stored_event.originator_version}"
        kind = _BY_TOPIC.get(stored_event.topic.partition(".snapshot:")[0])
        if kind is None or stored_event.topic != kind.topic:
            raise StaleSnapshot(f"the snapshot of {where} was written by other code")
        data = stored_event.state
        try:
            if self.cipher:
                data = self.cipher.decrypt(data)
            if self.compressor:
                data = self.compressor.decompress(data)
            stored = kind.decoder.decode(data)
            kind.restore(stored["state"], where)
        except (msgspec.MsgspecError, ValueError, TypeError) as e:
            raise MapperDeserialisationError(f"cannot decode the snapshot of {where}: {e}") from e
        originator_id = stored_event.originator_id
        return Snapshot(  # type: ignore[call-arg]
            originator_id=originator_id if isinstance(originator_id, UUID) else UUID(originator_id),
            originator_version=stored_event.originator_version,
            timestamp=stored["timestamp"],
            topic=get_topic(kind.cls),
            state=stored["state"],
        )


class SnapshotStore(EventStore[UUID]):
    """Gives only the snapshots this code can use: one written by other code, or that
    does not decode, is passed over, and the library replays from the first event."""

    def get(  # type: ignore[override]
        self,
        originator_id: UUID,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Iterator[Snapshot]:
        stored = self.recorder.select_events(originator_id, gt=gt, lte=lte, desc=desc, limit=limit)
        for row in stored:
            try:
                yield self.mapper.to_domain_event(row)  # type: ignore[misc]
            except StaleSnapshot as e:
                log.debug("%s; replaying from the first event", e)
            except MapperDeserialisationError as e:
                log.warning("%s; replaying from the first event", e)


class SQLiteSnapshots(SQLiteAggregateRecorder):
    """The latest snapshot of each aggregate: a new one replaces those before it."""

    def _insert_events(self, c: Any, stored_events: Any, **kwargs: Any) -> Any:
        super()._insert_events(c, stored_events, **kwargs)
        c.executemany(
            f"DELETE FROM {self.events_table_name} "
            "WHERE originator_id = ? AND originator_version < ?",
            [(UUID(str(s.originator_id)).hex, s.originator_version) for s in stored_events],
        )
        return None


class PostgresSnapshots(PostgresAggregateRecorder):
    """As ``SQLiteSnapshots``, the older snapshots deleted by a second statement (a
    crash between the two leaves one more row, which the next snapshot removes). A
    snapshot is one large value: it is written and read in binary (the library's
    composite-type insert sends it as text, four times slower at 1.7 MB)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        schema = self.datastore.schema
        self.table = f"{schema}.{self.events_table_name}" if schema else self.events_table_name

    def _insert_stored_events(self, curs: Any, stored_events: Any, **kwargs: Any) -> None:
        rows = [(s.originator_id, s.originator_version, s.topic, s.state) for s in stored_events]
        curs.executemany(
            f"INSERT INTO {self.table} (originator_id, originator_version, topic, state) "
            "VALUES (%s, %s, %s, %b)",
            rows,
        )
        curs.executemany(
            f"DELETE FROM {self.table} WHERE originator_id = %s AND originator_version < %s",
            [row[:2] for row in rows],
        )

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> list[StoredEvent]:
        query = f"SELECT * FROM {self.table} WHERE originator_id = %s"
        params: list[Any] = [originator_id]
        if gt is not None:
            query, params = query + " AND originator_version > %s", [*params, gt]
        if lte is not None:
            query, params = query + " AND originator_version <= %s", [*params, lte]
        query += " ORDER BY originator_version" + (" DESC" if desc else "")
        if limit is not None:
            query, params = query + " LIMIT %s", [*params, limit]
        with self.datastore.get_connection() as conn, conn.cursor(binary=True) as curs:
            curs.execute(query, params)
            return [
                StoredEvent(
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in curs.fetchall()
            ]


def snapshot_store(factory: InfrastructureFactory) -> EventStore[UUID]:
    """The snapshots' store on the factory's database, its table made if missing (under
    the lock the events' tables are made under, on PostgreSQL)."""
    recorder: AggregateRecorder
    mapper = factory.mapper(mapper_class=SnapshotMapper)
    datastore: Any = getattr(factory, "datastore", None)
    if isinstance(datastore, PostgresDatastore):
        # The library's name for it (``aggregate_recorder(purpose="snapshots")``).
        prefix = factory.env.name.lower() or "stored"
        recorder = PostgresSnapshots(datastore, events_table_name=f"{prefix}_snapshots")
    elif isinstance(datastore, SQLiteDatastore):
        recorder = SQLiteSnapshots(datastore, events_table_name="stored_snapshots")
    else:  # memory://, made and kept by the library
        return SnapshotStore(mapper=mapper, recorder=factory.aggregate_recorder("snapshots"))
    if factory.env_create_table():
        create: Any = getattr(recorder, "create_table")  # noqa: B009
        Dialect.of(datastore).create_together(datastore, TABLE_CREATION_LOCK, create)
    return SnapshotStore(mapper=mapper, recorder=recorder)


class Snapshotting:
    """Mixed into the ledger (``bootstrap.Ledger``): every kind of aggregate is
    snapshotted every ``INTERVAL`` versions, in the snapshots' own store."""

    snapshotting_intervals = {k.cls: INTERVAL for k in KINDS}
    snapshotting_projectors = {k.cls: project for k in KINDS}

    factory: InfrastructureFactory

    def construct_snapshot_store(self) -> EventStore[UUID]:
        return snapshot_store(self.factory)

    def take_snapshot(
        self, aggregate_id: UUID, version: int | None = None, projector_func: Any = project
    ) -> None:
        """The library's, logged and left out if it fails: the command it follows has
        recorded its events and must not be reported as failed."""
        try:
            super().take_snapshot(aggregate_id, version, projector_func)  # type: ignore[misc]
        except Exception as e:
            log.warning("no snapshot of %s at version %s: %s", aggregate_id, version, e)
