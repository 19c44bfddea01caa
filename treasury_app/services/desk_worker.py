"""Work that must not run on the event loop's thread — password hashing (argon2id takes a tenth of a second
on purpose), large reads — done on one worker thread with its own connection to the ledger.

A ledger connection belongs to the thread that opened it, so the worker opens its own, and builds the
services it hands to each job on it. One thread: jobs run one after another, in the order given.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from treasury_app.ledger import Ledger, LedgerLocation, open_ledger
from treasury_app.ledger.timestamps import utc_now

if TYPE_CHECKING:  # built on first use: the window's first page needs only the ledger
    from .address_book import AddressBook
    from .approval_policies import ApprovalPolicies
    from .approvals import Approvals
    from .operator_accounts import OperatorAccounts
    from .provider_administration import ProviderAdministration
    from .provider_profiles import ProviderProfiles

T = TypeVar("T")
Clock = Callable[[], datetime]


class WorkerDesk:
    """The services a job may use, on the worker thread's own ledger connection. The operator accounts and the
    approvals are made when a job first asks for them: the table's reads, the first jobs of every start, need
    only the ledger (and the window's first paint waits for them)."""

    def __init__(self, ledger: Ledger, *, clock: Clock = utc_now) -> None:
        self.ledger = ledger
        self._clock = clock

    @cached_property
    def accounts(self) -> OperatorAccounts:
        from .operator_accounts import OperatorAccounts

        return OperatorAccounts(self.ledger, clock=self._clock)

    @cached_property
    def approvals(self) -> Approvals:
        from .approvals import Approvals

        return Approvals(self.ledger, clock=self._clock)

    @cached_property
    def address_book(self) -> AddressBook:
        from .address_book import AddressBook

        return AddressBook(self.ledger, clock=self._clock)

    @cached_property
    def policies(self) -> ApprovalPolicies:
        from .approval_policies import ApprovalPolicies

        return ApprovalPolicies(self.ledger, clock=self._clock)

    @cached_property
    def provider_profiles(self) -> ProviderProfiles:
        """Reading the profiles (never their secrets); the keyring is the one keyring selects for this process."""
        from treasury_app.security.credentials import CredentialStore

        from .provider_profiles import ProviderProfiles

        return ProviderProfiles(self.ledger.settings, CredentialStore())

    @cached_property
    def provider_administration(self) -> ProviderAdministration:
        """Changing the profiles: admins only, audited; secrets straight to the OS keyring (a blocking call
        there, which is why it runs here and not on the window's loop)."""
        from treasury_app.security.credentials import CredentialStore

        from .provider_administration import ProviderAdministration

        return ProviderAdministration(self.ledger, CredentialStore())


class DeskWorker:
    """`submit(job)` runs `job(worker_desk)` on the worker thread; `close()` waits for it and closes its ledger."""

    def __init__(self, ledger: LedgerLocation | Path, *, clock: Clock = utc_now) -> None:
        self._location = LedgerLocation.of(ledger)
        self._clock = clock
        self._local = threading.local()
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="desk-worker")

    def submit(self, job: Callable[[WorkerDesk], T]) -> concurrent.futures.Future[T]:
        return self._executor.submit(lambda: job(self._desk()))

    def close(self) -> None:
        """After the jobs already given; the connection is closed on its own thread (sqlite3 insists)."""
        self._executor.submit(self._close_ledger)
        self._executor.shutdown(wait=True)

    def _close_ledger(self) -> None:
        desk = getattr(self._local, "desk", None)
        if desk is not None:
            desk.ledger.close()
            self._local.desk = None

    def _desk(self) -> WorkerDesk:
        desk = getattr(self._local, "desk", None)
        if desk is None:
            desk = WorkerDesk(open_ledger(self._location, clock=self._clock), clock=self._clock)
            self._local.desk = desk
        return desk
