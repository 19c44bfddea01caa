"""Bring a team ledger's database forward to this version's schema in one transaction, or refuse to touch it."""

from __future__ import annotations

from psycopg import errors as pg_errors

from ..errors import LedgerFileError, LedgerVersionError
from .connection import PostgresConnection
from .schema import FIRST_VERSION, MIGRATIONS, SCHEMA_VERSION


def database_version(link: PostgresConnection) -> int:
    """The recorded schema version: 0 for an empty database; refuses a database that holds other tables."""
    # One statement, one snapshot: read apart, another desk creating the ledger could commit in between, and an
    # empty database "with tables of its own" would be refused as somebody else's.
    # In the current schema only: a ledger in a schema further along the search path is another ledger.
    ours, tables = link.tuples("SELECT to_regclass(format('%I.ledger_schema', current_schema())) IS NOT NULL, "
                               "(SELECT count(*) FROM pg_tables WHERE schemaname = current_schema())")[0]
    if ours:
        return int(link.scalar("SELECT max(version) FROM ledger_schema"))
    if tables:
        raise LedgerFileError(link.path, "is a PostgreSQL database but not a Treasury Desk ledger (it holds "
                                         "tables of its own). Give the URL of an empty database.")
    return 0


def refuse_unknown_database(link: PostgresConnection) -> int:
    version = database_version(link)
    if version > SCHEMA_VERSION:
        raise LedgerVersionError(link.path, version, SCHEMA_VERSION)
    return version


def migrate(link: PostgresConnection) -> int:
    if refuse_unknown_database(link) == SCHEMA_VERSION:
        return SCHEMA_VERSION
    try:
        return _migrate(link)
    except pg_errors.InsufficientPrivilege as error:
        # The desks' role may not make or change tables when an owner holds them (README: the two roles): say
        # who must run what, rather than a driver's error. The transaction rolled back: nothing was changed.
        role = link.scalar("SELECT current_user")
        raise LedgerFileError(link.path, f"needs its tables made or brought to schema version {SCHEMA_VERSION}, "
                                         f"and the role {role} may not ({str(error).strip().splitlines()[0]}). "
                                         "Nothing was changed. Run `treasury-app --ledger <the owner's URL> ledger "
                                         "check` once as the tables' owner, then open it again.") from None


def _migrate(link: PostgresConnection) -> int:
    with link.transaction():  # holds the write lock: two desks opening a new database migrate it once
        version = refuse_unknown_database(link)
        first = 0 if version == 0 else version - FIRST_VERSION + 1
        for migration in MIGRATIONS[first:]:
            migration(link)
        if version == 0:
            link.execute("CREATE TABLE ledger_schema (version INTEGER NOT NULL, migrated_at TIMESTAMPTZ NOT NULL "
                         "DEFAULT now())")
        link.execute("INSERT INTO ledger_schema (version) VALUES (?)", (SCHEMA_VERSION,))
    return SCHEMA_VERSION
