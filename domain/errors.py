"""The ledger's errors, named in the user's terms.

Adapters map them by base class: ``InvalidInput`` → 422, ``NotFound`` → 404,
``Conflict`` → 409. Every error is raised before anything is written.
"""


class LedgerError(Exception):
    """Base of every error the ledger reports to its users."""


class InvalidInput(LedgerError):
    """The request itself is wrong, whatever the ledger holds."""


class InvalidCreditCode(InvalidInput):
    pass


class InvalidDivision(InvalidInput):
    pass


class InvalidAmount(InvalidInput):
    pass


class InvalidDate(InvalidInput):
    pass


class InvalidChoice(InvalidInput):
    pass


class AmbiguousName(InvalidInput):
    """A name, or part of one, that more than one unit, body or agreement has."""


class InvalidText(InvalidInput):
    pass


class NotFound(LedgerError):
    pass


class UnitNotFound(NotFound):
    pass


class CommunityNotFound(NotFound):
    pass


class Conflict(LedgerError):
    """The request is well formed but the ledger's current state refuses it."""


class CorrectionTooLate(Conflict):
    """A record others were built on cannot be corrected in place."""


class MeetingHasResolutions(Conflict):
    """A meeting whose resolutions stand cannot be annulled."""


class LikelyDuplicate(Conflict):
    """What is recorded again looks like a record already there (a body of the same
    name and division, a meeting on the same day with the same seats): refused unless
    the user confirms it is another."""


class AlreadyRegistered(Conflict):
    pass


class UnitDeregistered(Conflict):
    pass


class QualificationRefused(Conflict):
    """A qualification the unit's type cannot hold, or one that overlaps a period
    already recorded, or an end with no period to end."""


class AlreadyMember(Conflict):
    pass


class NotAMember(Conflict):
    pass


class LeadAlreadyHeld(Conflict):
    pass


class RoleNotAllowed(Conflict):
    pass


class EffectiveDateTooEarly(Conflict):
    pass


class CommunityDissolved(Conflict):
    pass


class NothingToChange(Conflict):
    pass


class ConcurrentChange(Conflict):
    """Another writer kept changing the same record; the command was not recorded."""


class ConfigurationError(LedgerError):
    """The ledger cannot start as configured (for example, an unknown database URL)."""


class LedgerNotFound(NotFound):
    """The store named holds no ledger (yet)."""


class CouncilNotFound(NotFound):
    pass


class MeetingNotFound(NotFound):
    pass


class ResolutionNotFound(NotFound):
    pass


class SeatRuleBroken(Conflict):
    """A seat assignment or vacancy the council's rules do not allow."""


class ResolutionRequired(Conflict):
    """The charter requires an adopted resolution for this change."""


class ResolutionNotUsable(Conflict):
    """The resolution named does not authorise this change."""


class CharterRuleBroken(Conflict):
    pass


class InvalidShares(InvalidInput):
    """Shares that are not whole basis points adding up to exactly 10000."""


class AgreementNotFound(NotFound):
    pass


class EntryNotFound(NotFound):
    pass


class AgreementRuleBroken(Conflict):
    """A change the agreement's state does not allow: not yet approved, already
    terminated, a contribution from a unit that is not a party, …"""


class TamperedRecord(Conflict):
    """The stored record does not match its hash: it was changed behind the ledger's back."""


class NotALead(Conflict):
    """The unit named does not lead the body on the date (the recommending province
    is the province of one of an industry body's leads)."""


class NotAnIndustryBody(Conflict):
    """Something only an industry body (行业产教融合共同体) has, asked of another kind."""
