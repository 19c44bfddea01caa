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
from ..widgets import heading, hint
from .review import Reviewed


# The provider's own words are shown as details under the sentence, cut to this many characters (all of them in
# the tooltip): a server error can quote a whole JSON body, which is no sentence for a person.
DETAILS_SHOWN = 160


@dataclass(frozen=True)
class SendOutcome:
    payout: PayoutRecord
    title: str
    explanation: str
    details: str = ""  # the provider's or the transport's own words, for whoever reconciles it later

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
                       f"{provider_title} gave no usable answer, so whether it was carried out is not known. It is "
                       f"never sent twice: the poller asks {provider_title} by its key and records what it holds.",
                       payout.failure_reason or "")
        if status in (PayoutStatus.FAILED, PayoutStatus.CANCELLED):
            return cls(payout, f"Not paid: {theme.status_label(status).lower()}",
                       f"{provider_title} refused it: {_first_words(payout.failure_reason)}. Nothing left the "
                       "balance.", payout.failure_reason or "")
        return cls(payout, theme.status_label(status), f"The payout is {status.value.replace('_', ' ')}.")


def _first_words(reason: str | None) -> str:
    if not reason:
        return "no reason given"
    return reason if len(reason) <= DETAILS_SHOWN else reason[:DETAILS_SHOWN].rstrip() + "…"


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
        self.details = hint("")
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setAccessibleName("What the provider said")
        layout.addLayout(top)
        layout.addWidget(self.explanation)
        layout.addWidget(self.details)

    def show_outcome(self, outcome: SendOutcome) -> None:
        status = outcome.payout.status
        self.icon.setPixmap(theme.status_icon(status).pixmap(32, 32))
        self.title.setText(outcome.title)
        self.title.setStyleSheet(f"color: {theme.status_colour(status).name()}")
        self.explanation.setText(f"{html.escape(outcome.explanation)}<br><br>Payout #{outcome.payout.id}.")
        details = outcome.details
        self.details.setText(f"Provider's answer: {_first_words(details)}" if details else "")
        self.details.setToolTip(details)
        self.details.setVisible(bool(details))
