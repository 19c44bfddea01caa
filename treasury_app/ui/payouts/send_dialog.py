"""Sending a payout that is already composed (approved, or estimated and not needing approval): the same review a
person saw when composing it, fresh figures, and one clearly named button ("Send 1,500.00 USDT"); then what
became of it. Non-modal: the window's loop never re-enters (`open()`, not `exec()`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QStackedWidget, QVBoxLayout, QWidget

from .. import theme
from ..compose.outcome import OutcomePanel, SendOutcome
from ..compose.review import ReviewPanel, Reviewed
from ..operations import Changed, Failure, Operations
from ..widgets import button, field_error, heading, primary_button, row, show_field_error


class SendDialog(QDialog):
    """`sent(payout_id)` once the send has an outcome (whatever it is)."""

    sent = Signal(int)

    def __init__(self, operations: Operations, reviewed: Reviewed, send: Callable[[], Awaitable[SendOutcome]], *,
                 approved_by: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Send payout #{reviewed.payout.id}")
        self.setObjectName("send")
        self.resize(600, 560)
        self._operations = operations
        self._payout_id = reviewed.payout.id
        self._send_work = send

        self.review = ReviewPanel()
        self.review.show_review(reviewed, approved_by=approved_by)
        self.problem = field_error()
        self.cancel = button("Cancel")
        self.cancel.clicked.connect(self.close)
        self.send = primary_button(reviewed.send_label, "send")
        self.send.setAccessibleName(reviewed.send_label)
        self.send.clicked.connect(self._send)
        review_page = QWidget()
        review_layout = QVBoxLayout(review_page)
        review_layout.addWidget(heading("Check, then send"))
        review_layout.addWidget(self.review)
        review_layout.addWidget(self.problem)
        review_layout.addStretch(1)
        review_layout.addLayout(row(self.cancel, self.send))

        self.outcome = OutcomePanel()
        self.done_button = done = primary_button("Done", "check")
        done.clicked.connect(self.close)
        outcome_page = QWidget()
        outcome_layout = QVBoxLayout(outcome_page)
        outcome_layout.addWidget(self.outcome)
        outcome_layout.addStretch(1)
        outcome_layout.addLayout(row(done))

        self.pages = QStackedWidget()
        self.pages.addWidget(review_page)
        self.pages.addWidget(outcome_page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(theme.MARGIN + 4, theme.MARGIN, theme.MARGIN + 4, theme.MARGIN)
        layout.addWidget(self.pages)
        self.send.setFocus()

    def _send(self) -> None:
        self.send.setEnabled(False)
        self.cancel.setEnabled(False)
        self.send.setText("Sending…")
        payout_id = self._payout_id
        self._operations.run(f"send payout {payout_id}", self._send_work, on_done=self._finished,
                             on_error=self._failed, changed=lambda _outcome: Changed.payout(payout_id))

    def _finished(self, outcome: SendOutcome) -> None:
        self.outcome.show_outcome(outcome)
        self.pages.setCurrentIndex(1)
        self.done_button.setFocus()  # the send button went with its page: Enter or Escape now closes
        self.sent.emit(outcome.payout.id)

    def _failed(self, failure: Failure) -> bool:
        self.send.setEnabled(True)
        self.cancel.setEnabled(True)
        self.send.setText(self.send.accessibleName())
        show_field_error(self.problem, failure.message)
        return True
