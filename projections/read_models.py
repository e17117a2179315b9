"""Every read model, and opening them on a ledger."""

from __future__ import annotations

import logging
import threading

from eventsourcing.persistence import InterfaceError, OperationalError

from application.ledger import Ledger
from domain.errors import TamperedRecord
from projections.cost_sharing_model import CostSharing
from projections.directory import Directory
from projections.machinery import ReadModel, Store
from projections.membership_model import Membership
from projections.register_model import ResolutionRegister

MODELS: list[type[ReadModel]] = [Membership, CostSharing, ResolutionRegister]

log = logging.getLogger("chanjiao.projections")


def open_store(ledger: Ledger, *, follow: bool = False) -> Store:
    """The read models on ``ledger``'s database, brought up to date after its saves.

    ``follow=False`` (the command line): inside each save, so the database's read
    models are current when a command ends. ``follow=True`` (the HTTP API): by a
    background thread a save only wakes, so the command's answer does not wait for
    them and one catch-up folds the events of many writes (ADR 0023); reads stay
    current either way (``Store.reading``).

    A read model that fails to catch up does not fail the command, which is already
    recorded: it stays behind (``projections status`` shows it) and the next read
    catches it up or reports the problem."""
    store = Store(ledger, MODELS)
    ledger.directory = Directory(store)  # names are looked up in the read models
    if follow:
        follower = store.follower = Follower(store)
        ledger.after_save.append(follower.nudge)
    else:
        ledger.after_save.append(lambda position: _catch_up(store, position))
    return store


def _catch_up(store: Store, position: int | None) -> None:
    """``store.catch_up()``, logging instead of raising: whoever asked has nothing
    to do about a failure, and the next read meets it again."""
    to = f"position {position}" if position is not None else "the head of the log"
    try:
        store.catch_up()
    except TamperedRecord as e:  # no bug either: the error names the event
        log.error("read models could not catch up to %s: %s", to, e)
    except (OperationalError, InterfaceError) as e:  # the database is away: no bug
        log.warning(
            "read models could not catch up to %s: %s", to, str(e).strip() or type(e).__name__
        )
    except Exception:
        log.exception("read models could not catch up to %s", to)


class Follower:
    """A thread that catches the read models up after saves, and every ``poll``
    seconds for what other processes recorded.

    ``nudge`` only sets an event, so a save never waits for the read models; saves
    arriving while a catch-up runs are folded into the next one. Reads do not
    depend on it for correctness: ``Store.reading`` catches up itself when the
    models are behind, so a follower that is slow, failing or stopped costs a read
    time, never a stale answer."""

    def __init__(self, store: Store, poll: float = 1.0) -> None:
        self.store = store
        self.poll = poll
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start following (the server does, once it serves: until then, and in a
        test that never starts it, reads catch up themselves)."""
        if self._thread is None or not self._thread.is_alive():
            self._stopping = False
            self._thread = threading.Thread(
                target=self._run, name="chanjiao-read-models", daemon=True
            )
            self._thread.start()

    def nudge(self, position: int | None = None) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stopping:
            self._wake.wait(self.poll)
            self._wake.clear()
            if self._stopping:
                return
            _catch_up(self.store, None)

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the catch-up under way, if any, and end the thread."""
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
