"""Aggregates replayed from their events (ADR 0024): the repository's projector gives
what the library's ``project_aggregate`` gives, for every aggregate of a full history,
without its per-event Protocol check."""

from __future__ import annotations

from eventsourcing.application import Repository, project_aggregate

from application.repository import project
from tests.domain.test_kept_aggregates import demo_ledger, every_aggregate  # noqa: F401


def test_the_projector_replays_every_aggregate_as_the_librarys_does(demo_ledger):
    replay = Repository(event_store=demo_ledger.events)  # nothing kept: every read replays
    kept = every_aggregate(demo_ledger)
    assert len({type(a) for a in kept}) == 4
    for aggregate in kept:
        ours = replay.get(aggregate.id, projector_func=project)
        theirs = replay.get(aggregate.id, projector_func=project_aggregate)
        assert type(ours) is type(theirs) is type(aggregate)
        assert vars(ours) == vars(theirs) == vars(aggregate)


def test_the_ledger_replays_with_it(demo_ledger):
    assert demo_ledger.repository.get.__kwdefaults__["projector_func"] is project


def test_no_events_project_to_none():
    assert project(None, []) is None
