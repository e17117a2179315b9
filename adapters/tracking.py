"""Where the read models keep their rows and their positions: the ledger's own
database, with the library's tracking recorder for it (ADR 0011)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder

from adapters.dialect import Dialect


@dataclass(frozen=True)
class Tracking:
    dialect: Dialect
    datastore: Any
    recorder: Any  # the library's tracking recorder
    schema: str
    table: str  # the tracking table, qualified

    @staticmethod
    def of(factory: Any) -> Tracking:
        """The tracking for a ledger made by the library's ``factory``; ``memory://``
        keeps its read models in an in-memory SQLite database."""
        dialect = Dialect.of(factory)
        if dialect.postgres:
            datastore = factory.datastore
            schema = datastore.schema
            recorder: Any = PostgresTrackingRecorder(
                datastore, tracking_table_name="projection_tracking"
            )
            table = f"{schema}.projection_tracking"  # the library's schema: "public" at least
            return Tracking(dialect, datastore, recorder, schema, table)
        found = getattr(factory, "datastore", None)
        datastore = found if isinstance(found, SQLiteDatastore) else SQLiteDatastore(":memory:")
        return Tracking(dialect, datastore, SQLiteTrackingRecorder(datastore), "", "tracking")
