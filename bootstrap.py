"""The composition root: the one place that puts the layers together.

The application's ``Ledger`` (``application.ledger``) decides; the adapters give it a
store, the hash chain, the audit commands that read it and the aggregates' snapshots.
``Ledger`` here is that whole, made from a database URL (or the settings'
``CHANJIAO_DATABASE_URL``, or the default file), for the CLI, the HTTP API, replay and
the benchmarks alike.

The settings (``adapters.settings.Settings``) are read here, by ``read_settings``, when a
command or the server starts, and handed down to what needs them."""

from __future__ import annotations

from adapters.audit import AuditCommands
from adapters.settings import Settings, store_env
from adapters.snapshots import Snapshotting
from application import ledger


def read_settings() -> Settings:
    """This run's settings, from the environment as it is now."""
    return Settings.from_environ()


class Ledger(AuditCommands, Snapshotting, ledger.Ledger):
    """The ledger on the store ``url`` names; ``env`` overrides the library's settings.
    Long aggregates are loaded from their latest snapshot (``adapters.snapshots``).

    ``settings``: this run's, for the database URL when ``url`` is None and for the
    signing key; without them, each is read from the environment when needed."""

    def __init__(
        self,
        url: str | None = None,
        env: dict[str, str] | None = None,
        *,
        settings: Settings | None = None,
    ) -> None:
        url = url or (settings or read_settings()).database_url
        self.signing_key = settings.signing_key if settings is not None else None
        super().__init__(url, {**store_env(url), **(env or {})})
