"""What the window needs before it connects to any provider: the ledger, the operators, the approvals and the
worker thread. Light on purpose: the window paints its first page of payouts from it while the providers'
clients (and the embedded sandbox) are still loading; `DeskSession.connect(front)` adds them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from treasury_app.domain.provider_names import PROVIDER_TITLES
from treasury_app.ledger import Ledger, open_ledger
from treasury_app.ledger.timestamps import utc_now

from .desk_worker import DeskWorker, WorkerDesk
from .ledger_choice import ChosenBy, LedgerChoice, choose_ledger

if TYPE_CHECKING:
    from .approvals import Approvals
    from .operator_accounts import OperatorAccounts

Clock = Callable[[], datetime]


class DeskFront:
    """Open with `DeskFront.open(data_dir)`; closed by the session made from it, or by `aclose()`."""

    def __init__(self, data_dir: Path, ledger: Ledger, clock: Clock, chosen_by: ChosenBy = ChosenBy.DATA_FOLDER) -> None:
        self.data_dir = data_dir
        self.chosen_by = chosen_by
        self.ledger = ledger
        self.clock = clock
        # The loop thread's services over its ledger, made on first use as on the worker thread: the first page
        # of payouts needs only the ledger.
        self._services = WorkerDesk(ledger, clock=clock)
        self.worker = DeskWorker(ledger.location, clock=clock)
        self._closed = False

    @classmethod
    def open(cls, data_dir: Path, *, ledger: LedgerChoice | None = None, clock: Clock = utc_now) -> DeskFront:
        """Over `ledger`, or the one `choose_ledger` finds for the data folder."""
        choice = ledger or choose_ledger(data_dir)
        return cls(data_dir, open_ledger(choice.location, clock=clock), clock, choice.chosen_by)

    @property
    def accounts(self) -> OperatorAccounts:
        return self._services.accounts

    @property
    def approvals(self) -> Approvals:
        return self._services.approvals

    @property
    def provider_titles(self) -> Mapping[str, str]:
        """The providers by title ("Pay3"), known before any client is opened."""
        return PROVIDER_TITLES

    async def aclose(self) -> None:
        """The worker (after the jobs given to it), then the ledger; a second call does nothing."""
        if self._closed:
            return
        self._closed = True
        try:
            await asyncio.to_thread(self.worker.close)
        finally:
            self.ledger.close()
