"""The audit trail's Qt model: newest row first, a page at a time, never the whole trail.

A query reads the count (for the scroll bar) and the first page, then where each page starts (one number per
page: on a long trail the slow read, so the first page does not wait for it); a row not read yet shows empty
and asks for its page, which is read straight from its start (keyset on the row number, never OFFSET) once
the starts are in. A few dozen pages are kept; the least recently used go first. Every read runs on
the desk's worker thread through `Operations`, so errors reach the person in words like any other.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal

from treasury_app.services.audit_trail import AuditEntry, AuditFilter, AuditQuery, AuditTrail
from treasury_app.services.desk_worker import WorkerDesk
from treasury_app.services.operator_accounts import SignedIn

from ..operations import Operations

PAGE_SIZE = 200
CACHED_PAGES = 20
AnyIndex = QModelIndex | QPersistentModelIndex
SEQ_ROLE = Qt.ItemDataRole.UserRole + 1  # int: the row's number in the chain


class AuditTableModel(QAbstractTableModel):
    class Column(IntEnum):
        SEQ = 0
        TIME = 1
        OPERATOR = 2
        ACTION = 3
        SUBJECT = 4
        DETAIL = 5

    TITLES = ("Row", "Time (UTC)", "Operator", "Action", "Subject", "Detail")

    query_read = Signal()  # a query's count and first page are in

    def __init__(self, operations: Operations, acting: SignedIn, *, page_size: int = PAGE_SIZE,
                 cached_pages: int = CACHED_PAGES, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._operations = operations
        self._acting = acting
        self._page_size = page_size
        self._cached_pages = max(2, cached_pages)
        self._filter = AuditFilter()
        self._generation = 0
        self._count = 0
        self._starts: tuple[int, ...] = ()
        self._pages: OrderedDict[int, tuple[AuditEntry, ...]] = OrderedDict()
        self._pending: set[int] = set()
        self._wanted: set[int] = set()  # pages asked for before their starts were read
        self._starts_pending = False
        self.loaded = False

    @property
    def audit_filter(self) -> AuditFilter:
        return self._filter

    @property
    def rows_held(self) -> int:
        """How many rows the model holds now (the pages kept), for the tests that it never holds them all."""
        return sum(len(page) for page in self._pages.values())

    def set_query(self, audit_filter: AuditFilter) -> None:
        """Show another filter; the rows shown stay until its first page is in."""
        self._filter = audit_filter
        self._generation += 1
        generation, acting, size = self._generation, self._acting, self._page_size
        self._pending.clear()
        self._wanted.clear()
        self._starts_pending = True
        self._operations.run_in_worker(
            "read the audit trail", lambda desk: AuditTrail(desk.ledger).query(acting, audit_filter, size),
            on_done=lambda query: self._query_read(generation, query))

    def entry_at(self, row: int) -> AuditEntry | None:
        """The row as read (None when its page is not read yet)."""
        return self._entry_at(row, fetch=False)

    # --- Qt's model interface ---------------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008, N802 - Qt's signature
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008, N802 - Qt's signature
        return 0 if parent.isValid() else len(self.Column)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 - Qt's name
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(self.TITLES):
            return self.TITLES[section]
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        entry = self._entry_at(index.row())
        if entry is None:
            return None
        column = self.Column(index.column())
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            if role == Qt.ItemDataRole.ToolTipRole and column != self.Column.DETAIL:
                return None
            return _display(entry, column)
        if role == SEQ_ROLE:
            return entry.seq
        if role == Qt.ItemDataRole.TextAlignmentRole and column == self.Column.SEQ:
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        return None

    # --- pages ----------------------------------------------------------------------------------------------

    def _entry_at(self, row: int, *, fetch: bool = True) -> AuditEntry | None:
        if not 0 <= row < self._count:
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
        if number >= len(self._starts):
            if self._starts_pending:
                self._wanted.add(number)  # asked for once the starts are in
            return
        self._pending.add(number)
        generation, acting, audit_filter = self._generation, self._acting, self._filter
        size, start = self._page_size, self._starts[number]

        def read(desk: WorkerDesk) -> tuple[AuditEntry, ...]:
            return AuditTrail(desk.ledger).page(acting, audit_filter, size, start)

        def failed(_failure: object) -> bool:
            self._pending.discard(number)
            return False  # shown as every other failure is

        self._operations.run_in_worker(f"read page {number + 1} of the audit trail", read,
                                       on_done=lambda entries: self._page_read(generation, number, entries),
                                       on_error=failed)

    def _query_read(self, generation: int, query: AuditQuery) -> None:
        if generation != self._generation:
            return  # another filter was asked for meanwhile
        self.beginResetModel()
        self._count = query.count
        self._starts = (query.first_page[0].seq,) if query.first_page else ()
        self._pages.clear()
        self._pending.clear()
        if query.first_page:
            self._pages[0] = query.first_page
        self.endResetModel()
        self.loaded = True
        self.query_read.emit()
        acting, size = self._acting, self._page_size
        self._operations.run_in_worker(
            "read the audit trail's pages", lambda desk: AuditTrail(desk.ledger).page_starts(acting, query, size),
            on_done=lambda starts: self._starts_read(generation, starts))

    def _starts_read(self, generation: int, starts: tuple[int, ...]) -> None:
        if generation != self._generation:
            return
        self._starts = starts
        self._starts_pending = False
        wanted, self._wanted = self._wanted, set()
        for number in sorted(wanted):
            self._ask_for_page(number)

    def _page_read(self, generation: int, number: int, entries: tuple[AuditEntry, ...]) -> None:
        if generation != self._generation:
            return
        self._pending.discard(number)
        self._pages[number] = entries
        while len(self._pages) > self._cached_pages:
            self._pages.popitem(last=False)
        first = number * self._page_size
        last = min(first + len(entries), self._count) - 1
        if last >= first:
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(self.Column) - 1))


def _display(entry: AuditEntry, column: AuditTableModel.Column) -> str:
    columns = AuditTableModel.Column
    if column == columns.SEQ:
        return str(entry.seq)
    if column == columns.TIME:
        return entry.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")  # as `audit show` and the auditor have it
    if column == columns.OPERATOR:
        return entry.operator or "(the desk)"
    if column == columns.ACTION:
        return entry.action  # as stored: the name `audit show` prints and an auditor searches for
    if column == columns.SUBJECT:
        return (entry.subject or "").replace(":", " ")
    return entry.detail
