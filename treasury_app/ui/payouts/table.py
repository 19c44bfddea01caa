"""The payouts table's view: one row per payout, sortable by clicking a header (the ledger sorts), one row
selected at a time, and the selection kept across the poller's updates."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from treasury_app.domain.assets import ASSETS

from ..texts import asset_text
from .model import PAYOUT_ID_ROLE, PayoutTableModel

# Widths in characters of the default font: what the columns hold at most, so nothing is cut off.
COLUMN_CHARS = {"Created": 17, "Status": 20, "Provider": 11, "Amount": 20, "Address": 22}
# The Asset column is as wide as its longest text ("USDT · BNB Smart Chain"), measured in the font.
LONGEST_ASSET = max((asset_text(currency, network) for currency, network in ASSETS), key=len)


class PayoutTableView(QTableView):
    """Emits `payout_selected(payout_id or 0)` when the selected row changes."""

    payout_selected = Signal(int)

    def __init__(self, model: PayoutTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("payouts-table")
        self.setAccessibleName("Payouts")
        self.setTabKeyNavigation(False)  # Tab goes on to the detail panel; the arrows choose the payout
        self.setModel(model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setSortingEnabled(True)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setAccessibleName("Payout columns: click one to sort by it")
        header.setSortIndicator(int(PayoutTableModel.Column.CREATED), Qt.SortOrder.DescendingOrder)
        width = self.fontMetrics().averageCharWidth()
        for column in PayoutTableModel.Column:
            chars = COLUMN_CHARS.get(model.headerData(int(column), Qt.Orientation.Horizontal))
            if chars:
                self.setColumnWidth(int(column), chars * width + 16)
        asset_width = self.fontMetrics().horizontalAdvance(LONGEST_ASSET) + 16
        self.setColumnWidth(int(PayoutTableModel.Column.ASSET), asset_width)
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.selectionModel().currentRowChanged.connect(self._current_changed)

    def selected_payout(self) -> int | None:
        index = self.selectionModel().currentIndex()
        if not index.isValid():
            return None
        value = index.siblingAtColumn(0).data(PAYOUT_ID_ROLE)
        return int(value) if value else None

    def select_payout(self, payout_id: int) -> bool:
        """Select the payout's row if it is among the rows read so far; whether it was."""
        model = self.model()
        row = model.row_of_payout(payout_id) if isinstance(model, PayoutTableModel) else None
        if row is None:
            return False
        index = model.index(row, 0)
        self.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        self.scrollTo(index)
        return True

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        value = current.siblingAtColumn(0).data(PAYOUT_ID_ROLE) if current.isValid() else None
        self.payout_selected.emit(int(value) if value else 0)
