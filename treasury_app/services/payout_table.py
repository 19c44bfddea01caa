"""The window's payout table as the ledger serves it: how many payouts match, pages of rows in any sort read
by position (never OFFSET), anchors for a jump to row 900,000, and a fresh read of the rows that changed.

Each call reads one state of the ledger (`read_query` puts the first page, the count and the anchors into one
snapshot, so the count agrees with the page it is shown with). Like the ledger it reads, a `PayoutTable`
belongs to one thread: the window builds it on the worker thread that runs its jobs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from treasury_app.domain.errors import InvalidFieldError
from treasury_app.ledger import Ledger, PayoutFilter, PayoutListing, PayoutSort

__all__ = ["PayoutFilter", "PayoutTable", "SortColumn", "SortDirection", "TableQuery", "TablePosition",
           "TableRow", "TableSort"]

# A row of the table: id, created_at, status, provider, currency, network, amount (Decimal), address,
# reference, tx_hash, version. Immutable (a NamedTuple: a page of them is built in a fraction of the time a
# page of dataclasses takes, see ledger.records.PayoutListing).
TableRow = PayoutListing
# Where a row stands in a sort, as the ledger compares it; the window keeps it and hands it back, never reads it.
TablePosition = tuple[Any, ...]


class SortColumn(StrEnum):
    CREATED = "created"
    AMOUNT = "amount"
    STATUS = "status"
    PROVIDER = "provider"
    CURRENCY = "currency"


class SortDirection(StrEnum):
    ASC = "asc"
    DESC = "desc"


_LEDGER_SORTS = {
    (SortColumn.CREATED, SortDirection.ASC): PayoutSort.OLDEST,
    (SortColumn.CREATED, SortDirection.DESC): PayoutSort.NEWEST,
    (SortColumn.AMOUNT, SortDirection.ASC): PayoutSort.AMOUNT_ASC,
    (SortColumn.AMOUNT, SortDirection.DESC): PayoutSort.AMOUNT_DESC,
    (SortColumn.STATUS, SortDirection.ASC): PayoutSort.STATUS_ASC,
    (SortColumn.STATUS, SortDirection.DESC): PayoutSort.STATUS_DESC,
    (SortColumn.PROVIDER, SortDirection.ASC): PayoutSort.PROVIDER_ASC,
    (SortColumn.PROVIDER, SortDirection.DESC): PayoutSort.PROVIDER_DESC,
    (SortColumn.CURRENCY, SortDirection.ASC): PayoutSort.CURRENCY_ASC,
    (SortColumn.CURRENCY, SortDirection.DESC): PayoutSort.CURRENCY_DESC,
}


@dataclass(frozen=True)
class TableSort:
    """A sort of the table: newest first unless chosen otherwise. Ties are broken by creation time and then
    by id, in the sort's direction, so that descending is exactly ascending reversed."""

    column: SortColumn = SortColumn.CREATED
    direction: SortDirection = SortDirection.DESC

    def __post_init__(self) -> None:
        for name, kind in (("column", SortColumn), ("direction", SortDirection)):
            try:
                object.__setattr__(self, name, kind(getattr(self, name)))
            except ValueError:
                choices = ", ".join(member.value for member in kind)
                raise InvalidFieldError(f"sort {name}", f"'{getattr(self, name)}' is not one of {choices}") from None

    @property
    def ledger_sort(self) -> PayoutSort:
        return _LEDGER_SORTS[(self.column, self.direction)]


@dataclass(frozen=True)
class TableQuery:
    """What one snapshot said about a filter and sort: the first page, how many match, and the anchors."""

    count: int
    first_page: tuple[TableRow, ...]
    anchors: tuple[TablePosition, ...]
    anchor_every: int


class PayoutTable:
    """The table's reads from one ledger; see the module's text for threads and snapshots."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Every read in the block from one state of the ledger."""
        with self._ledger.snapshot():
            yield

    def count(self, payout_filter: PayoutFilter) -> int:
        return self._ledger.payouts.count(payout_filter)

    def first_page(self, payout_filter: PayoutFilter, sort: TableSort, size: int) -> list[TableRow]:
        return self._ledger.payout_table.page_after(payout_filter, sort.ledger_sort, None, size)

    def page_after(self, payout_filter: PayoutFilter, sort: TableSort, last_row: TableRow,
                   size: int) -> list[TableRow]:
        """The rows that follow `last_row` (a row read earlier under the same filter and sort)."""
        return self.page_from(payout_filter, sort, self.position_of(last_row, sort), size)

    def page_before(self, payout_filter: PayoutFilter, sort: TableSort, first_row: TableRow,
                    size: int) -> list[TableRow]:
        """The rows that come before `first_row`, in table order."""
        ledger_sort = sort.ledger_sort
        position = self._ledger.payout_table.position_of(first_row, ledger_sort)
        return self._ledger.payout_table.page_before(payout_filter, ledger_sort, position, size)

    def page_from(self, payout_filter: PayoutFilter, sort: TableSort, position: TablePosition,
                  size: int) -> list[TableRow]:
        """The rows that follow a position: an anchor, or `position_of` a row."""
        return self._ledger.payout_table.page_after(payout_filter, sort.ledger_sort, position, size)

    def position_of(self, row: TableRow, sort: TableSort) -> TablePosition:
        return self._ledger.payout_table.position_of(row, sort.ledger_sort)

    def anchors(self, payout_filter: PayoutFilter, sort: TableSort, every: int, *,
                after: TablePosition | None = None, at_most: int | None = None) -> list[TablePosition]:
        """The position of every `every`-th row: `page_from(anchors[k - 1])` is the page starting at row
        k·every (0-based), so a jump to any row costs one pass to find these and then one page. `after` and
        `at_most` read them a part at a time (`after` the last anchor read so far)."""
        return self._ledger.payout_table.anchors(payout_filter, sort.ledger_sort, every, after=after,
                                                 at_most=at_most)

    def rows(self, payout_ids: Iterable[int]) -> list[TableRow]:
        """These payouts' rows as they are now (in id order; a payout no longer there is left out)."""
        return self._ledger.payout_table.listings(payout_ids)

    def read_query(self, payout_filter: PayoutFilter, sort: TableSort, size: int, *,
                   on_first_page: Callable[[list[TableRow]], None] | None = None,
                   on_count: Callable[[int], None] | None = None,
                   anchor_every: int | None = None) -> TableQuery:
        """First page, count and (when `anchor_every` is given) anchors, from one snapshot.

        The callbacks hear each part as soon as it is read (the first page can be painted while the rows are
        still being counted); they run on this thread, before the next part is read.
        """
        with self.snapshot():
            first = self.first_page(payout_filter, sort, size)
            if on_first_page is not None:
                on_first_page(first)
            count = self.count(payout_filter)
            if on_count is not None:
                on_count(count)
            anchors = self.anchors(payout_filter, sort, anchor_every) if anchor_every else []
        return TableQuery(count, tuple(first), tuple(anchors), anchor_every or 0)
