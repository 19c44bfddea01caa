"""Compose → estimate → confirm, in one dialog: the form (only what the chosen provider offers, each field
checked as it is typed, with the domain's words beside it), then the provider's figures to review, then the
one clearly named button that sends it ("Send 1,500.00 USDT") or sends it for approval."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QRadioButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from treasury_app.domain.addresses import describe_format
from treasury_app.domain.assets import Asset
from treasury_app.domain.money import display_amount
from treasury_app.domain.payout_request import FeeMode, Priority
from treasury_app.services.compose_checks import ComposeFields, PayoutOption, ProviderCapabilities, check_fields

from .. import theme
from ..operations import Changed, Failure, Operations
from ..texts import amount_text
from ..widgets import (
    button,
    field_error,
    heading,
    hint,
    primary_button,
    row,
    sandbox_badge,
    show_field_error,
    stacked,
)
from ..address_book.picker import AddressPicker
from .outcome import OutcomePanel, SendOutcome
from .review import ReviewPanel, Reviewed

if TYPE_CHECKING:
    from treasury_app.services.address_book import AddressBookEntry


@dataclass(frozen=True)
class ProviderChoice:
    name: str
    title: str
    is_sandbox: bool
    capabilities: ProviderCapabilities  # what it takes: fee modes (its default first), priority, memo, assets

    @property
    def fee_modes(self) -> tuple[FeeMode, ...]:
        return self.capabilities.fee_modes


@dataclass(frozen=True)
class ComposeBackend:
    """The services the dialog needs, bound by the shell to the signed-in operator."""

    providers: Sequence[ProviderChoice]
    options: Callable[[str], Awaitable[Sequence[PayoutOption]]]
    compose_and_estimate: Callable[[ComposeFields], Awaitable[Reviewed]]
    request_approval: Callable[[int], Awaitable[Reviewed]]
    send: Callable[[int], Awaitable[SendOutcome]]


FIELDS = ("asset", "address", "amount", "fee_mode", "priority", "memo", "reference", "note")


class ComposeDialog(QDialog):
    """Non-modal. `payout_changed(payout_id)` whenever a payout was written (composed, sent, …)."""

    payout_changed = Signal(int)

    def __init__(self, operations: Operations, backend: ComposeBackend, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New payout")
        self.setObjectName("compose")
        self.resize(640, 720)
        self._operations = operations
        self._backend = backend
        self._options: list[PayoutOption] = []
        self._touched: set[str] = set()
        self._reviewed: Reviewed | None = None
        self.pages = QStackedWidget()
        self.pages.addWidget(self._form_page())
        self.review = ReviewPanel()
        self.pages.addWidget(self._review_page())
        self.outcome = OutcomePanel()
        self.pages.addWidget(self._outcome_page())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(theme.MARGIN + 4, theme.MARGIN, theme.MARGIN + 4, theme.MARGIN)
        layout.addWidget(self.pages)
        self._provider_chosen()

    # --- the form -------------------------------------------------------------------------------------------

    def _form_page(self) -> QWidget:
        self.provider = QComboBox()
        self.provider.setAccessibleName("Provider")
        for choice in self._backend.providers:
            self.provider.addItem(choice.title + ("  (sandbox)" if choice.is_sandbox else ""), choice.name)
        self.asset = QComboBox()
        self.asset.setAccessibleName("Asset")
        self.asset_state = hint("")
        self.address = QLineEdit()
        self.address.setAccessibleName("Recipient address")
        self.address.setFont(theme.amount_font(self.address.font()))
        self.amount = QLineEdit()
        self.amount.setAccessibleName("Amount")
        self.amount.setFont(theme.amount_font(self.amount.font()))
        self.amount.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.amount_unit = QLabel()
        self.amount_hint = hint("")
        self.fee_group = QButtonGroup(self)
        self.fee_balance = QRadioButton("From our balance, on top of the amount (the recipient gets all of it)")
        self.fee_amount = QRadioButton("Taken from the amount (the recipient gets the amount less the fee)")
        self.fee_only = hint("")
        for mode, radio in ((FeeMode.FROM_BALANCE, self.fee_balance), (FeeMode.FROM_AMOUNT, self.fee_amount)):
            radio.setProperty("fee_mode", mode.value)
            self.fee_group.addButton(radio)
        self.priority = QComboBox()
        self.priority.setAccessibleName("Priority")
        self.priority.addItem("Provider's recommendation", None)
        for level in Priority:
            self.priority.addItem(level.value.capitalize(), level.value)
        self.memo = QLineEdit()
        self.memo.setAccessibleName("Memo")
        self.reference = QLineEdit()
        self.reference.setAccessibleName("Reference")
        self.reference.setPlaceholderText("your invoice or ticket number (optional)")
        self.note = QPlainTextEdit()
        self.note.setAccessibleName("Note")
        self.note.setFixedHeight(56)
        self.errors = {name: field_error() for name in FIELDS}
        self.problem = field_error()
        self.estimate = primary_button("Estimate the fee", "calculator")
        self.estimate.clicked.connect(self._estimate)
        cancel = button("Cancel")
        cancel.clicked.connect(self.close)

        form = QFormLayout()
        form.setVerticalSpacing(theme.GAP_SMALL)
        form.addRow("Provider", self.provider)
        self.book = AddressPicker(self._operations)
        self.book.picked.connect(self._book_entry_picked)
        form.addRow("Address book", self.book)
        form.addRow("Asset", stacked(self.asset, self.asset_state, self.errors["asset"]))
        form.addRow("To address", stacked(self.address, self.errors["address"]))
        amount_row = QWidget()
        amount_line = QHBoxLayout(amount_row)
        amount_line.setContentsMargins(0, 0, 0, 0)
        amount_line.addWidget(self.amount, 1)
        amount_line.addWidget(self.amount_unit)
        form.addRow("Amount", stacked(amount_row, self.amount_hint, self.errors["amount"]))
        form.addRow("Fee", stacked(self.fee_balance, self.fee_amount, self.fee_only, self.errors["fee_mode"]))
        self.priority_label, self.memo_label = QLabel("Priority"), QLabel("Memo / tag")
        form.addRow(self.priority_label, stacked(self.priority, self.errors["priority"]))
        form.addRow(self.memo_label, stacked(self.memo, self.errors["memo"]))
        form.addRow("Reference", stacked(self.reference, self.errors["reference"]))
        form.addRow("Note", stacked(self.note, self.errors["note"]))

        page = QWidget()
        layout = QVBoxLayout(page)
        top = row(heading("New payout"), stretch_first=True)
        self.badge = sandbox_badge()
        top.addWidget(self.badge)
        layout.addLayout(top)
        layout.addWidget(hint("Nothing is sent yet: first the provider tells its fee, then you confirm."))
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addStretch(1)
        layout.addLayout(row(cancel, self.estimate))

        self.provider.currentIndexChanged.connect(self._provider_chosen)
        self.asset.currentIndexChanged.connect(self._asset_chosen)
        for name, widget in (("address", self.address), ("amount", self.amount), ("memo", self.memo),
                             ("reference", self.reference)):
            widget.textEdited.connect(lambda _=None, n=name: self._edited(n))
        self.note.textChanged.connect(lambda: self._edited("note"))
        self.priority.currentIndexChanged.connect(lambda _: self._edited("priority"))
        self.fee_group.buttonClicked.connect(lambda _: self._edited("fee_mode"))
        return page

    def _provider(self) -> ProviderChoice:
        return self._backend.providers[max(0, self.provider.currentIndex())]

    def _provider_chosen(self) -> None:
        choice = self._provider()
        self.badge.setVisible(choice.is_sandbox)
        self.asset.clear()
        self.asset.setEnabled(False)
        self.asset_state.setText(f"Asking {choice.title} what it can pay out…")
        self.asset_state.setVisible(True)
        allowed = choice.fee_modes
        self.fee_balance.setVisible(FeeMode.FROM_BALANCE in allowed and len(allowed) > 1)
        self.fee_amount.setVisible(FeeMode.FROM_AMOUNT in allowed and len(allowed) > 1)
        only = allowed[0]
        self.fee_only.setText(f"{choice.title} always takes its fee "
                              f"{'from the amount' if only is FeeMode.FROM_AMOUNT else 'from our balance'}.")
        self.fee_only.setVisible(len(allowed) == 1)
        (self.fee_amount if allowed[0] is FeeMode.FROM_AMOUNT else self.fee_balance).setChecked(True)
        name = choice.name
        self._operations.run(f"ask {choice.title} what it can pay out", lambda: self._backend.options(name),
                             on_done=lambda options: self._show_options(name, options),
                             on_error=self._options_failed)

    def _show_options(self, provider: str, options: Sequence[PayoutOption]) -> None:
        if provider != self._provider().name:
            return  # the person chose another provider meanwhile
        self._options = [o for o in options if o.is_available]
        self.asset.blockSignals(True)
        self.asset.clear()
        for option in self._options:
            self.asset.addItem(f"{option.asset.currency} on {option.asset.network.name}", option.asset.code)
        self.asset.blockSignals(False)
        self.asset.setEnabled(bool(self._options))
        self.asset_state.setVisible(not self._options)
        self.asset_state.setText("This provider offers nothing to pay out right now." if not self._options else "")
        self._asset_chosen()

    def _options_failed(self, failure: Failure) -> bool:
        self.asset_state.setText(f"Could not ask the provider what it offers: {failure.message} "
                                 "Choose the provider again to retry.")
        self.asset_state.setVisible(True)
        return True

    def _option(self) -> PayoutOption | None:
        index = self.asset.currentIndex()
        return self._options[index] if 0 <= index < len(self._options) else None

    def _asset_chosen(self) -> None:
        option = self._option()
        asset: Asset | None = option.asset if option else None
        network = asset.network if asset else None
        self.amount_unit.setText(asset.currency if asset else "")
        self.address.setPlaceholderText(describe_format(network) if network else "")
        takes = self._provider().capabilities
        for label, widget, shown in ((self.priority_label, self.priority,
                                      bool(network and takes.takes_priority_on(network.code))),
                                     (self.memo_label, self.memo, bool(network and takes.takes_memo_on(network.code)))):
            label.setVisible(shown)
            widget.setVisible(shown)
        if option is not None:
            def shown(value):  # noqa: ANN001, ANN202 — a Decimal
                return amount_text(value, asset.currency, asset.network.code)

            limits = [f"{asset.decimals} decimals at most"]
            if option.min_amount is not None:
                limits.append(f"at least {shown(option.min_amount)}")
            if option.max_amount is not None:
                limits.append(f"at most {shown(option.max_amount)}")
            fee = []
            if option.fee_fixed:
                fee.append(shown(option.fee_fixed))
            if option.fee_percent:
                fee.append(f"{display_amount(option.fee_percent)} %")
            self.amount_hint.setText("; ".join(limits) + (f". Fee about {' + '.join(fee)}." if fee else "."))
        self._check()

    def _book_entry_picked(self, entry: AddressBookEntry) -> None:
        """An entry's asset (when this provider offers it) and address, then checked as if typed."""
        index = self.asset.findData(f"{entry.currency}-{entry.network}")
        if index >= 0:
            self.asset.setCurrentIndex(index)
        self.address.setText(entry.address)
        self._edited("address")
        if index < 0:
            show_field_error(self.errors["asset"], f"{self._provider().title} does not offer {entry.currency} on "
                                                   f"{entry.network} (the entry \u201c{entry.label}\u201d): choose "
                                                   "another provider.")

    def fields(self) -> ComposeFields:
        option = self._option()
        checked = self.fee_group.checkedButton()
        fee_mode = FeeMode(checked.property("fee_mode")) if checked is not None else self._provider().fee_modes[0]
        takes = self._provider().capabilities
        memo_shown = option is not None and takes.takes_memo_on(option.asset.network.code)
        priority_shown = option is not None and takes.takes_priority_on(option.asset.network.code)
        return ComposeFields(
            provider=self._provider().name,
            currency=option.asset.currency if option else "", network=option.asset.network.code if option else "",
            address=self.address.text(), amount=self.amount.text(), fee_mode=fee_mode,
            priority=self.priority.currentData() if priority_shown else None,
            memo=self.memo.text() if memo_shown else None, reference=self.reference.text(),
            note=self.note.toPlainText())

    def _edited(self, name: str) -> None:
        self._touched.add(name)
        self._check()

    def _check(self, *, show_all: bool = False) -> bool:
        option = self._option()
        result = check_fields(self.fields(), option, self._provider().capabilities)
        for name, label in self.errors.items():
            message = result.problems.get(name)
            shown = message if (show_all or name in self._touched or name == "asset") and option else None
            show_field_error(label, f"{_label_of(name)} {message}." if shown else None)
        ok = result.ok and option is not None
        self.estimate.setEnabled(option is not None)
        return ok

    def _estimate(self) -> None:
        if not self._check(show_all=True):
            return
        show_field_error(self.problem, None)
        self.estimate.setEnabled(False)
        self.estimate.setText("Asking the provider…")
        fields = self.fields()
        self._operations.run("estimate the payout", lambda: self._backend.compose_and_estimate(fields),
                             on_done=self._estimated, on_error=self._estimate_failed,
                             changed=lambda r: Changed.payout(r.payout.id, new=True))

    def _estimated(self, reviewed: Reviewed) -> None:
        self.estimate.setText("Estimate the fee")
        self.estimate.setEnabled(True)
        self.payout_changed.emit(reviewed.payout.id)
        self._show_review(reviewed)

    def _estimate_failed(self, failure: Failure) -> bool:
        self.estimate.setText("Estimate the fee")
        self.estimate.setEnabled(True)
        field = getattr(failure.error, "field", None)
        if field in self.errors:
            show_field_error(self.errors[field], failure.message)
        else:
            show_field_error(self.problem, failure.message)
        return True

    # --- review and send ------------------------------------------------------------------------------------

    def _review_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(heading("Check, then send"))
        layout.addWidget(self.review)
        self.review_problem = field_error()
        layout.addWidget(self.review_problem)
        layout.addStretch(1)
        self.keep = button("Close, send later")
        self.keep.setToolTip("The payout stays in the table as estimated; send it from its detail panel.")
        self.keep.clicked.connect(self.close)
        self.send = primary_button("Send", "send")
        self.send.clicked.connect(self._send)
        layout.addLayout(row(self.keep, self.send))
        return page

    def _show_review(self, reviewed: Reviewed) -> None:
        self._reviewed = reviewed
        self.review.show_review(reviewed)
        needs = reviewed.policy.needs_approval
        self.send.setText("Send for approval" if needs else reviewed.send_label)
        self.send.setIcon(theme.icon("user-check" if needs else "send", "#ffffff"))
        self.send.setAccessibleName(self.send.text())
        show_field_error(self.review_problem, None)
        self.pages.setCurrentIndex(1)
        self.send.setFocus()

    def _send(self) -> None:
        reviewed = self._reviewed
        if reviewed is None:
            return
        self.send.setEnabled(False)
        payout_id = reviewed.payout.id
        if reviewed.policy.needs_approval:
            self._operations.run(f"send payout {payout_id} for approval",
                                 lambda: self._backend.request_approval(payout_id),
                                 on_done=lambda r: self._finished(SendOutcome.for_approval(r)),
                                 on_error=self._send_failed, changed=lambda r: Changed.payout(payout_id))
        else:
            self._operations.run(f"send payout {payout_id}", lambda: self._backend.send(payout_id),
                                 on_done=self._finished, on_error=self._send_failed,
                                 changed=lambda r: Changed.payout(payout_id))

    def _send_failed(self, failure: Failure) -> bool:
        self.send.setEnabled(True)
        moved = getattr(failure.error, "moves", None)
        show_field_error(self.review_problem, failure.message if moved is None
                         else failure.message + " Close this dialog and look at the payout in the table.")
        return True

    # --- the outcome ----------------------------------------------------------------------------------------

    def _outcome_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(self.outcome)
        layout.addStretch(1)
        self.done_button = done = primary_button("Done", "check")
        done.clicked.connect(self.close)
        layout.addLayout(row(done))
        return page

    def _finished(self, outcome: SendOutcome) -> None:
        self.send.setEnabled(True)
        self.payout_changed.emit(outcome.payout.id)
        self.outcome.show_outcome(outcome)
        self.pages.setCurrentIndex(2)
        self.done_button.setFocus()  # Enter or Escape now closes


def _label_of(field: str) -> str:
    return {"asset": "Asset", "address": "Address", "amount": "Amount", "fee_mode": "Fee", "priority": "Priority",
            "memo": "Memo", "reference": "Reference", "note": "Note"}.get(field, field.capitalize())
