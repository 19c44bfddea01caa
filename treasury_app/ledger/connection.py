"""One SQLite connection to a ledger file: its PRAGMAs, explicit transactions, and what "busy" means to a person.

Reads go through sqlite-utils (`Database.query`, introspection, counts; pages of payouts read tuples, see
`tuples`). Writes do not: sqlite-utils' `insert`/`upsert`/`update` manage their own transactions (checked with
4.2.1: `Database.atomic()` BEGINs and COMMITs by itself when no transaction is open, nesting as a savepoint
otherwise), introspect the table on every call, and quietly create a table whose name was mistyped. Every
ledger write is therefore a plain `execute` inside `transaction()`, and `execute` refuses to run outside one.
(tests/ledger pins the COMMIT behaviour.)

Threads: a connection belongs to the thread that opened it (sqlite3's default `check_same_thread=True`). A
transaction is per connection, so sharing one across threads would let a reader see, or end, a writer's
unfinished transaction. Work off the GUI thread opens its own `Ledger`; WAL lets it read while another writes.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .dialects import SQLITE
from .errors import ConstraintViolation, LedgerBusyError, LedgerFileError

if TYPE_CHECKING:
    import sqlite_utils

DEFAULT_BUSY_TIMEOUT_MS = 5000
# After SQLite's own busy handler has waited `busy_timeout`, try this many more times, pausing (with jitter, so
# two waiting processes do not retry in lockstep) before each. Some lock conflicts in WAL mode (recovery,
# a journal-mode change by another process) return BUSY without waiting at all; these pauses cover them.
BUSY_RETRY_PAUSES_S = (0.05, 0.25)

Params = Sequence[Any] | dict[str, Any]

# FULL: in WAL mode, NORMAL may lose the last commits on a power cut. A payout's idempotency key is committed
# right before its request leaves; losing that row after the provider got the request is how a payout gets sent
# twice. FAST_SYNC only for what can be asked again (see `transaction`).
DURABLE_SYNC = "FULL"
FAST_SYNC = "NORMAL"
_SYNC_LEVELS = {"OFF": 0, "NORMAL": 1, "FULL": 2, "EXTRA": 3}

_BUSY_CODES = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}
_NOT_A_LEDGER_CODES = {sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT}
_CANNOT_OPEN_CODES = {sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_AUTH}


class LedgerConnection:
    """The ledger's connection: sqlite-utils for reading, explicit IMMEDIATE transactions for writing."""

    shared = False  # one desk's own file (a team ledger's connection says True)
    dialect = SQLITE  # where its SQL differs (dialects.py)

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path
        self._depth = 0
        self._snapshot_depth = 0

    @cached_property
    def db(self) -> sqlite_utils.Database:
        """sqlite-utils over this connection, made on first use: importing it costs the window's first paint
        ~60 ms, and the hot paths (`tuples`) do without it."""
        import sqlite_utils

        # execute_plugins=False: whatever sqlite-utils plugins happen to be installed must not change our SQL.
        # recursive_triggers=False keeps SQLite's default; our triggers (full-text sync) never recurse.
        return sqlite_utils.Database(self.conn, recursive_triggers=False, execute_plugins=False)

    @classmethod
    def open(cls, path: Path, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS) -> LedgerConnection:
        """Connect without changing the file: the caller decides whether it is ours before configuring it."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise LedgerFileError(path, f"cannot create the data folder: {error.strerror or error}") from None
        if path.is_dir():
            raise LedgerFileError(path, "is a folder, not a ledger file")
        with typed_errors(path):
            # isolation_level=None: the sqlite3 module must not open or commit transactions behind our back.
            conn = sqlite3.connect(path, isolation_level=None, timeout=busy_timeout_ms / 1000)
        link = cls(conn, path)
        link.run_pragma(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        return link

    def configure(self) -> None:
        """The PRAGMAs every ledger connection runs with (they must run outside a transaction)."""
        mode = self.run_pragma("PRAGMA journal_mode = WAL")
        if str(mode).lower() != "wal":
            # WAL is what lets the window read while a payout is written; without it, refuse loudly.
            raise LedgerFileError(self.path, f"cannot use write-ahead logging here (SQLite chose '{mode}')")
        self.run_pragma("PRAGMA foreign_keys = ON")
        # Durable by default (DURABLE_SYNC says why); `transaction(durable=False)` relaxes one commit at a time.
        self.run_pragma(f"PRAGMA synchronous = {DURABLE_SYNC}")
        if self.run_pragma("PRAGMA foreign_keys") != 1:
            raise LedgerFileError(self.path, "this SQLite library cannot enforce foreign keys")

    def close(self) -> None:
        self.conn.close()

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    @property
    def reads_consistently(self) -> bool:
        """Whether every read now sees one state of the file: inside a snapshot or a write transaction."""
        return self._depth > 0 or self._snapshot_depth > 0

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Every read in the block sees the file as it was at the block's first read (WAL read transaction).

        A check that compares several tables (a payout, its approvals, the audit rows that vouch for them) must
        read them from one state: read by separate statements, another process's commit in between makes a
        consistent ledger look forged. Inside a write transaction the write lock already gives that, so the
        block simply joins it. Writes are refused inside a snapshot: a read transaction that tries to become a
        writer fails with SQLITE_BUSY_SNAPSHOT as soon as anyone else committed since it began.
        """
        if self.reads_consistently:
            self._snapshot_depth += 1
            try:
                yield
            finally:
                self._snapshot_depth -= 1
            return
        if self.conn.in_transaction:
            raise RuntimeError("a transaction was opened outside LedgerConnection.snapshot()")
        with typed_errors(self.path):
            self.conn.execute("BEGIN DEFERRED")
        self._snapshot_depth = 1
        try:
            yield
        finally:
            self._snapshot_depth = 0
            # Nothing was written, so COMMIT and ROLLBACK are the same; ROLLBACK cannot fail for lack of a lock.
            if self.conn.in_transaction:
                with suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[None]:
        """All or nothing: COMMIT when the block ends normally, ROLLBACK on any exception.

        `BEGIN IMMEDIATE` takes the write lock up front. A deferred transaction that reads and then writes has
        to upgrade its lock, and two of those waiting on each other is the classic SQLite "database is locked"
        deadlock. Nested use joins the outer transaction through a savepoint, so services can put several
        repository writes (a status change and its audit row) into one commit.

        `durable=False` is for commits that only record what the providers can be asked again (the poller's
        back-off bookkeeping, a status a provider reported): committed with `synchronous=NORMAL`, they skip the
        fsync, which on a busy disk can hold the event loop for a quarter of a second. In WAL mode such a commit
        is still atomic and survives the app crashing; only a power cut or an OS crash may lose it (the poller
        then asks again), and the next durable commit's fsync of the log makes it durable too. Everything a
        person did, and above all the claim that carries an idempotency key before its request leaves, stays
        durable: the default. The outermost transaction decides for everything nested in it.
        """
        if self._depth:  # joins the outer transaction, whose commit (and its durability) is the one that counts
            yield from self._nested()
            return
        if self._snapshot_depth:
            raise RuntimeError("ledger writes cannot run inside a read snapshot; end the snapshot first")
        if self.conn.in_transaction:
            raise RuntimeError("a transaction was opened outside LedgerConnection.transaction()")
        if not durable:
            self.conn.execute(f"PRAGMA synchronous = {FAST_SYNC}")  # a connection flag: no lock, cannot be busy
        try:
            with typed_errors(self.path):
                self._retry_while_busy(lambda: self.conn.execute("BEGIN IMMEDIATE"))
            self._depth = 1
            try:
                yield
                self._retry_while_busy(lambda: self.conn.execute("COMMIT"))
            except BaseException as error:
                self._rollback()
                typed = translate_error(error, self.path) if isinstance(error, sqlite3.Error) else None
                if typed is None:
                    raise
                raise typed from error
            finally:
                self._depth = 0
        finally:
            if not durable:
                self.conn.execute(f"PRAGMA synchronous = {DURABLE_SYNC}")

    @property
    def commits_durably(self) -> bool:
        """Whether a commit now would be fsynced (`synchronous=FULL`): a test's window into the setting."""
        return self.conn.execute("PRAGMA synchronous").fetchone()[0] == _SYNC_LEVELS[DURABLE_SYNC]

    def _nested(self) -> Iterator[None]:
        name = f"ledger_nested_{self._depth}"
        self.conn.execute(f"SAVEPOINT {name}")
        self._depth += 1
        try:
            yield
        except BaseException:
            if self.conn.in_transaction:  # a RAISE(ROLLBACK) may already have ended everything
                self.conn.execute(f"ROLLBACK TO {name}")
                self.conn.execute(f"RELEASE {name}")
            raise
        else:
            self.conn.execute(f"RELEASE {name}")
        finally:
            self._depth -= 1

    def _rollback(self) -> None:
        # The original error is the one worth reporting; SQLite rolls back on close anyway.
        if self.conn.in_transaction:
            with suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK")

    def _retry_while_busy(self, step: Callable[[], object]) -> None:
        for pause in (*BUSY_RETRY_PAUSES_S, None):
            try:
                step()
                return
            except sqlite3.OperationalError as error:
                if not is_busy(error):
                    raise
                if pause is None:
                    raise LedgerBusyError(self.path) from error
                time.sleep(pause * random.uniform(0.5, 1.5))

    def execute(self, sql: str, params: Params = ()) -> sqlite3.Cursor:
        """A write (or a read that must see the transaction's own writes) inside `transaction()`."""
        if not self._depth:
            raise RuntimeError("ledger writes must run inside transaction()")
        with constraint_errors():
            return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Iterator[Params] | Sequence[Params]) -> sqlite3.Cursor:
        if not self._depth:
            raise RuntimeError("ledger writes must run inside transaction()")
        with constraint_errors():
            return self.conn.executemany(sql, rows)

    def insert(self, sql: str, params: Params = (), *, key: str = "id") -> int:
        """An INSERT of one row inside `transaction()`; the new row's `key` (its rowid here)."""
        return int(self.execute(sql, params).lastrowid or 0)

    def holds_poll_lease(self, provider: str) -> bool:
        """A desk's own file has one desk: it always polls its providers itself."""
        return True

    def schema_version(self) -> int:
        """The schema version the file records (`PRAGMA user_version`)."""
        return int(self.scalar("PRAGMA user_version"))

    def integrity_problems(self) -> list[str]:
        """What SQLite finds wrong in the file (structure, indexes, broken references); empty when sound."""
        problems = [row["integrity_check"] for row in self.rows("PRAGMA integrity_check")]
        problems = [problem for problem in problems if problem != "ok"]
        for row in self.rows("PRAGMA foreign_key_check"):
            problems.append(f"row {row['rowid']} of {row['table']} refers to a missing row of {row['parent']}")
        return problems

    def rows(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        """Every row of a query, as dicts; busy and file errors become the ledger's typed errors."""
        with typed_errors(self.path):
            return list(self.db.query(sql, params))

    def tuples(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        """Rows as plain tuples, for the hot paths (a page of the payout table, export batches).

        `Database.query` builds a dict per row and wraps each query in a savepoint: for a hundred wide rows that
        costs as much as SQLite's own work, so these reads go to the connection directly.
        """
        with typed_errors(self.path):
            return self.conn.execute(sql, params).fetchall()

    def iterate(self, sql: str, params: Params = ()) -> Iterator[tuple[Any, ...]]:
        """Rows one at a time, for totals over many rows; consume it fully before writing."""
        with typed_errors(self.path):
            yield from self.conn.execute(sql, params)

    def dashboard_reads(self) -> Any:
        from .dashboard_reads import (
            DashboardReads,  # loaded when the dashboard first asks
        )

        return DashboardReads(self)

    def report_reads(self) -> Any:
        from .report_reads import ReportReads  # loaded when a report is first asked for

        return ReportReads(self)

    def row(self, sql: str, params: Params = ()) -> dict[str, Any] | None:
        found = self.rows(sql, params)
        return found[0] if found else None

    def scalar(self, sql: str, params: Params = ()) -> Any:
        with typed_errors(self.path):
            found = self.conn.execute(sql, params).fetchone()
        return None if found is None else found[0]

    def run_pragma(self, sql: str) -> Any:
        """A PRAGMA outside any transaction, retried while another process holds the lock it needs."""
        result: list[Any] = []

        def step() -> None:
            found = self.conn.execute(sql).fetchone()
            result.append(None if found is None else found[0])

        with typed_errors(self.path):
            self._retry_while_busy(step)
        return result[-1]


@contextmanager
def constraint_errors() -> Iterator[None]:
    """SQLite's IntegrityError ("UNIQUE constraint failed: operators.name") as the ledger's ConstraintViolation."""
    try:
        yield
    except sqlite3.IntegrityError as error:
        raise ConstraintViolation(str(error)) from error


def is_busy(error: sqlite3.Error) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _BUSY_CODES
    return "locked" in str(error) or "busy" in str(error)


@contextmanager
def typed_errors(path: Path) -> Iterator[None]:
    """Let conditions a person can act on (busy, not a ledger, disk full) surface as the ledger's typed errors."""
    try:
        yield
    except sqlite3.Error as error:
        typed = translate_error(error, path)
        if typed is None:
            raise
        raise typed from error


def translate_error(error: sqlite3.Error, path: Path) -> Exception | None:
    """The typed error a person can act on, or None when the error is a bug rather than a condition."""
    code = (getattr(error, "sqlite_errorcode", None) or 0) & 0xFF
    if is_busy(error):
        return LedgerBusyError(path)
    if code in _NOT_A_LEDGER_CODES or "file is not a database" in str(error):
        return LedgerFileError(
            path,
            "is not a Treasury Desk ledger (not a SQLite database, or a damaged one). "
            "Move it away or choose another data folder with --data-dir.",
        )
    if code in _CANNOT_OPEN_CODES or "unable to open database file" in str(error):
        return LedgerFileError(path, f"cannot be opened for reading and writing ({error})")
    if code == sqlite3.SQLITE_FULL:
        return LedgerFileError(path, "the disk is full; nothing was written")
    if code == sqlite3.SQLITE_IOERR:
        return LedgerFileError(path, f"the operating system reported an input/output error ({error})")
    return None
