"""The read models read a PostgreSQL date as ``YYYY-MM-DD`` text, as SQLite stores it,
whatever the session's DateStyle (``Dialect.as_text``)."""

from __future__ import annotations

import psycopg
import pytest

from adapters.dialect import POSTGRES

STYLES = [
    "ISO, MDY",
    "ISO, DMY",
    "SQL, DMY",
    "SQL, MDY",
    "German",
    "Postgres, MDY",
    "Postgres, DMY",
]


@pytest.mark.parametrize("style", STYLES)
def test_a_date_is_read_as_iso_text_in_every_datestyle(postgres_server, style):
    with psycopg.connect(postgres_server) as conn:
        conn.execute(f"SET DateStyle = '{style}'")
        cursor = conn.cursor()
        POSTGRES.as_text(cursor)
        cursor.execute(
            "SELECT '2024-01-15'::date, '0099-12-31'::date, '2024-11-03'::date, NULL::date"
        )
        assert cursor.fetchone() == ("2024-01-15", "0099-12-31", "2024-11-03", None)
