"""The cost-sharing read model: agreements, their terms, their entries and the split
of every cost and benefit over the parties, kept in tables so that a report, a
body's investment picture and the list of agreements are a few indexed queries,
not a replay of the agreements' events.

The same answers as ``projections.cost_sharing`` (``report``, ``investment``,
``agreements``), Struct for Struct, on every date.

Tables (``rm_cost_sharing_<table>``):

- ``agreements``: one row per agreement, in drafting order (``seq``), with its body,
  title, kind, current status, drafting, approval and termination dates, the
  terminating resolution and how many parties its current terms (or draft) list.
- ``terms`` and ``shares``: the draft (``seq`` 0, no effective date) and each
  approval and amendment (``seq`` 1, 2, … in the order recorded, which is also the
  order of their effective dates), each with its parties in their listed order and
  their cost and benefit shares in basis points.
- ``entries``: every contribution, cost and benefit with its number, type, date,
  amount in fen, contributing party and resource kind, and the reason it was
  reversed (NULL while it counts); ``terms_seq`` names the terms it is split by.
- ``splits``: per entry and party, the fen that party bears (a cost), is due (a
  benefit) or put in (a contribution: one row, the contributor, the whole amount),
  with the entry's type, date and whether it still counts copied in, so a party's
  figures as of a date are one ``SUM … GROUP BY`` over one index.
- ``units``, ``unit_names``, ``unit_divisions`` and ``communities``: this model's own
  small copy of what it needs of the member units (code, type, the name and
  division histories with their effective dates) and of the bodies (name), kept
  from the ``MemberUnit`` and ``Community.Founded`` events. Read models are
  independent: this one does not read the membership model's tables, so either can
  be rebuilt, or left out of a store, on its own.

Re-splitting: each cost and benefit is split with ``domain.allocation.allocate`` by
the terms in force on its own date. An amendment is recorded with an effective
date after the last terms', but possibly before entries already recorded; so when
terms are approved or amended, every cost and benefit of the agreement dated on or
after the new effective date is split again (its old split rows deleted, new ones
written) — the new terms are the last ones, so they apply to exactly those
entries. A termination likewise drops the splits of entries dated from its
effective date (only reversed entries can be dated there). A reversal marks the
entry's split rows as no longer counting; it never changes a split.

Each answer catches up first, then reads all it needs in one read-only
transaction (REPEATABLE READ on PostgreSQL), so a catch-up committing between its
statements cannot mix old and new splits into one report.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

from application import names as named
from domain.agreement import BenefitAgreement, EntryKind
from domain.allocation import allocate
from domain.community import Community
from domain.errors import AgreementNotFound
from domain.unit import MemberUnit
from domain.values import format_fen, parse_date, today
from projections.cost_sharing import (
    AgreementList,
    AgreementSummary,
    AgreementTotals,
    CostSharingReport,
    Investment,
    InvestmentSummary,
    PartyFigures,
)
from projections.known_at import EVERYTHING, KnownAt, as_known_at, body_row
from projections.machinery import ReadModel, Store, iso

BEGINNING = date.min.isoformat()  # a unit's registered name and division hold from here
SPLIT = (EntryKind.COST.value, EntryKind.BENEFIT.value)

A = BenefitAgreement


class CostSharing(ReadModel):
    name = "cost_sharing"
    tables = {
        "agreements": "agreement_id {id} PRIMARY KEY, seq BIGINT NOT NULL, "
        "community_id {id} NOT NULL, title TEXT NOT NULL, kind TEXT NOT NULL, "
        "status TEXT NOT NULL, drafted_on {date} NOT NULL, approved_on {date}, "
        "terminated_on {date}, terminated_by TEXT, parties INTEGER NOT NULL, "
        "drafted_at TEXT NOT NULL, approved_at TEXT, terminated_at TEXT",
        "terms": "agreement_id {id} NOT NULL, seq INTEGER NOT NULL, effective_on {date}, "
        "resolution TEXT, recorded_at TEXT NOT NULL, PRIMARY KEY (agreement_id, seq)",
        "shares": "agreement_id {id} NOT NULL, seq INTEGER NOT NULL, "
        "party_order INTEGER NOT NULL, unit_id {id} NOT NULL, "
        "cost_share_bp INTEGER NOT NULL, benefit_share_bp INTEGER NOT NULL, "
        "PRIMARY KEY (agreement_id, seq, party_order)",
        "entries": "agreement_id {id} NOT NULL, entry INTEGER NOT NULL, "
        "entry_type TEXT NOT NULL, on_date {date} NOT NULL, amount_fen BIGINT NOT NULL, "
        "description TEXT NOT NULL, unit_id {id}, resource TEXT, reversed_because TEXT, "
        "terms_seq INTEGER, recorded_at TEXT NOT NULL, reversed_at TEXT, "
        "funder TEXT, funder_kind TEXT, PRIMARY KEY (agreement_id, entry)",
        "splits": "agreement_id {id} NOT NULL, entry INTEGER NOT NULL, "
        "generation BIGINT NOT NULL, party_order INTEGER NOT NULL, unit_id {id} NOT NULL, "
        "entry_type TEXT NOT NULL, on_date {date} NOT NULL, part_fen BIGINT NOT NULL, "
        "split_at TEXT NOT NULL, superseded_at TEXT, reversed_at TEXT, "
        "PRIMARY KEY (agreement_id, entry, generation, party_order)",
        "units": "unit_id {id} NOT NULL, code TEXT NOT NULL, unit_type TEXT NOT NULL",
        "unit_names": "unit_id {id} NOT NULL, since {date} NOT NULL, seq BIGINT NOT NULL, "
        "name TEXT NOT NULL, recorded_at TEXT NOT NULL",
        "unit_divisions": "unit_id {id} NOT NULL, since {date} NOT NULL, seq BIGINT NOT NULL, "
        "division TEXT NOT NULL, recorded_at TEXT NOT NULL",
        "communities": "community_id {id} PRIMARY KEY, name TEXT NOT NULL, "
        "recorded_at TEXT NOT NULL",
    }
    indexes = {
        "by_community": "agreements(community_id, seq)",
        "by_date": "splits(agreement_id, on_date)",
        "entries_by_date": "entries(agreement_id, on_date)",
        "unit_key": "UNIQUE units(unit_id)",
        "name_key": "UNIQUE unit_names(unit_id, since, seq)",
        "division_key": "UNIQUE unit_divisions(unit_id, since, seq)",
    }
    topics = (
        MemberUnit.Registered.TOPIC,
        MemberUnit.Renamed.TOPIC,
        MemberUnit.Relocated.TOPIC,
        MemberUnit.RegistrationCorrected.TOPIC,
        Community.Founded.TOPIC,
        A.Drafted.TOPIC,
        A.Approved.TOPIC,
        A.Amended.TOPIC,
        A.Terminated.TOPIC,
        A.ContributionRecorded.TOPIC,
        A.FundingReceived.TOPIC,
        A.CostIncurred.TOPIC,
        A.BenefitRealized.TOPIC,
        A.EntryReversed.TOPIC,
    )

    def begin(self, events: Sequence[Any], c: Any) -> None:
        """Read the terms of every agreement the batch's costs and benefits are
        split by, in three queries."""
        self.in_force: dict[str, _Terms] = {}
        wanted = sorted(
            {
                str(e.originator_id)
                for e in events
                if isinstance(e, A.CostIncurred | A.BenefitRealized)
            }
        )
        self._load_terms(c, wanted)

    def _load_terms(self, c: Any, agreements: list[str]) -> None:
        for agreement in agreements:
            self.in_force[agreement] = _Terms()
        for r in self.select_in(
            c,
            "SELECT agreement_id, terminated_on FROM {agreements} WHERE agreement_id {in}",
            agreements,
        ):
            self.in_force[r["agreement_id"]].terminated = r["terminated_on"]
        for r in self.select_in(
            c,
            "SELECT agreement_id, seq, effective_on FROM {terms} "
            "WHERE seq > 0 AND agreement_id {in} ORDER BY agreement_id, seq",
            agreements,
        ):
            terms = self.in_force[r["agreement_id"]]
            terms.seqs.append(r["seq"])
            terms.starts.append(r["effective_on"])
        for r in self.select_in(
            c,
            "SELECT agreement_id, seq, unit_id, cost_share_bp, "
            "benefit_share_bp FROM {shares} WHERE seq > 0 AND agreement_id "
            "{in} ORDER BY agreement_id, seq, party_order",
            agreements,
        ):
            self.in_force[r["agreement_id"]].parties[r["seq"]].append(
                (r["unit_id"], r["cost_share_bp"], r["benefit_share_bp"])
            )

    def terms(self, c: Any, agreement: str) -> _Terms:
        """The agreement's terms as they stand at this point of the batch."""
        if agreement not in self.in_force:
            self._load_terms(c, [agreement])
        return self.in_force[agreement]

    def apply(self, event: Any, c: Any) -> None:
        oid, at = str(event.originator_id), iso(event.timestamp)
        w = self.writes
        if isinstance(event, A.Approved | A.Amended | A.Terminated):
            self.in_force.pop(oid, None)  # its terms change: read them again when needed
        match event:
            case MemberUnit.Registered():
                w.insert("units", (oid, event.code, event.unit_type.value))
                w.insert("unit_names", (oid, BEGINNING, event.originator_version, event.name, at))
                w.insert(
                    "unit_divisions", (oid, BEGINNING, event.originator_version, event.division, at)
                )
            case MemberUnit.Renamed():
                w.insert(
                    "unit_names",
                    (oid, iso(event.effective_on), event.originator_version, event.name, at),
                )
            case MemberUnit.Relocated():
                w.insert(
                    "unit_divisions",
                    (oid, iso(event.effective_on), event.originator_version, event.division, at),
                )
            case MemberUnit.RegistrationCorrected():  # as registered, known from now
                seq = event.originator_version
                w.insert("unit_names", (oid, BEGINNING, seq, event.name, at))
                w.insert("unit_divisions", (oid, BEGINNING, seq, event.division, at))
                w.later(
                    "UPDATE {units} SET unit_type = ? WHERE unit_id = ?",
                    (event.unit_type.value, oid),
                )
            case Community.Founded():
                w.insert("communities", (oid, event.name, at))
            case A.Drafted():
                seq = self.run(c, "SELECT COALESCE(MAX(seq), 0) AS n FROM {agreements}")
                n = int(seq.fetchone()["n"]) + 1
                self.run(
                    c,
                    "INSERT INTO {agreements} VALUES (?, ?, ?, ?, ?, ?, ?, NULL, NULL, "
                    "NULL, ?, ?, NULL, NULL)",
                    (
                        oid,
                        n,
                        str(event.community_id),
                        event.title,
                        event.kind.value,
                        "draft",
                        iso(event.drafted_on),
                        len(event.parties),
                        at,
                    ),
                )
                self._terms(c, oid, 0, None, None, event.parties, at)
            case A.Approved():
                self.run(
                    c,
                    "INSERT INTO {terms} VALUES (?, 1, ?, ?, ?)",
                    (oid, iso(event.effective_on), event.resolution, at),
                )
                self.run(
                    c,
                    "INSERT INTO {shares} SELECT agreement_id, 1, party_order, unit_id, "
                    "cost_share_bp, benefit_share_bp FROM {shares} "
                    "WHERE agreement_id = ? AND seq = 0",
                    (oid,),
                )
                self.run(
                    c,
                    "UPDATE {agreements} SET status = 'active', approved_on = ?, "
                    "approved_at = ? WHERE agreement_id = ?",
                    (iso(event.effective_on), at, oid),
                )
                self._split(c, oid, since=iso(event.effective_on), at=at)
            case A.Amended():
                last = self.run(
                    c, "SELECT MAX(seq) AS n FROM {terms} WHERE agreement_id = ?", (oid,)
                )
                n = int(last.fetchone()["n"]) + 1
                self._terms(c, oid, n, iso(event.effective_on), event.resolution, event.parties, at)
                self.run(
                    c,
                    "UPDATE {agreements} SET parties = ? WHERE agreement_id = ?",
                    (len(event.parties), oid),
                )
                self._split(c, oid, since=iso(event.effective_on), at=at)
            case A.Terminated():
                self.run(
                    c,
                    "UPDATE {agreements} SET status = 'terminated', terminated_on = ?, "
                    "terminated_by = ?, terminated_at = ? WHERE agreement_id = ?",
                    (iso(event.effective_on), event.resolution, at, oid),
                )
                self._split(c, oid, since=iso(event.effective_on), at=at)
            case A.ContributionRecorded():
                day, unit = iso(event.contributed_on), str(event.unit_id)
                w.insert(
                    "entries",
                    (
                        oid,
                        event.entry,
                        EntryKind.CONTRIBUTION.value,
                        day,
                        event.amount_fen,
                        event.description,
                        unit,
                        event.kind.value,
                        None,
                        None,
                        at,
                        None,
                        None,
                        None,
                    ),
                )
                w.insert(
                    "splits",
                    (
                        oid,
                        event.entry,
                        self.position,
                        0,
                        unit,
                        EntryKind.CONTRIBUTION.value,
                        day,
                        event.amount_fen,
                        at,
                        None,
                        None,
                    ),
                )
            case A.FundingReceived():  # no party's: no split
                w.insert(
                    "entries",
                    (
                        oid,
                        event.entry,
                        EntryKind.FUNDING.value,
                        iso(event.received_on),
                        event.amount_fen,
                        event.description,
                        None,
                        event.kind.value,
                        None,
                        None,
                        at,
                        None,
                        event.funder,
                        event.funder_kind.value,
                    ),
                )
            case A.CostIncurred() | A.BenefitRealized():
                cost = isinstance(event, A.CostIncurred)
                kind = (EntryKind.COST if cost else EntryKind.BENEFIT).value
                day = iso(event.incurred_on if cost else event.realized_on)
                assert day is not None
                terms = self.terms(c, oid)
                seq = terms.seq_on(day)
                w.insert(
                    "entries",
                    (
                        oid,
                        event.entry,
                        kind,
                        day,
                        event.amount_fen,
                        event.description,
                        None,
                        None,
                        None,
                        seq,
                        at,
                        None,
                        None,
                        None,
                    ),
                )
                if seq is not None:
                    in_force = terms.parties[seq]
                    parts = allocate(event.amount_fen, [p[1 if cost else 2] for p in in_force])
                    for i, (party, part) in enumerate(zip(in_force, parts, strict=True)):
                        w.insert(
                            "splits",
                            (
                                oid,
                                event.entry,
                                self.position,
                                i,
                                party[0],
                                kind,
                                day,
                                part,
                                at,
                                None,
                                None,
                            ),
                        )
            case A.EntryReversed():
                self.run(
                    c,
                    "UPDATE {entries} SET reversed_because = ?, reversed_at = ? "
                    "WHERE agreement_id = ? AND entry = ?",
                    (event.reason, at, oid, event.entry),
                )
                self.run(
                    c,
                    "UPDATE {splits} SET reversed_at = ? WHERE agreement_id = ? AND entry = ?",
                    (at, oid, event.entry),
                )

    def _terms(
        self,
        c: Any,
        agreement: str,
        seq: int,
        effective_on: str | None,
        resolution: str | None,
        parties: Any,
        at: str | None,
    ) -> None:
        self.run(
            c,
            "INSERT INTO {terms} VALUES (?, ?, ?, ?, ?)",
            (agreement, seq, effective_on, resolution, at),
        )
        c.executemany(
            self.sql("INSERT INTO {shares} VALUES (?, ?, ?, ?, ?, ?)"),
            [
                (agreement, seq, i, str(p.unit_id), p.cost_share_bp, p.benefit_share_bp)
                for i, p in enumerate(parties)
            ],
        )

    def _split(self, c: Any, agreement: str, since: str | None, at: str | None) -> None:
        """Split again the costs and benefits of ``agreement`` dated from ``since``
        by the terms in force on each one's date, as they now stand (recorded ``at``).
        The old splits are kept, superseded from ``at``, for answers as known before."""
        entries = self.run(
            c,
            "SELECT entry, entry_type, on_date, amount_fen, reversed_at FROM {entries} "
            "WHERE agreement_id = ? AND entry_type IN (?, ?) AND on_date >= ?",
            (agreement, *SPLIT, since),
        ).fetchall()
        if not entries:
            return
        self.run(
            c,
            "UPDATE {splits} SET superseded_at = ? WHERE agreement_id = ? "
            "AND entry_type IN (?, ?) AND on_date >= ? AND superseded_at IS NULL",
            (at, agreement, *SPLIT, since),
        )
        terms = self.terms(c, agreement)
        rows, renumbered = [], []
        for e in entries:
            day = e["on_date"]
            seq = terms.seq_on(day)
            renumbered.append((seq, agreement, e["entry"]))
            if seq is None:
                continue  # not in force: only a reversed entry can be dated here
            column = 1 if e["entry_type"] == EntryKind.COST.value else 2
            in_force = terms.parties[seq]
            parts = allocate(int(e["amount_fen"]), [p[column] for p in in_force])
            rows += [
                (
                    agreement,
                    e["entry"],
                    self.position,
                    i,
                    p[0],
                    e["entry_type"],
                    day,
                    part,
                    at,
                    None,
                    e["reversed_at"],
                )
                for i, (p, part) in enumerate(zip(in_force, parts, strict=True))
            ]
        if rows:
            c.executemany(
                self.sql("INSERT INTO {splits} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"), rows
            )
        c.executemany(
            self.sql("UPDATE {entries} SET terms_seq = ? WHERE agreement_id = ? AND entry = ?"),
            renumbered,
        )


class _Terms:
    """An agreement's approved and amended terms, for splitting entries."""

    __slots__ = ("parties", "seqs", "starts", "terminated")

    def __init__(self) -> None:
        self.terminated: str | None = None
        self.seqs: list[int] = []
        self.starts: list[str] = []  # ascending: each after the last
        self.parties: dict[int, list[tuple[str, int, int]]] = defaultdict(list)

    def seq_on(self, day: str) -> int | None:
        """The terms in force on ``day``; None before approval or from termination."""
        at = bisect_right(self.starts, day)
        if at == 0 or (self.terminated is not None and day >= self.terminated):
            return None
        return self.seqs[at - 1]


# --- answers --------------------------------------------------------------------

# An agreement's status, an entry and a split as the ledger knew them at a time
# (the bound ?, LATEST for everything recorded).
_STATUS = """CASE WHEN a.terminated_at <= ? THEN 'terminated' WHEN a.approved_at <= ?
  THEN 'active' ELSE 'draft' END"""
_ENTRY_KNOWN = "e.recorded_at <= ? AND (e.reversed_at IS NULL OR e.reversed_at > ?)"

_AGREEMENT = f"""
SELECT a.agreement_id, a.title, a.community_id, {_STATUS} AS status, a.drafted_at,
  c.name AS community_name
FROM {{agreements}} a JOIN {{communities}} c ON c.community_id = a.community_id
WHERE a.agreement_id = ?
"""

_SHARES = """
SELECT s.seq, s.unit_id, s.cost_share_bp, s.benefit_share_bp, u.code,
  (SELECT n.name FROM {unit_names} n WHERE n.unit_id = s.unit_id AND n.since <= ?
     AND n.recorded_at <= ? ORDER BY n.since DESC, n.seq DESC LIMIT 1) AS name
FROM {shares} s JOIN {terms} t ON t.agreement_id = s.agreement_id AND t.seq = s.seq
  JOIN {units} u ON u.unit_id = s.unit_id
WHERE s.agreement_id = ? AND (s.seq = 0 OR t.effective_on <= ?) AND t.recorded_at <= ?
ORDER BY s.seq, s.party_order
"""

_FIGURES = """
SELECT unit_id, entry_type, SUM(part_fen) AS fen FROM {splits}
WHERE agreement_id = ? AND on_date <= ? AND split_at <= ?
  AND (superseded_at IS NULL OR superseded_at > ?) AND (reversed_at IS NULL OR reversed_at > ?)
GROUP BY unit_id, entry_type
"""

_TOTALS = f"""
SELECT e.entry_type, SUM(e.amount_fen) AS fen FROM {{entries}} e
WHERE e.agreement_id = ? AND e.on_date <= ? AND {_ENTRY_KNOWN}
GROUP BY e.entry_type
"""


def report(
    store: Store,
    agreement: str | UUID,
    as_of: str | date | None = None,
    known_at: str | datetime | None = None,
) -> CostSharingReport:
    """Per party as of a date: its shares then, the costs it should bear, what it
    contributed, the balance, the benefits it is due; and the totals — the same
    answer as ``projections.cost_sharing.report``; as recorded by ``known_at``
    (default: everything), the same as ``replay --until`` that time."""
    day = parse_date(as_of, "as-of date") if as_of else today()
    at = as_known_at(known_at)
    agreement_id = named.agreement_id(store.ledger.directory, agreement)
    model = store.model(CostSharing)
    d, key, t = iso(day), str(agreement_id), at.bound
    with store.reading() as query:
        found = query(model.sql(_AGREEMENT), (t, t, key))
        if not found:
            raise AgreementNotFound(f"no agreement {agreement_id} has been drafted")
        if found[0]["drafted_at"] > t:
            raise AgreementNotFound(at.later(f"agreement {agreement_id}"))
        shares = query(model.sql(_SHARES), (d, t, key, d, t))
        sums = query(model.sql(_FIGURES), (key, d, t, t, t))
        totals = dict.fromkeys(EntryKind, 0)
        for r in query(model.sql(_TOTALS), (key, d, t, t)):
            totals[EntryKind(r["entry_type"])] = int(r["fen"])
    record = found[0]
    listed: dict[str, Any] = {}  # every party listed by then, in the order first listed
    current: dict[str, Any] = {}  # the shares in force: the last terms effective by then
    last = -1
    for row in shares:
        listed.setdefault(row["unit_id"], row)
        if row["seq"] != last:
            last, current = row["seq"], {}
        current[row["unit_id"]] = row
    figures = {(r["unit_id"], r["entry_type"]): int(r["fen"]) for r in sums}
    parties, balance = [], 0
    for unit_id, row in listed.items():
        due = figures.get((unit_id, EntryKind.COST.value), 0)
        put_in = figures.get((unit_id, EntryKind.CONTRIBUTION.value), 0)
        in_force = current.get(unit_id)
        balance += put_in - due
        parties.append(
            PartyFigures(
                unit_id=UUID(unit_id),
                code=row["code"],
                name=row["name"],
                cost_share_bp=in_force["cost_share_bp"] if in_force else 0,
                cost_due=format_fen(due),
                contributed=format_fen(put_in),
                balance=format_fen(put_in - due),
                benefit_share_bp=in_force["benefit_share_bp"] if in_force else 0,
                benefit_due=format_fen(figures.get((unit_id, EntryKind.BENEFIT.value), 0)),
            )
        )
    return CostSharingReport(
        agreement_id=agreement_id,
        title=record["title"],
        community_id=UUID(record["community_id"]),
        community_name=record["community_name"],
        status=record["status"],
        as_of=day,
        total_costs=format_fen(totals[EntryKind.COST]),
        total_contributed=format_fen(totals[EntryKind.CONTRIBUTION]),
        total_balance=format_fen(balance),
        total_benefits=format_fen(totals[EntryKind.BENEFIT]),
        outside_funding=format_fen(totals[EntryKind.FUNDING]),
        parties=parties,
        known_at=at.moment,
    )


_LIST = """
SELECT a.agreement_id, a.title, a.kind, a.community_id, c.name AS community_name, a.status,
  a.parties, a.approved_on, a.terminated_on
FROM {agreements} a JOIN {communities} c ON c.community_id = a.community_id
"""


def agreements(store: Store, community: str | UUID | Community | None = None) -> AgreementList:
    """Every agreement (of one body, if given), in the order drafted — the same
    answer as ``projections.cost_sharing.agreements``."""
    body_id = None
    if community is not None:
        body_id = _community_id(store, community)
    model = store.model(CostSharing)
    with store.reading() as query:
        if body_id is None:
            body_name, rows = None, query(model.sql(_LIST + " ORDER BY a.seq"))
        else:
            body_name = _community_name(query, model, body_id)
            rows = query(
                model.sql(_LIST + " WHERE a.community_id = ? ORDER BY a.seq"), (str(body_id),)
            )
    return AgreementList(
        body_id,
        body_name,
        [
            AgreementSummary(
                id=UUID(r["agreement_id"]),
                title=r["title"],
                kind=r["kind"],
                community_id=UUID(r["community_id"]),
                community_name=r["community_name"],
                status=r["status"],
                parties=int(r["parties"]),
                approved_on=_day(r["approved_on"]),
                terminated_on=_day(r["terminated_on"]),
            )
            for r in rows
        ],
    )


_AGREEMENT_TOTALS = f"""
SELECT a.agreement_id, a.title, {_STATUS} AS status, e.entry_type, SUM(e.amount_fen) AS fen
FROM {{agreements}} a LEFT JOIN {{entries}} e ON e.agreement_id = a.agreement_id
  AND e.on_date <= ? AND {_ENTRY_KNOWN}
WHERE a.community_id = ? AND a.drafted_at <= ?
GROUP BY a.seq, a.agreement_id, a.title, a.terminated_at, a.approved_at, e.entry_type
ORDER BY a.seq
"""

_CONTRIBUTIONS = f"""
SELECT resource, unit_type, division, SUM(amount_fen) AS fen FROM (
  SELECT e.resource, u.unit_type, e.amount_fen,
    (SELECT d.division FROM {{unit_divisions}} d WHERE d.unit_id = e.unit_id
       AND d.since <= e.on_date AND d.recorded_at <= ?
       ORDER BY d.since DESC, d.seq DESC LIMIT 1) AS division
  FROM {{agreements}} a JOIN {{entries}} e ON e.agreement_id = a.agreement_id
    JOIN {{units}} u ON u.unit_id = e.unit_id
  WHERE a.community_id = ? AND e.entry_type = ? AND e.on_date <= ? AND {_ENTRY_KNOWN}
) contributions
GROUP BY resource, unit_type, division
"""

_FUNDING = f"""
SELECT e.resource, e.funder_kind, SUM(e.amount_fen) AS fen
FROM {{agreements}} a JOIN {{entries}} e ON e.agreement_id = a.agreement_id
WHERE a.community_id = ? AND e.entry_type = ? AND e.on_date <= ? AND {_ENTRY_KNOWN}
GROUP BY e.resource, e.funder_kind
"""


def investment(
    store: Store,
    community: str | UUID | Community,
    as_of: str | date | None = None,
    known_at: str | datetime | None = None,
) -> InvestmentSummary:
    """The body's multi-source investment picture as of a date — the same answer as
    ``projections.cost_sharing.investment`` — as recorded by ``known_at`` (default:
    everything)."""
    day = parse_date(as_of, "as-of date") if as_of else today()
    at = as_known_at(known_at)
    body_id = _community_id(store, community)
    model = store.model(CostSharing)
    d, key, t = iso(day), str(body_id), at.bound
    with store.reading() as query:
        body_name = _community_name(query, model, body_id, at)
        per_agreement = query(model.sql(_AGREEMENT_TOTALS), (t, t, d, t, t, key, t))
        contributions = query(
            model.sql(_CONTRIBUTIONS), (t, key, EntryKind.CONTRIBUTION.value, d, t, t)
        )
        funding = query(model.sql(_FUNDING), (key, EntryKind.FUNDING.value, d, t, t))
    sums: dict[str, dict[EntryKind, int]] = {}
    heads: dict[str, Any] = {}
    for r in per_agreement:
        heads.setdefault(r["agreement_id"], r)
        totals = sums.setdefault(r["agreement_id"], dict.fromkeys(EntryKind, 0))
        if r["entry_type"] is not None:
            totals[EntryKind(r["entry_type"])] = int(r["fen"])
    parts = Investment()
    for r in contributions:  # where the member was on the day
        parts.add(r["resource"], r["unit_type"], r["division"], int(r["fen"]))
    for r in funding:
        parts.add_outside(r["resource"], r["funder_kind"], int(r["fen"]))
    return parts.summary(
        body_id,
        body_name,
        day,
        [
            AgreementTotals(
                agreement_id=UUID(a),
                title=heads[a]["title"],
                status=heads[a]["status"],
                contributed=format_fen(t[EntryKind.CONTRIBUTION]),
                costs=format_fen(t[EntryKind.COST]),
                benefits=format_fen(t[EntryKind.BENEFIT]),
                outside_funding=format_fen(t[EntryKind.FUNDING]),
            )
            for a, t in sums.items()
        ],
        at.moment,
    )


# --- helpers --------------------------------------------------------------------


Query = Callable[..., list[Any]]


def _community_id(store: Store, community: str | UUID | Community) -> UUID:
    """As ``Ledger.community`` takes it: an id, a name, or the body itself."""
    if isinstance(community, Community):
        return community.id
    return named.community_id(store.ledger.directory, community)


def _community_name(
    query: Query, model: CostSharing, community_id: UUID, at: KnownAt = EVERYTHING
) -> str:
    rows = query(
        model.sql("SELECT name, recorded_at FROM {communities} WHERE community_id = ?"),
        (str(community_id),),
    )
    return body_row(rows, community_id, at)["name"]


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text is not None else None
