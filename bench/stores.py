"""What the benchmarks share: the PostgreSQL server they use and throwaway stores."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg

PG_URL = os.environ.get("CHANJIAO_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@contextlib.contextmanager
def throwaway_url(store: str, prefix: str, keep: bool = False) -> Iterator[str]:
    """A ledger URL in a fresh PostgreSQL schema or SQLite file, removed afterwards
    unless ``keep`` (then its URL is printed)."""
    if store == "postgres":
        schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        url = f"{PG_URL}{'&' if '?' in PG_URL else '?'}schema={schema}"
    else:
        directory = tempfile.mkdtemp(prefix=f"chanjiao-{prefix}-")
        url = f"sqlite:///{Path(directory, 'ledger.db')}"
    try:
        yield url
    finally:
        if keep:
            print(f"  kept: {url}")
        elif store == "postgres":
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {schema} CASCADE")
        else:
            shutil.rmtree(directory, ignore_errors=True)
