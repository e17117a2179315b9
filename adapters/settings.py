"""Which store the ledger uses: one URL, translated into the library's settings.

``CHANJIAO_DATABASE_URL`` (or the CLI's ``--db``) is one of

- ``sqlite:///chanjiao.db`` (the default: a file in the working directory),
  ``sqlite:////absolute/path.db``;
- ``postgresql://user:password@host:port/dbname[?schema=name&connect_timeout=s]``;
- ``memory://``: nothing kept (tests and trials).
"""

from __future__ import annotations

import getpass
import os
from urllib.parse import parse_qs, unquote, urlsplit

from eventsourcing.utils import get_topic

from adapters.codec import MsgspecMapper
from adapters.recorders import ChainedPostgresRecorder, ChainedSQLiteRecorder
from domain.errors import ConfigurationError

DEFAULT_DATABASE_URL = "sqlite:///chanjiao.db"

POSTGRES_LOCK_TIMEOUT_S = "5"
"""The library waits forever for the table lock by default; a writer stuck behind a
dead transaction should fail and be retried instead."""

POSTGRES_POOL_WAIT_S = "10"
"""``connect_timeout`` unless the URL says otherwise: the library passes its
POSTGRES_CONNECT_TIMEOUT to psycopg_pool as the time a caller waits for a pooled
connection, after which the store counts as unavailable (503). A database restart of a
few seconds is waited out rather than refused (tests/reliability/test_database_restart.py).

The library's POSTGRES_PRE_PING is left off on purpose: psycopg_pool 3.3 waits 1, 2, 4,
8 s between failed checks, so after a restart that broke the idle pooled connections the
first request waited the whole 10 s and was still refused (503), where without it each
broken connection costs one request a quick 503 (measured on a private cluster)."""


def database_url(url: str | None = None) -> str:
    return url or os.environ.get("CHANJIAO_DATABASE_URL") or DEFAULT_DATABASE_URL


def store_env(url: str) -> dict[str, str]:
    """The eventsourcing library's environment for the store named by ``url``."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        path = url.split("://", 1)[1]
        path = path[1:] if path.startswith("/") else path
        if not path:
            raise ConfigurationError(
                f"database URL {url!r} names no file; write sqlite:///chanjiao.db"
            )
        return {
            "MAPPER_TOPIC": get_topic(MsgspecMapper),
            "APPLICATION_RECORDER_TOPIC": get_topic(ChainedSQLiteRecorder),
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": unquote(path),
            "SQLITE_LOCK_TIMEOUT": "10",
        }
    if scheme in ("postgresql", "postgres"):
        dbname = unquote(parts.path.lstrip("/"))
        if not dbname:
            raise ConfigurationError(f"database URL {url!r} names no database")
        query = parse_qs(parts.query)
        return {
            "MAPPER_TOPIC": get_topic(MsgspecMapper),
            "APPLICATION_RECORDER_TOPIC": get_topic(ChainedPostgresRecorder),
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": dbname,
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": unquote(parts.username or "") or getpass.getuser(),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_SCHEMA": query.get("schema", [""])[0],
            "POSTGRES_LOCK_TIMEOUT": POSTGRES_LOCK_TIMEOUT_S,
            "POSTGRES_CONNECT_TIMEOUT": query.get("connect_timeout", [POSTGRES_POOL_WAIT_S])[0],
        }
    if scheme == "memory":
        return {
            "MAPPER_TOPIC": get_topic(MsgspecMapper),
            "PERSISTENCE_MODULE": "eventsourcing.popo",
        }
    raise ConfigurationError(
        f"database URL {url!r} is not understood: use sqlite:///FILE, "
        "postgresql://USER@HOST:PORT/DBNAME or memory://"
    )
