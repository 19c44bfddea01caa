"""Work that must not run on the event loop's thread — password hashing (argon2id takes a tenth of a second
on purpose), large reads — done on one worker thread with its own connection to the ledger.

A ledger connection belongs to the thread that opened it, so the worker opens its own, and builds the
services it hands to each job on it. One thread: jobs run one after another, in the order given.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from treasury_app.ledger import Ledger, open_ledger
from treasury_app.ledger.timestamps import utc_now

from .approvals import Approvals
from .operator_accounts import OperatorAccounts

T = TypeVar("T")
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class WorkerDesk:
    """The services a job may use, on the worker thread's own ledger connection."""

    ledger: Ledger
    accounts: OperatorAccounts
    approvals: Approvals


class DeskWorker:
    """`submit(job)` runs `job(worker_desk)` on the worker thread; `close()` waits for it and closes its ledger."""

    def __init__(self, ledger_file: Path, *, clock: Clock = utc_now) -> None:
        self._path = Path(ledger_file)
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
            ledger = open_ledger(self._path, clock=self._clock)
            desk = WorkerDesk(ledger, OperatorAccounts(ledger, clock=self._clock), Approvals(ledger, clock=self._clock))
            self._local.desk = desk
        return desk
