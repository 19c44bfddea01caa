"""What a running desk hears, and where the window shows it: the poller's moves and rounds, the providers'
health, and on a team ledger the other desks' changes and whether its server answers.

Everything here is called back on the loop's thread (the GUI thread under qasync). The news reaches the views as
Qt signals through `Operations`, the payouts a poller round moved gathered first so that the round repaints each
row once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer

from .operations import Changed, Operations

if TYPE_CHECKING:
    from treasury_app.services.desk_session import DeskSession, LedgerChange
    from treasury_app.services.poller import PayoutChange, RefreshReport
    from treasury_app.services.provider_status import ProviderStatus

    from .dashboard.feed import DashboardFeed
    from .detail_flow import DetailFlow
    from .ledger_banner import LedgerWatch
    from .main_window import DeskWindow
    from .notice_flow import DeskNotices


class DeskNews:
    """Subscribed to the session's news from construction until `stop()`."""

    def __init__(self, session: DeskSession, operations: Operations, window: DeskWindow, notices: DeskNotices,
                 detail: DetailFlow, ledger_watch: LedgerWatch | None,
                 dashboard: Callable[[], DashboardFeed | None]) -> None:
        self._operations = operations
        self._window = window
        self._notices = notices
        self._detail = detail
        self._dashboard = dashboard  # made at the first sign-in, so asked for each time
        self._moved_ids: set[int] = set()
        self._unsubscribe = [
            session.poller.subscribe(self._payout_moved),
            session.poller.subscribe_reports(self._round_done),
            session.health.subscribe(self._provider_seen),
            session.subscribe_ledger_changes(self._ledger_changed),
            *([session.subscribe_ledger_reachability(ledger_watch.show)] if ledger_watch is not None else []),
        ]

    def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []

    def _payout_moved(self, change: PayoutChange) -> None:
        if not self._moved_ids:
            QTimer.singleShot(0, self._announce_moves)
        self._moved_ids.add(change.payout_id)

    def _announce_moves(self) -> None:
        ids, self._moved_ids = frozenset(self._moved_ids), set()
        self._operations.announce(Changed(payouts=ids))

    def _ledger_changed(self, change: LedgerChange) -> None:
        """Another desk committed (a team ledger): its new payouts, approvals and status changes show here too."""
        payouts = set(change.payout_ids)
        if change.everything and self._detail.wanted is not None:
            payouts.add(self._detail.wanted)
        self._operations.announce(Changed(payouts=frozenset(payouts), new_payout=change.new_payouts))
        self._dashboard_read_soon()

    def _round_done(self, report: RefreshReport) -> None:
        self._window.status.show_round(report)
        self._notices.round_done(report)
        self._dashboard_read_soon()

    def _provider_seen(self, status: ProviderStatus) -> None:
        self._window.status.show_provider(status)
        if (dashboard := self._dashboard()) is not None:
            dashboard.provider_seen()

    def _dashboard_read_soon(self) -> None:
        if (dashboard := self._dashboard()) is not None:
            dashboard.read_soon()
