"""The composition root: the one place that puts the layers together.

The application's ``Ledger`` (``application.ledger``) decides; the adapters give it a
store, the hash chain and the audit commands that read it. ``Ledger`` here is that
whole, made from a database URL (or ``CHANJIAO_DATABASE_URL``, or the default file),
for the CLI, the HTTP API, replay and the benchmarks alike."""

from __future__ import annotations

from adapters.audit import AuditCommands
from adapters.settings import database_url, store_env
from application import ledger


class Ledger(AuditCommands, ledger.Ledger):
    """The ledger on the store ``url`` names; ``env`` overrides the library's settings."""

    def __init__(self, url: str | None = None, env: dict[str, str] | None = None) -> None:
        url = database_url(url)
        super().__init__(url, {**store_env(url), **(env or {})})
