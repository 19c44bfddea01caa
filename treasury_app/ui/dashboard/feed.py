"""What keeps the dashboard current: the ledger's figures read on the worker thread (again, a moment after
anything changed or the poller finished a round: many changes, one read), the balances asked of the providers
when the screen is first shown and when the person asks, and the providers' reachability as the desk learns it.

Everything goes through `Operations`; the counts' clicks go to the shell's callbacks (the filtered table, the
approvals queue).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer

from treasury_app.services.dashboard import (
    BEING_PAID,
    FAILED_WITHIN_DAYS,
    DeskFigures,
    providers_without_balances,
    read_balances,
    read_desk_figures,
)
from treasury_app.domain.payout_lifecycle import PayoutStatus

from ..operations import Operations
from ..payouts.filters import FilterChoice
from .screen import DashboardScreen

if TYPE_CHECKING:
    from treasury_app.services.desk_session import DeskSession
    from treasury_app.services.desk_worker import WorkerDesk
    from treasury_app.services.operator_accounts import SignedIn

# A burst of changes (a poll round settling fifty payouts) is read once, this long after the last of them.
REREAD_DELAY_MS = 400
S = PayoutStatus
# What the payouts table is to show for each count: exactly the payouts counted (`DashboardCounts.filter_of`).
COUNT_CHOICES: dict[str, FilterChoice] = {
    "being_paid": FilterChoice(statuses=BEING_PAID),
    "unknown": FilterChoice(statuses=(S.UNKNOWN,)),
    "completed_today": FilterChoice(statuses=(S.COMPLETED,), period_days=0, by_final_time=True),
    "failed_this_week": FilterChoice(statuses=(S.FAILED,), period_days=FAILED_WITHIN_DAYS - 1, by_final_time=True),
}


class DashboardFeed(QObject):
    """`start(acting)` after each sign-in; `stop()` at sign-out (nothing is read for nobody)."""

    def __init__(self, operations: Operations, session: DeskSession, *,
                 show_payouts: Callable[[FilterChoice], None], open_approvals: Callable[[bool], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._operations = operations
        self._session = session
        self._acting: SignedIn | None = None
        self._show_payouts = show_payouts
        self._open_approvals = open_approvals
        self._reading = False
        self._read_again = False
        self.screen = DashboardScreen({c.name: c.title for c in session.connections})
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REREAD_DELAY_MS)
        self._timer.timeout.connect(self.read_now)
        self.screen.count_chosen.connect(self._count_chosen)
        self.screen.balances_wanted.connect(self.read_balances)
        self.screen.chart_days_chosen.connect(lambda _days: self.read_now())
        operations.changed.connect(lambda _change: self.read_soon())

    def start(self, acting: SignedIn) -> None:
        self._acting = acting
        self.screen.forget()  # nothing of the operator before shows until this one's figures are read
        self.read_now()
        self.read_balances()
        self.provider_seen()

    def stop(self) -> None:
        self._acting = None
        self._timer.stop()

    def read_soon(self) -> None:
        """After a change or a poll round: read once things have been quiet for a moment."""
        if self._acting is not None:
            self._timer.start()

    def read_now(self) -> None:
        acting = self._acting
        if acting is None:
            return
        if self._reading:  # one read at a time; the newest state is read once it ends
            self._read_again = True
            return
        self._reading = True
        clock = self._session.clock
        days = self.screen.chart_days
        without_balances = providers_without_balances(self._session.providers)

        def read(desk: WorkerDesk) -> DeskFigures:
            return read_desk_figures(desk.ledger, acting, clock(), chart_days=days, estimates_of=without_balances)

        task = self._operations.run_in_worker("read the dashboard", read, on_done=self._figures_read)
        task.add_done_callback(lambda _task: self._read_ended())

    def read_balances(self) -> None:
        if self._acting is None:
            return
        session = self._session
        self.screen.refresh_balances.setEnabled(False)
        task = self._operations.run("read the providers' balances",
                                    lambda: read_balances(session.providers, session.clock),
                                    on_done=self.screen.show_balances)
        task.add_done_callback(lambda _task: self.screen.refresh_balances.setEnabled(True))

    def provider_seen(self) -> None:
        self.screen.show_reachability(list(self._session.health.statuses.values()))

    def _figures_read(self, figures: DeskFigures) -> None:
        if self._acting is not None:
            self.screen.show_figures(figures)

    def _read_ended(self) -> None:
        self._reading = False
        if self._read_again:
            self._read_again = False
            self.read_now()

    def _count_chosen(self, name: str) -> None:
        if name in ("waiting_for_me", "waiting_for_others"):
            self._open_approvals(name == "waiting_for_others")
        else:
            self._show_payouts(COUNT_CHOICES[name])
