"""One connection to a team ledger on PostgreSQL, with the same methods and promises as the SQLite one
(`ledger/connection.py`), so that the repositories above run unchanged on either.

- Writers are serialised, as SQLite's single writer serialises them: every write transaction first takes one
  transaction-level advisory lock. The guarantees written for SQLite (a compare-and-set claim before a payout is
  sent, an audit chain that never forks, lockout counts and daily policy totals read and written in one
  transaction) therefore hold across desks without re-deriving each. Readers never wait: MVCC.
- A desk waits for the write lock at most `LOCK_TIMEOUT_S`, as long as for a ledger file, and then hears that
  the ledger is busy (`LedgerBusyError`). A desk that stops in the middle of a transaction (a laptop put to
  sleep, a process frozen) holds it no longer than `IDLE_IN_TRANSACTION_S`: the server ends that session and
  undoes its change, and the other desks go on.
- A snapshot is a REPEATABLE READ, READ ONLY transaction: several reads see one committed state.
- SQL is written once, with SQLite's `?` and `:name` placeholders; `postgres_sql` turns them into psycopg's.
- Errors: a lost or refused connection is `LedgerUnavailableError` (naming the server, never the password); a
  unique or foreign-key violation is `ConstraintViolation` named `table.column` like SQLite names it.
- A lost server: the desk connects again by itself on its next use, and a read (or the opening of a
  transaction) that finds its connection dead is sent once more on a new one. Nothing of a change is ever sent
  twice, and a COMMIT whose answer was lost is settled by asking the server, never by committing again
  (`_once_more_if_lost`, `_settle_lost_commit` say why).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any, TypeVar

import psycopg
from psycopg import errors as pg_errors

from ..dialects import POSTGRES
from ..errors import (
    ConstraintViolation,
    LedgerAccessDeniedError,
    LedgerBusyError,
    LedgerError,
    LedgerUnavailableError,
)
from .location import shown_url

Params = Sequence[Any] | dict[str, Any]
T = TypeVar("T")
log = logging.getLogger(__name__)
# The one lock every write transaction holds (pg_advisory_xact_lock's key): "TDLEDGER" as a 64-bit number.
WRITE_LOCK_KEY = 0x54444C4544474552
# The poll leases' keys are (POLL_LEASE_SPACE, a hash of the ledger's schema and the provider): "TDPL".
POLL_LEASE_SPACE = 0x5444504C
CONNECT_TIMEOUT_S = 10
# How long a write waits for another desk's (a ledger file's busy timeout, DEFAULT_BUSY_TIMEOUT_MS, is as long).
LOCK_TIMEOUT_S = 5
# No change of the app leaves its transaction open while it waits for a person or a provider, so a session idle
# inside one this long belongs to a desk that stopped (asleep, frozen): the server ends it and frees the lock.
IDLE_IN_TRANSACTION_S = 60

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

    # The session's limits (see the module's text); a test may shorten them on the class before connecting.
    lock_timeout_s: float = LOCK_TIMEOUT_S
    idle_in_transaction_s: float = IDLE_IN_TRANSACTION_S

    @classmethod
    def open(cls, url: str) -> PostgresConnection:
        return cls(cls._session(url), url)

    @classmethod
    def _session(cls, url: str) -> psycopg.Connection:
        conn = _connect(url)
        with unavailable_errors(shown_url(url)):
            conn.execute(f"SET lock_timeout = {int(cls.lock_timeout_s * 1000)}; "
                         f"SET idle_in_transaction_session_timeout = {int(cls.idle_in_transaction_s * 1000)}")
        return conn

    def _ensure_connected(self) -> None:
        """Between transactions, a connection the server dropped is made again: the desk reconnects by itself.
        Inside one it is not (the transaction is lost with it, and the caller hears LedgerUnavailableError)."""
        if self._lost and not self._depth and not self._snapshot_depth:
            self._reconnect()

    @property
    def _lost(self) -> bool:
        return self.conn.closed or self.conn.broken

    def _reconnect(self) -> None:
        self._leases.clear()  # they went with the old session
        with suppress(psycopg.Error):
            self.conn.close()
        self.conn = self._session(self.url)

    def _once_more_if_lost(self, step: Callable[[], T]) -> T:
        """`step`, a read outside any transaction or the statements that open one; if it finds this connection
        dead (the server restarted, or ended the session, while the desk sat idle), once more on a new one, so
        that the first thing a person does after the server is back works.

        Sending such a step twice is harmless by construction: a read changes nothing, and an opening (BEGIN,
        the write lock) dies with its session before any statement of the change was sent. Nothing else is
        ever sent twice: a statement inside a transaction dies with the transaction (the caller hears that
        nothing was saved), and a COMMIT whose answer was lost may have committed (`_settle_lost_commit`).
        Sending a change again could record it twice, and a claim or a payout recorded twice is how a payout
        gets sent twice."""
        self._ensure_connected()
        try:
            with unavailable_errors(self.path):
                return step()
        except LedgerUnavailableError:
            if self._depth or self._snapshot_depth or not self._lost:
                raise  # inside a transaction, or the server answered with an error: nothing to send again
        self._reconnect()
        with unavailable_errors(self.path):
            return step()

    def holds_poll_lease(self, provider: str) -> bool:
        """Whether this desk is the one that polls `provider` now: a session-level advisory lock, taken if free
        and kept until this connection ends (a desk that quits or dies frees it, and the next desk to ask takes
        it). Several desks polling the same payouts would be harmless but would multiply provider requests."""
        self._ensure_connected()
        if provider in self._leases and not self.conn.broken:
            return True
        taken = self._once_more_if_lost(lambda: self.conn.execute(
            "SELECT pg_try_advisory_lock(%s::int, hashtext(current_schema() || ':' || %s::text))",
            (POLL_LEASE_SPACE, provider)).fetchone()[0])
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
        self._once_more_if_lost(lambda: self.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"))
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
        xid = self._once_more_if_lost(lambda: self._begin(durable))
        self._depth = 1
        try:
            yield
        except BaseException:
            self._rollback()
            raise
        finally:
            self._depth = 0
        self._commit(xid)

    def _begin(self, durable: bool) -> int:
        """BEGIN and the write lock; the transaction's id, by which a lost COMMIT is settled."""
        self.conn.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
        try:
            if not durable:
                self.conn.execute("SET LOCAL synchronous_commit = off")
            return int(self.conn.execute("SELECT txid_current(), pg_advisory_xact_lock(%s)",
                                         (WRITE_LOCK_KEY,)).fetchone()[0])
        except BaseException:
            self._rollback()
            raise

    def _commit(self, xid: int) -> None:
        try:
            self.conn.execute("COMMIT")
        except pg_errors.IdleInTransactionSessionTimeout as error:
            # The server ended the session before this COMMIT and rolled the change back: nothing was saved.
            raise LedgerUnavailableError(self.path, _what_happened(error), saved=False) from None
        except (psycopg.OperationalError, psycopg.InterfaceError) as error:
            if not self._lost:
                raise LedgerUnavailableError(self.path, _what_happened(error)) from None
            self._settle_lost_commit(xid, _what_happened(error))

    def _settle_lost_commit(self, xid: int, problem: str) -> None:
        """The connection went while the COMMIT was on its way: the server may have committed. The change is
        never sent again (a second copy of a claim, an approval or a payout is worse than an error); the server
        is asked instead, on a new connection, what became of the transaction (`txid_status`): committed, and
        the block ends as if the answer had come; aborted, and nothing was saved; no answer (the server still
        down, or the old session not yet ended), and the caller hears that the change may have been saved."""
        try:
            self._reconnect()
            status = self.conn.execute("SELECT txid_status(%s)", (xid,)).fetchone()[0]
        except (psycopg.Error, LedgerError):  # out of reach still, or refusing the desk now: not known
            status = None
        if status == "committed":
            log.warning("the team ledger at %s lost the connection as a change committed (%s); the server says it "
                        "was saved", self.path, problem)
            return
        raise LedgerUnavailableError(self.path, problem, saved=False if status == "aborted" else None) from None

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
        cursor = self._read(sql, params)
        names = [column.name for column in cursor.description or ()]
        return [dict(zip(names, found, strict=True)) for found in cursor.fetchall()]

    def tuples(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        return self._read(sql, params).fetchall()

    def iterate(self, sql: str, params: Params = ()) -> Iterator[tuple[Any, ...]]:
        yield from self._read(sql, params)

    def _read(self, sql: str, params: Params) -> psycopg.Cursor:
        """A read, its rows already on the client (psycopg's client-side cursor fetches them all)."""
        return self._once_more_if_lost(lambda: self.conn.execute(postgres_sql(sql), params or ()))

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
        found = self._read(sql, params).fetchone()
        return None if found is None else found[0]


def _connect(url: str) -> psycopg.Connection:
    with unavailable_errors(shown_url(url)):
        try:
            return psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
                                   application_name="treasury-desk")
        except psycopg.OperationalError as error:
            said = str(error)
            refusal = next((word for word in _ACCESS_REFUSED if word in said), None)
            if refusal is None:
                raise  # the server is out of reach: LedgerUnavailableError
            raise LedgerAccessDeniedError(shown_url(url), said[said.index(refusal):].splitlines()[0]) from None


@contextmanager
def unavailable_errors(where: str) -> Iterator[None]:
    """A connection that cannot be made or was lost (InterfaceError: used after the server closed it), in words,
    without the URL's password; a lock waited for longer than `lock_timeout` (another desk writing, or stopped
    while writing) is the ledger busy, as for a file, not the server away."""
    try:
        yield
    except pg_errors.LockNotAvailable:
        raise LedgerBusyError(where) from None
    except (psycopg.OperationalError, psycopg.InterfaceError, pg_errors.IdleInTransactionSessionTimeout) as error:
        raise LedgerUnavailableError(where, _what_happened(error)) from None


@contextmanager
def constraint_errors() -> Iterator[None]:
    try:
        yield
    except (pg_errors.UniqueViolation, pg_errors.ForeignKeyViolation, pg_errors.CheckViolation,
            pg_errors.NotNullViolation, pg_errors.RaiseException) as error:
        name = error.diag.constraint_name or ""
        raise ConstraintViolation(CONSTRAINT_WORDS.get(name) or _first_line(error)) from error


# The server's words when it answers and refuses this desk (libpq gives no SQLSTATE for them): not an outage.
_ACCESS_REFUSED = ("password authentication failed", "no pg_hba.conf entry", "does not exist",
                   "permission denied for database", "no password supplied")
# libpq's words for the usual ways a server goes away, and what they mean to a person at a desk.
_PLAIN_WORDS = (
    ("Connection refused", "the server refused the connection: it is not running, or not on that port"),
    ("terminating connection due to administrator command",
     "the server ended the connection: it was stopped or restarted, or an administrator ended the session"),
    ("server closed the connection unexpectedly", "the server closed the connection unexpectedly"),
    ("timeout expired", f"the server did not answer within {CONNECT_TIMEOUT_S} s"),
    ("could not translate host name", "the server's name was not found"),
    ("the database system is shutting down", "the server is shutting down"),
    ("the database system is starting up", "the server is starting up"),
    ("idle-in-transaction timeout", "the server ended this desk's session: it sat idle in the middle of a change "
                                    "for too long, so the change was undone"),
)


def _what_happened(error: Exception) -> str:
    """A lost connection in words: plainer ones for the usual outages, else libpq's first line."""
    said = str(error)
    return next((plain for words, plain in _PLAIN_WORDS if words in said), None) or _first_line(error)


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
