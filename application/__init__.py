"""Use cases: one ledger command per method, get → decide → save (architecture.md)."""
