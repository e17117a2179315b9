"""The rules that speak of time, checked on every date (ADR 0016).

Facts are recorded late and out of order, so a rule such as "one lead enterprise at
a time" cannot be checked against a body's present state: a backdated admission
must be checked against every fact already recorded, including those with later
effective dates. Each rule here is an invariant over a body's whole timeline — its
membership periods, council seats, meetings and resolutions, agreements and
entries — and yields every *breach*: a date on which it fails and the facts that
collide there.

A command is checked by comparing the breaches before and after it decides: it is
refused if it adds one. Comparing, rather than demanding a clean timeline, keeps a
command about one fact from being blocked by an unrelated breach that an older
version of the ledger let through.

Every function is pure: the ledger gathers the aggregates, this module judges.
"""

from __future__ import annotations

from collections.abc import (
    Callable,
    Collection,
    Container,
    Hashable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from datetime import date, timedelta
from uuid import UUID

from domain.agreement import BenefitAgreement
from domain.community import Community, MembershipPeriod
from domain.council import Council, Office
from domain.errors import (
    CharterRuleBroken,
    CommunityDissolved,
    Conflict,
    LeadAlreadyHeld,
    NotALead,
    NotAMember,
    SeatRuleBroken,
    UnitDeregistered,
)
from domain.values import LEAD_TYPES, CommunityKind, Role, UnitType

Names = Callable[[UUID], str]
"""A unit's label as users know it: its name and credit code."""


@dataclass(frozen=True)
class Span:
    """Days ``[start, end)``; ``end`` None: still running."""

    start: date
    end: date | None

    def first_common_day(self, other: Span) -> date | None:
        start = max(self.start, other.start)
        ends = [e for e in (self.end, other.end) if e is not None]
        return start if not ends or start < min(ends) else None

    def words(self) -> str:
        return f"from {self.start}" + (f" until {self.end}" if self.end else "")


@dataclass(frozen=True)
class Breach:
    """A rule broken on ``day``. ``key`` names what collides independently of the
    wording, so the same breach found before and after a command is recognised;
    ``explain`` words it, putting the command's own unit first when it is involved."""

    key: Hashable
    day: date
    error: type[Conflict]
    explain: Callable[[UUID | None], str] = field(compare=False)


@dataclass
class Timeline:
    """What a rule over a body's dates can see: the body, its council, those of its
    agreements a command may touch, and the deregistration dates of units."""

    body: Community
    council: Council | None = None
    agreements: Sequence[BenefitAgreement] = ()
    deregistered: dict[UUID, date] = field(default_factory=dict)


def breaches(timeline: Timeline, name: Names) -> dict[Hashable, Breach]:
    """Every breach of the rules on the timeline, by key."""
    found: dict[Hashable, Breach] = {}
    for rule in RULES:
        for breach in rule(timeline, name):
            found.setdefault(breach.key, breach)
    return found


def added(before: Container[Hashable], after: Mapping[Hashable, Breach]) -> list[Breach]:
    """The breaches a command would add, earliest first (``before``: the keys of those
    found before it)."""
    return sorted((b for k, b in after.items() if k not in before), key=lambda b: b.day)


# --- membership ------------------------------------------------------------------


def membership_spans(body: Community, units: Collection[UUID]) -> dict[UUID, list[Span]]:
    """The membership spans of ``units``, each unit's sorted by start. Only theirs: a
    rule about a council's seats or an agreement's parties asks about a few dozen units
    of a body that may have hundreds of members, every command."""
    spans: dict[UUID, list[Span]] = {}
    for period in body.periods:
        if period.unit_id in units:
            span = Span(period.admitted_on, period.exited_on)
            spans.setdefault(period.unit_id, []).append(span)
    for unit_spans in spans.values():
        if len(unit_spans) > 1:
            unit_spans.sort(key=lambda s: s.start)
    return spans


def first_uncovered_day(span: Span, cover: Iterable[Span]) -> date | None:
    """The first day of ``span`` that no span of ``cover`` (sorted by start) covers."""
    cursor: date | None = span.start
    for c in cover:
        if cursor is None or (span.end is not None and cursor >= span.end):
            break
        if c.start > cursor:
            break
        if c.end is None or c.end > cursor:
            cursor = c.end
    if cursor is None or (span.end is not None and cursor >= span.end):
        return None
    return cursor


def _lead_spans(period: MembershipPeriod) -> Iterator[Span]:
    ends = [since for since, _ in period.roles[1:]] + [period.exited_on]
    for (since, role), end in zip(period.roles, ends, strict=False):
        if role is Role.LEAD and (end is None or since < end):
            yield Span(since, end)


def _leads(t: Timeline, name: Names) -> Iterator[Breach]:
    """An industry body has at most one lead of each leading type on any day."""
    body = t.body
    if body.kind is not CommunityKind.INDUSTRY:
        return
    # One pass over the periods, only those that ever lead: most members never do.
    leading: dict[UnitType, list[tuple[Span, UUID]]] = {}
    for p in body.periods:
        if p.unit_type in LEAD_TYPES and any(role is Role.LEAD for _, role in p.roles):
            leading.setdefault(p.unit_type, []).extend((span, p.unit_id) for span in _lead_spans(p))
    for unit_type in LEAD_TYPES:
        spans = sorted(leading.get(unit_type, ()), key=lambda item: item[0].start)
        for i, (first, first_unit) in enumerate(spans):
            for second, second_unit in spans[i + 1 :]:
                day = first.first_common_day(second)
                if day is None:
                    continue
                yield Breach(
                    key=("lead", unit_type, first_unit, first.start, second_unit, second.start),
                    day=day,
                    error=LeadAlreadyHeld,
                    explain=_two_leads(
                        body.name,
                        unit_type.replace("_", " "),
                        name,
                        (first_unit, first),
                        (second_unit, second),
                    ),
                )


def _two_leads(
    body: str, kind: str, name: Names, a: tuple[UUID, Span], b: tuple[UUID, Span]
) -> Callable[[UUID | None], str]:
    def explain(subject: UUID | None) -> str:
        if subject not in (a[0], b[0]) or a[0] == b[0]:
            return (
                f"{body} would have two lead {kind}s on {max(a[1].start, b[1].start)}: "
                f"{name(a[0])} ({a[1].words()}) and {name(b[0])} ({b[1].words()}); an "
                "industry community has one at a time"
            )
        (mine, own), (theirs, other) = (a, b) if subject == a[0] else (b, a)
        if other.start <= own.start:
            held = f"until {other.end}" if other.end else f"since {other.start}"
        else:
            held = other.words()
        return (
            f"{name(mine)} cannot lead {body} from {own.start}: {name(theirs)} leads as "
            f"{kind} {held}; an industry community has one lead {kind} at a time"
        )

    return explain


def _recommending_lead(t: Timeline, name: Names) -> Iterator[Breach]:
    """The recommending province is that of a unit leading the body on its date."""
    body = t.body
    for index, r in enumerate(body.recommendations):
        leads = any(
            p.unit_id == r.unit_id
            and p.covers(r.effective_on)
            and p.role_on(r.effective_on) is Role.LEAD
            for p in body.periods
        )
        if not leads:
            yield Breach(
                ("recommendation", index),
                r.effective_on,
                NotALead,
                lambda _s, r=r: (
                    f"{body.name}'s recommending province was set effective {r.effective_on} "
                    f"as the province of its lead {name(r.unit_id)}, which must lead it that "
                    "day; choose another recommending province first"
                ),
            )


def _dissolution(t: Timeline, name: Names) -> Iterator[Breach]:
    """Nothing of a dissolved body runs past its dissolution date."""
    body, end = t.body, t.body.dissolved_on
    if end is None:
        return
    for p in body.periods:
        if p.exited_on is None or p.exited_on > end or p.admitted_on >= end:
            yield Breach(
                ("after dissolution", p.unit_id, p.admitted_on),
                max(end, p.admitted_on),
                CommunityDissolved,
                lambda _s, p=p: (
                    f"{body.name} cannot be dissolved effective {end}: {name(p.unit_id)} "
                    f"is a member {Span(p.admitted_on, p.exited_on).words()}"
                ),
            )
    # A later meeting's seats present need members, so the periods above refuse it
    # (a meeting recorded with nobody present is the one thing that slips through).


def _deregistered_members(t: Timeline, name: Names) -> Iterator[Breach]:
    """A deregistered unit is nobody's member from its deregistration on."""
    for p in t.body.periods:
        gone = t.deregistered.get(p.unit_id)
        if gone is not None and (p.exited_on is None or p.exited_on > gone):
            yield Breach(
                ("deregistered", p.unit_id, p.admitted_on),
                max(gone, p.admitted_on),
                UnitDeregistered,
                lambda _s, p=p, gone=gone: (
                    f"{name(p.unit_id)} is deregistered effective {gone}, but it is a member "
                    f"of {t.body.name} {Span(p.admitted_on, p.exited_on).words()}; record its "
                    f"exit effective {gone} at the latest first"
                ),
            )


# --- council ---------------------------------------------------------------------


def _seats_held_by_members(t: Timeline, name: Names) -> Iterator[Breach]:
    """Only members hold seats, on every day of the seat."""
    if t.council is None:
        return
    spans = membership_spans(t.body, {seat.unit_id for seat in t.council.seats})
    for seat in t.council.seats:
        seat_span = Span(seat.since, seat.until)
        day = first_uncovered_day(seat_span, spans.get(seat.unit_id, ()))
        if day is not None:
            yield Breach(
                ("seat", seat.unit_id, seat.since),
                day,
                NotAMember,
                lambda _s, seat=seat, span=seat_span, day=day: (
                    f"{name(seat.unit_id)} would hold a council seat of {t.body.name} "
                    f"({span.words()}) on {day} without being a member then; only members "
                    "hold council seats"
                ),
            )


def _one_chair(t: Timeline, name: Names) -> Iterator[Breach]:
    if t.council is None:
        return
    chairs = sorted((s for s in t.council.seats if s.office is Office.CHAIR), key=lambda s: s.since)
    for i, first in enumerate(chairs):
        for second in chairs[i + 1 :]:
            a, b = Span(first.since, first.until), Span(second.since, second.until)
            day = a.first_common_day(b)
            if day is None:
                continue

            def explain(subject: UUID | None, first=first, second=second, a=a, b=b) -> str:
                (mine, own), (theirs, other) = (
                    ((second, b), (first, a))
                    if subject != first.unit_id
                    else ((first, a), (second, b))
                )
                return (
                    f"{name(mine.unit_id)} cannot chair the council of {t.body.name} from "
                    f"{own.start}: {theirs.representative} of {name(theirs.unit_id)} chairs it "
                    f"{other.words()}; the council has one chair at a time"
                )

            yield Breach(
                ("chair", first.unit_id, first.since, second.unit_id, second.since),
                day,
                SeatRuleBroken,
                explain,
            )


def _present_seats_held(t: Timeline, name: Names) -> Iterator[Breach]:
    """Everyone recorded present at a meeting held a seat that day."""
    if t.council is None:
        return
    for meeting in t.council.meetings_held:
        holders = {s.unit_id for s in t.council.seats_on(meeting.held_on)}
        for unit_id in meeting.present:
            if unit_id not in holders:
                yield Breach(
                    ("present", meeting.number, unit_id),
                    meeting.held_on,
                    SeatRuleBroken,
                    lambda _s, m=meeting, u=unit_id: (
                        f"{name(u)} was recorded present at council meeting {m.number} on "
                        f"{m.held_on} as a seat holder; its seat must be held that day"
                    ),
                )


def _resolutions_keep_their_base(t: Timeline, name: Names) -> Iterator[Breach]:
    """A recorded outcome stays right: the seats and the charter on its meeting date
    are those it was decided with."""
    if t.council is None:
        return
    body = t.body
    for index, r in enumerate(t.council.resolutions):
        what = f"resolution {r.number}" if r.number else f"the motion '{r.title}'"
        seats = len(t.council.seats_on(r.held_on))
        if seats != r.seats:
            yield Breach(
                ("seats", index),
                r.held_on,
                SeatRuleBroken,
                lambda _s, r=r, what=what, seats=seats: (
                    f"council meeting {r.meeting} on {r.held_on} decided {what} with "
                    f"{r.seats} seats; a seat change that makes it {seats} seats that day "
                    "would alter the outcome on record"
                ),
            )
        if r.charter_version not in _charters_of_the_day(body, r.held_on):
            yield Breach(
                ("charter", index),
                r.held_on,
                CharterRuleBroken,
                lambda _s, r=r, what=what: (
                    f"council meeting {r.meeting} on {r.held_on} decided {what} under "
                    + (
                        f"charter {r.charter_version}"
                        if r.charter_version
                        else "the founding rules"
                    )
                    + f"; a charter of {body.name} cannot take effect on or before that date"
                ),
            )


def _charters_of_the_day(body: Community, day: date) -> set[str | None]:
    """The charter in force on ``day``; on the day a charter takes effect, also the
    one before it (the meeting that adopts a charter decides under the old one)."""
    today = body.charter_on(day)
    versions = {today.version if today else None}
    if today is not None and today.effective_on == day:
        before = body.charter_on(day - timedelta(days=1))
        versions.add(before.version if before else None)
    return versions


# --- agreements ------------------------------------------------------------------


def _parties_are_members(t: Timeline, name: Names) -> Iterator[Breach]:
    """An agreement's parties are members of the body on every day their shares are in
    force. A contribution comes only from a party in force on its date (the agreement
    checks), so this keeps contributors members on their dates too."""
    parties = {p.unit_id for a in t.agreements for terms in a.terms for p in terms.parties}
    spans = membership_spans(t.body, parties) if parties else {}
    for agreement in t.agreements:
        ends = [terms.effective_on for terms in agreement.terms[1:]] + [agreement.terminated_on]
        for terms, end in zip(agreement.terms, ends, strict=False):
            in_force = Span(terms.effective_on, end)
            for party in terms.parties:
                day = first_uncovered_day(in_force, spans.get(party.unit_id, ()))
                if day is not None:
                    yield Breach(
                        ("party", agreement.id, terms.effective_on, party.unit_id),
                        day,
                        NotAMember,
                        lambda _s, a=agreement, u=party.unit_id, span=in_force, day=day: (
                            f"{name(u)} is a party to agreement '{a.title}' with shares in "
                            f"force {span.words()}, so it must be a member of {t.body.name} "
                            f"on every day of that; it would not be on {day} (amend or "
                            "terminate the agreement first)"
                        ),
                    )


RULES: tuple[Callable[[Timeline, Names], Iterable[Breach]], ...] = (
    _leads,
    _recommending_lead,
    _dissolution,
    _deregistered_members,
    _seats_held_by_members,
    _one_chair,
    _present_seats_held,
    _resolutions_keep_their_base,
    _parties_are_members,
)
