"""The ledger's settings, read from the environment once (``Settings.from_environ``),
and which store the ledger uses: one URL, translated into the library's settings.

``CHANJIAO_DATABASE_URL`` (or the CLI's ``--db``) is one of

- ``sqlite:///chanjiao.db`` (the default: a file in the working directory),
  ``sqlite:////absolute/path.db``;
- ``postgresql://user:password@host:port/dbname[?schema=name&connect_timeout=s]``;
- ``memory://``: nothing kept (tests and trials).
"""

from __future__ import annotations

import getpass
import math
import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import msgspec
from eventsourcing.utils import get_topic

from adapters.codec import MsgspecMapper
from adapters.recorders import ChainedPostgresRecorder, ChainedSQLiteRecorder
from domain.errors import ConfigurationError

DEFAULT_DATABASE_URL = "sqlite:///chanjiao.db"
DEFAULT_KEY_FILE = "chanjiao-signing.key"
DEFAULT_EVENT_SOURCE = "/chanjiao"

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


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Every ``CHANJIAO_*`` setting (README, Configuration). ``from_environ`` is the one
    place outside the tests and benchmarks that reads the environment: the composition
    root (``bootstrap``) calls it when a command or the server starts, never at import,
    and hands the settings down."""

    database_url: str = DEFAULT_DATABASE_URL
    principal: str | None = None
    """Who is recording, for the CLI; None: ``cli:<login name>``."""
    event_source: str = DEFAULT_EVENT_SOURCE
    public_url: str | None = None
    """Where clients reach the server; None: the address ``chanjiao serve`` listens on."""
    signing_key: Path = Path(DEFAULT_KEY_FILE)
    checkpoint_every: float = 3600.0
    """Seconds between checkpoints the server signs while the log grows; 0: none."""
    stream_send_timeout: float = 15.0
    """Seconds one write to an event-stream subscriber may wait before it is dropped."""
    token_cache: float = 5.0
    """Seconds a verified API token is trusted without reading the table again; 0: no
    cache. A revocation made by another process takes effect within this time."""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """The settings ``environ`` gives; a variable unset or empty keeps its default.
        A value the ledger cannot use is refused, naming the variable."""

        def text(name: str) -> str | None:
            return environ.get(name, "").strip() or None

        found: dict[str, object] = {
            "database_url": text("CHANJIAO_DATABASE_URL"),
            "principal": text("CHANJIAO_PRINCIPAL"),
            "event_source": text("CHANJIAO_EVENT_SOURCE"),
            "public_url": _absolute_url("CHANJIAO_PUBLIC_URL", text("CHANJIAO_PUBLIC_URL")),
            "checkpoint_every": _seconds(
                "CHANJIAO_CHECKPOINT_EVERY",
                text("CHANJIAO_CHECKPOINT_EVERY"),
                zero="no checkpoints",
            ),
            "stream_send_timeout": _seconds(
                "CHANJIAO_STREAM_SEND_TIMEOUT", text("CHANJIAO_STREAM_SEND_TIMEOUT")
            ),
            "token_cache": _seconds(
                "CHANJIAO_TOKEN_CACHE", text("CHANJIAO_TOKEN_CACHE"), zero="no cache"
            ),
        }
        key = text("CHANJIAO_SIGNING_KEY")
        if key is not None:
            found["signing_key"] = Path(key)
        return cls(**{k: v for k, v in found.items() if v is not None})


def _seconds(name: str, value: str | None, zero: str | None = None) -> float | None:
    """``value`` as a number of seconds: above 0, or 0 too when ``zero`` says what it means."""
    if value is None:
        return None
    least = "0 or more" if zero else "above 0"
    meaning = f" (0: {zero})" if zero else ""
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not (seconds >= 0 if zero else seconds > 0) or math.isinf(seconds):
        raise ConfigurationError(
            f"{name} must be a number of seconds, {least}{meaning}; got {value!r}"
        )
    return seconds


def _absolute_url(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ConfigurationError(
            f"{name} must be where clients reach the server, an absolute URL such as "
            f"https://ledger.example.org; got {value!r}"
        )
    return value


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
