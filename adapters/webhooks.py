"""Webhook endpoints and their deliveries, kept in the ledger's database (ADR 0031):
``webhook_endpoints`` (where, which events, the file holding the secret),
``webhook_cursors`` (the last event each endpoint is done with) and
``webhook_deliveries`` (each event's delivery to each endpoint: attempts, outcome, when
to try again). The secret itself stays in its file, as the signing key does: the
database, its backups and the audit bundles never hold it."""

from __future__ import annotations

import base64
import json
import secrets
import stat
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import msgspec

from adapters.relays import now
from adapters.sql import Database, Tables
from domain.errors import ConfigurationError, InvalidInput, NotFound

SECRET_PREFIX = "whsec_"

_TABLES = {
    "webhook_endpoints": (
        "id TEXT PRIMARY KEY, url TEXT NOT NULL, secret_file TEXT NOT NULL, "
        "types TEXT NOT NULL, communities TEXT NOT NULL, added_at TEXT NOT NULL, "
        "added_by TEXT NOT NULL, removed_at TEXT"
    ),
    "webhook_cursors": "endpoint TEXT PRIMARY KEY, position BIGINT NOT NULL",
    "webhook_deliveries": (
        "endpoint TEXT NOT NULL, position BIGINT NOT NULL, type TEXT NOT NULL, "
        "status TEXT NOT NULL, attempts INTEGER NOT NULL, last_result TEXT NOT NULL, "
        "first_attempt_at TEXT, last_attempt_at TEXT, next_attempt_at TEXT, "
        "PRIMARY KEY (endpoint, position)"
    ),
}

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
"""A delivery's status: being tried (or queued again by ``redeliver``), done, given up."""


class Endpoint(msgspec.Struct, frozen=True):
    id: str
    url: str
    secret_file: str
    types: list[str]  # empty: every type
    communities: list[UUID]  # empty: every event, units' included
    added_at: datetime
    added_by: str
    removed_at: datetime | None = None


class Delivery(msgspec.Struct, frozen=True):
    endpoint: str
    position: int
    type: str
    status: str
    attempts: int
    last_result: str  # "200", "503", "timed out after 10 s", "connection refused", …
    first_attempt_at: datetime | None
    last_attempt_at: datetime | None
    next_attempt_at: datetime | None


def read_secret(path: str | Path) -> bytes:
    """The signing secret in ``path``: ``whsec_`` and the key in base64 (as the Standard
    Webhooks libraries take it), 24 to 64 bytes; the file readable by its owner only."""
    file = Path(path)
    try:
        mode = file.stat().st_mode
        text = file.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigurationError(f"cannot read the webhook secret file {file}: {e}") from e
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigurationError(
            f"the webhook secret file {file} may be read by others; chmod 600 {file}"
        )
    try:
        key = base64.b64decode(text.removeprefix(SECRET_PREFIX), validate=True)
    except ValueError:
        key = b""
    if not text.startswith(SECRET_PREFIX) or not 24 <= len(key) <= 64:
        raise ConfigurationError(
            f"{file} does not hold a webhook secret: write whsec_ and 24 to 64 random bytes "
            "in base64, e.g. with: chanjiao webhook secret > FILE"
        )
    return key


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


class WebhookTables:
    def __init__(self, database: Database) -> None:
        self.tables = Tables(database, _TABLES)

    # --- endpoints ------------------------------------------------------------------

    def add(
        self,
        url: str,
        secret_file: str,
        types: list[str],
        communities: list[UUID],
        by: str,
        *,
        after: int,
    ) -> Endpoint:
        """A new endpoint, sent the events recorded after position ``after``."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidInput(f"a webhook URL is http:// or https:// and a host; got {url!r}")
        path = Path(secret_file).expanduser().resolve()
        read_secret(path)
        endpoint = Endpoint(
            id="wh_" + secrets.token_hex(4),
            url=url,
            secret_file=str(path),
            types=sorted(set(types)),
            communities=sorted(set(communities), key=str),
            added_at=now(),
            added_by=by,
        )
        with self.tables.datastore.transaction(commit=True) as cursor:
            self.tables.run(
                cursor,
                "INSERT INTO {webhook_endpoints} (id, url, secret_file, types, communities, "
                "added_at, added_by, removed_at) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
                (
                    endpoint.id,
                    endpoint.url,
                    endpoint.secret_file,
                    json.dumps(endpoint.types),
                    json.dumps([str(c) for c in endpoint.communities]),
                    endpoint.added_at.isoformat(),
                    by,
                ),
            )
            self.tables.run(
                cursor,
                "INSERT INTO {webhook_cursors} (endpoint, position) VALUES (?, ?)",
                (endpoint.id, after),
            )
        return endpoint

    def endpoints(self, *, removed: bool = False) -> list[Endpoint]:
        rows = self.tables.read(
            "SELECT * FROM {webhook_endpoints}"
            + ("" if removed else " WHERE removed_at IS NULL")
            + " ORDER BY added_at, id"
        )
        return [_endpoint(r) for r in rows]

    def endpoint(self, endpoint_id: str) -> Endpoint:
        rows = self.tables.read("SELECT * FROM {webhook_endpoints} WHERE id = ?", (endpoint_id,))
        if not rows:
            raise NotFound(f"no webhook {endpoint_id!r}; chanjiao webhook list shows them")
        return _endpoint(rows[0])

    def remove(self, endpoint_id: str) -> Endpoint:
        endpoint = self.endpoint(endpoint_id)
        if endpoint.removed_at is None:
            self.tables.write(
                "UPDATE {webhook_endpoints} SET removed_at = ? WHERE id = ?",
                (now().isoformat(), endpoint_id),
            )
        return self.endpoint(endpoint_id)

    # --- progress -------------------------------------------------------------------

    def cursor(self, endpoint_id: str) -> int:
        rows = self.tables.read(
            "SELECT position FROM {webhook_cursors} WHERE endpoint = ?", (endpoint_id,)
        )
        return int(rows[0]["position"]) if rows else 0

    def advance(self, endpoint_id: str, position: int) -> None:
        """The endpoint is done with every event up to ``position`` (one deliverer runs
        at a time: it holds the lock, ``adapters.relays.exclusive``)."""
        with self.tables.datastore.transaction(commit=True) as cursor:
            if not self.tables.run(
                cursor,
                "UPDATE {webhook_cursors} SET position = ? WHERE endpoint = ?",
                (position, endpoint_id),
            ):
                self.tables.run(
                    cursor,
                    "INSERT INTO {webhook_cursors} (endpoint, position) VALUES (?, ?)",
                    (endpoint_id, position),
                )

    # --- deliveries -----------------------------------------------------------------

    def delivery(self, endpoint_id: str, position: int) -> Delivery | None:
        rows = self.tables.read(
            "SELECT * FROM {webhook_deliveries} WHERE endpoint = ? AND position = ?",
            (endpoint_id, position),
        )
        return _delivery(rows[0]) if rows else None

    def record(self, d: Delivery) -> None:
        values = (
            d.type,
            d.status,
            d.attempts,
            d.last_result,
            _iso(d.first_attempt_at),
            _iso(d.last_attempt_at),
            _iso(d.next_attempt_at),
        )
        with self.tables.datastore.transaction(commit=True) as cursor:
            if not self.tables.run(
                cursor,
                "UPDATE {webhook_deliveries} SET type = ?, status = ?, attempts = ?, "
                "last_result = ?, first_attempt_at = ?, last_attempt_at = ?, "
                "next_attempt_at = ? WHERE endpoint = ? AND position = ?",
                (*values, d.endpoint, d.position),
            ):
                self.tables.run(
                    cursor,
                    "INSERT INTO {webhook_deliveries} (type, status, attempts, last_result, "
                    "first_attempt_at, last_attempt_at, next_attempt_at, endpoint, position) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (*values, d.endpoint, d.position),
                )

    def deliveries(
        self, endpoint_id: str | None = None, *, status: str | None = None, limit: int = 100
    ) -> list[Delivery]:
        where, params = [], []
        if endpoint_id is not None:
            where.append("endpoint = ?")
            params.append(endpoint_id)
        if status is not None:
            where.append("status = ?")
            params.append(status)
        rows = self.tables.read(
            "SELECT * FROM {webhook_deliveries}"
            + (" WHERE " + " AND ".join(where) if where else "")
            + " ORDER BY position DESC, endpoint LIMIT ?",
            (*params, limit),
        )
        return [_delivery(r) for r in rows]

    def queued(self, endpoint_id: str, below: int) -> list[Delivery]:
        """Deliveries of events at or before the cursor that ``redeliver`` put back."""
        rows = self.tables.read(
            "SELECT * FROM {webhook_deliveries} WHERE endpoint = ? AND status = ? "
            "AND position <= ? ORDER BY position",
            (endpoint_id, PENDING, below),
        )
        return [_delivery(r) for r in rows]

    def redeliver(self, endpoint_id: str, positions: list[int], *, failed: bool) -> int:
        """Put deliveries back to be tried again from scratch: those at ``positions``,
        and with ``failed`` every failed one of the endpoint; how many."""
        self.endpoint(endpoint_id)
        count = 0
        with self.tables.datastore.transaction(commit=True) as cursor:
            reset = (
                "UPDATE {webhook_deliveries} SET status = ?, attempts = 0, "
                "first_attempt_at = NULL, next_attempt_at = NULL WHERE endpoint = ?"
            )
            if failed:
                count += self.tables.run(
                    cursor, reset + " AND status = ?", (PENDING, endpoint_id, FAILED)
                )
            for position in positions:
                changed = self.tables.run(
                    cursor, reset + " AND position = ?", (PENDING, endpoint_id, position)
                )
                if not changed:
                    raise NotFound(
                        f"webhook {endpoint_id} has no delivery of the event at position "
                        f"{position}; chanjiao webhook deliveries {endpoint_id} lists them"
                    )
                count += changed
        return count


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _when(text: Any) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _endpoint(row: dict[str, Any]) -> Endpoint:
    return Endpoint(
        id=row["id"],
        url=row["url"],
        secret_file=row["secret_file"],
        types=json.loads(row["types"]),
        communities=[UUID(c) for c in json.loads(row["communities"])],
        added_at=datetime.fromisoformat(row["added_at"]),
        added_by=row["added_by"],
        removed_at=_when(row["removed_at"]),
    )


def _delivery(row: dict[str, Any]) -> Delivery:
    return Delivery(
        endpoint=row["endpoint"],
        position=int(row["position"]),
        type=row["type"],
        status=row["status"],
        attempts=int(row["attempts"]),
        last_result=row["last_result"],
        first_attempt_at=_when(row["first_attempt_at"]),
        last_attempt_at=_when(row["last_attempt_at"]),
        next_attempt_at=_when(row["next_attempt_at"]),
    )
