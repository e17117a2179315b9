"""Everything that touches a database, a file or the environment (architecture.md)."""
