"""What a person checks before money moves: the amount in full with its currency, the address in groups of
four, the provider's fee, what the recipient gets and what leaves the balance, the provider's warnings, how
old the estimate is, and whether a second person must approve (with the policy's reasons)."""

from __future__ import annotations

import html
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QLabel, QVBoxLayout, QWidget

from treasury_app.domain.addresses import address_checksum_note
from treasury_app.domain.approval_policy import PolicyDecision
from treasury_app.services.payout_views import PayoutRecord

from .. import theme
from ..texts import amount_text, asset_of, asset_text, fee_mode_text, grouped_address, local_time
from ..widgets import card, hint


@dataclass(frozen=True)
class Reviewed:
    """A payout as estimated, and what the policy says of it."""

    payout: PayoutRecord
    policy: PolicyDecision
    provider_title: str
    is_sandbox: bool

    @property
    def send_label(self) -> str:
        p = self.payout
        return f"Send {amount_text(p.amount, p.currency, p.network)}"


class ReviewPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.amount = QLabel()
        self.amount.setObjectName("review-amount")
        self.amount.setFont(theme.amount_font(theme.heading_font(self.amount.font(), scale=1.8), bold=True))
        self.amount.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.amount.setAccessibleName("Amount")
        self.route = QLabel()
        self.route.setWordWrap(True)
        self.address = QLabel()
        self.address.setFont(theme.amount_font(theme.heading_font(self.address.font(), scale=1.15)))
        self.address.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.address.setWordWrap(True)
        self.address.setAccessibleName("Recipient address")
        self.checksum = QLabel()  # an EVM address in one case: no checksum, and its checksummed form to compare
        self.checksum.setWordWrap(True)
        self.checksum.setTextFormat(Qt.TextFormat.RichText)
        self.checksum.setAccessibleName("Address warning")
        self.figures = QFormLayout()
        self.figures.setHorizontalSpacing(theme.GAP_LARGE)
        self.warnings = QLabel()
        self.warnings.setWordWrap(True)
        self.warnings.setTextFormat(Qt.TextFormat.RichText)
        self.approval = QLabel()
        self.approval.setWordWrap(True)
        self.approval.setTextFormat(Qt.TextFormat.RichText)
        self.age = hint("")

        figures = QWidget()
        figures.setLayout(self.figures)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(theme.GAP)
        layout.addWidget(self.amount)
        layout.addWidget(self.route)
        layout.addWidget(card(QLabel("<b>To this address</b> (compare it, group by group, with the one you were "
                                     "given):"), self.address, self.checksum))
        layout.addWidget(figures)
        layout.addWidget(self.warnings)
        layout.addWidget(self.approval)
        layout.addWidget(self.age)

    def show_review(self, reviewed: Reviewed, *, approved_by: str | None = None) -> None:
        p = reviewed.payout

        def money(value):  # noqa: ANN001, ANN202 — a Decimal or None
            return amount_text(value, p.currency, p.network)

        self.amount.setText(money(p.amount))
        sandbox = " — <b>SANDBOX</b>, no real money" if reviewed.is_sandbox else ""
        self.route.setText(f"{html.escape(asset_text(p.currency, p.network))} via "
                           f"{html.escape(reviewed.provider_title)}{sandbox}")
        self.address.setText(grouped_address(p.address) + (f"\nmemo: {p.memo}" if p.memo else ""))
        asset = asset_of(p.currency, p.network)
        note = address_checksum_note(asset.network, p.address) if asset else None
        colour = theme.tone(theme.WARNING_COLOUR).name()
        self.checksum.setText(
            f"<span style='color:{colour}'>⚠ This address is written in one case, so it carries no checksum and "
            f"a typo in it would not be caught. Compare it with its checksummed form:</span><br>"
            f"<tt>{html.escape(grouped_address(note.checksummed))}</tt>" if note else "")
        self.checksum.setVisible(note is not None)
        while self.figures.rowCount():
            self.figures.removeRow(0)
        for name, value in (("Fee", f"{money(p.estimated_fee)} ({fee_mode_text(p.fee_mode)})"),
                            ("Recipient gets", money(p.estimated_net)),
                            ("Leaves the balance", money(p.estimated_total))):
            label = QLabel(value)
            label.setFont(theme.amount_font(label.font(), bold=name == "Recipient gets"))
            label.setAccessibleName(name)
            self.figures.addRow(name, label)
        colour = theme.tone(theme.WARNING_COLOUR).name()
        self.warnings.setText("<br>".join(f"<span style='color:{colour}'>⚠ {html.escape(w)}</span>"
                                          for w in p.estimate_warnings))
        self.warnings.setVisible(bool(p.estimate_warnings))
        if approved_by:
            self.approval.setText(f"Approved by <b>{html.escape(approved_by)}</b>.")
        elif reviewed.policy.needs_approval:
            self.approval.setText("<b>Needs a second person's approval</b>: "
                                  f"{html.escape(reviewed.policy.explain())}.")
        else:
            self.approval.setText("No approval needed.")
        self.age.setText(f"Estimated by the provider at {local_time(p.estimated_at, seconds=True)}. An estimate "
                         "older than the desk's limit is asked again before sending; if the fee moved, you see "
                         "the new figures first.")
