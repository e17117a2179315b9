"""``Idempotency-Key`` on POST: a retry gets the first answer and records nothing.

Nothing is written before the command runs, nor read (ADR 0035 and its amendment). The
transaction that records the command's events also writes the key
(``application.ledger.ALSO_IN_SAVE``), with the request's fingerprint and the attempt's
id, so that the key and the events commit or vanish together; the answer is stored just
after. A request runs; where its save finds the key written already, or its command is
refused by what the key's first attempt recorded, or it records nothing, the key is
looked up and the request finds it:

- absent: its own answer. Two attempts of one request that run at once (a client that
  retried too soon, a double click) may both decide, but only one records: the other's
  save finds the key written and records nothing, and it is answered as a retry is;
- with an answer: the answer is sent again (``Idempotent-Replayed: true``);
- with a different request under it: 422;
- recorded, its answer not yet stored: 409, try again shortly — or, once the attempt
  that recorded it has ended without storing one (its server or database stopped in
  between), 409 saying so: never a second recording.

A command that fails records nothing and writes no key: a retry runs it again. A
command that records nothing (nothing to change) writes no key either: a retry runs it
again, and finds nothing to change again.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import msgspec

from adapters.idempotency import RequestKeys, Reservation
from application.ledger import ALSO_IN_SAVE, SAVED_AT
from domain.errors import Conflict, InvalidInput
from projections.machinery import Store

INSTANCE = uuid.uuid4().hex[:12]
"""This process: its attempts' ids start with it, so it can tell its own ended attempts
(one that recorded and failed before storing its answer) from those of another process
that may still be running."""

_running: set[str] = set()
_running_lock = threading.Lock()

STALE = timedelta(seconds=15)
"""How long another process's attempt that recorded a request, its answer not stored
yet, counts as still making that answer; after it, the answer is taken as lost. Far
longer than an answer takes to make."""


class Answer(msgspec.Struct, frozen=True):
    status: int
    body: bytes
    replayed: bool = False
    """The first attempt's answer, sent again: this request recorded nothing."""


class Requests:
    def __init__(self, store: Store) -> None:
        self.keys = RequestKeys(store)

    def once(
        self, token_id: str, key: str, request: bytes, run: Callable[[], tuple[int, bytes]]
    ) -> Answer:
        """The answer to ``request`` sent under ``key``: the first one's, if a request
        with this key recorded before, else ``run()``'s (the command, then its status
        and body), with the key written by the command's save.

        The key is not looked up first: a request sent once (nearly every one) runs
        straight away, and its save writes the key or, where another attempt wrote it,
        records nothing (``KeyRecorded``). A retry is told by that refusal, or by the
        rule its first attempt's events now break, and only then is the key looked up
        and the first answer sent; a command that recorded nothing looks it up after
        it ran, since it wrote no key that could have been refused."""
        if not 1 <= len(key) <= 200:
            raise InvalidInput("Idempotency-Key must be 1 to 200 characters")
        fingerprint = hashlib.sha256(request).hexdigest()
        answer = self._attempt(token_id, key, fingerprint, run)
        if answer is None:  # an earlier release's reservation, dropped: run now
            answer = self._attempt(token_id, key, fingerprint, run, last=True)
        assert answer is not None
        return answer

    def _attempt(
        self,
        token_id: str,
        key: str,
        fingerprint: str,
        run: Callable[[], tuple[int, bytes]],
        last: bool = False,
    ) -> Answer | None:
        attempt = f"{INSTANCE}.{uuid.uuid4().hex}"
        with _running_lock:
            _running.add(attempt)
        try:
            marker = ALSO_IN_SAVE.set(
                self.keys.to_record(token_id, key, fingerprint, attempt, datetime.now(UTC))
            )
            SAVED_AT.set(None)
            try:
                status, body = run()
            except Exception:
                # A retry, or another attempt of the same request that recorded it
                # meanwhile: this one failed because of it (its key refused, or a rule
                # such as "a code is registered once"); the answer is the other's.
                earlier = self.keys.find(token_id, key)
                if earlier is None or earlier.attempt == attempt:
                    raise
                replay = self._earlier(token_id, key, fingerprint, earlier)
                if replay is None and last:
                    raise
                return replay
            finally:
                ALSO_IN_SAVE.reset(marker)
            if SAVED_AT.get() is None:
                # Recorded nothing, so no key of this attempt's was refused: a request
                # recorded before under the key is answered by its own answer.
                earlier = self.keys.find(token_id, key)
                if earlier is not None:
                    replay = self._earlier(token_id, key, fingerprint, earlier)
                    if replay is not None or not last:
                        return replay
                return Answer(status, body)
            self.keys.answer(token_id, key, attempt, status, body)
            return Answer(status, body)
        finally:
            with _running_lock:
                _running.discard(attempt)

    def _earlier(
        self, token_id: str, key: str, fingerprint: str, row: Reservation
    ) -> Answer | None:
        """What an earlier request under the key means for this one: its answer again,
        or a refusal; None where it left nothing recorded (an earlier release's
        reservation whose server stopped), so this one runs."""
        if row.fingerprint != fingerprint:
            raise InvalidInput(
                f"Idempotency-Key {key!r} was already used for a different request; "
                "use a new key for a new request"
            )
        if row.status is not None:
            return Answer(row.status, row.answer or b"", replayed=True)
        if row.attempt.startswith(f"{INSTANCE}."):
            with _running_lock:
                running = row.attempt in _running
            if not running:
                # It may have stored its answer and ended since the row was read (an
                # attempt stores its answer before it leaves the running set).
                again = self.keys.find(token_id, key)
                if again is not None and again.status is not None:
                    return Answer(again.status, again.answer or b"", replayed=True)
        else:
            running = datetime.now(UTC) - row.started_at < STALE
        if running:
            raise Conflict(
                f"the request with Idempotency-Key {key!r} is still being processed; "
                "retry in a moment"
            )
        if row.recorded:
            raise Conflict(
                f"the request with Idempotency-Key {key!r} was recorded, but its answer was "
                "lost (the server or its database stopped); read the current state instead "
                "of retrying"
            )
        self.keys.clear_abandoned(token_id, key, row.attempt)
        return None
