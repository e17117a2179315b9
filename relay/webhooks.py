"""Webhooks: each event POSTed to each endpoint that wants it, as a CloudEvent signed
per the Standard Webhooks specification, at least once (ADR 0031).

An endpoint gets its events in position order, one at a time: a delivery that fails is
retried with exponential backoff and jitter (``CHANJIAO_WEBHOOK_BACKOFF``, doubling, at
most an hour apart) until ``CHANJIAO_WEBHOOK_RETRY_FOR`` has passed since its first
attempt; then it is marked failed and the endpoint goes on with the next event. Each
endpoint has a task of its own, so a slow or dead one never delays another. Where each
endpoint got to and every delivery's state are rows in the ledger's database
(``adapters.webhooks``), so a restart goes on where it stopped: an event whose delivery
was under way may be sent again, with the same ``webhook-id``, for the receiver to
de-duplicate."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import random
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx

from adapters.dialect import is_postgres
from adapters.notify import start_listening
from adapters.relays import exclusive, now
from adapters.webhooks import (
    DELIVERED,
    FAILED,
    PENDING,
    Delivery,
    Endpoint,
    WebhookTables,
    read_secret,
)
from api.events import Encoder, Item
from relay.running import Running

log = logging.getLogger("chanjiao.webhooks")

LOCK = "webhooks"  # one deliverer per ledger: adapters.relays.exclusive
MAX_BACKOFF = 3600.0
PAGE = 100


def signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """``webhook-signature`` per the Standard Webhooks specification: ``v1,`` and the
    base64 HMAC-SHA256 of ``{id}.{timestamp}.{body}`` under the secret's key."""
    signed = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(signed).decode()


def wants(endpoint: Endpoint, item: Item) -> bool:
    return (not endpoint.types or item.type in endpoint.types) and (
        not endpoint.communities or item.community in endpoint.communities
    )


@dataclass
class Deliverer(Running):
    encoder: Encoder
    tables: WebhookTables
    timeout: float = 10.0
    retry_for: float = 86400.0
    backoff: float = 5.0
    poll: float = 1.0  # seconds between looks at the ledger and the endpoints

    async def run(self) -> None:
        if not self._begin():
            return
        if is_postgres(self.encoder.ledger.recorder):
            start_listening(self.encoder.ledger.recorder, self.wake, self._stopping)
        workers: dict[str, asyncio.Task[None]] = {}
        async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False) as client:
            try:
                while not self._stop.is_set():
                    try:
                        endpoints = await asyncio.to_thread(self.tables.endpoints)
                    except Exception as e:
                        log.warning("webhooks: cannot read the endpoints (%s); trying again", e)
                        endpoints = None
                    if endpoints is not None:
                        active = {e.id: e for e in endpoints}
                        for endpoint_id, task in list(workers.items()):
                            if endpoint_id not in active or task.done():
                                task.cancel()
                                del workers[endpoint_id]
                        for endpoint_id, endpoint in active.items():
                            if endpoint_id not in workers:
                                workers[endpoint_id] = asyncio.create_task(
                                    self._endpoint(client, endpoint)
                                )
                    await self._pause(max(self.poll, 1.0), wake=False)
            finally:
                for task in workers.values():
                    task.cancel()
                await asyncio.gather(*workers.values(), return_exceptions=True)

    # --- one endpoint -----------------------------------------------------------------

    async def _endpoint(self, client: httpx.AsyncClient, endpoint: Endpoint) -> None:
        """Every event after the endpoint's cursor, in order, for as long as it is active;
        a failure of the database or the secret file is waited out."""
        assert self._stop is not None and self._wake is not None
        down = ""
        while not self._stop.is_set():
            try:
                key = read_secret(endpoint.secret_file)
                await self._deliver_all(client, endpoint, key)
                return
            except asyncio.CancelledError:
                raise
            except Exception as e:
                what = str(e).strip() or type(e).__name__
                if what != down:
                    log.warning("webhook %s: %s; trying again in 30 s", endpoint.id, what)
                down = what
                await self._pause(30.0, wake=False)

    async def _deliver_all(self, client: httpx.AsyncClient, endpoint: Endpoint, key: bytes) -> None:
        assert self._stop is not None and self._wake is not None
        cursor = await asyncio.to_thread(self.tables.cursor, endpoint.id)
        while not self._stop.is_set():
            self._wake.clear()
            for queued in await asyncio.to_thread(self.tables.queued, endpoint.id, cursor):
                items, _ = await asyncio.to_thread(
                    self.encoder.page, queued.position - 1, 1, None, None
                )
                found = items[0] if items and items[0].position == queued.position else None
                if found and not await self._deliver(client, endpoint, key, found, queued):
                    return  # stopped
            items, reached = await asyncio.to_thread(self.encoder.page, cursor, PAGE, None, None)
            for item in items:
                if not wants(endpoint, item):
                    continue
                kept = await asyncio.to_thread(self.tables.delivery, endpoint.id, item.position)
                if not await self._deliver(client, endpoint, key, item, kept):
                    return  # stopped while it was being tried: the cursor stays before it
                await asyncio.to_thread(self.tables.advance, endpoint.id, item.position)
                cursor = item.position
            if reached > cursor:  # past events this endpoint does not want
                cursor = reached
                await asyncio.to_thread(self.tables.advance, endpoint.id, cursor)
            if len(items) < PAGE:
                await self._pause(self.poll)

    async def _deliver(
        self,
        client: httpx.AsyncClient,
        endpoint: Endpoint,
        key: bytes,
        item: Item,
        kept: Delivery | None,
    ) -> bool:
        """Try until delivered or given up (True), or stopped (False)."""
        assert self._stop is not None
        d = kept or Delivery(
            endpoint=endpoint.id,
            position=item.position,
            type=item.type,
            status=PENDING,
            attempts=0,
            last_result="",
            first_attempt_at=None,
            last_attempt_at=None,
            next_attempt_at=None,
        )
        if d.status in (DELIVERED, FAILED):
            return True  # done before a restart that came before the cursor moved
        while not self._stop.is_set():
            if d.next_attempt_at is not None:
                wait = (d.next_attempt_at - now()).total_seconds()
                if wait > 0:
                    await self._pause(wait, wake=False)
                    continue
            at = now()
            ok, result = await self._post(client, endpoint, key, item, int(at.timestamp()))
            first = d.first_attempt_at or at
            attempts = d.attempts + 1
            if ok:
                status, next_at = DELIVERED, None
            elif (now() - first).total_seconds() >= self.retry_for:
                status, next_at = FAILED, None
                log.warning(
                    "webhook %s: the event at position %d failed %d times over %s (last: "
                    "%s); marked failed, going on with the next. chanjiao webhook redeliver "
                    "%s %d tries it again",
                    endpoint.id,
                    item.position,
                    attempts,
                    now() - first,
                    result,
                    endpoint.id,
                    item.position,
                )
            else:
                delay = min(self.backoff * 2 ** (attempts - 1), MAX_BACKOFF)
                delay *= random.uniform(0.8, 1.2)
                last_chance = first + timedelta(seconds=self.retry_for)
                status, next_at = PENDING, min(now() + timedelta(seconds=delay), last_chance)
            d = Delivery(
                endpoint=endpoint.id,
                position=item.position,
                type=item.type,
                status=status,
                attempts=attempts,
                last_result=result,
                first_attempt_at=first,
                last_attempt_at=at,
                next_attempt_at=next_at,
            )
            await asyncio.to_thread(self.tables.record, d)
            if status != PENDING:
                return True
        return False

    async def _post(
        self, client: httpx.AsyncClient, endpoint: Endpoint, key: bytes, item: Item, at: int
    ) -> tuple[bool, str]:
        msg_id = str(item.position)
        headers = {
            "content-type": "application/cloudevents+json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(at),
            "webhook-signature": signature(key, msg_id, at, item.json),
            "user-agent": "chanjiao-webhooks",
        }
        try:
            response = await client.post(endpoint.url, content=item.json, headers=headers)
        except httpx.TimeoutException:
            return False, f"no answer within {self.timeout:g} s"
        except httpx.HTTPError as e:
            return False, f"{type(e).__name__}: {str(e).strip() or 'no detail'}"
        return 200 <= response.status_code < 300, str(response.status_code)


def run_in_thread(deliverer: Deliverer, database: Any, url: str) -> threading.Thread:
    """The deliverer in a thread of its own, once it holds the ledger's webhook lock (so
    that of several ``chanjiao serve`` processes one delivers); ``deliverer.stop()``
    ends it."""

    def work() -> None:
        with exclusive(database, url, LOCK, deliverer.stopping, lambda: None) as taken:
            if taken:
                asyncio.run(deliverer.run())

    thread = threading.Thread(target=work, name="chanjiao-webhooks", daemon=True)
    thread.start()
    return thread
