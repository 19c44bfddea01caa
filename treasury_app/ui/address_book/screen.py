"""The Address book screen: every entry in a table, a search by label, Add (the entry form) and Remove (asked
first, without blocking the window). Reading and writing go through `Operations` to the address-book service."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QDialog, QLineEdit, QMessageBox, QTableWidgetItem, QVBoxLayout, QWidget

from treasury_app.services.address_book import NOT_ALLOWED, fields_from_payout, may_manage
from treasury_app.services.operator_accounts import SignedIn

from .. import theme
from ..operations import Changed, Operations
from ..texts import asset_text, local_time
from ..widgets import button, heading, hint, primary_button, question, record_table, row
from .entry_form import EntryDialog

if TYPE_CHECKING:
    from treasury_app.services.address_book import AddressBookEntry

entry_fields_of = fields_from_payout  # for the shell: the form prefilled from a completed payout
COLUMNS = ("Label", "Asset", "Address", "Note", "Added by", "Added")


class AddressBookDialog(QDialog):
    """Non-modal; re-reads the book whenever an operation says it changed."""

    def __init__(self, operations: Operations, acting: SignedIn, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Address book")
        self.setObjectName("address-book")
        self.resize(1060, 560)
        self._operations = operations
        self._acting = acting
        self._entries: list[AddressBookEntry] = []
        self._reads = 0
        self._children: list[QWidget] = []
        self.search = QLineEdit()
        self.search.setAccessibleName("Search by label")
        self.search.setPlaceholderText("Search by label")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(320)
        self.search.textChanged.connect(lambda _: self.reload())
        self.table = record_table(COLUMNS, "Address book entries", stretch=3)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.count = hint("")
        manages = may_manage(acting.roles)  # the service checks again when it acts
        self.add_button = primary_button("Add…", "plus")
        self.remove_button = button("Remove…", "x")
        for widget in (self.add_button, self.remove_button):
            widget.setToolTip("" if manages else NOT_ALLOWED)
        self.add_button.setEnabled(manages)
        self.remove_button.setEnabled(False)
        self._manages = manages
        self.add_button.clicked.connect(self._add)
        self.remove_button.clicked.connect(self._ask_remove)
        self.why_not = hint("" if manages else NOT_ALLOWED)
        self.why_not.setVisible(not manages)
        close = button("Close")
        close.clicked.connect(self.close)

        layout = QVBoxLayout(self)
        layout.setSpacing(theme.GAP)
        layout.addWidget(heading("Address book"))
        layout.addWidget(hint("Named destinations. An address in the book counts as a known destination: a "
                              "payout to it never needs approval just for being to a new address."))
        layout.addLayout(row(self.search, self.add_button, self.remove_button, stretch_first=True))
        layout.addWidget(self.why_not)
        layout.addWidget(self.table, 1)
        layout.addLayout(row(self.count, close, stretch_first=True))
        operations.changed.connect(self._changed)
        self.reload()

    def reload(self) -> None:
        self._reads += 1
        number, search = self._reads, self.search.text()
        self._operations.run_in_worker("read the address book", lambda desk: desk.address_book.list(search),
                                       on_done=lambda entries: self._show(number, entries))

    def selected_entry(self) -> AddressBookEntry | None:
        rows = self.table.selectionModel().selectedRows()
        return self._entries[rows[0].row()] if rows and rows[0].row() < len(self._entries) else None

    def _changed(self, change: Changed) -> None:
        if change.address_book:
            self.reload()

    def _show(self, number: int, entries: Sequence[AddressBookEntry]) -> None:
        if number != self._reads:
            return  # a newer search was typed meanwhile
        self._entries = list(entries)
        self.table.setRowCount(len(entries))
        for index, entry in enumerate(entries):
            cells = (entry.label, asset_text(entry.currency or "", entry.network), entry.address, entry.note or "",
                     entry.created_by, local_time(entry.created_at))
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 2:
                    item.setFont(theme.amount_font(item.font()))
                item.setToolTip(text)
                self.table.setItem(index, column, item)
        searched = self.search.text().strip()
        self.count.setText(f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}"
                           + (f" with \u201c{searched}\u201d in the label" if searched else ""))
        self._selection_changed()

    def _selection_changed(self) -> None:
        self.remove_button.setEnabled(self._manages and self.selected_entry() is not None)

    def _add(self) -> None:
        dialog = EntryDialog(self._operations, self._acting, parent=self)
        self._keep(dialog)
        dialog.show()

    def _ask_remove(self) -> None:
        entry = self.selected_entry()
        if entry is None:
            return
        box = question(self, "Remove from the address book",
                       f"Remove \u201c{entry.label}\u201d ({entry.address} on {entry.network})?",
                       "The next payout to it counts as a new destination again, unless it was paid before. The "
                       "removal is recorded in the audit trail.", "confirm-remove")
        box.buttonClicked.connect(lambda clicked: self._removal_answered(box, clicked, entry))
        self._keep(box)
        box.open()  # never exec(): the window's loop stays single

    def _removal_answered(self, box: QMessageBox, clicked: object, entry: AddressBookEntry) -> None:
        if box.standardButton(clicked) is not QMessageBox.StandardButton.Yes:
            return
        acting = self._acting
        self._operations.run_in_worker(f"remove {entry.label} from the address book",
                                       lambda desk: desk.address_book.remove(entry.id, acting=acting),
                                       changed=lambda _e: Changed(address_book=True))

    def _keep(self, child: QWidget) -> None:
        self._children.append(child)
        child.finished.connect(lambda _=0, c=child: self._children.remove(c) if c in self._children else None)

