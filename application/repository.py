"""Aggregates kept in memory between commands, each command handed its own copy
(ADR 0020), read by a command without a round trip and checked when it saves (ADR
0034), and replayed from their events without the library's per-event check (ADR
0024)."""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from threading import Lock
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository

from domain.events import LedgerAggregate


class ReadSet:
    """What one attempt of a command read: each aggregate's id and the version it was
    read at. The save sends it along, and the store refuses the recording (as a
    conflict, so the command runs again) if any of them was stale when it was read.

    ``fresh``: fast-forward every kept aggregate as it is read (a re-run after a
    conflict, or a store that cannot check reads). Otherwise a kept aggregate is
    handed out as kept (``unchecked``): the attempt asks the store once for its last
    position (``head``), and the save is refused if any aggregate read had a later
    version at or before that position — stale when it was read. A version recorded
    after it is a change made while the command ran, as a fast-forward read would
    have let pass too; an aggregate the command writes is held to its version by the
    store's unique key whenever it changed. ``saved``: a save of this attempt
    reached the store."""

    __slots__ = ("checked", "fresh", "head", "saved", "unchecked", "versions")

    def __init__(self, *, fresh: bool) -> None:
        self.fresh = fresh
        self.head: int | None = None
        """The store's last position when the attempt first read a kept aggregate."""
        self.saved = False
        self.unchecked = False
        self.versions: dict[UUID, int] = {}
        self.checked: list[Any] = []
        """Timelines checked with this attempt's events not yet saved
        (``application.timelines.Pending``): kept once a save of them succeeds."""

    def read(self, aggregate: Any, *, checked: bool) -> Any:
        self.versions.setdefault(aggregate.id, aggregate.version)
        self.unchecked = self.unchecked or not checked
        return aggregate

    def absent(self, aggregate_id: UUID, *, checked: bool) -> None:
        """Found absent: read as version 0, so that its creation meanwhile is a change."""
        self.versions.setdefault(aggregate_id, 0)
        self.unchecked = self.unchecked or not checked

    def to_check(self, saved: Iterable[Any]) -> dict[UUID, int]:
        """The aggregates read but not being saved (those the store's unique version
        check covers already)."""
        written = {getattr(a, "id", None) for a in saved}
        return {i: v for i, v in self.versions.items() if i not in written}


ABSENT = object()
"""Kept for an aggregate found absent, where reads are checked at the save: a command
learns it is still absent without a round trip (a body with no council yet, asked on
every exit), and a save that reads it so is refused once it exists."""

READS: ContextVar[ReadSet | None] = ContextVar("reads", default=None)
"""The read set of the command running in this context (``application.commands``)."""


def project(aggregate: Any, events: Iterable[Any]) -> Any:
    """The library's ``project_aggregate`` without its ``assert isinstance(event,
    CanMutateProtocol)``: each event's ``mutate`` applied in order, the aggregate (or
    None, for no events) returned. That check is against a runtime-checkable Protocol,
    which inspects the event's members on every call: it was half the time of a
    10,000-event replay. Every event here is a ``domain.events.LedgerEvent`` (or the
    library's snapshot), which has ``mutate``; an object without it would fail on the
    call instead of on the assert."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


class KeptAggregates(Repository[UUID]):
    """The library's repository with its aggregate cache, fast-forwarding a kept
    aggregate and copying it under one lock per aggregate.

    The library fast-forwards a kept aggregate (applies what other writers recorded
    since) under a lock but copies it outside that lock, so a command running beside
    another thread's fast-forward could copy a half-applied event: a version that
    says one thing and entries that say another. Here both happen under one lock,
    striped over a fixed set so that it costs no bookkeeping. The copy is the
    aggregates' own (``domain.events.LedgerAggregate``): it costs a pointer per
    list item rather than a walk of the whole history.

    An aggregate not kept (the first read in a process, every read of the command line)
    is replayed by ``project`` unless the caller names another projector."""

    STRIPES = 64

    def __init__(self, *args: Any, checks_reads: bool = False, **kwargs: Any) -> None:
        """``checks_reads``: the store refuses a recording whose read set has changed
        (``ReadSet``), so a command may read a kept aggregate without fast-forwarding it."""
        super().__init__(*args, **kwargs)
        self.checks_reads = checks_reads
        self._stripes = [Lock() for _ in range(self.STRIPES)]
        self._saving: Counter[UUID] = Counter()
        """Aggregates a thread of this process is saving: from before the recording
        until the new version is kept, the kept one may be older than the store's, so
        a command reads them fresh."""

    @contextmanager
    def saving(self, objs: Iterable[Any]) -> Iterator[None]:
        """Around a save: its aggregates are read fresh until it is over, then the new
        versions are kept (``keep``)."""
        ids = [a.id for a in objs if isinstance(a, LedgerAggregate)]
        for i in ids:
            with self._stripes[hash(i) % self.STRIPES]:
                self._saving[i] += 1
        saved = False
        try:
            yield
            saved = True
        finally:
            if saved:
                self.keep(objs)
            for i in ids:
                with self._stripes[hash(i) % self.STRIPES]:
                    self._saving[i] -= 1
                    if not self._saving[i]:
                        del self._saving[i]

    def get(  # type: ignore[override]
        self,
        aggregate_id: UUID,
        *,
        version: int | None = None,
        projector_func: Any = project,
        fastforward_skipping: bool = False,
        deepcopy_from_cache: bool = True,
        unknown_is_absent: bool = False,
    ) -> Any:
        """``unknown_is_absent``: inside a command, an aggregate this process does not
        keep is taken to be absent without asking the store, for a command that is
        about to create it: the store refuses the creation if it exists after all,
        and the command runs again with the read fresh."""
        if self.cache is None or version is not None:
            return super().get(aggregate_id, version=version, projector_func=projector_func)
        reads = READS.get()
        with self._stripes[hash(aggregate_id) % self.STRIPES]:
            try:
                kept = self.cache.get(aggregate_id)
            except KeyError:
                kept = None
            unchecked = (
                reads is not None
                and not reads.fresh
                and self.checks_reads
                and aggregate_id not in self._saving
            )
            if unchecked and kept is not None and reads is not None and reads.head is None:
                reads.head = self.event_store.recorder.max_notification_id() or 0
            if kept is not None and unchecked:
                assert reads is not None
                if kept is ABSENT:
                    reads.absent(aggregate_id, checked=False)
                    raise AggregateNotFoundError(aggregate_id)
                aggregate = copy.deepcopy(kept) if deepcopy_from_cache else kept
                return reads.read(aggregate, checked=False)
            if kept is None and unknown_is_absent and unchecked:
                assert reads is not None
                reads.absent(aggregate_id, checked=False)
                raise AggregateNotFoundError(aggregate_id)
            if kept is ABSENT:  # looked for afresh
                self.cache.get(aggregate_id, evict=True)
            try:
                kept = super().get(
                    aggregate_id,
                    projector_func=projector_func,
                    fastforward_skipping=fastforward_skipping,
                    deepcopy_from_cache=False,
                )
            except AggregateNotFoundError:
                if reads is not None:
                    reads.absent(aggregate_id, checked=True)
                if self.checks_reads:
                    self.cache.put(aggregate_id, ABSENT)
                raise
            aggregate = copy.deepcopy(kept) if deepcopy_from_cache else kept
        return aggregate if reads is None else reads.read(aggregate, checked=True)

    def keep(self, saved: Iterable[Any]) -> None:
        """Keep a copy of each aggregate just saved, unless a newer one is kept.

        With fast-forwarding on, the library caches an aggregate only when it is
        read, so the first read after a save (the unit registered, then admitted)
        replayed it from the store: a snapshot query and an events query to learn
        what this process had just written. The command's own object stays the
        caller's; the copy is the aggregates' cheap one (ADR 0020). A kept
        aggregate is still fast-forwarded on every read, so another writer's
        events are seen as before."""
        if self.cache is None:
            return
        for aggregate in saved:
            if not isinstance(aggregate, LedgerAggregate):
                continue
            with self._stripes[hash(aggregate.id) % self.STRIPES]:
                try:
                    kept = self.cache.get(aggregate.id)
                except KeyError:
                    kept = None
                if kept is None or kept is ABSENT or kept.version < aggregate.version:
                    self.cache.put(aggregate.id, copy.deepcopy(aggregate))
