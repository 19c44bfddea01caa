"""The main window: a toolbar (Dashboard, Payouts, New payout, Refresh, Approvals, Export, Audit trail,
Address book, Administration, Find), the dashboard or the payouts (the filter bar, the table beside the detail
panel), and the status bar; screens
before sign-in (first run, sign-in) take the same window."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QMainWindow,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from treasury_app.domain.roles import Permission, may, may_administer

from . import theme
from .payouts.detail import DetailPanel
from .payouts.filters import FilterBar
from .payouts.model import PayoutTableModel
from .payouts.table import PayoutTableView
from .status_bar import DeskStatusBar

if TYPE_CHECKING:  # the directory (and the providers under it) load after the first paint
    from treasury_app.services.operator_accounts import SignedIn
    from treasury_app.services.provider_directory import ProviderConnection


class DeskWindow(QMainWindow):
    """Emits `closing()` when the person closes it (the shell then shuts the desk down cleanly)."""

    closing = Signal()

    def __init__(self, model: PayoutTableModel, provider_titles: Mapping[str, str], *, title: str,
                 parent: QWidget | None = None) -> None:
        """`provider_titles`: every provider the ledger may name, for the filter; which of them are connected
        (and whether to the sandbox) comes later, in `show_connections`."""
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("main-window")
        self.screens = QStackedWidget()
        central = QWidget()
        self._central = QVBoxLayout(central)  # the notice bar, once the desk has one (`add_notice_bar`), above
        self._central.setContentsMargins(0, 0, 0, 0)
        self._central.setSpacing(0)
        self._central.addWidget(self.screens, 1)
        self.setCentralWidget(central)

        self.filters = FilterBar(list(provider_titles.items()))
        self.table = PayoutTableView(model)
        self.detail = DetailPanel()
        self.splitter = splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.table)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)
        self.desk = QWidget()
        self.desk.setObjectName("desk")
        layout = QVBoxLayout(self.desk)
        layout.setContentsMargins(theme.MARGIN, theme.GAP, theme.MARGIN, 0)
        layout.setSpacing(theme.GAP)
        layout.addWidget(self.filters)
        layout.addWidget(splitter, 1)
        self.screens.addWidget(self.desk)

        self.toolbar = QToolBar("Actions")
        self.toolbar.setObjectName("actions")
        self.toolbar.setMovable(False)
        self.toolbar.setIconSize(theme.TOOLBAR_ICON_SIZE)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.addToolBar(self.toolbar)
        overflow = self.toolbar.findChild(QToolButton, "qt_toolbar_ext_button")  # » when the window is narrow
        if overflow is not None:
            overflow.setAccessibleName("More actions")
            overflow.setToolTip("More actions")
        self.dashboard = self._action("Dashboard", "inbox", "Ctrl+1",
                                      "Counts, balances, providers and daily volume (Ctrl+1)")
        self.payouts = self._action("Payouts", "file-text", "Ctrl+2", "The payouts table (Ctrl+2)")
        self.payouts.triggered.connect(self.show_desk)
        pages = QActionGroup(self)  # the page shown is the one pressed in, so a clerk sees where they are
        for page in (self.dashboard, self.payouts):
            page.setCheckable(True)
            pages.addAction(page)
        self.new_payout = self._action("New payout", "plus", "Ctrl+N", "Compose a payout (Ctrl+N)")
        self.refresh = self._action("Refresh", "refresh-cw", "F5", "Ask the providers now and re-read the table (F5)")
        self.approvals = self._action("Approvals", "list-checks", "Ctrl+Shift+A",
                                      "Payouts waiting for an approval (Ctrl+Shift+A)")
        self.export = self._action("Export…", "file-down", "Ctrl+E",
                                   "A CSV report of the payouts, for finance and auditors (Ctrl+E)")
        self.audit_trail = self._action("Audit trail", "history", "Ctrl+Shift+H",
                                        "Every recorded action, and the check that none was altered (Ctrl+Shift+H)")
        self.address_book = self._action("Address book", "wallet", "Ctrl+B",
                                         "Named destinations: search, add, remove (Ctrl+B)")
        self.administration = self._action("Administration", "shield-check", "Ctrl+Shift+D",
                                           "Operators, approval policy and provider profiles: admins only "
                                           "(Ctrl+Shift+D)")
        self.find = QAction(theme.icon("search"), "Find", self)
        self.find.setShortcut(QKeySequence.StandardKey.Find)
        self.find.triggered.connect(self._find)
        self.addAction(self.find)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.toolbar.addWidget(spacer)
        self.switch_operator = self._action("Switch operator", "users", None, "Sign in as another operator")
        self.sign_out = self._action("Sign out", "log-out", "Ctrl+Shift+L",
                                     "Sign out and show the sign-in screen (Ctrl+Shift+L)")
        self.status = DeskStatusBar()
        self.setStatusBar(self.status)
        self.show_signed_in(None)

    def show_connections(self, connections: Sequence[ProviderConnection]) -> None:
        """The providers as connected (profile or sandbox), once the desk's session has opened them."""
        self.status.show_connections(connections)

    def add_notice_bar(self, bar: QWidget) -> None:
        """The bar of desktop notifications across the top, above every screen (made after the first paint)."""
        self._central.insertWidget(0, bar)

    def show_screen(self, screen: QWidget) -> None:
        """Show a screen before sign-in (first run, sign-in) in place of the desk; no toolbar meanwhile."""
        if self.screens.indexOf(screen) < 0:
            self.screens.addWidget(screen)
        self.screens.setCurrentWidget(screen)
        self.toolbar.setVisible(False)

    def show_desk(self) -> None:
        self.screens.setCurrentWidget(self.desk)
        self.toolbar.setVisible(True)
        self.payouts.setChecked(True)
        self.table.setFocus()

    def show_dashboard(self, dashboard: QWidget) -> None:
        """The dashboard in place of the table, toolbar shown (the table is one click, or Ctrl+2, away)."""
        if self.screens.indexOf(dashboard) < 0:
            self.screens.addWidget(dashboard)
        self.screens.setCurrentWidget(dashboard)
        self.toolbar.setVisible(True)
        self.dashboard.setChecked(True)

    def _find(self) -> None:
        if self.screens.currentWidget() is not self.desk and self.toolbar.isVisible():  # from the dashboard
            self.show_desk()
        self.filters.search.setFocus()
        self.filters.search.selectAll()

    def show_signed_in(self, signed: SignedIn | None) -> None:
        """What the operator may do decides what the toolbar offers: a viewer sees no New payout."""
        roles = signed.roles if signed is not None else frozenset()
        composes = may(roles, Permission.COMPOSE)
        self.new_payout.setVisible(composes)
        self.new_payout.setEnabled(composes)  # hidden is not enough: its shortcut would still open the form
        self.approvals.setVisible(signed is not None)
        for screen in (self.dashboard, self.payouts):
            screen.setVisible(signed is not None)
            screen.setEnabled(signed is not None)
        exports = may(roles, Permission.EXPORT)
        self.export.setVisible(exports)
        self.export.setEnabled(exports)
        reads = may(roles, Permission.VIEW)  # every role reads the trail, as `audit show` and `audit verify` allow
        self.audit_trail.setVisible(reads)
        self.audit_trail.setEnabled(reads)
        administers = may_administer(roles)
        self.administration.setVisible(administers)
        self.administration.setEnabled(administers)  # disabled too: a hidden action's shortcut still fires
        self.switch_operator.setVisible(signed is not None)
        self.sign_out.setVisible(signed is not None)
        self.status.show_operator(signed)

    def show_waiting_for_me(self, count: int) -> None:
        self.approvals.setText(f"Approvals ({count})" if count else "Approvals")
        button = self.toolbar.widgetForAction(self.approvals)
        if isinstance(button, QToolButton):
            font = button.font()
            font.setBold(count > 0)
            button.setFont(font)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 — Qt's name
        self.closing.emit()
        super().closeEvent(event)

    def _action(self, text: str, icon_name: str, shortcut: str | None, tip: str) -> QAction:
        action = QAction(theme.icon(icon_name), text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.setToolTip(tip)
        action.setStatusTip(tip)
        self.toolbar.addAction(action)
        return action

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(1360, 860)
