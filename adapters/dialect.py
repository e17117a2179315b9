"""What differs between the two stores' SQL, in one place (and not in string tests
of module names spread over the layers)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore, PostgresFactory


@dataclass(frozen=True)
class Dialect:
    postgres: bool
    placeholder: str  # "%s" or "?"
    position: str  # the events table's position column
    id_type: str  # how the events table keeps aggregate ids
    key: Callable[[UUID], Any]  # an aggregate id as the events table keeps it

    @staticmethod
    def of(thing: Any) -> Dialect:
        """The dialect of a recorder, a datastore or the library's factory."""
        return POSTGRES if is_postgres(thing) else SQLITE


def is_postgres(thing: Any) -> bool:
    return isinstance(thing, PostgresApplicationRecorder | PostgresDatastore | PostgresFactory)


POSTGRES = Dialect(True, "%s", "notification_id", "uuid", lambda u: u)
SQLITE = Dialect(False, "?", "rowid", "TEXT", lambda u: u.hex)
