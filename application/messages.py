"""The ledger's write commands, each defined once: a frozen msgspec Struct whose fields
are the command's inputs, with their descriptions and defaults and the hints the command
line is made from, and whose ``run`` calls the ledger.

The HTTP API decodes a request (its path and body) into one and publishes its JSON Schema;
the CLI builds its subcommand from one and fills it from the words typed. Both then call
``command.run(ledger, principal)`` and show the read side's view of what was recorded.

The fields hold what the caller gave: the ledger parses it into values and names a mistake
in the secretaries' terms. Over HTTP msgspec has checked the JSON's shapes first (a date is
a date); the CLI passes its words through as typed (a Struct is not validated when it is
constructed), so a bad date reads the same as it always has.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from msgspec import Meta
from msgspec import inspect as mi

from domain.agreement import AgreementKind, Funder, ResourceKind
from domain.annual import FilingKind, Indicator
from domain.charter import Base, Matter, Threshold
from domain.council import Office
from domain.values import (
    CommunityKind,
    ExitReason,
    Qualification,
    Role,
    UnitType,
    VocationalLevel,
    choices,
)

if TYPE_CHECKING:
    from application.ledger import Ledger


def arg(
    description: str | None = None,
    *,
    path: bool = False,
    positional: bool = False,
    flag: str | None = None,
    metavar: str | None = None,
    many: str | None = None,
    parse: str | None = None,
    cli_help: str | None = None,
    cli_optional: bool = False,
) -> Meta:
    """A field's description, and how the entry points take it beyond its type:

    - ``path``: named by the route's path over HTTP (in order), not by the body; a
      positional argument on the command line;
    - ``positional``: a positional argument on the command line, though in the body;
    - ``flag``: the option, when it is not ``--`` and the field's JSON name;
    - ``metavar``: how the command line's help shows the value;
    - ``many``: how the command line takes a list: ``"+"`` or ``"*"`` values after the
      option, or ``"append"``: the option repeated;
    - ``parse``: the command line's reading of one typed value (``cli.commands.READERS``),
      for the formats only the command line has;
    - ``cli_help``: the command line's help, where it must speak of such a format;
    - ``cli_optional``: not required on the command line, which can fill it otherwise
      (a file's digest from ``--file``)."""
    hints = {
        "path": path,
        "positional": positional or path,
        "flag": flag,
        "metavar": metavar,
        "many": many,
        "parse": parse,
        "help": cli_help,
        "cli_optional": cli_optional,
    }
    extra = {k: v for k, v in hints.items() if v}
    return Meta(description=description, extra=extra) if description else Meta(extra=extra)


class Shape(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A part of a command (its tally, its parties, its rules)."""


class Command(Shape):
    """A write to the ledger."""

    def run(self, ledger: Ledger, principal: str) -> Any:
        raise NotImplementedError


@dataclass(frozen=True)
class Field:
    """One field of a command, as the entry points read it."""

    name: str
    json_name: str
    kind: Any  # the msgspec.inspect type, None and annotations taken off
    description: str | None
    hints: dict[str, Any]
    required: bool
    default: Any  # msgspec.NODEFAULT when required
    optional: bool  # may be null

    @property
    def path(self) -> bool:
        return bool(self.hints.get("path"))


@functools.cache
def fields(shape: type[Shape]) -> tuple[Field, ...]:
    """The fields of a command (or a part), in their order. Kept once worked out:
    ``msgspec.inspect`` evaluates the class's annotations each time (0.3 ms, on every
    request whose body or query string has dates to read)."""
    found = []
    for f in mi.type_info(shape).fields:  # type: ignore[union-attr]
        kind, description, hints, optional = f.type, None, {}, False
        while True:
            if isinstance(kind, mi.Metadata):
                description = description or (kind.extra_json_schema or {}).get("description")
                hints = {**(kind.extra or {}), **hints}
                kind = kind.type
            elif isinstance(kind, mi.UnionType) and any(
                isinstance(t, mi.NoneType) for t in kind.types
            ):
                optional = True
                [kind] = [t for t in kind.types if not isinstance(t, mi.NoneType)]
            else:
                break
        default = f.default_factory() if f.default_factory is not msgspec.NODEFAULT else f.default
        found.append(
            Field(f.name, f.encode_name, kind, description, hints, f.required, default, optional)
        )
    return tuple(found)


def summary(command: type[Command]) -> str:
    """What the command does, in a line: the OpenAPI summary and the command line's help."""
    return (command.__doc__ or "").strip().splitlines()[0]


# --- the shapes fields share ------------------------------------------------------

COMMUNITY_WORDS = "the body: its name, a part of its name only it has, or its id"
AGREEMENT_WORDS = "the agreement: its title, a part of its title only it has, or its id"
UNIT_WORDS = "the unit: its name (or a part only it has), its 18-character credit code or its id"
"""How a command names what it acts on (ADR 0027), for help texts and the API's schemas."""

CommunityId = Annotated[str, arg(COMMUNITY_WORDS, path=True, metavar="COMMUNITY")]
AgreementId = Annotated[str, arg(AGREEMENT_WORDS, path=True, metavar="AGREEMENT")]
UnitInPath = Annotated[str, arg(UNIT_WORDS, path=True, metavar="UNIT")]
UnitRef = Annotated[str, Meta(description=UNIT_WORDS)]
Unit = Annotated[UnitRef, arg(positional=True, metavar="UNIT")]
Division = Annotated[str, Meta(description="6-digit GB/T 2260 division code")]
TypeOfUnit = Annotated[str, Meta(description=choices(UnitType, last=" or "))]
Level = Annotated[
    str | None, Meta(description=f"vocational schools: {choices(VocationalLevel, last=' or ')}")
]
Money = Annotated[
    str,
    Meta(
        description="yuan as a decimal string, at most two places, e.g. 125000.50; also "
        "with thousands separators (1,250,000.00), 元, or in 万 (125万, 12.5万元)",
        examples=["1234.50"],
    ),
    arg(metavar="YUAN"),
]
Resolution = Annotated[str, Meta(description="register number", examples=["2025-007"])]
AnnulmentReason = Annotated[
    str, Meta(description="why the record was wrong, kept with the annulment or correction")
]
EffectiveOn = Annotated[date, Meta(description="when it took effect")]
Units = Annotated[list[UnitRef], arg(metavar="UNIT", parse="units")]


# --- units ------------------------------------------------------------------------


class RegisterUnit(Command, kw_only=True):
    """register a member unit by its credit code"""

    code: Annotated[str, Meta(description="18-character unified social credit code")]
    name: str
    type: TypeOfUnit
    level: Level = None
    division: Division

    def run(self, ledger: Ledger, principal: str) -> Any:
        return ledger.register_unit(
            code=self.code,
            name=self.name,
            unit_type=self.type,
            level=self.level,
            division=self.division,
            principal=principal,
        )


class CorrectRegistration(Command, kw_only=True):
    """correct a unit's registration details, recorded in error"""

    unit_id: UnitInPath
    name: Annotated[str | None, Meta(description="the name as it should have been registered")] = (
        None
    )
    type: TypeOfUnit | None = None
    level: Level = None
    division: Division | None = None
    reason: AnnulmentReason

    def run(self, ledger: Ledger, principal: str) -> Any:
        return ledger.correct_registration(
            self.unit_id,
            name=self.name,
            unit_type=self.type,
            level=self.level,
            division=self.division,
            reason=self.reason,
            principal=principal,
        )


class RenameUnit(Command):
    """record a unit's new name"""

    unit_id: UnitInPath
    name: str
    effective_on: EffectiveOn

    def run(self, ledger: Ledger, principal: str) -> Any:
        return ledger.rename_unit(
            self.unit_id, name=self.name, effective_on=self.effective_on, principal=principal
        )


class RelocateUnit(Command):
    """record a unit's new location"""

    unit_id: UnitInPath
    division: Division
    effective_on: EffectiveOn

    def run(self, ledger: Ledger, principal: str) -> Any:
        return ledger.relocate_unit(
            self.unit_id,
            division=self.division,
            effective_on=self.effective_on,
            principal=principal,
        )


class DeregisterUnit(Command):
    """record that a unit was deregistered"""

    unit_id: UnitInPath
    effective_on: EffectiveOn

    def run(self, ledger: Ledger, principal: str) -> Any:
        return ledger.deregister_unit(
            self.unit_id, effective_on=self.effective_on, principal=principal
        )


QualificationName = Annotated[str, Meta(description=choices(Qualification, last=" or "))]


class QualifyUnit(Command, kw_only=True):
    """record a qualification a unit holds (产教融合型企业, 双高…) from a date

    Whether a member holds it on a day counts in the body's quality report; periods
    of one qualification may not overlap."""

    unit_id: UnitInPath
    qualification: QualificationName
    since: Annotated[date, Meta(description="the first day it is held")]
    until: Annotated[
        date | None, Meta(description="the last day it is held, where the list sets a term")
    ] = None
    source: Annotated[
        str, Meta(description="the list or notice that names the unit, e.g. its document number")
    ]
    sha256: Annotated[
        str | None,
        arg(
            "SHA-256 of that document, 64 hexadecimal digits",
            cli_help="the document's SHA-256 (--file computes it)",
        ),
    ] = None

    def run(self, ledger: Ledger, principal: str) -> Any:
        return ledger.qualify_unit(
            self.unit_id,
            qualification=self.qualification,
            since=self.since,
            until=self.until,
            source=self.source,
            sha256=self.sha256,
            principal=principal,
        )


class EndQualification(Command, kw_only=True):
    """record that a unit no longer holds a qualification from a date"""

    unit_id: UnitInPath
    qualification: QualificationName
    ended_on: Annotated[date, Meta(description="the first day it is no longer held")]
    reason: Annotated[str, Meta(description="why: withdrawn, lapsed, delisted…")]

    def run(self, ledger: Ledger, principal: str) -> Any:
        return ledger.end_qualification(
            self.unit_id,
            qualification=self.qualification,
            ended_on=self.ended_on,
            reason=self.reason,
            principal=principal,
        )


# --- communities and their members ------------------------------------------------


class FoundCommunity(Command):
    """record the founding of a community"""

    name: str
    kind: Annotated[str, Meta(description=choices(CommunityKind, last=" or "))]
    industry: Annotated[str, Meta(description="the industry it serves")]
    division: Division
    founded_on: date
    again: Annotated[
        bool,
        Meta(description="record it though a body of the same name and division exists"),
    ] = False

    def run(self, ledger: Ledger, principal: str) -> Any:
        return ledger.found_community(
            name=self.name,
            kind=self.kind,
            industry=self.industry,
            division=self.division,
            founded_on=self.founded_on,
            again=self.again,
            principal=principal,
        )


class SetRecommendingProvince(Command):
    """record an industry body's recommending province: that of one of its leads"""

    community_id: CommunityId
    unit_id: Annotated[
        str,
        Meta(description="the lead (id or credit code) whose province it is"),
        arg(flag="--lead", metavar="UNIT"),
    ]
    effective_on: Annotated[date | None, Meta(description="default: today in China")] = None

    def run(self, ledger: Ledger, principal: str) -> Any:
        return ledger.set_recommending_province(
            self.community_id,
            lead=self.unit_id,
            effective_on=self.effective_on,
            principal=principal,
        )


class DissolveCommunity(Command):
    """dissolve a community (all members exit)"""

    community_id: CommunityId
    effective_on: EffectiveOn
    resolution: Annotated[
        Resolution | None, Meta(description="register number of the resolution, e.g. 2025-007")
    ] = None

    def run(self, ledger: Ledger, principal: str) -> Any:
        return ledger.dissolve_community(
            self.community_id,
            effective_on=self.effective_on,
            resolution=self.resolution,
            principal=principal,
        )


class AdmitMember(Command, kw_only=True):
    """admit a unit to a community"""

    community_id: CommunityId
    unit_id: Unit
    role: Annotated[str, Meta(description=choices(Role, last=" or "))] = "participant"
    effective_on: EffectiveOn
    resolution: Annotated[
        Resolution | None,
        Meta(description="register number of the admitting resolution, when the charter asks one"),
    ] = None

    def run(self, ledger: Ledger, principal: str) -> Any:
        return ledger.admit_member(
            self.community_id,
            self.unit_id,
            role=self.role,
            effective_on=self.effective_on,
            resolution=self.resolution,
            principal=principal,
        )


class ExitMember(Command):
    """record a member's exit"""

    community_id: CommunityId
    unit_id: UnitInPath
    reason: Annotated[str, Meta(description=choices(ExitReason, last=" or "))]
    effective_on: EffectiveOn
    resolution: Annotated[
        Resolution | None, Meta(description="register number of the resolution")
    ] = None

    def run(self, ledger: Ledger, principal: str) -> Any:
        return ledger.exit_member(
            self.community_id,
            self.unit_id,
            reason=self.reason,
            effective_on=self.effective_on,
            resolution=self.resolution,
            principal=principal,
        )


class AnnulMemberRecord(Command):
    """take back a member's last admission, role change or exit, recorded in error"""

    community_id: CommunityId
    unit_id: UnitInPath
    reason: AnnulmentReason

    def run(self, ledger: Ledger, principal: str) -> Any:
        return ledger.annul_member_record(
            self.community_id, self.unit_id, reason=self.reason, principal=principal
        )


class ChangeMemberRole(Command):
    """change a member's role"""

    community_id: CommunityId
    unit_id: UnitInPath
    role: Annotated[str, Meta(description=choices(Role, last=" or "))]
    effective_on: EffectiveOn

    def run(self, ledger: Ledger, principal: str) -> Any:
        return ledger.change_member_role(
            self.community_id,
            self.unit_id,
            role=self.role,
            effective_on=self.effective_on,
            principal=principal,
        )


# --- governance -------------------------------------------------------------------


class Rules(Shape):
    """Rules not given are kept from the charter in force (or the founding rules)."""

    quorum: Annotated[
        str | None,
        Meta(description="share of all seats present, e.g. 2/3"),
        arg(metavar="SHARE"),
    ] = None
    majorities: Annotated[
        dict[str, str] | None,
        Meta(description='matter → BASE:THRESHOLD, e.g. {"removal": "seats:two_thirds"}'),
        arg(
            flag="--majority",
            metavar="MATTER=BASE:THRESHOLD",
            many="append",
            parse="majority",
            cli_help=f"e.g. removal=seats:two_thirds or 清退=全体席位:三分之二; matters "
            f"{choices(Matter)}; bases {choices(Base)}; thresholds {choices(Threshold)}; "
            "repeatable",
        ),
    ] = None
    admission_requires_resolution: Annotated[
        bool | None, Meta(description="whether admissions need an adopted admission resolution")
    ] = None
    removal_requires_resolution: Annotated[
        bool | None, Meta(description="whether removals need an adopted removal resolution")
    ] = None


class AdoptCharter(Command):
    """record a charter (rules not given are kept)"""

    community_id: CommunityId
    version: Annotated[str, Meta(description="the charter's version, e.g. 2.0")]
    resolution: Annotated[
        Resolution | None,
        Meta(
            description="register number of the charter resolution (absent only for the "
            "founding charter)"
        ),
    ] = None
    effective_on: Annotated[
        date | None, Meta(description="default: the adopting resolution's meeting date")
    ] = None
    rules: Rules = Rules()

    def run(self, ledger: Ledger, principal: str) -> Any:
        return ledger.adopt_charter(
            self.community_id,
            version=self.version,
            effective_on=self.effective_on,
            resolution=self.resolution,
            quorum=self.rules.quorum,
            majorities=self.rules.majorities,
            admission_requires_resolution=self.rules.admission_requires_resolution,
            removal_requires_resolution=self.rules.removal_requires_resolution,
            principal=principal,
        )


class AssignSeat(Command, kw_only=True):
    """give a member unit a seat"""

    community_id: CommunityId
    unit_id: Unit
    representative: Annotated[str, Meta(description="the person holding the seat")]
    office: Annotated[
        str,
        Meta(description=choices(Office, last=" or ")),
    ] = "director"
    effective_on: EffectiveOn

    def run(self, ledger: Ledger, principal: str) -> Any:
        return ledger.assign_seat(
            self.community_id,
            self.unit_id,
            representative=self.representative,
            office=self.office,
            effective_on=self.effective_on,
            principal=principal,
        )


class VacateSeat(Command):
    """record that a seat was vacated"""

    community_id: CommunityId
    unit_id: UnitInPath
    effective_on: EffectiveOn

    def run(self, ledger: Ledger, principal: str) -> Any:
        return ledger.vacate_seat(
            self.community_id, self.unit_id, effective_on=self.effective_on, principal=principal
        )


class AnnulSeatRecord(Command):
    """take back a unit's last seat assignment or vacancy, recorded in error"""

    community_id: CommunityId
    unit_id: UnitInPath
    reason: AnnulmentReason

    def run(self, ledger: Ledger, principal: str) -> Any:
        return ledger.annul_seat_record(
            self.community_id, self.unit_id, reason=self.reason, principal=principal
        )


class AnnulMeeting(Command):
    """take back a meeting recorded in error (one with no resolution)"""

    community_id: CommunityId
    meeting: Annotated[
        str, arg("the meeting's number (council meeting list)", path=True, metavar="MEETING")
    ]
    reason: AnnulmentReason

    def run(self, ledger: Ledger, principal: str) -> Any:
        return ledger.annul_meeting(
            self.community_id, meeting=self.meeting, reason=self.reason, principal=principal
        )


class RecordMeeting(Command):
    """record a council meeting and who was present"""

    community_id: CommunityId
    held_on: date
    present: Annotated[
        Units,
        Meta(description="the seat holders present: their units' ids or credit codes"),
        arg(many="+"),
    ]
    again: Annotated[
        bool,
        Meta(description="record it though one that day with the same seats present is recorded"),
    ] = False

    def run(self, ledger: Ledger, principal: str) -> Any:
        return ledger.record_meeting(
            self.community_id,
            held_on=self.held_on,
            present=list(self.present),
            again=self.again,
            principal=principal,
        )


Count = Annotated[int, Meta(ge=0), arg(metavar="COUNT")]


class Votes(Shape):
    for_: Count = msgspec.field(name="for")
    against: Count
    abstain: Count


class RecordResolution(Command):
    """record a motion and its tally; the ledger decides the outcome"""

    community_id: CommunityId
    meeting_id: Annotated[int, Meta(description="the meeting's number"), arg(flag="--meeting")]
    matter: Annotated[
        str,
        Meta(description=choices(Matter, last=" or ")),
    ]
    title: str
    votes: Votes
    recused: Annotated[Units, Meta(description="seat holders who did not vote"), arg(many="*")] = []
    revokes: Annotated[
        Resolution | None,
        Meta(description="an earlier resolution it revokes"),
        arg(metavar="NUMBER"),
    ] = None

    def run(self, ledger: Ledger, principal: str) -> Any:
        return ledger.record_resolution(
            self.community_id,
            meeting=self.meeting_id,
            matter=self.matter,
            title=self.title,
            votes_for=self.votes.for_,
            votes_against=self.votes.against,
            abstentions=self.votes.abstain,
            recused=list(self.recused),
            revokes=self.revokes,
            principal=principal,
        )


# --- agreements -------------------------------------------------------------------

Share = Annotated[int, Meta(ge=0, le=10000)]


class Party(Shape):
    unit_id: UnitRef
    cost_share_bp: Share
    benefit_share_bp: Share


Parties = Annotated[
    list[Party],
    Meta(description="the parties and their cost and benefit shares; each set adds up to 10000"),
    arg(
        flag="--party",
        metavar="UNIT:COST:BENEFIT",
        many="append",
        parse="party",
        cli_help="a party and its cost and benefit shares, in basis points (3000) or percent "
        "(30%); repeat for each party; each set of shares must add up to 10000 (100%)",
    ),
]
AgreementResolution = Annotated[Resolution, Meta(description="register number, e.g. 2025-007")]
FromTheMeeting = Annotated[date | None, Meta(description="default: the resolution's meeting date")]


def _parties(parties: list[Party]) -> list[dict[str, Any]]:
    return [msgspec.structs.asdict(p) for p in parties]


class DraftAgreement(Command, kw_only=True):
    """draft an agreement of a body with its parties"""

    community_id: CommunityId
    title: str
    kind: Annotated[str, Meta(description=choices(AgreementKind, last=" or "))] = "other"
    parties: Parties
    drafted_on: Annotated[date | None, Meta(description="default: today")] = None

    def run(self, ledger: Ledger, principal: str) -> Any:
        return ledger.draft_agreement(
            self.community_id,
            title=self.title,
            kind=self.kind,
            parties=_parties(self.parties),
            drafted_on=self.drafted_on,
            principal=principal,
        )


class ApproveAgreement(Command):
    """approve a draft by an adopted agreement resolution"""

    agreement_id: AgreementId
    resolution: AgreementResolution
    effective_on: FromTheMeeting = None

    def run(self, ledger: Ledger, principal: str) -> Any:
        return ledger.approve_agreement(
            self.agreement_id,
            resolution=self.resolution,
            effective_on=self.effective_on,
            principal=principal,
        )


class AmendAgreement(Command):
    """new parties or shares from a date, by resolution"""

    agreement_id: AgreementId
    parties: Parties
    resolution: AgreementResolution
    effective_on: FromTheMeeting = None

    def run(self, ledger: Ledger, principal: str) -> Any:
        return ledger.amend_agreement(
            self.agreement_id,
            parties=_parties(self.parties),
            resolution=self.resolution,
            effective_on=self.effective_on,
            principal=principal,
        )


class TerminateAgreement(Command):
    """end an agreement, by resolution"""

    agreement_id: AgreementId
    effective_on: Annotated[date, Meta(description="the first day it is no longer in force")]
    resolution: AgreementResolution

    def run(self, ledger: Ledger, principal: str) -> Any:
        return ledger.terminate_agreement(
            self.agreement_id,
            effective_on=self.effective_on,
            resolution=self.resolution,
            principal=principal,
        )


class RecordContribution(Command):
    """record a party's contribution"""

    agreement_id: AgreementId
    unit_id: Unit
    kind: Annotated[str, Meta(description=choices(ResourceKind, last=" or "))]
    amount: Money
    contributed_on: Annotated[date, Meta(description="when it was contributed")]
    description: str

    def run(self, ledger: Ledger, principal: str) -> Any:
        return ledger.record_contribution(
            self.agreement_id,
            self.unit_id,
            kind=self.kind,
            amount=self.amount,
            contributed_on=self.contributed_on,
            description=self.description,
            principal=principal,
        )


class RecordFunding(Command):
    """record funding from outside the body (a government special fund, a donor)

    It counts in the body's multi-source investment; it is no party's contribution and
    bears no share of costs or benefits."""

    agreement_id: AgreementId
    funder: Annotated[str, Meta(description="who funds it: a department, fund or donor")]
    funder_kind: Annotated[str, Meta(description=choices(Funder, last=" or "))]
    kind: Annotated[str, Meta(description=choices(ResourceKind, last=" or "))]
    amount: Money
    received_on: Annotated[date, Meta(description="when it was received")]
    description: str

    def run(self, ledger: Ledger, principal: str) -> Any:
        return ledger.record_funding(
            self.agreement_id,
            funder=self.funder,
            funder_kind=self.funder_kind,
            kind=self.kind,
            amount=self.amount,
            received_on=self.received_on,
            description=self.description,
            principal=principal,
        )


class RecordCost(Command):
    """record a shared cost incurred"""

    agreement_id: AgreementId
    amount: Money
    incurred_on: Annotated[date, Meta(description="when the cost was incurred")]
    description: str

    def run(self, ledger: Ledger, principal: str) -> Any:
        return ledger.record_cost(
            self.agreement_id,
            amount=self.amount,
            incurred_on=self.incurred_on,
            description=self.description,
            principal=principal,
        )


class RecordBenefit(Command):
    """record a benefit realised"""

    agreement_id: AgreementId
    amount: Money
    realized_on: Annotated[date, Meta(description="when the benefit was realised")]
    description: str

    def run(self, ledger: Ledger, principal: str) -> Any:
        return ledger.record_benefit(
            self.agreement_id,
            amount=self.amount,
            realized_on=self.realized_on,
            description=self.description,
            principal=principal,
        )


class ReverseEntry(Command):
    """take a mistaken entry out of the reports"""

    agreement_id: AgreementId
    entry: Annotated[str, arg("the entry's number (agreement show)", path=True, metavar="ENTRY")]
    reason: str

    def run(self, ledger: Ledger, principal: str) -> Any:
        return ledger.reverse_entry(
            self.agreement_id, entry=self.entry, reason=self.reason, principal=principal
        )


# --- the annual cycle ----------------------------------------------------------------


class RecordFiling(Command, kw_only=True):
    """record a document the body filed for a year (a later one supersedes it)

    A later filing of the same kind and year replaces the document in force; the
    earlier stays in the history, and the first decides whether it was on time."""

    community_id: CommunityId
    kind: Annotated[str, Meta(description=choices(FilingKind, last=" or "))]
    year: Annotated[int, Meta(ge=2000, le=2100, description="the year it is for")]
    filed_on: Annotated[date, Meta(description="the day it was filed")]
    title: str
    sha256: Annotated[
        str,
        arg(
            "SHA-256 of the document file, 64 hexadecimal digits",
            cli_help="the file's SHA-256 (--file computes it)",
            cli_optional=True,
        ),
    ]
    size: Annotated[
        int,
        Meta(ge=0),
        arg("the file's size in bytes", cli_help="(--file reads it)", cli_optional=True),
    ]
    resolution: Annotated[
        Resolution | None,
        Meta(description="the register number of the resolution that reviewed it"),
    ] = None

    def run(self, ledger: Ledger, principal: str) -> Any:
        return ledger.record_filing(
            self.community_id,
            kind=self.kind,
            year=self.year,
            filed_on=self.filed_on,
            title=self.title,
            sha256=self.sha256,
            size=self.size,
            resolution=self.resolution,
            principal=principal,
        )


class RecordIndicator(Command, kw_only=True):
    """record a yearly figure of a monitoring indicator (a later one corrects it)

    The body's own figure, or with ``unit_id`` that of a unit that was a member in the
    year; counts are whole numbers, money is yuan as written."""

    community_id: CommunityId
    indicator: Annotated[str, Meta(description=choices(Indicator, last=" or "))]
    year: Annotated[int, Meta(ge=2000, le=2100, description="the year it is for")]
    value: Annotated[
        int | str,
        Meta(description="a count; for funds_invested, yuan as a decimal string"),
        arg(metavar="VALUE"),
    ]
    unit_id: Annotated[
        str | None,
        Meta(description=f"the member unit reporting it (default: the body's own); {UNIT_WORDS}"),
        arg(flag="--unit", metavar="UNIT"),
    ] = None
    evidence_sha256: Annotated[
        str,
        arg(
            "SHA-256 of the evidence document, 64 hexadecimal digits",
            flag="--evidence-sha256",
            cli_help="the evidence file's SHA-256 (--evidence computes it)",
            cli_optional=True,
        ),
    ]

    def run(self, ledger: Ledger, principal: str) -> Any:
        return ledger.record_indicator(
            self.community_id,
            indicator=self.indicator,
            year=self.year,
            value=self.value,
            unit=self.unit_id,
            evidence_sha256=self.evidence_sha256,
            principal=principal,
        )
