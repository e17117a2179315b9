"""``Idempotency-Key`` on POST: a retry gets the first answer and records nothing.

Each key (per token) is reserved before the command runs. The command's own
recording transaction marks it as recorded (``application.ledger.ALSO_IN_SAVE``), so the
mark and the events commit or vanish together; the answer is stored just after.
A retry then finds one of:

- the answer: it is sent again (``Idempotent-Replayed: true``);
- a different request under the same key: 422;
- the request still running: 409, try again shortly;
- recorded, but the answer lost (the server stopped in between): 409 saying so —
  never a second recording;
- a reservation older than ``STALE`` never recorded (the server stopped before the
  command saved): taken over and run. The takeover is fenced: each reservation
  carries an attempt id, and the recording transaction marks the key only where
  its own attempt still holds it — a request that was taken over while it was in
  fact still running fails at its save (409) and records nothing, so ``STALE`` can
  be short without ever recording a command twice.

A command that fails records nothing, so its reservation is dropped and a retry
runs it again.
"""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from adapters.idempotency import RequestKeys
from application.ledger import ALSO_IN_SAVE
from domain.errors import Conflict, InvalidInput
from projections.machinery import Store

INSTANCE = uuid.uuid4().hex[:12]
"""This process: its attempts' ids start with it, so it can tell its own dead
attempts (a command that failed while the database was away, its reservation not
dropped) from those of another process that may still be running."""

_running: set[str] = set()
_running_lock = threading.Lock()

STALE = timedelta(seconds=15)
"""How long a reservation that recorded nothing holds its key: a retry after a crash
waits at most this long. Longer than any command takes (the stores' lock timeouts
are 5 and 10 s); a slower one is fenced off, not recorded twice."""


class TakenOver(Conflict):
    """This attempt's reservation was taken over by a retry: it must not record."""


class Replay(msgspec.Struct, frozen=True):
    status: int
    answer: bytes


class Requests:
    def __init__(self, store: Store) -> None:
        self.keys = RequestKeys(store)

    @contextmanager
    def once(self, token_id: str, key: str, request: bytes) -> Iterator[tuple[Replay | None, Any]]:
        """Yields ``(replay, keep)``: a stored answer to send again, or None and a
        ``keep(status, body)`` to store the answer of the command run inside."""
        if not 1 <= len(key) <= 200:
            raise InvalidInput("Idempotency-Key must be 1 to 200 characters")
        fingerprint = hashlib.sha256(request).hexdigest()
        attempt = f"{INSTANCE}.{uuid.uuid4().hex}"
        with _running_lock:
            _running.add(attempt)
        try:
            replay = self._reserve(token_id, key, fingerprint, attempt)
            if replay is not None:
                yield replay, None
                return
            yield from self._run(token_id, key, attempt)
        finally:
            with _running_lock:
                _running.discard(attempt)

    def _run(self, token_id: str, key: str, attempt: str) -> Iterator[tuple[None, Any]]:
        ids = (token_id, key, attempt)

        def refused() -> TakenOver:
            # raised inside the recording transaction: nothing commits
            return TakenOver(
                f"the request with Idempotency-Key {key!r} was already recorded, or took "
                f"longer than {STALE.seconds} s and a retry took it over; this attempt "
                "recorded nothing"
            )

        mark = self.keys.fence(*ids, refused)

        def keep(status: int, body: bytes) -> None:
            self.keys.answer(*ids, status, body)

        marker = ALSO_IN_SAVE.set(mark)
        try:
            yield None, keep
        except BaseException:
            # Nothing was recorded unless the mark committed with the events.
            self.keys.release(*ids)
            raise
        finally:
            ALSO_IN_SAVE.reset(marker)

    def _reserve(self, token_id: str, key: str, fingerprint: str, attempt: str) -> Replay | None:
        now = datetime.now(UTC)
        if self.keys.reserve(token_id, key, fingerprint, attempt, now):
            return None
        row = self.keys.find(token_id, key)
        if row is None:  # the holder failed and let go just now
            return self._reserve(token_id, key, fingerprint, attempt)
        if row.fingerprint != fingerprint:
            raise InvalidInput(
                f"Idempotency-Key {key!r} was already used for a different request; "
                "use a new key for a new request"
            )
        if row.status is not None:
            return Replay(row.status, row.answer or b"")
        # No answer yet: the holder is still at it — unless it is an attempt of this
        # process that has ended (it failed and could not let go: the database was
        # away), or it has been at it for longer than STALE (its server stopped).
        ours = row.attempt.startswith(f"{INSTANCE}.")
        with _running_lock:
            dead = ours and row.attempt not in _running
        if dead:
            # It may have stored its answer and ended since the row was read (an
            # attempt stores its answer before it leaves the running set): read again.
            again = self.keys.find(token_id, key)
            if again is None or again.attempt != row.attempt:
                return self._reserve(token_id, key, fingerprint, attempt)
            row = again
            if row.status is not None:
                return Replay(row.status, row.answer or b"")
        if not dead and now - row.started_at < STALE:
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
        taken = self.keys.take_over(token_id, key, row.attempt, attempt, now)
        return None if taken else self._reserve(token_id, key, fingerprint, attempt)
