"""The window at work over one desk session: which screen shows (first run, sign-in, the desk), who is signed
in, the poller running on the window's loop with its news reaching the table, and every dialog opened from the
desk. It wires screens to services (through `Operations` and `DeskCalls`); it decides nothing itself.
"""

from __future__ import annotations

import asyncio
import logging
import time
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox

from treasury_app.domain.approval_binding import same_operator
from treasury_app.identity import APP_TITLE
from treasury_app.services.desk_front import DeskFront
from treasury_app.services.payout_table import PayoutFilter, PayoutTable

from .desk_dialogs import DeskDialogs
from .detail_flow import DetailFlow
from .first_run import FirstRunScreen
from .idle_watch import IdleWatch
from .main_window import DeskWindow
from .operations import Changed, Failure, Operations, failure_of
from .payouts.model import PayoutTableModel
from .sign_in import SignInScreen

# The session (providers, sandbox, poller) loads after the first paint, and each dialog (with the calls behind
# it) when first wanted: the window's start waits for nothing it does not show (tests/benchmarks/window.py).
if TYPE_CHECKING:
    from treasury_app.services.demo_data import DemoOperator
    from treasury_app.services.desk_session import DeskSession
    from treasury_app.services.desk_worker import WorkerDesk
    from treasury_app.services.operator_accounts import OperatorSummary, SignedIn

    from .dashboard.feed import DashboardFeed
    from .desk_calls import DeskCalls
    from .desk_news import DeskNews
    from .ledger_banner import LedgerWatch
    from .notice_flow import DeskNotices
    from .payouts.filters import FilterChoice

log = logging.getLogger(__name__)
# How long closing waits for a payout being sent to get its answer; after that the send is abandoned, the payout
# stays `submitting` in the ledger, and the next start's recovery asks the provider what became of it.
CLOSE_GRACE_SECONDS = 10.0


class ShellOutcome(Enum):
    CLOSED = "closed"
    START_DEMO = "start demo"  # the first-run screen's "Try it with demo data"


class Shell:
    """`await shell.run()` until the window is closed (or the demo asked for); `await shell.close()` after.

    Made over a `DeskFront` (the window paints the ledger's first page from it) or a whole `DeskSession`; a
    front gets its session with `attach(session)` once the providers are open. Until then nothing can be sent
    and signing in waits for it.
    """

    def __init__(self, desk: DeskFront | DeskSession, *, demo_operators: tuple[DemoOperator, ...] = (),
                 demo: bool = False) -> None:
        front: DeskFront = desk if isinstance(desk, DeskFront) else desk.front
        self.front = front
        self._session: DeskSession | None = None
        self._signed_before_attach: SignedIn | None = None
        self.operations = Operations(front.worker.submit)
        self.calls: DeskCalls | None = None
        self._demo = demo
        self.close_grace = CLOSE_GRACE_SECONDS
        self._outcome = ShellOutcome.CLOSED
        self._finished = asyncio.Event()
        self._stop_poller = asyncio.Event()
        self._poller_task: asyncio.Task[None] | None = None
        self.dashboard: DashboardFeed | None = None  # made at the first sign-in: the start never loads it

        # The table's reads run on the worker thread, on its own connection: a large filter never holds the loop.
        worker = front.worker
        table = worker.submit(lambda desk: PayoutTable(desk.ledger)).result()
        self.model = PayoutTableModel(table, lambda job: worker.submit(lambda _desk: job()),
                                      provider_titles=front.provider_titles)
        # Qt appends " — Treasury Desk" (the application's display name) to every window title on X11 and Windows.
        ledger = front.ledger
        title = "Demo desk (sandbox)" if demo else (f"Team ledger {ledger.path}" if ledger.is_team_ledger
                                                      else str(front.data_dir))
        self.window = DeskWindow(self.model, front.provider_titles, title=title)
        self.window.resize(*_first_size())
        self.window.status.show_ledger(str(ledger.path), team=ledger.is_team_ledger)
        self.sign_in = SignInScreen(self.operations, desk_name=str(ledger.path if ledger.is_team_ledger
                                                                   else front.data_dir), sandbox=demo,
                                    demo_operators=demo_operators)
        self.sign_in.signed_in.connect(self._signed_in)
        self.dialogs = DeskDialogs(self.operations, self.window, self.model, front.provider_titles,
                                   lambda: self.calls)
        self.detail = DetailFlow(self.operations, self.window.detail, self.dialogs, lambda: self.calls,
                                 lambda: self._session.connections if self._session is not None else (),
                                 front.provider_titles)
        self.idle_watch = IdleWatch(parent=self.window)
        self.idle_watch.idle.connect(self._lock)
        self._idle_lock_seconds = 0.0
        self._locked_for: str | None = None  # who the idle lock signed out (their dialogs wait, hidden)
        self._on_table_before_lock = False  # and whether they were on the payouts table (else the dashboard)
        self.notices: DeskNotices  # made with the session (`attach`): it reads the ledger on the worker
        self.news: DeskNews  # the session's news to the window, made with the session too
        self.ledger_watch: LedgerWatch | None = None  # a team ledger's, made with the session too
        self._wire()
        if not isinstance(desk, DeskFront):
            self.attach(desk)

    @property
    def session(self) -> DeskSession:
        if self._session is None:
            raise RuntimeError("the desk's providers are not open yet: attach(session) first")
        return self._session

    @property
    def attached(self) -> bool:
        return self._session is not None

    def attach(self, session: DeskSession) -> None:
        """The providers are open: show them, follow the poller and the providers' health, and finish a
        sign-in that came first."""
        if session.front is not self.front:
            raise ValueError("the session belongs to another desk")
        self._session = session
        self.window.show_connections(session.connections)
        from .notice_flow import DeskNotices, show_what_is_noticed

        self.notices = DeskNotices(self.operations, self.window,
                                   lambda notice: show_what_is_noticed(notice, self.window, self.dialogs, self.detail))
        self.window.add_notice_bar(self.notices.bar)
        if self.front.ledger.is_team_ledger:
            from .ledger_banner import LedgerWatch

            self.ledger_watch = LedgerWatch(self.window, str(self.front.ledger.path))
        self.sign_in.show_sandbox(session.uses_sandbox)
        from .desk_news import DeskNews

        self.news = DeskNews(session, self.operations, self.window, self.notices, self.detail, self.ledger_watch,
                             lambda: self.dashboard)
        signed, self._signed_before_attach = self._signed_before_attach, None
        if signed is not None:
            self._signed_in(signed)

    # --- life ---------------------------------------------------------------------------------------------------

    async def run(self) -> ShellOutcome:
        """Show the window, start the poller; until the window is closed. Attach the session first."""
        if self._session is None:
            self.show()
        self.start_poller()
        await self._finished.wait()
        return self._outcome

    def first_page_painted(self) -> asyncio.Future[None]:
        """Done once the first page of the next query read is in and painted (the count, for the scroll bar,
        may still be under way), or once that read failed (the failure is shown in words). Listens from the
        call on: call it before the query is asked for."""
        painted: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def done(*_failure: object) -> None:
            self.model.first_page_read.disconnect(done)
            self.model.failed.disconnect(done)
            self.window.table.viewport().repaint()
            if not painted.done():
                painted.set_result(None)

        self.model.first_page_read.connect(done)
        self.model.failed.connect(done)
        return painted

    def show(self) -> None:
        """The window with its first screen (first run on a desk without operators, else sign-in), laid out and
        filtered as the person left it on this data folder."""
        self._restore_window()
        if self.front.accounts.has_operators():
            self.window.show_screen(self.sign_in)
        else:
            first = FirstRunScreen(self.operations, data_dir=str(self.front.data_dir))
            first.demo_chosen.connect(lambda: self._finish(ShellOutcome.START_DEMO))
            first.admin_created.connect(self._admin_created)
            self.window.show_screen(first)
        self.window.show()

    def _restore_window(self) -> None:
        from .window_state import reopen_as_left

        reopen_as_left(self.window, self.model, self.front.data_dir)

    def _save_window(self) -> None:
        from .window_state import save_as_left

        save_as_left(self.window, self.front.data_dir)

    def start_poller(self) -> None:
        """The poller on the window's loop (recovery first: a payout left `submitting` is settled now)."""
        if self._poller_task is None:
            self._poller_task = asyncio.get_running_loop().create_task(self.session.poller.run(stop=self._stop_poller))

    def start_live_demo(self) -> None:
        """A few payouts sent now to the embedded sandbox, to watch them complete."""
        from treasury_app.services.demo_data import send_live_demo_payouts

        session = self.session
        self.operations.run("send the demo's live payouts",
                            lambda: send_live_demo_payouts(session.workflow, session.approvals, session.accounts),
                            changed=lambda sent: Changed(payouts=frozenset(p.id for p in sent), new_payout=True))

    async def smoke(self) -> float:
        """Open the desk on the data folder and return the seconds until the table's first page is painted."""
        started = time.perf_counter()
        painted = self.first_page_painted()  # listening from now on: the read may be quicker than the next line
        self.model.set_query(PayoutFilter())
        self.window.show_desk()
        self.window.show()
        await painted
        return time.perf_counter() - started

    async def close(self) -> None:
        """Stop the poller between two answers, let a send in flight get its answer, close every window."""
        self._stop_poller.set()
        if self._session is not None:
            self._session.poller.wake()
        if self._session is not None:
            self.news.stop()
            self.notices.stop()
        if self.dashboard is not None:
            self.dashboard.stop()
        try:
            await asyncio.wait_for(self.operations.wait_idle(), self.close_grace)
        except TimeoutError:
            log.warning("closed while operations were still running; the next start recovers their payouts")
            await self.operations.cancel_running()
        if self._poller_task is not None:
            try:
                await asyncio.wait_for(self._poller_task, self.close_grace)
            except TimeoutError:
                log.warning("the poller did not stop in time; it was cancelled")
            self._poller_task = None
        self.operations.refuse_new()  # a timer or a late answer asks nothing more of a desk being closed
        self.dialogs.close_all()
        self.model.stop_reading()  # the worker closes with the session: no read may be asked of it after
        self.window.hide()

    def _finish(self, outcome: ShellOutcome) -> None:
        self._outcome = outcome
        self._finished.set()

    # --- wiring -------------------------------------------------------------------------------------------------

    def _wire(self) -> None:
        window = self.window
        window.closing.connect(self._save_window)
        window.closing.connect(lambda: self._finish(self._outcome))
        window.dashboard.triggered.connect(self._show_dashboard)
        window.new_payout.triggered.connect(self.dialogs.compose)
        window.refresh.triggered.connect(self._refresh)
        window.approvals.triggered.connect(lambda: self.dialogs.approvals())
        window.export.triggered.connect(self.dialogs.export)
        window.audit_trail.triggered.connect(self.dialogs.audit)
        window.address_book.triggered.connect(lambda: self.dialogs.address_book())
        window.administration.triggered.connect(self.dialogs.administration)
        window.switch_operator.triggered.connect(lambda: self._sign_out(keep_name=False))
        window.sign_out.triggered.connect(lambda: self._sign_out(keep_name=True))
        window.filters.filter_changed.connect(self.model.set_query)
        window.table.payout_selected.connect(self.detail.show)
        window.detail.action_requested.connect(self.detail.act)
        self.operations.changed.connect(self._changed)
        self.operations.failed.connect(self._failed)
        self.operations.busy_changed.connect(self._busy)
        self.model.failed.connect(self._read_failed)

    def _changed(self, change: Changed) -> None:
        if change.new_payout:
            self.model.set_query(self.model.payout_filter)
        else:
            self.model.refresh_payouts(change.payouts)
        if self.detail.wanted is not None and self.detail.wanted in change.payouts:
            self.detail.show(self.detail.wanted)
        self._count_waiting()

    def _read_failed(self, error: BaseException) -> None:
        failure = failure_of("read the payouts", error)
        if not failure.expected:
            log.error("reading the payouts failed", exc_info=error)
        self._failed(failure)

    def _failed(self, failure: Failure) -> None:
        if self.ledger_watch is not None and self.ledger_watch.says_already(failure):
            return
        box = QMessageBox(QMessageBox.Icon.Warning if failure.expected else QMessageBox.Icon.Critical,
                          APP_TITLE, f"Could not {failure.doing}.", QMessageBox.StandardButton.Ok,
                          self.window)
        if failure.expected:
            box.setInformativeText(failure.message)
        else:  # a bug: say where its details are
            from treasury_app.desk_log import log_file_of

            box.setInformativeText(f"{failure.message.rstrip('.')}: {log_file_of(self.front.data_dir)}.")
        box.setObjectName("failure")
        self.dialogs.keep(box)
        box.open()  # never exec(): the loop stays single

    def _busy(self, busy: bool) -> None:
        if busy:
            self.window.status.showMessage("Working…")
        else:
            self.window.status.clearMessage()

    # --- signing in and out -------------------------------------------------------------------------------------

    def _admin_created(self, summary: OperatorSummary) -> None:
        self.sign_in.operator.setText(summary.name)
        self.sign_in.reset()
        self.window.show_screen(self.sign_in)
        self.window.status.showMessage(f"Admin {summary.name} created. Sign in to set up the desk.", 8000)

    def _signed_in(self, signed: SignedIn) -> None:
        if self._session is None:  # the password was quicker than the providers: finish when they are open
            self._signed_before_attach = signed
            self.window.status.poller.setText(f"{signed.name} signed in; connecting to the providers…")
            return
        from .desk_calls import DeskCalls

        self.calls = DeskCalls(self.session, signed)
        self.window.show_signed_in(signed)
        locked_for, self._locked_for = self._locked_for, None
        if locked_for is not None and same_operator(locked_for, signed.name):
            self._back_to_page_before_lock(signed)
            self.dialogs.show_hidden()  # back to the half-written form the lock hid
        else:
            self._show_dashboard(start=signed)
            self.dialogs.close_all()  # another operator: what the first had open ends, nothing sent from it
        self._count_waiting()
        self.notices.signed_in(signed)
        self._arm_idle_lock()
        selected = self.window.table.selected_payout()
        if selected is not None:  # the row chosen before signing out, now with this operator's actions
            self.detail.show(selected)

    def _sign_out(self, *, keep_name: bool = True, keep_dialogs: bool = False) -> None:
        """Back to the sign-in screen; switching operator also empties the name, for the next person's. The idle
        lock keeps the dialogs, hidden, for the same operator's return."""
        if keep_dialogs:
            self.dialogs.hide_all()
        else:
            self.dialogs.close_all()
        self.idle_watch.disarm()
        if self._session is not None:
            self.notices.signed_out()
        if self.dashboard is not None:
            self.dashboard.stop()
        self.calls = None
        self.window.show_signed_in(None)
        self.detail.clear()  # a read under way for the operator signing out is not shown either
        if not keep_name:
            self.sign_in.operator.clear()
        self.sign_in.reset()
        self.window.show_screen(self.sign_in)

    def _arm_idle_lock(self) -> None:
        def read(desk: WorkerDesk) -> float:
            from treasury_app.services.idle_lock import idle_lock_after  # after the first paint: see its imports

            return idle_lock_after(desk.ledger).total_seconds()

        def arm(seconds: float) -> None:
            if self.calls is not None:  # still signed in
                self._idle_lock_seconds = seconds
                self.idle_watch.arm(seconds)

        self.operations.run_in_worker("read the idle lock", read, on_done=arm)

    def _lock(self) -> None:
        """Nobody touched the desk for its idle time: sign out behind the sign-in screen, the dialogs hidden as
        they are; the same operator signs in and finds them again, another operator finds them closed (nothing
        was sent from them). The poller runs on."""
        minutes = Decimal(int(self._idle_lock_seconds)) / 60
        self._locked_for = self.calls.acting.name if self.calls is not None else None
        self._on_table_before_lock = self.window.screens.currentWidget() is self.window.desk
        self._sign_out(keep_name=True, keep_dialogs=True)
        self.sign_in.show_notice(f"Locked after {minutes.normalize():f} minutes without use. Sign in again, "
                                 "or as another operator.")

    def _count_waiting(self) -> None:
        if self.calls is None:
            return
        self.operations.run_in_worker("count the payouts waiting for you", self.calls.waiting_for_me_job(),
                                      on_done=self.window.show_waiting_for_me)

    # --- the desk ---------------------------------------------------------------------------------------------

    def _show_dashboard(self, *, start: SignedIn | None = None) -> None:
        """The dashboard (the first screen after sign-in, `start`ing its reads for that operator)."""
        if self.dashboard is None:
            from .dashboard.feed import DashboardFeed

            self.dashboard = DashboardFeed(self.operations, self.session, show_payouts=self._show_payouts,
                                           open_approvals=lambda others: self.dialogs.approvals(others=others),
                                           parent=self.window)
        if start is not None:
            self.dashboard.start(start)
        self.window.show_dashboard(self.dashboard.screen)

    def _back_to_page_before_lock(self, signed: SignedIn) -> None:
        """The same operator back after the idle lock: the page they were on (the dashboard re-read for them)."""
        if self._on_table_before_lock:
            self.window.show_desk()
            if self.dashboard is not None:
                self.dashboard.start(signed)  # read for its next showing, as at every sign-in
        else:
            self._show_dashboard(start=signed)

    def _show_payouts(self, choice: FilterChoice) -> None:
        self.window.filters.choose(choice)
        self.window.show_desk()

    def _refresh(self) -> None:
        if self._session is not None:
            self._session.poller.wake()
        self.model.set_query(self.model.payout_filter)


def _first_size() -> tuple[int, int]:
    """A first window size that fits the screen: most of it, at most 1440 × 900."""
    screen = QGuiApplication.primaryScreen()
    if screen is None:
        return 1280, 800
    area = screen.availableGeometry()
    return min(1440, int(area.width() * 0.9)), min(900, int(area.height() * 0.9))

