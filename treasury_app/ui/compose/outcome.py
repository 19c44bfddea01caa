"""What became of a payout the moment it was sent (or sent for approval), said in one sentence with what
happens next: the table follows it from there."""

from __future__ import annotations

import html
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.services.payout_views import PayoutRecord

from .. import theme
from ..texts import amount_text
from ..widgets import heading
from .review import Reviewed


@dataclass(frozen=True)
class SendOutcome:
    payout: PayoutRecord
    title: str
    explanation: str

    @classmethod
    def for_approval(cls, reviewed: Reviewed) -> SendOutcome:
        return cls(reviewed.payout, "Sent for approval",
                   "Another operator with the approver role must approve it, typing their password; then you "
                   "send it from its detail panel. It waits under Approvals → Waiting for others.")

    @classmethod
    def after_send(cls, payout: PayoutRecord, provider_title: str) -> SendOutcome:
        amount = amount_text(payout.amount, payout.currency, payout.network)
        status = payout.status
        if status in (PayoutStatus.PROCESSING, PayoutStatus.SUBMITTING):
            return cls(payout, f"Sent: {amount}",
                       f"{provider_title} accepted it and is processing it. The table follows it to completed.")
        if status is PayoutStatus.COMPLETED:
            return cls(payout, f"Completed: {amount}", f"{provider_title} paid it out.")
        if status is PayoutStatus.UNKNOWN:
            return cls(payout, "Sent, outcome not known yet",
                       f"No usable answer came back ({payout.failure_reason or 'no reason given'}). It is never sent "
                       f"twice: the poller asks {provider_title} by its key and records what it holds.")
        if status in (PayoutStatus.FAILED, PayoutStatus.CANCELLED):
            return cls(payout, f"Not paid: {theme.status_label(status).lower()}",
                       f"{provider_title} refused it: {payout.failure_reason or 'no reason given'}. Nothing left "
                       "the balance.")
        return cls(payout, theme.status_label(status), f"The payout is {status.value.replace('_', ' ')}.")


class OutcomePanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.icon = QLabel()
        self.title = heading("")
        self.explanation = QLabel()
        self.explanation.setWordWrap(True)
        self.explanation.setTextFormat(Qt.TextFormat.RichText)
        top = QHBoxLayout()
        top.addWidget(self.icon)
        top.addWidget(self.title, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.explanation)

    def show_outcome(self, outcome: SendOutcome) -> None:
        status = outcome.payout.status
        self.icon.setPixmap(theme.status_icon(status).pixmap(32, 32))
        self.title.setText(outcome.title)
        self.title.setStyleSheet(f"color: {theme.status_colour(status).name()}")
        self.explanation.setText(f"{html.escape(outcome.explanation)}<br><br>Payout #{outcome.payout.id}.")
