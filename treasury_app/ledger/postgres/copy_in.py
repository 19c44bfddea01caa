"""Copying a desk's SQLite ledger into an empty team ledger, row for row, in one transaction.

Everything a desk holds is copied with its own ids: operators (with their password hashes and lockouts),
payouts (with their poll bookkeeping), their events, approvals, the whole audit trail, the address book,
policies and settings. What the databases derive themselves is not: SQLite's FTS5 search table and both sides'
`payout_counts`, which the team ledger's triggers rebuild from the copied payouts.

One transaction, holding the ledger's write lock from the first row to the commit: the tables are created (an
empty database) or found empty (a database `ledger connect` prepared), filled by COPY, counted against the source,
and handed to `before_commit` — the caller's check of the copy as it stands, e.g. that `audit verify` reaches the
same head. Whatever fails, or if the process is killed, nothing is committed: the target stays empty (PostgreSQL's
DDL is transactional, so not even the tables remain). No other desk can write into it meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ..connection import LedgerConnection
from ..errors import LedgerFileError
from ..location import LedgerLocation
from ..opening import Ledger
from ..timestamps import utc_now
from .connection import PostgresConnection, unavailable_errors
from .migrations import migrate, refuse_unknown_database

# In the order the foreign keys need: payouts before their events and approvals.
COPIED_TABLES = ("operators", "payouts", "payout_events", "approvals", "audit_log", "address_book", "policies",
                 "settings")
# Every table's key, so that rows arrive in the order SQLite gave them their ids.
_ORDER = {"audit_log": "seq", "policies": "currency", "settings": "key"}
ROWS_PER_FETCH = 5000

# What the copy says as it goes: (table, rows copied so far of it, rows it has).
CopyProgress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class CopiedLedger:
    rows: dict[str, int]  # rows copied, by table (every table of COPIED_TABLES)
    audit_head: tuple[int, str] | None  # the copy's last audit row: (seq, hash); None for an empty trail


def copy_into_team_ledger(source: Ledger, target: LedgerLocation, *,
                          before_commit: Callable[[Ledger], None] = lambda copy: None,
                          progress: CopyProgress | None = None,
                          clock: Callable[[], datetime] = utc_now) -> CopiedLedger:
    """Copy the desk ledger `source` (a SQLite file) into the team ledger at `target`, which must be empty.

    `before_commit(copy)` runs inside the copy's transaction with a `Ledger` over the copy as it stands; if it
    raises, nothing is committed. `LedgerFileError` when the target already holds a ledger with records in it or
    other tables; `LedgerUnavailableError` when the server is lost (nothing committed either)."""
    if source.is_team_ledger or target.url is None:
        raise ValueError("copies a desk's ledger file into a team ledger (postgresql://)")
    link = PostgresConnection.open(target.url)
    try:
        refuse_unknown_database(link)  # somebody else's database, or a newer ledger: refused before anything
        copy = Ledger(link, clock, target)  # type: ignore[arg-type]  # the same methods as LedgerConnection
        reading: LedgerConnection = source._link  # the package's own: rows as stored, no records built
        with reading.snapshot(), link.transaction():
            migrate(link)  # an empty database gets its tables, inside this transaction
            _refuse_records(link)
            counts = {table: _copy_table(reading, link, table, progress) for table in COPIED_TABLES}
            _check_counts(link, counts)
            head = link.row("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")
            before_commit(copy)
        return CopiedLedger(counts, (int(head["seq"]), head["hash"]) if head else None)
    finally:
        link.close()


def _refuse_records(link: PostgresConnection) -> None:
    held = {table: int(link.scalar(f"SELECT count(*) FROM {table}")) for table in COPIED_TABLES}
    found = {table: n for table, n in held.items() if n}
    if found:
        listed = ", ".join(f"{n:,} {table.replace('_', ' ')}" for table, n in found.items())
        raise LedgerFileError(link.path, f"already holds a ledger ({listed}); a desk is copied into an empty "
                                         "database only, so that no record is mixed with another desk's. Nothing "
                                         "was copied.")


def _copy_table(reading: LedgerConnection, link: PostgresConnection, table: str, progress: CopyProgress | None) -> int:
    columns = [found["name"] for found in reading.rows(f"SELECT name FROM pragma_table_info('{table}') ORDER BY cid")]
    total = int(reading.scalar(f"SELECT count(*) FROM {table}"))
    names = ", ".join(columns)
    copied = 0
    if progress is not None:
        progress(table, 0, total)
    with unavailable_errors(link.path), link.conn.cursor().copy(f"COPY {table} ({names}) FROM STDIN") as stream:
        for row in reading.iterate(f"SELECT {names} FROM {table} ORDER BY {_ORDER.get(table, 'id')}"):
            stream.write_row(row)
            copied += 1
            if progress is not None and copied % ROWS_PER_FETCH == 0:
                progress(table, copied, total)
    if progress is not None:
        progress(table, copied, total)
    return copied


def _check_counts(link: PostgresConnection, counts: dict[str, int]) -> None:
    for table, expected in counts.items():
        found = int(link.scalar(f"SELECT count(*) FROM {table}"))
        if found != expected:  # a row the server dropped or a trigger added: not a copy
            raise LedgerFileError(link.path, f"the copy of {table} holds {found:,} rows, the desk's {expected:,}; "
                                             "nothing was copied")
