"""One connection to a team ledger on PostgreSQL, with the same methods and promises as the SQLite one
(`ledger/connection.py`), so that the repositories above run unchanged on either.

- Writers are serialised, as SQLite's single writer serialises them: every write transaction first takes one
  transaction-level advisory lock. The guarantees written for SQLite (a compare-and-set claim before a payout is
  sent, an audit chain that never forks, lockout counts and daily policy totals read and written in one
  transaction) therefore hold across desks without re-deriving each. Readers never wait: MVCC.
- A snapshot is a REPEATABLE READ, READ ONLY transaction: several reads see one committed state.
- SQL is written once, with SQLite's `?` and `:name` placeholders; `postgres_sql` turns them into psycopg's.
- Errors: a lost or refused connection is `LedgerUnavailableError` (naming the server, never the password); a
  unique or foreign-key violation is `ConstraintViolation` named `table.column` like SQLite names it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

import psycopg
from psycopg import errors as pg_errors

from ..dialects import POSTGRES
from ..errors import ConstraintViolation, LedgerUnavailableError
from .location import shown_url

Params = Sequence[Any] | dict[str, Any]
# The one lock every write transaction holds (pg_advisory_xact_lock's key): "TDLEDGER" as a 64-bit number.
WRITE_LOCK_KEY = 0x54444C4544474552
# The poll leases' keys are (POLL_LEASE_SPACE, a hash of the ledger's schema and the provider): "TDPL".
POLL_LEASE_SPACE = 0x5444504C
CONNECT_TIMEOUT_S = 10

# What a constraint's name means, in SQLite's words ("UNIQUE constraint failed: operators.name"), so that the
# repositories' checks read the same on both backends. The schema names every constraint it creates.
CONSTRAINT_WORDS = {
    "operators_name_unique": "UNIQUE constraint failed: operators.name",
    "payouts_idempotency_key_key": "UNIQUE constraint failed: payouts.idempotency_key",
    "audit_log_hash_key": "UNIQUE constraint failed: audit_log.hash",
    "address_book_network_address_key": "UNIQUE constraint failed: address_book.network, address_book.address",
    "approvals_payout_id_fkey": "FOREIGN KEY constraint failed",
    "payout_events_payout_id_fkey": "FOREIGN KEY constraint failed",
}

_PLACEHOLDER = re.compile(r"""('(?:[^']|'')*')|(%)|(\?)|(?<![:\w]):([A-Za-z_]\w*)""")


def postgres_sql(sql: str) -> str:
    """`?` → `%s`, `:name` → `%(name)s`, a literal `%` → `%%`; nothing inside quoted strings changes."""

    def replace(match: re.Match[str]) -> str:
        quoted, percent, question, name = match.groups()
        if quoted is not None:
            return quoted.replace("%", "%%")
        if percent is not None:
            return "%%"
        if question is not None:
            return "%s"
        return f"%({name})s"

    return _PLACEHOLDER.sub(replace, sql)


class PostgresConnection:
    """The team ledger's connection: autocommit outside explicit transactions, as the SQLite one runs."""

    shared = True  # several desks read and write it
    dialect = POSTGRES  # where its SQL differs (dialects.py)

    def __init__(self, conn: psycopg.Connection, url: str) -> None:
        self.conn = conn
        self.url = url
        self.path = shown_url(url)  # what errors and `ledger info` show: the server and database, no password
        self._depth = 0
        self._snapshot_depth = 0
        self._leases: set[str] = set()  # providers this connection's session holds the poll lease of

    @classmethod
    def open(cls, url: str) -> PostgresConnection:
        return cls(_connect(url), url)

    def _ensure_connected(self) -> None:
        """Between transactions, a connection the server dropped is made again: the desk reconnects by itself.
        Inside one it is not (the transaction is lost with it, and the caller hears LedgerUnavailableError)."""
        if (self.conn.closed or self.conn.broken) and not self._depth and not self._snapshot_depth:
            self._leases.clear()  # they went with the old session
            self.conn = _connect(self.url)

    def holds_poll_lease(self, provider: str) -> bool:
        """Whether this desk is the one that polls `provider` now: a session-level advisory lock, taken if free
        and kept until this connection ends (a desk that quits or dies frees it, and the next desk to ask takes
        it). Several desks polling the same payouts would be harmless but would multiply provider requests."""
        self._ensure_connected()
        if provider in self._leases and not self.conn.broken:
            return True
        with unavailable_errors(self.path):
            taken = self.conn.execute(
                "SELECT pg_try_advisory_lock(%s::int, hashtext(current_schema() || ':' || %s::text))",
                (POLL_LEASE_SPACE, provider)).fetchone()[0]
        if taken:
            self._leases.add(provider)
        return bool(taken)

    def schema_version(self) -> int:
        from .migrations import database_version  # migrations build on this module

        return database_version(self)

    def integrity_problems(self) -> list[str]:
        """Nothing to find: the server keeps its own structure and enforces every reference as it writes."""
        return []

    def close(self) -> None:
        with suppress(psycopg.Error):
            self.conn.close()

    @property
    def in_transaction(self) -> bool:
        return self._depth > 0

    @property
    def reads_consistently(self) -> bool:
        return self._depth > 0 or self._snapshot_depth > 0

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Every read in the block sees one committed state (REPEATABLE READ); no writes inside."""
        if self.reads_consistently:
            self._snapshot_depth += 1
            try:
                yield
            finally:
                self._snapshot_depth -= 1
            return
        self._ensure_connected()
        with unavailable_errors(self.path):
            self.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        self._snapshot_depth = 1
        try:
            yield
        finally:
            self._snapshot_depth = 0
            with suppress(psycopg.Error):
                self.conn.execute("ROLLBACK")

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[None]:
        """All or nothing, holding the ledger's write lock; nested blocks are savepoints of the outer one.

        `durable=False` (records the providers can be asked again) commits without waiting for the server's
        WAL flush (`synchronous_commit = off`): still atomic, lost only if the server itself crashes."""
        if self._depth:
            yield from self._nested()
            return
        if self._snapshot_depth:
            raise RuntimeError("ledger writes cannot run inside a read snapshot; end the snapshot first")
        self._ensure_connected()
        with unavailable_errors(self.path):
            self.conn.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
            try:
                if not durable:
                    self.conn.execute("SET LOCAL synchronous_commit = off")
                self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))
            except BaseException:
                self._rollback()
                raise
        self._depth = 1
        try:
            yield
            with unavailable_errors(self.path):
                self.conn.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise
        finally:
            self._depth = 0

    def _nested(self) -> Iterator[None]:
        name = f"ledger_nested_{self._depth}"
        with unavailable_errors(self.path):
            self.conn.execute(f"SAVEPOINT {name}")
        self._depth += 1
        try:
            yield
        except BaseException:
            with suppress(psycopg.Error):
                self.conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                self.conn.execute(f"RELEASE SAVEPOINT {name}")
            raise
        else:
            with unavailable_errors(self.path):
                self.conn.execute(f"RELEASE SAVEPOINT {name}")
        finally:
            self._depth -= 1

    def _rollback(self) -> None:
        if not self.conn.closed:
            with suppress(psycopg.Error):
                self.conn.execute("ROLLBACK")

    @property
    def commits_durably(self) -> bool:
        return self.scalar("SHOW synchronous_commit") != "off"

    def execute(self, sql: str, params: Params = ()) -> psycopg.Cursor:
        if not self._depth:
            raise RuntimeError("ledger writes must run inside transaction()")
        with unavailable_errors(self.path), constraint_errors():
            return self.conn.execute(postgres_sql(sql), params or ())

    def executemany(self, sql: str, rows: Iterator[Params] | Sequence[Params]) -> psycopg.Cursor:
        if not self._depth:
            raise RuntimeError("ledger writes must run inside transaction()")
        with unavailable_errors(self.path), constraint_errors():
            cursor = self.conn.cursor()
            cursor.executemany(postgres_sql(sql), list(rows))
            return cursor

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterator[Sequence[Any]]) -> None:
        """Rows into `table` by COPY (the server's bulk path), inside `transaction()`."""
        if not self._depth:
            raise RuntimeError("ledger writes must run inside transaction()")
        statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
        with unavailable_errors(self.path), constraint_errors(), self.conn.cursor().copy(statement) as copy:
            for row in rows:
                copy.write_row(row)

    def insert(self, sql: str, params: Params = (), *, key: str = "id") -> int:
        """An INSERT of one row inside `transaction()`; the new row's `key`."""
        found = self.execute(f"{sql} RETURNING {key}", params).fetchone()
        return int(found[0])

    def rows(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        self._ensure_connected()
        with unavailable_errors(self.path):
            cursor = self.conn.execute(postgres_sql(sql), params or ())
            names = [column.name for column in cursor.description or ()]
            return [dict(zip(names, found, strict=True)) for found in cursor.fetchall()]

    def tuples(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        self._ensure_connected()
        with unavailable_errors(self.path):
            return self.conn.execute(postgres_sql(sql), params or ()).fetchall()

    def iterate(self, sql: str, params: Params = ()) -> Iterator[tuple[Any, ...]]:
        self._ensure_connected()
        with unavailable_errors(self.path):
            yield from self.conn.execute(postgres_sql(sql), params or ())

    def batches(self, sql: str, params: Params, size: int) -> Iterator[list[tuple[Any, ...]]]:
        """The rows of a large read, `size` at a time, through a server-side cursor (the client holds one batch,
        however many rows), all from one snapshot."""
        with self.snapshot(), unavailable_errors(self.path):
            with self.conn.cursor(name="ledger_batches") as cursor:
                cursor.execute(postgres_sql(sql), params or ())
                while batch := cursor.fetchmany(size):
                    yield batch

    def dashboard_reads(self) -> Any:
        from .dashboard_reads import (
            PostgresDashboardReads,  # loaded when the dashboard first asks
        )

        return PostgresDashboardReads(self)

    def report_reads(self) -> Any:
        from .report_reads import (
            PostgresReportReads,  # loaded when a report is first asked for
        )

        return PostgresReportReads(self)

    def row(self, sql: str, params: Params = ()) -> dict[str, Any] | None:
        found = self.rows(sql, params)
        return found[0] if found else None

    def scalar(self, sql: str, params: Params = ()) -> Any:
        self._ensure_connected()
        with unavailable_errors(self.path):
            found = self.conn.execute(postgres_sql(sql), params or ()).fetchone()
        return None if found is None else found[0]


def _connect(url: str) -> psycopg.Connection:
    with unavailable_errors(shown_url(url)):
        return psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
                               application_name="treasury-desk")


@contextmanager
def unavailable_errors(where: str) -> Iterator[None]:
    """A connection that cannot be made or was lost (InterfaceError: used after the server closed it), in words,
    without the URL's password."""
    try:
        yield
    except (psycopg.OperationalError, psycopg.InterfaceError) as error:
        raise LedgerUnavailableError(where, _first_line(error)) from None


@contextmanager
def constraint_errors() -> Iterator[None]:
    try:
        yield
    except (pg_errors.UniqueViolation, pg_errors.ForeignKeyViolation, pg_errors.CheckViolation,
            pg_errors.NotNullViolation, pg_errors.RaiseException) as error:
        name = error.diag.constraint_name or ""
        raise ConstraintViolation(CONSTRAINT_WORDS.get(name) or _first_line(error)) from error


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
