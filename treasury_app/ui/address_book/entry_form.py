"""The form that adds an address-book entry: label, asset (currency on network), address and note, each checked
as it is typed with the domain's own words beside the field; prefilled when it starts from a completed payout."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QDialog, QFormLayout, QLineEdit, QVBoxLayout, QWidget

from treasury_app.domain.addresses import describe_format
from treasury_app.domain.assets import ASSETS, find_asset
from treasury_app.domain.errors import InvalidFieldError
from treasury_app.services.address_book import AddressBookEntry, EntryFields, entry_problems
from treasury_app.services.operator_accounts import SignedIn

from .. import theme
from ..operations import Changed, Failure, Operations
from ..widgets import button, field_error, heading, hint, primary_button, row, show_field_error, stacked

FIELDS = ("label", "asset", "address", "note")
_LABELS = {"label": "Label", "asset": "Asset", "address": "Address", "note": "Note", "currency": "Currency",
           "network": "Network"}


class EntryDialog(QDialog):
    """Non-modal. `added(entry)` once the entry is in the book. `from_payout` names the payout it came from,
    so that its detail panel re-reads what it offers."""

    added = Signal(object)

    def __init__(self, operations: Operations, acting: SignedIn, *, fields: EntryFields | None = None,
                 from_payout: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add to the address book")
        self.setObjectName("address-book-entry")
        self.resize(560, 360)
        self._operations = operations
        self._acting = acting
        self._from_payout = from_payout
        self._touched: set[str] = set()
        self.label = QLineEdit()
        self.label.setAccessibleName("Label")
        self.label.setPlaceholderText("the name people know this destination by, e.g. Supplier Ltd")
        self.asset = QComboBox()
        self.asset.setAccessibleName("Asset")
        for (currency, network), asset in sorted(ASSETS.items()):
            self.asset.addItem(str(asset), f"{currency}|{network}")
        self.address = QLineEdit()
        self.address.setAccessibleName("Address")
        self.address.setFont(theme.amount_font(self.address.font()))
        self.note = QLineEdit()
        self.note.setAccessibleName("Note")
        self.note.setPlaceholderText("optional: why this destination is trusted")
        self.errors = {name: field_error() for name in FIELDS}
        self.problem = field_error()
        self.save = primary_button("Add to the address book", "plus")
        self.save.clicked.connect(self._save)
        cancel = button("Cancel")
        cancel.clicked.connect(self.close)

        form = QFormLayout()
        form.setVerticalSpacing(theme.GAP_SMALL)
        for name, widget in (("label", self.label), ("asset", self.asset), ("address", self.address),
                             ("note", self.note)):
            form.addRow(_LABELS[name], stacked(widget, self.errors[name]))
        layout = QVBoxLayout(self)
        layout.addWidget(heading("Add to the address book"))
        layout.addWidget(hint("An entry counts as a known destination: the approval policy no longer asks a "
                              "second person because the address is new. Only approvers and admins add entries."))
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addStretch(1)
        layout.addLayout(row(cancel, self.save))

        if fields is not None:
            self.label.setText(fields.label)
            index = self.asset.findData(f"{fields.currency.upper()}|{fields.network.upper()}")
            self.asset.setCurrentIndex(max(0, index))
            self.address.setText(fields.address)
            self.note.setText(fields.note)
        for name, widget in (("label", self.label), ("address", self.address), ("note", self.note)):
            widget.textEdited.connect(lambda _=None, n=name: self._edited(n))
        self.asset.currentIndexChanged.connect(lambda _: self._edited("asset"))
        self._check()
        (self.label if fields is None or fields.address else self.address).setFocus()

    def fields(self) -> EntryFields:
        currency, _, network = str(self.asset.currentData() or "|").partition("|")
        return EntryFields(self.label.text(), currency, network, self.address.text(), self.note.text())

    def _edited(self, name: str) -> None:
        self._touched.add(name)
        self._check()

    def _check(self, *, show_all: bool = False) -> bool:
        fields = self.fields()
        try:
            self.address.setPlaceholderText(describe_format(find_asset(fields.currency, fields.network).network))
        except InvalidFieldError:
            pass
        problems = {("asset" if k in ("currency", "network") else k): v for k, v in entry_problems(fields).items()}
        for name, label in self.errors.items():
            message = problems.get(name)
            shown = message if show_all or name in self._touched or name == "asset" else None
            show_field_error(label, f"{_LABELS[name]} {message}." if shown else None)
        return not problems

    def _save(self) -> None:
        if not self._check(show_all=True):
            return
        fields, acting, source = self.fields(), self._acting, self._from_payout
        self.save.setEnabled(False)
        show_field_error(self.problem, None)
        self._operations.run_in_worker(
            f"add {fields.label.strip()} to the address book",
            lambda desk: desk.address_book.add(fields, acting=acting),
            on_done=self._saved, on_error=self._failed,
            changed=lambda _e: Changed(payouts=frozenset({source} if source else ()), address_book=True))

    def _saved(self, entry: AddressBookEntry) -> None:
        self.added.emit(entry)
        self.close()

    def _failed(self, failure: Failure) -> bool:
        self.save.setEnabled(True)
        field = getattr(failure.error, "field", None)
        field = "asset" if field in ("currency", "network") else field
        show_field_error(self.errors[field] if field in self.errors else self.problem, failure.message)
        return True
