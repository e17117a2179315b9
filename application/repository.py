"""Aggregates kept in memory between commands, each command handed its own copy
(ADR 0020), and replayed from their events without the library's per-event check
(ADR 0024)."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from threading import Lock
from typing import Any
from uuid import UUID

from eventsourcing.application import Repository

from domain.events import LedgerAggregate


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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
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
        with self._stripes[hash(aggregate_id) % self.STRIPES]:
            kept = super().get(
                aggregate_id,
                projector_func=projector_func,
                fastforward_skipping=fastforward_skipping,
                deepcopy_from_cache=False,
            )
            return copy.deepcopy(kept) if deepcopy_from_cache else kept

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
