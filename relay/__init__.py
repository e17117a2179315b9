"""Relays: the ledger's events, in position order, to where integrators read them
beyond one server (ADR 0030). ``relay.nats``: NATS JetStream."""
