"""Aggregates kept in memory between commands, each command handed its own copy
(ADR 0020), read by a command without a round trip and checked when it saves (ADR
0034), and replayed from their events without the library's per-event check (ADR
0024)."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from contextvars import ContextVar
from threading import Lock
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository

from domain.events import LedgerAggregate


class ReadSet:
    """What one attempt of a command read: each aggregate's id and the version it was
    read at. The save sends it along, and the store refuses the recording (as a
    conflict, so the command runs again) if any of them has gained a version since:
    a command commits only on the state it decided on.

    ``fresh``: fast-forward every kept aggregate as it is read (a re-run after a
    conflict, or a store that cannot check reads). Otherwise a kept aggregate is
    handed out as kept, without asking the store for what others recorded since
    (``unchecked``), and the check at the save catches it if that was stale.
    ``saved``: a save of this attempt reached the store."""

    __slots__ = ("fresh", "saved", "unchecked", "versions")

    def __init__(self, *, fresh: bool) -> None:
        self.fresh = fresh
        self.saved = False
        self.unchecked = False
        self.versions: dict[UUID, int] = {}

    def read(self, aggregate: Any, *, checked: bool) -> Any:
        self.versions.setdefault(aggregate.id, aggregate.version)
        self.unchecked = self.unchecked or not checked
        return aggregate

    def to_check(self, saved: Iterable[Any]) -> dict[UUID, int]:
        """The aggregates read but not being saved (those the store's unique version
        check covers already)."""
        written = {getattr(a, "id", None) for a in saved}
        return {i: v for i, v in self.versions.items() if i not in written}


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

    def get(  # type: ignore[override]
        self,
        aggregate_id: UUID,
        *,
        version: int | None = None,
        projector_func: Any = project,
        fastforward_skipping: bool = False,
        deepcopy_from_cache: bool = True,
    ) -> Any:
        if self.cache is None or version is not None:
            return super().get(aggregate_id, version=version, projector_func=projector_func)
        reads = READS.get()
        with self._stripes[hash(aggregate_id) % self.STRIPES]:
            if reads is not None and not reads.fresh and self.checks_reads:
                try:
                    kept = self.cache.get(aggregate_id)
                except KeyError:
                    pass
                else:
                    aggregate = copy.deepcopy(kept) if deepcopy_from_cache else kept
                    return reads.read(aggregate, checked=False)
            try:
                kept = super().get(
                    aggregate_id,
                    projector_func=projector_func,
                    fastforward_skipping=fastforward_skipping,
                    deepcopy_from_cache=False,
                )
            except AggregateNotFoundError:
                if reads is not None:  # found absent: its creation meanwhile is a change
                    reads.versions.setdefault(aggregate_id, 0)
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
                if kept is None or kept.version < aggregate.version:
                    self.cache.put(aggregate.id, copy.deepcopy(aggregate))
