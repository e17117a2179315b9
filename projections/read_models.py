"""Every read model, and opening them on a ledger."""

from __future__ import annotations

import logging

from eventsourcing.persistence import InterfaceError, OperationalError

from application.ledger import Ledger
from domain.errors import TamperedRecord
from projections.cost_sharing_model import CostSharing
from projections.machinery import ReadModel, Store
from projections.membership_model import Membership
from projections.register_model import ResolutionRegister

MODELS: list[type[ReadModel]] = [Membership, CostSharing, ResolutionRegister]

log = logging.getLogger("chanjiao.projections")


def open_store(ledger: Ledger) -> Store:
    """The read models on ``ledger``'s database, caught up after each of its saves.

    A read model that fails to catch up after a save does not fail the command,
    which is already recorded: it stays behind (``projections status`` shows it)
    and the next read catches it up or reports the problem."""
    store = Store(ledger, MODELS)

    def after_save(position: int) -> None:
        try:
            store.catch_up()
        except TamperedRecord as e:  # no bug either: the error names the event
            log.error("read models could not catch up to position %s: %s", position, e)
        except (OperationalError, InterfaceError) as e:  # the database is away: no bug
            log.warning(
                "read models could not catch up to position %s: %s",
                position,
                str(e).strip() or type(e).__name__,
            )
        except Exception:
            log.exception("read models could not catch up to position %s", position)

    ledger.after_save.append(after_save)
    return store
