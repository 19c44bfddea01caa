"""The team ledger on PostgreSQL: the same repositories as the SQLite ledger, over `PostgresConnection`.

Where the two databases differ (schema and its versioning, search, locking), this package holds PostgreSQL's
side, next to SQLite's in `ledger/`.
"""
