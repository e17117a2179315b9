"""The server signs a checkpoint now and then (``CHANJIAO_CHECKPOINT_EVERY`` seconds,
default 3600; 0 turns it off), whenever the log has grown since the last one, so an
auditor always has a recent signed root to keep (ADR 0014)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from starlette.concurrency import run_in_threadpool

from adapters.signing import SigningKey
from bootstrap import Ledger
from domain.checkpoints import Checkpoint

log = logging.getLogger("chanjiao.audit")


def checkpoint_if_grown(ledger: Ledger, signing_key: Path | None = None) -> Checkpoint | None:
    """A new checkpoint, signed with the key in ``signing_key``, if events were recorded
    since the last one, else None."""
    kept = ledger.checkpoints()
    head = ledger.recorder.max_notification_id() or 0
    if head == 0 or (kept and kept[-1].position >= head):
        return None
    key = SigningKey.load(signing_key)
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


async def run(ledger: Ledger, every: float, signing_key: Path | None = None) -> None:
    """Until cancelled: every ``every`` seconds, a checkpoint if the log grew. A log
    that no longer verifies is logged as an error each time, never signed."""
    while True:
        await asyncio.sleep(every)
        try:
            await run_in_threadpool(checkpoint_if_grown, ledger, signing_key)
        except Exception:
            log.exception("no checkpoint was signed")
