"""The payouts table's Qt model: a million-row ledger shown without loading it, a page of rows at a time.

The count and the pages are read off the GUI thread (`run_off_thread`); a row not read yet shows empty and
asks for its page; a few dozen pages are kept (least recently used go first). Sorting and filtering happen in
the ledger's query. Poller updates re-read only the payouts they name and repaint their rows: a payout whose
new status no longer matches the filter stays where it is until the next query (the rows around it must not
move under a person's eyes or selection).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from enum import IntEnum
from functools import lru_cache
from typing import Any, Protocol

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal

from treasury_app.domain.assets import find_asset
from treasury_app.domain.errors import InvalidFieldError
from treasury_app.domain.money import display_amount
from treasury_app.services.payout_table import (
    PayoutFilter,
    SortColumn,
    SortDirection,
    TablePosition,
    TableQuery,
    TableRow,
    TableSort,
)

from .. import theme
from ..texts import asset_text

PAYOUT_ID_ROLE = Qt.ItemDataRole.UserRole + 1  # int: the payout's id, on every cell of its row
# The payout's status, for colour and icon. Qt's variant turns the PayoutStatus (a str) into plain text on the
# way out: `PayoutStatus(index.data(STATUS_ROLE))` gives the enum back.
STATUS_ROLE = Qt.ItemDataRole.UserRole + 2
PAGE_SIZE = 200
CACHED_PAGES = 50
# Anchors (where each page starts) are read in the background as soon as a query is counted, this many per read
# (100,000 rows at 200 a page: ~30 ms on this machine), so a page asked for meanwhile waits one part at most.
ANCHORS_PER_READ = 500
AnyIndex = QModelIndex | QPersistentModelIndex
RunOffThread = Callable[[Callable[[], Any]], "Future[Any]"]


class PayoutTableService(Protocol):
    """What the model needs of `services.payout_table.PayoutTable` (used only from `run_off_thread`)."""

    def first_page(self, payout_filter: PayoutFilter, sort: TableSort, size: int) -> list[TableRow]: ...
    def read_query(self, payout_filter: PayoutFilter, sort: TableSort, size: int, *,
                   on_first_page: Callable[[list[TableRow]], None] | None = None,
                   on_count: Callable[[int], None] | None = None,
                   anchor_every: int | None = None) -> TableQuery: ...
    def page_after(self, payout_filter: PayoutFilter, sort: TableSort, last_row: TableRow,
                   size: int) -> list[TableRow]: ...
    def page_before(self, payout_filter: PayoutFilter, sort: TableSort, first_row: TableRow,
                    size: int) -> list[TableRow]: ...
    def page_from(self, payout_filter: PayoutFilter, sort: TableSort, position: TablePosition,
                  size: int) -> list[TableRow]: ...
    def anchors(self, payout_filter: PayoutFilter, sort: TableSort, every: int, *,
                after: TablePosition | None = None, at_most: int | None = None) -> list[TablePosition]: ...
    def rows(self, payout_ids: Iterable[int]) -> list[TableRow]: ...


class PayoutTableModel(QAbstractTableModel):
    class Column(IntEnum):
        CREATED = 0
        STATUS = 1
        PROVIDER = 2
        ASSET = 3
        AMOUNT = 4
        ADDRESS = 5
        REFERENCE = 6

    TITLES = ("Created", "Status", "Provider", "Asset", "Amount", "Address", "Reference")
    SORT_COLUMNS = {Column.CREATED: SortColumn.CREATED, Column.STATUS: SortColumn.STATUS,
                    Column.PROVIDER: SortColumn.PROVIDER, Column.ASSET: SortColumn.CURRENCY,
                    Column.AMOUNT: SortColumn.AMOUNT}

    count_changed = Signal(int)
    first_page_read = Signal()  # a new query's first page is in: the view can paint it (the count may follow)
    query_finished = Signal()
    loading_changed = Signal(bool)
    failed = Signal(object)  # the exception a read raised (the ledger busy, a file error): show it in words
    # A finished job's result, carried to the GUI thread (queued: emitted from the worker thread).
    _delivered = Signal(object, object)

    def __init__(self, table: PayoutTableService, run_off_thread: RunOffThread | Any, *, page_size: int = PAGE_SIZE,
                 cached_pages: int = CACHED_PAGES, provider_titles: Mapping[str, str] | None = None,
                 parent: QObject | None = None) -> None:
        """`run_off_thread(job)` runs `job()` on the thread `table` belongs to and returns a Future; an
        executor (`submit`) will do. `provider_titles` name the providers as people know them ("Pay3")."""
        super().__init__(parent)
        self._provider_titles = dict(provider_titles or {})
        self._table = table
        self._run_off_thread: RunOffThread = getattr(run_off_thread, "submit", run_off_thread)
        self._page_size = page_size
        self._cached_pages = max(2, cached_pages)
        self._filter = PayoutFilter()
        self._sort = TableSort()
        self._generation = 0
        self._row_count = 0
        self._count: int | None = None
        self._pages: OrderedDict[int, list[TableRow]] = OrderedDict()
        self._row_of_id: dict[int, int] = {}
        self._pending: set[int] = set()
        self._anchors: list[TablePosition] = []  # read so far, in order: page k+1 starts after anchor k
        self._anchors_complete = False
        self._anchors_asked = False  # a part is being read
        self._waiting_for_anchors: set[int] = set()
        self._query_pending = False  # a new query asked for, its first page not read yet
        self._stopped = False
        self._jobs = 0
        self._loading = False
        self._delivered.connect(self._on_delivered, Qt.ConnectionType.QueuedConnection)
        self.loading_changed.connect(self._remember_loading)

    # --- the query ----------------------------------------------------------------------------------------

    @property
    def payout_filter(self) -> PayoutFilter:
        return self._filter

    @property
    def table_sort(self) -> TableSort:
        return self._sort

    @property
    def is_loading(self) -> bool:
        """Whether a read is under way (what `loading_changed` last said)."""
        return self._loading

    @property
    def count(self) -> int | None:
        """How many payouts match, once counted (None until then)."""
        return self._count

    def set_query(self, payout_filter: PayoutFilter, sort: TableSort | None = None) -> None:
        """Show another filter or sort; the rows shown now stay until the new first page has been read."""
        self._filter = payout_filter
        self._sort = sort or self._sort
        self._generation += 1
        self._pending.clear()
        self._waiting_for_anchors.clear()
        # The rows shown stay until the new first page is in, but no page is read for them meanwhile: a page
        # continued from an old row or anchor would be a page of the old query under the new one's name.
        self._anchors, self._anchors_complete, self._anchors_asked = [], False, False
        self._query_pending = True
        generation = self._generation
        self._run(lambda: self._table.read_query(
            payout_filter, self._sort, self._page_size,
            on_first_page=lambda rows: self._delivered.emit(lambda: self._first_page_read(generation, rows), None),
            on_count=lambda count: self._delivered.emit(lambda: self._count_read(generation, count), None),
        ), lambda _query: self._query_read(generation))

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Qt's hook for a click on a header: the ledger sorts (address and reference are not sortable)."""
        sort = self.sort_for(column, order)
        if sort is None:
            return
        if self._generation == 0:
            # The view asks as soon as sorting is enabled, before anyone asked for a query: keep the sort for
            # the first one (a read now would be a whole-ledger query read only to be replaced, at start).
            self._sort = sort
            return
        self.set_query(self._filter, sort)

    def sort_for(self, column: int, order: Qt.SortOrder) -> TableSort | None:
        """The ledger's sort for a header's column and order; None for a column the ledger does not sort by."""
        sort_column = self.SORT_COLUMNS.get(self.Column(column)) if 0 <= column < len(self.Column) else None
        if sort_column is None:
            return None
        direction = SortDirection.ASC if order == Qt.SortOrder.AscendingOrder else SortDirection.DESC
        return TableSort(sort_column, direction)

    def stop_reading(self) -> None:
        """Ask nothing more of the worker (it is about to close): the anchors' parts stop following each other."""
        self._stopped = True

    def refresh_payouts(self, payout_ids: Iterable[int]) -> None:
        """Re-read these payouts (those among the rows read so far) and repaint the rows they are on.

        While a read is under way (a new query's first page, a page), its rows may be the payouts as they were
        before this change, and are not on any row yet: those payouts are re-read too. The worker answers in the
        order asked, so the re-read arrives after that read and finds them on their rows (`_rows_reread`)."""
        reading = self._query_pending or bool(self._pending)
        shown = [payout_id for payout_id in payout_ids if reading or payout_id in self._row_of_id]
        if not shown:
            return
        generation = self._generation
        self._run(lambda: self._table.rows(shown), lambda rows: self._rows_reread(generation, rows))

    # --- Qt's model interface ---------------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else self._row_count

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.Column)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.TITLES):
            if role == Qt.ItemDataRole.DisplayRole:
                return self.TITLES[section]
            if role == Qt.ItemDataRole.TextAlignmentRole and section == self.Column.AMOUNT:
                return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._row_at(index.row())
        if row is None:
            return None
        column = self.Column(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            if column == self.Column.PROVIDER:
                return self._provider_titles.get(row.provider, row.provider)
            return _display(row, column)
        if column == self.Column.STATUS and role == Qt.ItemDataRole.DecorationRole:
            return theme.status_icon(row.status)
        if column == self.Column.STATUS and role == Qt.ItemDataRole.ForegroundRole:
            return theme.status_colour(row.status)
        if role == PAYOUT_ID_ROLE:
            return row.id
        if role == STATUS_ROLE:
            return row.status
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == self.Column.AMOUNT:
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        return None

    def row_at(self, row: int) -> TableRow | None:
        """The row as read (None when its page is not read); the detail panel loads the whole payout by id."""
        return self._row_at(row, fetch=False)

    def row_of_payout(self, payout_id: int) -> int | None:
        """The row a payout is on, among the rows read so far (None when not read, or not in this query)."""
        return self._row_of_id.get(payout_id)

    def payout_id_at(self, row: int) -> int | None:
        found = self._row_at(row, fetch=False)
        return None if found is None else found.id

    # --- pages ----------------------------------------------------------------------------------------------

    def _row_at(self, row: int, *, fetch: bool = True) -> TableRow | None:
        if not 0 <= row < self._row_count:
            return None
        number, offset = divmod(row, self._page_size)
        page = self._pages.get(number)
        if page is None:
            if fetch:
                self._ask_for_page(number)
            return None
        self._pages.move_to_end(number)
        return page[offset] if offset < len(page) else None

    def _ask_for_page(self, number: int) -> None:
        if number in self._pending:
            return
        job = self._page_job(number)
        if job is None:
            return
        self._pending.add(number)
        generation = self._generation
        self._run(job, lambda rows: self._page_read(generation, number, rows),
                  on_error=lambda: self._pending.discard(number) if generation == self._generation else None)

    def _page_job(self, number: int) -> Callable[[], list[TableRow]] | None:
        """How to read page `number`: from a neighbour already read, else from its anchor (read them first)."""
        if self._query_pending:
            return None  # asked again once the new query's first page is in (the view repaints then)
        table, payout_filter, sort, size = self._table, self._filter, self._sort, self._page_size
        before, after = self._pages.get(number - 1), self._pages.get(number + 1)
        if number == 0:
            return lambda: table.first_page(payout_filter, sort, size)
        if before and len(before) == size:
            return lambda: table.page_after(payout_filter, sort, before[-1], size)
        if after:
            return lambda: table.page_before(payout_filter, sort, after[0], size)
        if number - 1 < len(self._anchors):
            anchor = self._anchors[number - 1]
            return lambda: table.page_from(payout_filter, sort, anchor, size)
        if self._anchors_complete:
            return None  # past the last row
        self._waiting_for_anchors.add(number)
        self._ask_for_anchors()
        return None

    def _ask_for_anchors(self) -> None:
        # The next part of the anchors, after the last one read; each part read asks for the next, until all are.
        if self._anchors_asked or self._anchors_complete:
            return
        self._anchors_asked = True
        table, payout_filter, sort, generation = self._table, self._filter, self._sort, self._generation
        size, after = self._page_size, (self._anchors[-1] if self._anchors else None)

        def asked_again() -> None:
            if generation == self._generation:
                self._anchors_asked = False

        self._run(lambda: table.anchors(payout_filter, sort, size, after=after, at_most=ANCHORS_PER_READ),
                  lambda anchors: self._anchors_read(generation, anchors), on_error=asked_again,
                  background=not self._waiting_for_anchors)

    def _keep_page(self, number: int, rows: list[TableRow]) -> None:
        old = self._pages.pop(number, None)
        for row in old or ():
            self._row_of_id.pop(row.id, None)
        self._pages[number] = rows
        first = number * self._page_size
        self._row_of_id.update((row.id, first + offset) for offset, row in enumerate(rows))
        while len(self._pages) > self._cached_pages:
            _, evicted = self._pages.popitem(last=False)
            for row in evicted:
                self._row_of_id.pop(row.id, None)

    # --- results, on the GUI thread -------------------------------------------------------------------------

    def _first_page_read(self, generation: int, rows: list[TableRow]) -> None:
        if generation != self._generation:
            return
        self._query_pending = False
        self.beginResetModel()  # a new query: every row may be another payout now
        self._pages.clear()
        self._row_of_id.clear()
        self._anchors, self._anchors_complete, self._anchors_asked = [], False, False
        self._count = None
        self._keep_page(0, rows)
        self._row_count = len(rows)
        self.endResetModel()
        self.first_page_read.emit()

    def _count_read(self, generation: int, count: int) -> None:
        if generation != self._generation:
            return
        self._count = count
        self._resize(count)
        self.count_changed.emit(count)
        if count > 2 * self._page_size:  # far rows to jump to: find where their pages start, in the background
            self._ask_for_anchors()

    def _query_read(self, generation: int) -> None:
        if generation == self._generation:
            self.query_finished.emit()

    def _page_read(self, generation: int, number: int, rows: list[TableRow]) -> None:
        if generation != self._generation:
            return
        self._pending.discard(number)
        if not rows:
            return
        self._keep_page(number, rows)
        first = number * self._page_size
        last = min(first + len(rows), self._row_count) - 1
        if last >= first:
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(self.Column) - 1))

    def _anchors_read(self, generation: int, anchors: list[TablePosition]) -> None:
        if generation != self._generation:
            return
        self._anchors_asked = False
        self._anchors.extend(anchors)
        self._anchors_complete = len(anchors) < ANCHORS_PER_READ
        known = len(self._anchors)
        ready = {number for number in self._waiting_for_anchors if number - 1 < known or self._anchors_complete}
        self._waiting_for_anchors -= ready
        for number in sorted(ready):
            self._ask_for_page(number)
        self._ask_for_anchors()  # the next part (nothing when all are read)

    def _rows_reread(self, generation: int, rows: list[TableRow]) -> None:
        if generation != self._generation:
            return
        changed: list[int] = []
        for fresh in rows:
            row_number = self._row_of_id.get(fresh.id)
            if row_number is None:
                continue
            page_number, offset = divmod(row_number, self._page_size)
            page = self._pages[page_number]
            if page[offset].version == fresh.version:
                continue
            page[offset] = fresh
            changed.append(row_number)
        # One signal per run of neighbouring rows: a round that moves thousands of payouts must not send
        # thousands of signals through the GUI thread (the view repaints only what is on screen anyway).
        for first, last in _runs(sorted(changed)):
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(self.Column) - 1))

    def _remember_loading(self, loading: bool) -> None:
        self._loading = loading

    def _resize(self, count: int) -> None:
        if count > self._row_count:
            self.beginInsertRows(QModelIndex(), self._row_count, count - 1)
            self._row_count = count
            self.endInsertRows()
        elif count < self._row_count:
            self.beginRemoveRows(QModelIndex(), count, self._row_count - 1)
            self._row_count = count
            self.endRemoveRows()

    # --- jobs -------------------------------------------------------------------------------------------------

    def _run(self, job: Callable[[], Any], on_result: Callable[[Any], None],
             on_error: Callable[[], None] | None = None, *, background: bool = False) -> None:
        """`background`: a read nobody waits for (the anchors before any jump) does not count as loading."""
        if self._stopped:
            return
        if not background:
            self._jobs += 1
            if self._jobs == 1:
                self.loading_changed.emit(True)
        future = self._run_off_thread(job)
        future.add_done_callback(lambda done: self._delivered.emit((on_result, on_error, background), done))

    def _on_delivered(self, callbacks: Any, future: Future[Any] | None) -> None:
        if future is None:  # a part of a query read (first page, count) while its job goes on
            callbacks()
            return
        on_result, on_error, background = callbacks
        if not background:
            self._jobs -= 1
            if self._jobs == 0:
                self.loading_changed.emit(False)
        error = future.exception()
        if error is None:
            on_result(future.result())
            return
        if on_error is not None:
            on_error()
        self.failed.emit(error)




def _runs(numbers: list[int]) -> list[tuple[int, int]]:
    """Sorted row numbers as (first, last) runs of consecutive ones."""
    runs: list[tuple[int, int]] = []
    for number in numbers:
        if runs and number == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], number)
        else:
            runs.append((number, number))
    return runs


def _display(row: TableRow, column: PayoutTableModel.Column) -> str:
    columns = PayoutTableModel.Column
    if column == columns.CREATED:
        return row.created_at.astimezone().strftime("%Y-%m-%d %H:%M")
    if column == columns.STATUS:
        return theme.status_label(row.status)
    if column == columns.PROVIDER:
        return row.provider
    if column == columns.ASSET:
        return _asset_text(row.currency, row.network)
    if column == columns.AMOUNT:
        return display_amount(row.amount, _display_places(row.currency, row.network))
    if column == columns.ADDRESS:
        return row.address
    return row.reference or ""


@lru_cache(maxsize=256)
def _asset_text(currency: str, network: str) -> str:
    return asset_text(currency, network)  # "USDT · Tron": the network as people name it


@lru_cache(maxsize=256)
def _display_places(currency: str, network: str) -> int:
    try:
        return find_asset(currency, network).display_places
    except InvalidFieldError:  # an asset this version does not know (imported from elsewhere): its digits as stored
        return 0
