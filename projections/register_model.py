"""The resolution register read model: every council's meetings and resolutions,
so a body's register is a query, not a fold of its council's events.

Tables:

- ``councils``: which body each council belongs to (``Council.Established``).
- ``meetings``: each meeting's number and date (``Council.MeetingHeld``) — a
  resolution takes its date from its meeting.
- ``resolutions``: one row per recorded resolution (``Council.ResolutionRecorded``),
  ``seq`` being the event's version in the council's stream, so "in the order
  recorded" is ``ORDER BY seq``. An adopted resolution that revokes an earlier one
  sets that one's ``revoked_by`` in the same transaction, as the aggregate does.

The body's name comes from the membership read model's ``communities`` table:
``register`` needs a store that holds both ``Membership`` and ``ResolutionRegister``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from application import names as named
from domain.charter import Outcome
from domain.council import Council
from domain.errors import CouncilNotFound
from projections.governance import Register, RegisterEntry
from projections.known_at import as_known_at, body_row
from projections.machinery import ReadModel, Store, iso
from projections.membership_model import Membership


class ResolutionRegister(ReadModel):
    name = "register"
    tables = {
        "councils": "council_id {id} NOT NULL, community_id {id} NOT NULL, "
        "recorded_at TEXT NOT NULL",
        "meetings": "council_id {id} NOT NULL, meeting BIGINT NOT NULL, held_on {date} NOT NULL",
        "resolutions": "council_id {id} NOT NULL, seq BIGINT NOT NULL, number TEXT, "
        "meeting BIGINT NOT NULL, matter TEXT NOT NULL, title TEXT NOT NULL, "
        "votes_for BIGINT NOT NULL, votes_against BIGINT NOT NULL, "
        "abstentions BIGINT NOT NULL, recused BIGINT NOT NULL, outcome TEXT NOT NULL, "
        "reason TEXT NOT NULL, charter_version TEXT, revokes TEXT, revoked_by TEXT, "
        "recorded_at TEXT NOT NULL, revoked_at TEXT, PRIMARY KEY (council_id, seq)",
    }
    indexes = {
        "council_key": "UNIQUE councils(council_id)",
        "by_community": "councils(community_id)",
        "meeting_key": "UNIQUE meetings(council_id, meeting)",
        "by_number": "resolutions(council_id, number)",
    }
    topics = (
        Council.Established.TOPIC,
        Council.MeetingHeld.TOPIC,
        Council.ResolutionRecorded.TOPIC,
    )

    def apply(self, event: Any, c: Any) -> None:
        council = str(event.originator_id)
        match event:
            case Council.Established():
                self.writes.insert(
                    "councils", (council, str(event.community_id), iso(event.timestamp))
                )
            case Council.MeetingHeld():
                self.writes.insert("meetings", (council, event.meeting, iso(event.held_on)))
            case Council.ResolutionRecorded():
                self.writes.insert(
                    "resolutions",
                    (
                        council,
                        event.originator_version,
                        event.number,
                        event.meeting,
                        str(event.matter),
                        event.title,
                        event.votes_for,
                        event.votes_against,
                        event.abstentions,
                        len(event.recused),
                        str(event.outcome),
                        event.reason,
                        event.charter_version,
                        event.revokes,
                        None,
                        iso(event.timestamp),
                        None,
                    ),
                )
                if event.outcome is Outcome.ADOPTED and event.revokes:
                    # After the rows are in: the revoked one may be in this batch.
                    self.writes.later(
                        "UPDATE {resolutions} SET revoked_by = ?, revoked_at = ? "
                        "WHERE council_id = ? AND number = ?",
                        (event.number, iso(event.timestamp), council, event.revokes),
                    )


_REGISTER = """
SELECT r.number, m.held_on, r.meeting, r.matter, r.title, r.votes_for, r.votes_against,
  r.abstentions, r.recused, r.outcome, r.reason, r.charter_version, r.revokes,
  CASE WHEN r.revoked_at <= ? THEN r.revoked_by END AS revoked_by
FROM {resolutions} r
JOIN {meetings} m ON m.council_id = r.council_id AND m.meeting = r.meeting
WHERE r.council_id = ? AND r.recorded_at <= ?
ORDER BY r.seq
"""


def register(
    store: Store, community: str | UUID, known_at: str | datetime | None = None
) -> Register:
    """Every resolution of the body's council in the order recorded, as recorded by
    ``known_at`` (default: everything) — the same answer, and the same refusals, as
    ``projections.governance.register``."""
    community_id = named.community_id(store.ledger.directory, community)
    at = as_known_at(known_at)
    names = store.model(Membership)
    model = store.model(ResolutionRegister)
    with store.reading() as query:
        body = query(
            names.sql("SELECT name, recorded_at FROM {communities} WHERE community_id = ?"),
            (str(community_id),),
        )
        council = query(
            model.sql("SELECT council_id, recorded_at FROM {councils} WHERE community_id = ?"),
            (str(community_id),),
        )
        rows = (
            query(model.sql(_REGISTER), (at.bound, council[0]["council_id"], at.bound))
            if council
            else []
        )
    name = body_row(body, community_id, at)["name"]
    if not council:
        raise CouncilNotFound(f"{name} has no council yet: assign its first seat to start one")
    if council[0]["recorded_at"] > at.bound:
        raise CouncilNotFound(at.later(f"the council of {name}"))
    return Register(
        community_id=community_id,
        community_name=name,
        known_at=at.moment,
        resolutions=[
            RegisterEntry(
                number=r["number"],
                held_on=date.fromisoformat(r["held_on"]),
                meeting=r["meeting"],
                matter=r["matter"],
                title=r["title"],
                votes_for=r["votes_for"],
                votes_against=r["votes_against"],
                abstentions=r["abstentions"],
                recused=r["recused"],
                outcome=r["outcome"],
                reason=r["reason"],
                charter_version=r["charter_version"],
                revokes=r["revokes"],
                revoked_by=r["revoked_by"],
            )
            for r in rows
        ],
    )
