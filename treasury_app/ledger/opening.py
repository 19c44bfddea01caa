"""Opening a ledger file: connect, refuse what is not ours, migrate, and hand out the repositories."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from .address_book import AddressBookRepository
from .approvals import ApprovalRepository
from .audit_log import AuditLogRepository
from .checkpoints import DEFAULT_INTERVAL_SECONDS, BackgroundCheckpoints
from .connection import DEFAULT_BUSY_TIMEOUT_MS, LedgerConnection
from .migrations import migrate, refuse_unknown_file
from .operators import OperatorRepository
from .payout_table_reads import PayoutTableReads
from .payouts import PayoutRepository
from .policies import PolicyRepository
from .location import LedgerLocation
from .settings import SettingsRepository
from .timestamps import utc_now

if TYPE_CHECKING:
    from .audit_trail_reads import AuditTrailReads
    from .live_changes import FollowedChanges, LedgerChange, LedgerReachability
    from .dashboard_reads import DashboardReads
    from .report_reads import ReportReads


class Ledger:
    """One open ledger file. Belongs to the thread that opened it; another thread opens its own."""

    def __init__(self, link: LedgerConnection, clock: Callable[[], datetime], location: LedgerLocation) -> None:
        self._link = link
        self.location = location  # where to open it again (another thread opens its own)
        self._checkpoints: BackgroundCheckpoints | None = None
        self.payouts = PayoutRepository(link, clock)
        self.payout_table = PayoutTableReads(link, self.payouts)
        self.settings = SettingsRepository(link, clock)
        self.policies = PolicyRepository(link, clock)
        self.address_book = AddressBookRepository(link, clock)
        self.operators = OperatorRepository(link, clock)
        self.approvals = ApprovalRepository(link, clock)
        self.audit = AuditLogRepository(link)

    @cached_property
    def reports(self) -> ReportReads:
        """The reports' reads, loaded when first asked for (the window's first paint does without them)."""
        return self._link.report_reads()

    @cached_property
    def audit_trail(self) -> AuditTrailReads:
        """The audit trail as the window pages it (newest first, filtered); loaded when first asked for."""
        from .audit_trail_reads import AuditTrailReads

        return AuditTrailReads(self._link)

    @cached_property
    def dashboard(self) -> DashboardReads:
        """The dashboard's grouped counts and sums; loaded when first asked for."""
        return self._link.dashboard_reads()

    @property
    def path(self) -> Path:
        """What messages name: the file, or the team ledger's server and database (never its password)."""
        return self._link.path

    @property
    def schema_version(self) -> int:
        return self._link.schema_version()

    @property
    def is_team_ledger(self) -> bool:
        """Whether this is a shared PostgreSQL ledger (else a desk's own SQLite file)."""
        return self._link.shared

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction of this ledger is open (its writes are not yet visible to other processes)."""
        return self._link.in_transaction

    @property
    def reads_consistently(self) -> bool:
        """Whether reads now come from one state of the file (a snapshot, or a write transaction)."""
        return self._link.reads_consistently

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads from one state of the file, for checks that compare several tables; no writes inside."""
        with self._link.snapshot():
            yield

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[None]:
        """Several repository writes as one commit, e.g. a status change and its audit row.

        `durable=False` only for records the providers can be asked again: see `LedgerConnection.transaction`."""
        with self._link.transaction(durable=durable):
            yield

    def holds_poll_lease(self, provider: str) -> bool:
        """Whether this desk should poll `provider` now: always on a desk's own file; on a team ledger, one desk
        at a time per provider (the others hear its records through `follow_changes`)."""
        return self._link.holds_poll_lease(provider)

    def follow_changes(self, on_change: Callable[[LedgerChange], None],
                       on_reachability: Callable[[LedgerReachability], None] | None = None,
                       ) -> FollowedChanges | None:
        """Call `on_change` (on a thread of its own) whenever another desk commits a change to payouts or
        approvals, until the returned handle's `stop()`; `on_reachability` when the server stops answering and
        when it answers again. None for a desk's own file: nobody else writes it while the window runs (the
        command line on the same desk is this desk), and a file does not go away like a server."""
        if self.location.url is None:
            return None
        from .postgres.change_feed import ChangeFeed  # psycopg only where a team ledger is used

        return ChangeFeed(self.location.url, on_change, on_reachability).start()

    def integrity_check(self) -> list[str]:
        """Problems the database finds in the ledger's structure, indexes and references; empty when sound."""
        return self._link.integrity_problems()

    def checkpoint_in_background(self, *, interval: float = DEFAULT_INTERVAL_SECONDS) -> BackgroundCheckpoints | None:
        """Move WAL checkpoints off this connection's thread (the event loop's, in a long-running process) to a
        thread of their own, until `close()`. Short commands keep SQLite's automatic checkpoints."""
        if self._link.shared:
            return None  # a server checkpoints its own log
        if self._checkpoints is None:
            self._link.run_pragma("PRAGMA wal_autocheckpoint = 0")
            self._checkpoints = BackgroundCheckpoints(self.path, interval=interval)
        return self._checkpoints

    def close(self) -> None:
        if self._checkpoints is not None:
            self._checkpoints.stop()
            self._checkpoints = None
        self._link.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def open_ledger(path: Path | str | LedgerLocation, *, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
                clock: Callable[[], datetime] = utc_now) -> Ledger:
    """Open (creating it and its folder if needed) the ledger at `path`, migrated to this version's schema:
    a file's path, a team ledger's `postgresql://` URL, or a `LedgerLocation` of either.

    `LedgerFileError` when the file is not a Treasury Desk ledger, `LedgerVersionError` when a newer Treasury
    Desk wrote it (both leave the file untouched), `LedgerBusyError` when another process holds it too long.
    `clock` gives "now" for every time the ledger stamps (tests and simulations pass their own).
    """
    location = LedgerLocation.of(path)
    if location.url is not None:
        from .postgres.opening import open_team_ledger  # psycopg only where a team ledger is used

        return open_team_ledger(location, clock)
    link = LedgerConnection.open(location.file, busy_timeout_ms)
    try:
        refuse_unknown_file(link)  # before any PRAGMA that could write to a file that is not ours
        link.configure()
        migrate(link)
    except BaseException:
        link.close()
        raise
    return Ledger(link, clock, location)
