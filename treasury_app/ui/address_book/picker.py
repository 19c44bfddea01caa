"""The compose form's picker: search the address book by label and choose an entry, which fills the form's
asset and address (the form itself checks them as if typed)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLineEdit, QWidget

from ..operations import Operations
from ..texts import asset_text

if TYPE_CHECKING:
    from treasury_app.services.address_book import AddressBookEntry

PROMPT = "Choose a saved destination…"


class AddressPicker(QWidget):
    """`picked(AddressBookEntry)` when the person chooses an entry."""

    picked = Signal(object)

    def __init__(self, operations: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._operations = operations
        self._entries: list[AddressBookEntry] = []
        self._reads = 0
        self.search = QLineEdit()
        self.search.setAccessibleName("Search the address book by label")
        self.search.setPlaceholderText("Search by label")
        self.search.setClearButtonEnabled(True)
        self.choice = QComboBox()
        self.choice.setAccessibleName("Saved destination")
        self.choice.setMinimumContentsLength(28)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search, 1)
        layout.addWidget(self.choice, 2)
        self.search.textChanged.connect(lambda _: self.reload())
        self.choice.activated.connect(self._chosen)
        operations.changed.connect(lambda change: self.reload() if change.address_book else None)
        self.reload()

    @property
    def entries(self) -> list[AddressBookEntry]:
        return list(self._entries)

    def reload(self) -> None:
        self._reads += 1
        number, search = self._reads, self.search.text()
        self._operations.run_in_worker("read the address book", lambda desk: desk.address_book.list(search),
                                       on_done=lambda entries: self._show(number, entries))

    def choose(self, entry_id: int) -> bool:
        """Choose the entry as a click would (for the keyboard's Enter and for tests); whether it is listed."""
        index = next((i for i, e in enumerate(self._entries) if e.id == entry_id), None)
        if index is None:
            return False
        self.choice.setCurrentIndex(index + 1)
        self._chosen(index + 1)
        return True

    def _show(self, number: int, entries: Sequence[AddressBookEntry]) -> None:
        if number != self._reads:
            return
        self._entries = list(entries)
        self.choice.blockSignals(True)
        self.choice.clear()
        searched = bool(self.search.text().strip())
        self.choice.addItem(PROMPT if entries else ("No label matches" if searched else "The address book is empty"))
        for entry in entries:
            self.choice.addItem(f"{entry.label} \u2014 {asset_text(entry.currency or '', entry.network)}", entry.id)
            self.choice.setItemData(self.choice.count() - 1, entry.address, role=3)  # tooltip: the address
        self.choice.blockSignals(False)
        self.choice.setEnabled(bool(entries))
        if searched and len(entries) == 1:
            self.choice.setCurrentIndex(1)  # one match: ready to take with Enter or a click

    def _chosen(self, index: int) -> None:
        if 1 <= index <= len(self._entries):
            self.picked.emit(self._entries[index - 1])


