"""Read side: the answers users ask for, as msgspec Structs.

For now each answer is computed from the aggregates' events on demand; the
materialised read models (kept in the database, fed from the ordered log) replace
these folds without changing the answers.
"""
