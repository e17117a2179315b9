"""The breaches of timelines already checked, so that a command on a body walks the
rules over its whole timeline once rather than twice (ADR 0016's amendment).

A command that changes a body's dates is checked by the rules before and after it
decides (``domain.timeline``): refused if it adds a breach. Both walks cost the same,
and grow with the body's history. Before the command, the timeline is usually the one
the last command on the body left: its breaches were found by that command's second
walk. They are kept here by what names the timeline's content exactly:

- each aggregate's id and version, where the aggregate is as stored at that version:
  a stored version of an aggregate never changes;
- the deregistration dates the timeline was given (part of its content, whatever
  recorded them).

A timeline checked after a command decided holds events not yet saved. Its breaches
are kept only once the save of those events succeeded: until then another writer may
store a different event under the same version. A save of the aggregates at later
versions still makes the checked version theirs (the events before are the same).
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterable
from typing import Any

from domain.timeline import Timeline


def _content(timeline: Timeline) -> tuple[Hashable, frozenset[Any]]:
    """What names the timeline's content, and the ids of the aggregates holding events
    not yet saved."""
    aggregates = [timeline.body, timeline.council, *timeline.agreements]
    return (
        tuple(None if a is None else (a.id, a.version) for a in aggregates),
        frozenset(timeline.deregistered.items()),
    ), frozenset(a.id for a in aggregates if a is not None and a.pending_events)


class CheckedTimelines:
    """The breaches' keys of the timelines checked last, up to ``size`` of them (the
    oldest let go first). Thread-safe: commands run in many threads."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._found: dict[Hashable, frozenset[Hashable]] = {}
        self._lock = threading.Lock()

    def known(self, timeline: Timeline) -> frozenset[Hashable] | None:
        """The breaches' keys of ``timeline``, if it was checked as it stands."""
        content, unsaved = _content(timeline)
        if unsaved:
            return None
        with self._lock:
            return self._found.get(content)

    def found(self, timeline: Timeline, keys: frozenset[Hashable]) -> Pending | None:
        """``timeline`` was checked and has these breaches: kept now if every aggregate
        in it is as stored; otherwise what to keep once its events are saved."""
        content, unsaved = _content(timeline)
        if unsaved:
            return Pending(content, keys, unsaved)
        self._keep(content, keys)
        return None

    def saved(self, pending: Iterable[Pending], aggregates: Iterable[Any]) -> None:
        """A save of ``aggregates`` succeeded: keep what waited on their events."""
        ids = {getattr(a, "id", None) for a in aggregates}
        for p in pending:
            if p.unsaved <= ids:
                self._keep(p.content, p.keys)

    def _keep(self, content: Hashable, keys: frozenset[Hashable]) -> None:
        with self._lock:
            self._found[content] = keys
            if len(self._found) > self.size:
                del self._found[next(iter(self._found))]


class Pending:
    """Breaches found on a timeline holding events not yet saved."""

    __slots__ = ("content", "keys", "unsaved")

    def __init__(self, content: Hashable, keys: frozenset[Hashable], unsaved: frozenset[Any]):
        self.content = content
        self.keys = keys
        self.unsaved = unsaved
