"""The detail panel: one payout whole — its figures (estimated against actual), the destination, the provider's
ids and the transaction with a link to the network's explorer, the timeline, the approvals, the audit rows —
and the actions this operator may take on it, each greyed with the reason when not allowed."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from treasury_app.domain.payout_actions import ActionState, PayoutAction

from .. import theme
from ..texts import (
    DASH,
    amount_text,
    asset_of,
    asset_text,
    fee_mode_text,
    grouped_address,
    local_time,
    words,
)
from ..widgets import button, heading, hint, row, sandbox_badge

# The payout's views (and the audit chain behind them) load with the first payout shown, not before the window's
# first paint (tests/ui/test_window_start.py).
if TYPE_CHECKING:
    from treasury_app.services.payout_views import AuditRow, PayoutDetail

ACTION_LABELS = {
    PayoutAction.REQUEST_APPROVAL: ("Send for approval", "user-check"),
    PayoutAction.APPROVE: ("Approve…", "circle-check-big"),
    PayoutAction.REJECT: ("Reject…", "circle-x"),
    PayoutAction.EXECUTE: ("Send…", "send"),
    PayoutAction.ESTIMATE: ("Estimate again", "refresh-cw"),
    PayoutAction.ADD_TO_ADDRESS_BOOK: ("Add to address book…", "users"),
}


class DetailPanel(QWidget):
    """Shows what `show_payout` is given; emits `action_requested(PayoutAction, payout_id)`."""

    action_requested = Signal(object, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("payout-detail")
        self.setMinimumWidth(380)
        self._payout_id: int | None = None
        self.title = heading("No payout selected", 1.5)
        self.title.setFont(theme.amount_font(self.title.font(), bold=True))
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status = QLabel()
        self.status.setAccessibleName("Status")
        self.subtitle = hint("Choose a payout in the table to see everything about it.")
        self.badge = sandbox_badge()
        self.badge.setVisible(False)

        self.buttons: dict[PayoutAction, object] = {}
        # Three to a row: the panel is narrow beside the table, and a label cut in half says nothing.
        actions = QGridLayout()
        actions.setSpacing(theme.GAP_SMALL)
        for number, (action, (label, icon_name)) in enumerate(ACTION_LABELS.items()):
            widget = button(label, icon_name)
            widget.setAccessibleName(label.rstrip("…"))
            widget.clicked.connect(lambda _=False, a=action: self._request(a))
            widget.setVisible(False)
            actions.addWidget(widget, number // 3, number % 3)
            self.buttons[action] = widget
        self.reasons = hint("")
        self.reasons.setVisible(False)
        self.reasons.setTextFormat(Qt.TextFormat.RichText)

        self.fields = QFormLayout()
        self.fields.setVerticalSpacing(theme.GAP_SMALL)
        self.fields.setHorizontalSpacing(theme.GAP_LARGE)
        fields_holder = QWidget()
        fields_holder.setLayout(self.fields)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(fields_holder)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.timeline = _table(("When", "Status", "By", "Detail"))
        self.approvals = _table(("Decision", "By", "When", "Valid until", "Note"))
        self.audit = _table(("Row", "When", "By", "Action", "Detail"))
        self.tabs = QTabWidget()
        self.tabs.addTab(scroll, "Details")
        self.tabs.addTab(self.timeline, "Timeline")
        self.tabs.addTab(self.approvals, "Approvals")
        self.tabs.addTab(self.audit, "Audit trail")

        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.badge)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(theme.MARGIN, theme.MARGIN, theme.MARGIN, theme.MARGIN)
        layout.setSpacing(theme.GAP)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(self.subtitle)
        layout.addLayout(actions)
        layout.addWidget(self.reasons)
        layout.addWidget(self.tabs, 1)
        self.tabs.setVisible(False)

    @property
    def payout_id(self) -> int | None:
        return self._payout_id

    def clear(self) -> None:
        self._payout_id = None
        self.title.setText("No payout selected")
        self.status.clear()
        self.subtitle.setText("Choose a payout in the table to see everything about it.")
        self.badge.setVisible(False)
        self.tabs.setVisible(False)
        self.reasons.setVisible(False)
        for widget in self.buttons.values():
            widget.setVisible(False)

    def show_payout(self, detail: PayoutDetail, actions: Sequence[ActionState], *, provider_title: str,
                    is_sandbox: bool) -> None:
        payout = detail.payout
        self._payout_id = payout.id
        self.title.setText(amount_text(payout.amount, payout.currency, payout.network))
        look = theme.status_look(payout.status)
        colour = theme.status_colour(payout.status).name()
        self.status.setText(f"<span style='color:{colour}; font-weight:bold'>{html.escape(look.label)}</span>"
                            f"  <span style='color:palette(placeholder-text)'>payout #{payout.id}"
                            f"{' · ' + html.escape(payout.provider_status) if payout.provider_status else ''}"
                            "</span>")
        self.subtitle.setText(f"{asset_text(payout.currency, payout.network)} via {provider_title}, "
                              f"composed by {payout.created_by} on {local_time(payout.created_at)}")
        self.badge.setVisible(is_sandbox)
        self._show_actions(actions)
        self._show_fields(detail, provider_title)
        self._show_timeline(detail)
        self._show_approvals(detail)
        self._show_audit(detail)
        self.tabs.setVisible(True)

    def _show_actions(self, actions: Sequence[ActionState]) -> None:
        why_not: dict[str, list[str]] = {}  # one line per reason, naming every action it greys
        for state in actions:
            widget = self.buttons[state.action]
            widget.setVisible(True)
            widget.setEnabled(state.allowed)
            widget.setToolTip(state.reason)
            widget.setAccessibleDescription(state.reason)
            if not state.allowed and state.relevant:
                why_not.setdefault(state.reason, []).append(ACTION_LABELS[state.action][0].rstrip("…"))
        self.reasons.setText("<br>".join(f"<b>{html.escape(', '.join(labels))}:</b> {html.escape(reason)}"
                                         for reason, labels in why_not.items()))
        self.reasons.setVisible(bool(why_not))

    def _show_fields(self, detail: PayoutDetail, provider_title: str) -> None:
        p = detail.payout
        while self.fields.rowCount():
            self.fields.removeRow(0)

        def money(value):  # noqa: ANN001, ANN202 — a Decimal or None
            return amount_text(value, p.currency, p.network)

        asset = asset_of(p.currency, p.network)
        tx = DASH
        if p.tx_hash:
            link = asset.network.explorer_link(p.tx_hash) if asset else ""
            shown = html.escape(short_hash(p.tx_hash))  # the whole hash is in the link and the copy button
            tx = f"<a href='{html.escape(link)}'>{shown}</a>" if link else shown
        rows: list[tuple[str, str, bool]] = [
            ("Amount", money(p.amount), False),
            ("Fee taken", fee_mode_text(p.fee_mode), False),
            ("Estimated fee", money(p.estimated_fee), False),
            ("Actual fee", money(p.actual_fee), False),
            ("Net to recipient", money(p.estimated_net), False),
            ("Total debited", money(p.estimated_total), False),
            ("Paid", money(p.actual_amount), False),
            ("Recipient", html.escape(grouped_address(p.address)), True),
            ("Memo", html.escape(p.memo or DASH), False),
            ("Network", html.escape(asset.network.name if asset else p.network)
             + (" (testnet)" if asset and asset.network.is_testnet else ""), False),
            ("Provider", html.escape(provider_title), False),
            ("Estimated", local_time(p.estimated_at, seconds=True), False),
            ("Warnings", html.escape("; ".join(p.estimate_warnings) or DASH), False),
            ("Reference", html.escape(p.reference or DASH), False),
            ("Note", html.escape(p.note or DASH), False),
            ("Sent", local_time(p.submitted_at, seconds=True), False),
            ("Finished", local_time(p.finished_at, seconds=True), False),
            ("Transaction", tx, True),
            ("Provider's id", html.escape(p.provider_payout_id or DASH), True),
            ("Idempotency key", html.escape(p.idempotency_key), True),
            ("Failure", html.escape(p.failure_reason or DASH), False),
            ("Policy", html.escape(detail.policy.explain() if detail.policy.reasons else "no approval needed"), False),
        ]
        for name, value, fixed in rows:
            label = QLabel(value)
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setWordWrap(True)
            label.setOpenExternalLinks(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
            label.setAccessibleName(name)
            if fixed:
                label.setFont(theme.amount_font(label.font()))
            self.fields.addRow(f"{name}", label)
        copy = button("Copy address", "copy")
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(p.address))
        copies = [copy]
        if p.tx_hash:
            copy_tx = button("Copy transaction hash", "copy")
            copy_tx.clicked.connect(lambda: QGuiApplication.clipboard().setText(p.tx_hash or ""))
            copies.append(copy_tx)
        self.fields.addRow("", row(*copies))

    def _show_timeline(self, detail: PayoutDetail) -> None:
        rows = []
        for event in detail.events:
            moved = theme.status_label(event.to_status)
            if event.from_status is not None and event.from_status != event.to_status:
                moved = f"{theme.status_label(event.from_status)} → {moved}"
            said = event.detail.get("reason") or event.provider_status or ""
            rows.append((local_time(event.at, seconds=True), moved, event.actor, str(said)))
        _fill(self.timeline, rows)

    def _show_approvals(self, detail: PayoutDetail) -> None:
        rows = []
        for approval in detail.approvals:
            decision = str(approval.decision).capitalize()
            if approval.voided_at is not None:
                decision += " (void)"
            note = approval.void_reason or approval.reason or ""
            rows.append((decision, approval.operator, local_time(approval.decided_at, seconds=True),
                         local_time(approval.expires_at), note))
        _fill(self.approvals, rows or [("No decision yet", "", "", "", "")])

    def _show_audit(self, detail: PayoutDetail) -> None:
        rows = [(str(row.seq), local_time(row.at, seconds=True), row.operator or "", words(row.action),
                 _detail_summary(row)) for row in detail.audit_rows]
        _fill(self.audit, rows)

    def _request(self, action: PayoutAction) -> None:
        if self._payout_id is not None:
            self.action_requested.emit(action, self._payout_id)


def _table(headers: Sequence[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setTabKeyNavigation(False)  # Tab leaves the table: the keyboard alone reaches every control
    table.setHorizontalHeaderLabels(list(headers))
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
    table.setWordWrap(True)
    table.horizontalHeader().setStretchLastSection(True)
    table.setAlternatingRowColors(True)
    return table


def _fill(table: QTableWidget, rows: Sequence[Sequence[str]]) -> None:
    table.setRowCount(len(rows))
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            item = QTableWidgetItem(value)
            item.setToolTip(value)
            table.setItem(r, c, item)
    table.resizeColumnsToContents()


def _detail_summary(row: AuditRow) -> str:
    from treasury_app.services.audit import detail_for_people

    return ", ".join(f"{words(str(k))}: {v}" for k, v in detail_for_people(row).items())


def short_hash(value: str, keep: int = 10) -> str:
    """A transaction hash short enough for the panel: its start and end, as explorers show them."""
    return value if len(value) <= 2 * keep + 1 else f"{value[:keep]}…{value[-keep:]}"
