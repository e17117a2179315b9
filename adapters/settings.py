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
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit, urlunsplit

import msgspec
import psycopg
from eventsourcing.persistence import OperationalError
from eventsourcing.utils import get_topic
from psycopg import sql

from adapters.codec import MsgspecMapper
from adapters.recorders import ChainedPostgresRecorder, ChainedSQLiteRecorder
from domain.errors import ConfigurationError, LedgerNotFound

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
    session_key: Path = Path("chanjiao-session.key")
    """The file of the key that signs the console's session cookies (made on first use)."""
    checkpoint_every: float = 3600.0
    """Seconds between checkpoints the server signs while the log grows; 0: none."""
    stream_send_timeout: float = 15.0
    """Seconds one write to an event-stream subscriber may wait before it is dropped."""
    token_cache: float = 5.0
    """Seconds a verified API token is trusted without reading the table again; 0: no
    cache. A revocation made by another process takes effect within this time."""
    webhook_timeout: float = 10.0
    """Seconds a webhook endpoint has to answer one delivery."""
    webhook_retry_for: float = 86400.0
    """Seconds a failing delivery is retried, from its first attempt, before it is
    marked failed (and the endpoint goes on with the next event)."""
    webhook_backoff: float = 5.0
    """Seconds before the first retry; each later one waits twice as long (with
    jitter), at most an hour."""

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
            **{
                field: _seconds(name, text(name))
                for field, name in (
                    ("webhook_timeout", "CHANJIAO_WEBHOOK_TIMEOUT"),
                    ("webhook_retry_for", "CHANJIAO_WEBHOOK_RETRY_FOR"),
                    ("webhook_backoff", "CHANJIAO_WEBHOOK_BACKOFF"),
                )
            },
        }
        key = text("CHANJIAO_SIGNING_KEY")
        if key is not None:
            found["signing_key"] = Path(key)
        session_key = text("CHANJIAO_SESSION_KEY")
        if session_key is not None:
            found["session_key"] = Path(session_key)
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


EVENTS_TABLE = "ledger_events"
"""The library names an application's events table after its class (``bootstrap.Ledger``);
``tests/persistence/test_stores.py`` holds the two together."""

_POSTGRES_OPTIONS = ("schema", "connect_timeout")


def store_env(url: str) -> dict[str, str]:
    """The eventsourcing library's environment for the store named by ``url``; a URL
    the ledger cannot use is refused, saying what to write instead."""
    parts = _split(url)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        return {
            "MAPPER_TOPIC": get_topic(MsgspecMapper),
            "APPLICATION_RECORDER_TOPIC": get_topic(ChainedSQLiteRecorder),
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(sqlite_file(url)),
            "SQLITE_LOCK_TIMEOUT": "10",
        }
    if scheme in ("postgresql", "postgres"):
        dbname = unquote(parts.path.lstrip("/"))
        if not dbname or "/" in dbname:
            raise ConfigurationError(
                f"database URL {_shown(url)} names no database after the host: write "
                "postgresql://USER@HOST:PORT/DBNAME"
            )
        try:
            port = parts.port
        except ValueError:
            raise ConfigurationError(
                f"database URL {_shown(url)} has a port that is not a number: write "
                "postgresql://USER@HOST:5432/DBNAME"
            ) from None
        query = parse_qs(parts.query, keep_blank_values=True)
        unknown = sorted(set(query) - set(_POSTGRES_OPTIONS))
        if unknown:
            raise ConfigurationError(
                f"database URL {_shown(url)} has an option the ledger does not know: "
                f"{', '.join(unknown)}; the options are ?schema=NAME&connect_timeout=SECONDS "
                "(libpq's own, such as PGSSLMODE, are read from the environment)"
            )
        timeout = query.get("connect_timeout", [POSTGRES_POOL_WAIT_S])[-1]
        if not re.fullmatch(r"[1-9][0-9]*", timeout):
            raise ConfigurationError(
                f"database URL {_shown(url)}: connect_timeout must be a whole number of "
                f"seconds, 1 or more; got {timeout!r}"
            )
        return {
            "MAPPER_TOPIC": get_topic(MsgspecMapper),
            "APPLICATION_RECORDER_TOPIC": get_topic(ChainedPostgresRecorder),
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": dbname,
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(port or 5432),
            "POSTGRES_USER": unquote(parts.username or "") or getpass.getuser(),
            "POSTGRES_PASSWORD": unquote(parts.password or ""),
            "POSTGRES_SCHEMA": query.get("schema", [""])[-1],
            "POSTGRES_LOCK_TIMEOUT": POSTGRES_LOCK_TIMEOUT_S,
            "POSTGRES_CONNECT_TIMEOUT": timeout,
        }
    if scheme == "memory":
        return {
            "MAPPER_TOPIC": get_topic(MsgspecMapper),
            "PERSISTENCE_MODULE": "eventsourcing.popo",
        }
    hint = ""
    if not parts.scheme and url.strip().lower().endswith((".db", ".sqlite", ".sqlite3")):
        hint = f" (for that file, write sqlite:///{url.strip()})"
    raise ConfigurationError(
        f"database URL {_shown(url)} is not understood{hint}: use sqlite:///FILE, "
        "postgresql://USER@HOST:PORT/DBNAME or memory://"
    )


def sqlite_file(url: str) -> Path:
    """The file a ``sqlite:`` URL names: ``sqlite:///ledger.db`` (relative to the
    working directory) or ``sqlite:////srv/ledger.db`` (absolute)."""
    rest = url.strip().partition(":")[2]
    if not rest.startswith("//"):
        raise ConfigurationError(
            f"database URL {url!r} needs three slashes before a file name: write "
            f"sqlite:///{rest.lstrip('/') or 'chanjiao.db'}"
        )
    path = rest[2:]
    path = path[1:] if path.startswith("/") else path
    if not path:
        raise ConfigurationError(f"database URL {url!r} names no file; write sqlite:///chanjiao.db")
    return Path(unquote(path))


def _split(url: str) -> SplitResult:
    try:
        return urlsplit(url.strip())
    except ValueError as e:  # an unbalanced [ in the host, …
        raise ConfigurationError(f"database URL {_shown(url)} is not a URL: {e}") from None


def _shown(url: str) -> str:
    return repr(redacted(url))


def redacted(url: str) -> str:
    """``url`` with its password hidden, for messages and logs."""
    try:
        parts = urlsplit(url)
        if parts.password:
            netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
            return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:
        pass
    return url


class DatabaseUnavailable(OperationalError):
    """The database named cannot be reached or used; the message says why."""


def check_database(url: str, *, may_create: bool) -> None:
    """Fail at once, with the cause, where the ledger's store would fail later or
    silently: a PostgreSQL server that refuses or does not answer (the library's pool
    would wait its whole timeout and say only that it waited), and, unless ``may_create``,
    a store that holds no ledger yet (a SQLite file or a PostgreSQL schema the library
    would otherwise create, empty, on first use)."""
    env = store_env(url)
    module = env["PERSISTENCE_MODULE"]
    if module == "eventsourcing.sqlite":
        path = Path(env["SQLITE_DBNAME"])
        if str(path) == ":memory:" or path.exists():
            return
        if not may_create:
            raise LedgerNotFound(
                f"no ledger at {path}: run `chanjiao demo` to make a sample one, record "
                "something to start one, or pass --db (or set CHANJIAO_DATABASE_URL) to use "
                "the one you meant"
            )
        if not path.parent.is_dir():
            raise DatabaseUnavailable(f"the folder {path.parent} for {path} does not exist")
    elif module == "eventsourcing.postgres":
        _check_postgres(env, may_create=may_create)


def _check_postgres(env: Mapping[str, str], *, may_create: bool) -> None:
    schema = env["POSTGRES_SCHEMA"]
    where = f"database {env['POSTGRES_DBNAME']}" + (f", schema {schema}," if schema else "")
    where += f" on {env['POSTGRES_HOST']}:{env['POSTGRES_PORT']}"
    try:
        with psycopg.connect(
            host=env["POSTGRES_HOST"],
            port=env["POSTGRES_PORT"],
            dbname=env["POSTGRES_DBNAME"],
            user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"],
            connect_timeout=min(int(env["POSTGRES_CONNECT_TIMEOUT"]), 5),
        ) as conn:
            if may_create:
                return
            table = sql.Identifier(*([schema] if schema else []), EVENTS_TABLE)
            found = conn.execute("SELECT to_regclass(%s)", [table.as_string(conn)]).fetchone()
    except psycopg.Error as e:
        cause = " ".join(str(e).split()) or type(e).__name__
        raise DatabaseUnavailable(cause) from None
    if found is None or found[0] is None:
        raise LedgerNotFound(
            f"no ledger in the {where}: run `chanjiao demo --db …` to make a sample one, "
            "record something to start one, or pass --db (or set CHANJIAO_DATABASE_URL) to "
            "use the one you meant"
        )
