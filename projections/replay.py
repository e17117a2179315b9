"""The ledger as it stood at a point of its log: every aggregate's state and the
reports, as of a position or a recorded time.

The events up to the cutoff are read once, in log order: each aggregate is folded
from its own, and they are copied into a scratch ledger on a temporary SQLite file
whose read models are then built from position zero. The aggregates and the reports
see exactly those events and nothing later, and the reports are the very queries
``member list``, ``report provinces`` and ``report cost-sharing`` run.

A recorded time selects the events recorded by then — what the known-at answers
(``member list --known-at``, the reports' ``--known-at``) leave in — so ``replay
--until T`` lists the members that ``member list --as-of D --known-at T`` does, and
its reports are those the reports give as known at T. The scratch file is removed
afterwards; the ledger is only read.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.persistence import Notification, StoredEvent

from application.ledger import Ledger
from domain.errors import CommunityNotFound, InvalidDate, InvalidInput
from domain.values import SHANGHAI, parse_date, parse_timestamp, today
from projections import cost_sharing_model, membership_model, provinces
from projections.cost_sharing import CostSharingReport
from projections.history import KINDS, describe
from projections.membership import MemberList
from projections.provinces import ProvinceDistribution
from projections.read_models import open_store

PAGE = 1000
"""Events read, and copied into the scratch ledger, per transaction."""


class Cutoff(msgspec.Struct, frozen=True):
    until_position: int | None
    """The position asked for (None when a time was)."""
    until_time: datetime | None
    """The recorded time asked for (None when a position was)."""
    position: int
    """The last position replayed (0: none)."""
    events: int
    """How many events were replayed."""
    last_recorded_at: datetime | None
    """When the last event replayed was recorded."""
    as_of: date
    """The date the reports are as of: the cutoff's date in China unless asked."""


class AggregateState(msgspec.Struct, frozen=True):
    kind: str
    id: UUID
    name: str
    version: int


class Replay(msgspec.Struct, frozen=True):
    cutoff: Cutoff
    counts: dict[str, int]
    """Aggregates of each kind (unit, community, council, agreement)."""
    aggregates: list[AggregateState]
    community_id: UUID | None
    """The body the reports are limited to, if any."""
    members: list[MemberList]
    provinces: ProvinceDistribution
    cost_sharing: list[CostSharingReport]


def parse_until(value: str | int | datetime) -> int | datetime:
    """A log position (a whole number, 0 or more) or a recorded time (as
    ``member list --known-at`` takes it: a bare date is the end of that day in
    China, a time without an offset is China time)."""
    if isinstance(value, int | datetime):
        text: str | int | datetime = value
    else:
        text = value.strip()
        if re.fullmatch(r"[+-]?[0-9]+", text):
            text = int(text)
    if isinstance(text, int):
        if text < 0:
            raise InvalidInput(f"--until position must be 0 or more; got {text}")
        return text
    try:
        return parse_timestamp(text, "--until time")
    except InvalidDate:
        if isinstance(text, str) and re.match(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            raise  # a date or a time, with a problem the message names
        raise InvalidDate(
            "--until must be a log position (a whole number, 0 or more) or a recorded time "
            f"such as 2025-07-15T09:30:00+08:00 or a date YYYY-MM-DD; got {value!r}"
        ) from None


def replay(
    ledger: Ledger,
    until: str | int | datetime,
    community: str | UUID | None = None,
    as_of: str | date | None = None,
) -> Replay:
    """Every aggregate as of ``until``, and the reports (limited to ``community``)
    on ``as_of`` (default: the cutoff's date in China) as the ledger stood then."""
    cutoff = parse_until(until)
    day = parse_date(as_of, "as-of date") if as_of is not None else None
    body = ledger.community(community).id if community is not None else None
    with tempfile.TemporaryDirectory(prefix="chanjiao-replay-") as scratch_dir:
        # Made as the live ledger was made (bootstrap.Ledger: a URL is all it needs).
        made: Any = type(ledger)
        scratch = made(f"sqlite:///{Path(scratch_dir) / 'replay.db'}")
        try:
            return _replay(ledger, scratch, cutoff, body, day)
        finally:
            scratch.close()


def _replay(
    ledger: Ledger, scratch: Ledger, cutoff: int | datetime, body: UUID | None, day: date | None
) -> Replay:
    states: dict[UUID, Any] = {}  # every aggregate folded, in the order first recorded
    copied, last, recorded = 0, 0, None
    for page in _pages(ledger, cutoff):
        scratch.recorder.insert_events(
            [StoredEvent(n.originator_id, n.originator_version, n.topic, n.state) for n, _ in page]
        )
        for _, event in page:
            states[event.originator_id] = event.mutate(states.get(event.originator_id))
        copied, last, recorded = copied + len(page), page[-1][0].id, page[-1][1].timestamp
    if day is None:
        moment = cutoff if isinstance(cutoff, datetime) else recorded
        day = moment.astimezone(SHANGHAI).date() if moment else today()
    aggregates = []
    for aggregate in states.values():
        kind, name = describe(aggregate, lambda community: states[community].name)
        aggregates.append(AggregateState(kind, aggregate.id, name, aggregate.version))
    aggregates.sort(key=lambda a: KINDS.index(a.kind) if a.kind in KINDS else len(KINDS))
    bodies = [a.id for a in aggregates if a.kind == "community"]
    if body is not None:
        if body not in bodies:
            raise CommunityNotFound(f"community {body} had not been recorded yet by the cutoff")
        bodies = [body]
    store = open_store(scratch)
    store.catch_up()
    return Replay(
        cutoff=Cutoff(
            until_position=cutoff if isinstance(cutoff, int) else None,
            until_time=cutoff if isinstance(cutoff, datetime) else None,
            position=last,
            events=copied,
            last_recorded_at=recorded,
            as_of=day,
        ),
        counts={kind: sum(a.kind == kind for a in aggregates) for kind in KINDS},
        aggregates=aggregates,
        community_id=body,
        members=[membership_model.members(store, b, as_of=day) for b in bodies],
        provinces=provinces.distribution(store, body, as_of=day),
        cost_sharing=[
            cost_sharing_model.report(store, a, as_of=day) for a in scratch.agreement_ids(body)
        ],
    )


def _pages(ledger: Ledger, cutoff: int | datetime) -> Iterator[list[tuple[Notification, Any]]]:
    """The events to replay with their notifications, in log order, a page at a
    time. Up to a time: those recorded by then; an aggregate's later events stay
    out once one of them does (its events are recorded in order, so none would come
    back in)."""
    if cutoff == 0:
        return
    stop = cutoff if isinstance(cutoff, int) else None
    left_out: set[UUID] = set()
    start = 1
    while True:
        page = ledger.recorder.select_notifications(start=start, limit=PAGE, stop=stop)
        chosen = []
        for n in page:
            event = ledger.mapper.to_domain_event(n)
            if isinstance(cutoff, datetime) and (
                event.originator_id in left_out or event.timestamp > cutoff
            ):
                left_out.add(event.originator_id)
            else:
                chosen.append((n, event))
        if chosen:
            yield chosen
        if len(page) < PAGE:
            return
        start = page[-1].id + 1
