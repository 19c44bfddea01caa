"""The approvals queue: "waiting for me" and "waiting for others", and the decision made right there — the
approver types their password in the same act (the services' rule), a rejection says why."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from treasury_app.domain.payout_actions import ActionState, PayoutAction
from treasury_app.services.approval_queue import ApprovalQueue, WaitingPayout
from treasury_app.services.desk_worker import WorkerDesk
from treasury_app.services.operator_accounts import SignedIn

from .. import theme
from ..operations import Changed, Failure, Operations
from ..texts import amount_text, asset_text, grouped_address, local_time, short_address
from ..widgets import button, card, field_error, heading, hint, primary_button, row, show_field_error

COLUMNS = ("Payout", "Composed", "By", "Amount", "Asset", "Recipient", "Why it needs approval")


class ApprovalsDialog(QDialog):
    """Non-modal; `decided(payout_id)` after an approval or a rejection was recorded."""

    decided = Signal(int)

    def __init__(self, operations: Operations, acting: SignedIn, *,
                 load_queue: Callable[[], ApprovalQueue],
                 actions_of: Callable[[int], Sequence[ActionState]],
                 title_of: Callable[[str], str] = str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Approvals")
        self.setObjectName("approvals")
        self.resize(980, 620)
        self._operations = operations
        self._acting = acting
        self._load_queue = load_queue
        self._actions_of = actions_of
        self._title_of = title_of  # a provider's name as people know it ("Cryptomus")
        self._selected: WaitingPayout | None = None

        self.tabs = QTabWidget()
        self.for_me = _queue_table("Payouts waiting for my decision")
        self.for_others = _queue_table("Payouts waiting for someone else's decision")
        self.tabs.addTab(self.for_me, "Waiting for me")
        self.tabs.addTab(self.for_others, "Waiting for others")
        for table in (self.for_me, self.for_others):
            table.itemSelectionChanged.connect(self._selection_changed)
        self.tabs.currentChanged.connect(lambda _: self._selection_changed())

        self.summary = QLabel("Choose a payout above.")
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.why_not = hint("")
        self.why_not.setVisible(False)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Your password")
        self.password.setPlaceholderText(f"{acting.name}'s password, to sign this decision")
        self.reason = QLineEdit()
        self.reason.setAccessibleName("Reason for rejecting")
        self.reason.setPlaceholderText("Needed to reject: what should the initiator fix?")
        self.error = field_error()
        self.approve_button = primary_button("Approve", "circle-check-big")
        self.reject_button = button("Reject", "circle-x")
        self.approve_button.clicked.connect(lambda: self._decide(PayoutAction.APPROVE))
        self.reject_button.clicked.connect(lambda: self._decide(PayoutAction.REJECT))
        self.password.returnPressed.connect(lambda: self._decide(PayoutAction.APPROVE))
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=lambda: self._decide(PayoutAction.APPROVE))
        QShortcut(QKeySequence("Ctrl+Shift+R"), self, activated=lambda: self._decide(PayoutAction.REJECT))

        form = QFormLayout()
        form.addRow("Password", self.password)
        form.addRow("Reason", self.reason)
        # Not `self.reject`: that would hide QDialog.reject(), which Qt calls when the dialog is closed.
        self.decision = card(self.summary, self.why_not, form, self.error, row(self.reject_button, self.approve_button))
        close = button("Close")
        close.clicked.connect(self.close)

        layout = QVBoxLayout(self)
        layout.setSpacing(theme.GAP)
        layout.addWidget(heading("Approvals"))
        layout.addWidget(hint("A second person approves large payouts before they are sent. You sign each "
                              "decision with your password; you can never decide on a payout you composed. "
                              "Ctrl+Enter approves, Ctrl+Shift+R rejects."))
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.decision)
        layout.addLayout(row(close))
        self.reload()

    def reload(self) -> None:
        queue = self._load_queue()
        _fill(self.for_me, queue.for_me)
        _fill(self.for_others, queue.for_others)
        self.tabs.setTabText(0, f"Waiting for me ({len(queue.for_me)})")
        self.tabs.setTabText(1, f"Waiting for others ({len(queue.for_others)})")
        self._entries = {0: queue.for_me, 1: queue.for_others}
        table = self.for_me if queue.for_me or not queue.for_others else self.for_others
        self.tabs.setCurrentWidget(table)
        if table.rowCount():
            table.selectRow(0)
        self._selection_changed()

    def select_payout(self, payout_id: int) -> bool:
        """Show this payout's decision (from its detail panel's Approve or Reject); whether it is in the queue."""
        for tab, table in ((0, self.for_me), (1, self.for_others)):
            for number, entry in enumerate(self._entries[tab]):
                if entry.payout.id == payout_id:
                    self.tabs.setCurrentWidget(table)
                    table.selectRow(number)
                    self._selection_changed()
                    return True
        return False

    def _selection_changed(self) -> None:
        table = self.tabs.currentWidget()
        rows = table.selectionModel().selectedRows() if isinstance(table, QTableWidget) else []
        entries = self._entries.get(self.tabs.currentIndex(), ())
        self._selected = entries[rows[0].row()] if rows and rows[0].row() < len(entries) else None
        show_field_error(self.error, None)
        if self._selected is None:
            self.summary.setText("Nothing to decide here." if not entries else "Choose a payout above.")
            self._enable(False, "")
            return
        payout = self._selected.payout
        self.summary.setText(
            f"<b>Payout #{payout.id}</b>: <span style='font-size:14pt'><b>"
            f"{html.escape(amount_text(payout.amount, payout.currency, payout.network))}</b></span> "
            f"({html.escape(asset_text(payout.currency, payout.network))}) via {html.escape(self._title_of(payout.provider))}<br>"
            f"to <tt>{html.escape(grouped_address(payout.address))}</tt><br>"
            f"fee {html.escape(amount_text(payout.estimated_fee, payout.currency, payout.network))}, "
            f"net to recipient {html.escape(amount_text(payout.estimated_net, payout.currency, payout.network))}"
            f"<br>composed by {html.escape(payout.created_by)} on {local_time(payout.created_at)}; "
            f"needs approval: {html.escape(self._selected.policy.explain())}")
        states = {s.action: s for s in self._actions_of(payout.id)}
        approve = states[PayoutAction.APPROVE]
        self._enable(approve.allowed, approve.reason)

    def _enable(self, allowed: bool, reason: str) -> None:
        for widget in (self.password, self.reason, self.approve_button, self.reject_button):
            widget.setEnabled(allowed)
            widget.setToolTip(reason)
        self.why_not.setText(reason)
        self.why_not.setVisible(bool(reason) and not allowed)
        if allowed and not (self.for_me.hasFocus() or self.for_others.hasFocus()):
            self.password.setFocus()  # chosen from the detail panel: type the password; arrowing stays in the list

    def _decide(self, action: PayoutAction) -> None:
        if self._selected is None or not self.approve_button.isEnabled():
            return
        payout_id, name, password = self._selected.payout.id, self._acting.name, self.password.text()
        reason = self.reason.text()
        if not password:
            show_field_error(self.error, "Type your password: it signs this decision.")
            self.password.setFocus()
            return
        if action is PayoutAction.REJECT and not reason.strip():
            show_field_error(self.error, "Say why you reject it, so that the initiator knows what to fix.")
            self.reason.setFocus()
            return
        show_field_error(self.error, None)
        self.approve_button.setEnabled(False)
        self.reject_button.setEnabled(False)

        def decide(desk: WorkerDesk) -> int:
            if action is PayoutAction.APPROVE:
                desk.approvals.approve(payout_id, approver=name, password=password)
            else:
                desk.approvals.reject(payout_id, approver=name, password=password, reason=reason)
            return payout_id

        verb = "approve" if action is PayoutAction.APPROVE else "reject"
        self._operations.run_in_worker(f"{verb} payout {payout_id}", decide, on_done=self._recorded,
                                       on_error=self._refused, changed=lambda pid: Changed.payout(pid))

    def _recorded(self, payout_id: int) -> None:
        self.password.clear()
        self.reason.clear()
        self.decided.emit(payout_id)
        self.reload()

    def _refused(self, failure: Failure) -> bool:
        self.password.clear()
        self.approve_button.setEnabled(True)
        self.reject_button.setEnabled(True)
        show_field_error(self.error, failure.message)
        return True


def _queue_table(name: str) -> QTableWidget:
    table = QTableWidget(0, len(COLUMNS))
    table.setAccessibleName(name)
    table.setTabKeyNavigation(False)  # Tab goes on to the password; the arrows choose the row
    table.setHorizontalHeaderLabels(list(COLUMNS))
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
    table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
    table.setAlternatingRowColors(True)
    table.horizontalHeader().setStretchLastSection(True)
    table.horizontalHeader().setAccessibleName(f"{name}: columns")
    return table


def _fill(table: QTableWidget, entries: Sequence[WaitingPayout]) -> None:
    table.setRowCount(len(entries))
    for r, entry in enumerate(entries):
        p = entry.payout
        values = (f"#{p.id}", local_time(p.created_at), p.created_by,
                  amount_text(p.amount, p.currency, p.network), asset_text(p.currency, p.network),
                  short_address(p.address), entry.policy.explain())
        for c, value in enumerate(values):
            item = QTableWidgetItem(value)
            item.setToolTip(p.address if c == 5 else value)
            if c == 3:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                item.setFont(theme.amount_font(item.font()))
            table.setItem(r, c, item)
    table.resizeColumnsToContents()
