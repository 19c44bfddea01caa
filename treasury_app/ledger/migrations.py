"""Bring a ledger file forward to the schema this version knows, in one transaction, or refuse to touch it."""

from __future__ import annotations

from .connection import LedgerConnection, typed_errors
from .errors import LedgerFileError, LedgerVersionError
from .schema import MIGRATIONS, SCHEMA_VERSION


def refuse_unknown_file(link: LedgerConnection) -> int:
    """Raise unless this version may open the file; nothing in the file is changed either way."""
    # One statement, so one snapshot: read apart, another process creating the ledger could commit its tables
    # between the two, and a file at version 0 "with tables of its own" would be refused as somebody else's.
    with typed_errors(link.path):  # also the first proof that the file is SQLite at all
        version, tables = link.conn.execute(
            "SELECT (SELECT user_version FROM pragma_user_version), (SELECT count(*) FROM sqlite_master)").fetchone()
    version = int(version)
    if version > SCHEMA_VERSION:
        raise LedgerVersionError(link.path, version, SCHEMA_VERSION)
    if version == 0 and tables:
        # Version 0 with tables in it is somebody else's database: adding ours to it would mix two worlds.
        raise LedgerFileError(
            link.path,
            "is a SQLite database but not a Treasury Desk ledger (it holds tables of its own). "
            "Choose another data folder with --data-dir.",
        )
    return version


def migrate(link: LedgerConnection) -> int:
    """Apply every migration from the file's version up to `SCHEMA_VERSION`; return the version reached."""
    if refuse_unknown_file(link) == SCHEMA_VERSION:
        return SCHEMA_VERSION  # the everyday case takes no write lock, so opening never waits for a writer
    with link.transaction():
        # Read again under the write lock: another process may have migrated while we waited for it.
        version = refuse_unknown_file(link)
        for migration in MIGRATIONS[version:]:
            migration(link.conn)
        link.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        broken = link.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            # A migration that rebuilt a table left rows pointing nowhere: keep the file as it was.
            raise LedgerFileError(
                link.path, f"migration to schema version {SCHEMA_VERSION} would break {len(broken)} references"
            )
    return SCHEMA_VERSION
