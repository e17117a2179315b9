"""The server signs a checkpoint now and then (``CHANJIAO_CHECKPOINT_EVERY`` seconds,
default 3600; 0 turns it off), whenever the log has grown since the last one, so an
auditor always has a recent signed root to keep (ADR 0014)."""

from __future__ import annotations

import asyncio
import logging
import os

from starlette.concurrency import run_in_threadpool

from adapters.signing import SigningKey
from bootstrap import Ledger
from domain.checkpoints import Checkpoint
from domain.errors import ConfigurationError

log = logging.getLogger("chanjiao.audit")

DEFAULT_EVERY_S = 3600.0


def interval(every: float | None = None) -> float:
    if every is not None:
        return every
    text = os.environ.get("CHANJIAO_CHECKPOINT_EVERY", "")
    try:
        value = float(text) if text else DEFAULT_EVERY_S
    except ValueError:
        raise ConfigurationError(
            f"CHANJIAO_CHECKPOINT_EVERY={text!r} is not a number of seconds"
        ) from None
    if value < 0:
        raise ConfigurationError("CHANJIAO_CHECKPOINT_EVERY cannot be negative")
    return value


def checkpoint_if_grown(ledger: Ledger) -> Checkpoint | None:
    """A new checkpoint if events were recorded since the last one, else None."""
    kept = ledger.checkpoints()
    head = ledger.recorder.max_notification_id() or 0
    if head == 0 or (kept and kept[-1].position >= head):
        return None
    key = SigningKey.load()
    if key.created:
        log.warning("%s", key.created_message())
    checkpoint = ledger.checkpoint(key)
    log.info(
        "checkpoint signed: %s events up to position %s, root %s",
        checkpoint.size,
        checkpoint.position,
        checkpoint.root,
    )
    return checkpoint


async def run(ledger: Ledger, every: float) -> None:
    """Until cancelled: every ``every`` seconds, a checkpoint if the log grew. A log
    that no longer verifies is logged as an error each time, never signed."""
    while True:
        await asyncio.sleep(every)
        try:
            await run_in_threadpool(checkpoint_if_grown, ledger)
        except Exception:
            log.exception("no checkpoint was signed")
