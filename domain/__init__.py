"""chanjiao's domain: value objects, aggregates, events and the ledger service."""
