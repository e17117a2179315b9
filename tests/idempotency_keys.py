"""An Idempotency-Key handed to a command's save, as ``api.idempotency`` hands it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from adapters.idempotency import RequestKeys
from application.ledger import ALSO_IN_SAVE


@contextmanager
def keyed(keys: RequestKeys, attempt: str, key: str = "k") -> Iterator[None]:
    """Around a command: its save writes ``key`` (of the token ``"token"``) for
    ``attempt``, or records nothing where the key is written already."""
    to_record = keys.to_record("token", key, "fingerprint", attempt, datetime.now(UTC))
    marker = ALSO_IN_SAVE.set(to_record)
    try:
        yield
    finally:
        ALSO_IN_SAVE.reset(marker)
