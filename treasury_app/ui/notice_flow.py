"""The desk's news on its way to the signed-in operator: the poller's changes of each round, and the payouts
that started waiting for them, gathered for a moment (a catch-up runs several rounds back to back) and then
shown through `Notifier`. Who is told what is `services.desk_news`'s to decide."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget

from treasury_app.services.approval_queue import waiting_ids_for
from treasury_app.services.desk_news import DeskNews, Notice

from .notices import NoticeBar, Notifier
from .operations import Operations

if TYPE_CHECKING:
    from .desk_dialogs import DeskDialogs
    from .detail_flow import DetailFlow
    from .main_window import DeskWindow
    from treasury_app.ledger import PayoutRecord
    from treasury_app.services.desk_worker import WorkerDesk
    from treasury_app.services.operator_accounts import SignedIn
    from treasury_app.services.poller import RefreshReport

# Newly waiting payouts read for their words; more than a few are a summary, which only counts them.
MOST_READ = 20
# News of rounds run back to back (a catch-up after an absence) is gathered this long, then shown at once.
GATHER_MS = 1500


class DeskNotices:
    """`shown(notice)` is called when the person asks to see what a notice is about."""

    def __init__(self, operations: Operations, window: QWidget, shown: Callable[[Notice], None]) -> None:
        self._operations = operations
        self.news = DeskNews()
        self.bar = NoticeBar()
        self.bar.show_requested.connect(shown)
        self.bar.show_requested.connect(lambda _notice: self.notifier.clear())  # read: it goes
        self.notifier = Notifier(self.bar, window.windowIcon(), window)
        self._acting: SignedIn | None = None
        self._gather = QTimer(self.bar)  # dies with the window
        self._gather.setSingleShot(True)
        self._gather.setInterval(GATHER_MS)
        self._gather.timeout.connect(self._tell)

    def round_done(self, report: RefreshReport) -> None:
        signed = self._acting.name if self._acting is not None else None
        self.news.payouts_moved(((change.before, change.after) for change in report.changes), signed)
        if self._acting is not None and not self._gather.isActive():
            self._gather.start()

    def signed_in(self, acting: SignedIn) -> None:
        """What happened while they were away (one summary), and what waits for them from now on."""
        self._acting = acting
        self._read_waiting(acting)

    def signed_out(self) -> None:
        if self._acting is not None:
            self.news.signed_out(self._acting.name)
        self._acting = None
        self._gather.stop()
        self.notifier.clear()

    def stop(self) -> None:
        """The window closes: no more reads (the desk's worker is about to close)."""
        self._acting = None
        self._gather.stop()

    def _tell(self) -> None:
        if self._acting is not None:
            self._read_waiting(self._acting)

    def _read_waiting(self, acting: SignedIn) -> None:
        news = self.news
        known = news.known_waiting(acting.name)  # read here, on the GUI thread, which alone changes `news`

        def read(desk: WorkerDesk) -> tuple[frozenset[int], dict[int, PayoutRecord]]:
            waiting = waiting_ids_for(desk.ledger, acting)
            fresh = sorted(waiting - known) if known is not None else []
            return waiting, {i: desk.ledger.payouts.get(i) for i in fresh[:MOST_READ]}

        def got(result: tuple[frozenset[int], dict[int, PayoutRecord]]) -> None:
            if self._acting is not acting:
                return  # signed out meanwhile: their news stays held for their next sign-in
            waiting, records = result
            news.waiting_now(acting.name, waiting, records)
            self.notifier.notify(news.take(acting.name))

        self._operations.run_in_worker("read the payouts waiting for you", read, on_done=got)


def show_what_is_noticed(notice: Notice, window: DeskWindow, dialogs: DeskDialogs, detail: DetailFlow) -> None:
    """What a notification is about: its payout in the detail panel (a waiting one in Approvals); for a
    summary, the payouts that need attention, the approvals waiting, or the payouts completed."""
    from treasury_app.domain.payout_lifecycle import PayoutStatus
    from treasury_app.services.desk_news import NoticeKind

    from .payouts.filters import FilterChoice

    window.show_desk()
    if notice.payout is not None:
        if notice.kind is NoticeKind.WAITING:
            dialogs.approvals(notice.payout.id)
        elif not window.table.select_payout(notice.payout.id):  # not on the table's page, or filtered out
            detail.show(notice.payout.id)
    elif notice.needs_attention:
        window.filters.choose(FilterChoice(statuses=(PayoutStatus.UNKNOWN, PayoutStatus.FAILED)))
    elif notice.counts.get(NoticeKind.WAITING):
        dialogs.approvals()
    else:
        window.filters.choose(FilterChoice(statuses=(PayoutStatus.COMPLETED,)))
