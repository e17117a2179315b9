"""The web console for council secretaries and auditors (ADR 0032)."""
