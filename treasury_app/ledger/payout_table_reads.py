"""The reads behind the window's payout table: keyset pages in any sort, anchors for far jumps, rows by id.

A position is the sort's key of one row (e.g. `(created_at, id)` for newest first), as SQLite compares it;
pages continue from a position through the sort's index and never use OFFSET, so page 4,500 of a million
rows costs what page 1 costs once its anchor is known.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from treasury_app.domain.errors import InvalidFieldError

from .column_codecs import amount_sort_key
from .connection import LedgerConnection
from .payout_queries import (
    LISTING_COLUMNS,
    SORT_KEYS,
    IndexUse,
    PayoutFilter,
    PayoutSort,
    anchor_hop_query,
    anchors_query,
    keyset_query,
)
from .payouts import PAGE_MAX_ROWS, PayoutRepository
from .records import PayoutListing
from .timestamps import format_timestamp

Position = tuple[Any, ...]
# SQLite allows 32,766 parameters; re-reads come in the hundreds, so a few chunks at most.
_IDS_PER_QUERY = 500


class PayoutTableReads:
    def __init__(self, link: LedgerConnection, payouts: PayoutRepository) -> None:
        self._link = link
        self._payouts = payouts

    def page_after(self, payout_filter: PayoutFilter, sort: PayoutSort, after: Position | None,
                   size: int) -> list[PayoutListing]:
        """Up to `size` rows right after `after` in `sort` order (the first rows when `after` is None)."""
        return self._page(payout_filter, sort, after, size, backwards=False)

    def page_before(self, payout_filter: PayoutFilter, sort: PayoutSort, before: Position,
                    size: int) -> list[PayoutListing]:
        """Up to `size` rows right before `before`, in `sort` order (scrolling up from a jump)."""
        return self._page(payout_filter, sort, before, size, backwards=True)[::-1]

    def anchors(self, payout_filter: PayoutFilter, sort: PayoutSort, every: int, *, after: Position | None = None,
                at_most: int | None = None) -> list[Position]:
        """Positions of rows every, 2·every, … (1-based): the page starting at row k·every follows anchor k-1.

        Counted from the row after `after` (the start when None), at most `at_most` of them (all when None): the
        window reads them a few hundred at a time, so that a page asked for meanwhile never waits long.
        """
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise InvalidFieldError("every", "must be a whole number of 1 or more")
        if at_most is not None and (isinstance(at_most, bool) or not isinstance(at_most, int) or at_most < 1):
            raise InvalidFieldError("at_most", "must be a whole number of 1 or more")
        sort = PayoutSort(sort)
        use = self._payouts.index_use(payout_filter, sort)
        if use is IndexUse.SORT_MATCHES:  # few matches, found through the filters' indexes: sort them once
            query = anchors_query(self._link.dialect, payout_filter, sort, every, use, after, at_most)
            return self._link.tuples(query.sql, query.params)
        anchors: list[Position] = []
        with self._link.snapshot():  # every hop reads the same state of the file
            while at_most is None or len(anchors) < at_most:
                hop = anchor_hop_query(self._link.dialect, payout_filter, sort, anchors[-1] if anchors else after,
                                       every, use)
                found = self._link.tuples(hop.sql, hop.params)
                if not found:
                    break
                anchors.append(found[0])
        return anchors

    def listings(self, payout_ids: Iterable[int]) -> list[PayoutListing]:
        """The table rows of these payouts as they are now, in id order; ids no longer there are left out."""
        wanted = sorted({int(payout_id) for payout_id in payout_ids})
        found: list[PayoutListing] = []
        for start in range(0, len(wanted), _IDS_PER_QUERY):
            chunk = wanted[start:start + _IDS_PER_QUERY]
            sql = f"SELECT {LISTING_COLUMNS} FROM payouts WHERE id IN ({', '.join('?' * len(chunk))}) ORDER BY id"
            found.extend(PayoutListing.from_values(row) for row in self._link.tuples(sql, chunk))
        return found

    @staticmethod
    def position_of(row: PayoutListing, sort: PayoutSort) -> Position:
        """Where a row already read stands in `sort` order (see the module's `position_of`)."""
        return position_of(row, sort)

    def _page(self, payout_filter: PayoutFilter, sort: PayoutSort, position: Position | None, size: int, *,
              backwards: bool) -> list[PayoutListing]:
        if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= PAGE_MAX_ROWS:
            raise InvalidFieldError("size", f"must be between 1 and {PAGE_MAX_ROWS}")
        sort = PayoutSort(sort)
        if position is not None and len(position) != len(SORT_KEYS[sort].columns):
            raise ValueError(f"a position in {sort} order has {len(SORT_KEYS[sort].columns)} values, not "
                             f"{len(position)}")
        query = keyset_query(self._link.dialect, payout_filter, sort, position, size,
                             self._payouts.index_use(payout_filter, sort), LISTING_COLUMNS, backwards=backwards)
        return [PayoutListing.from_values(row) for row in self._link.tuples(query.sql, query.params)]


def position_of(row: PayoutListing, sort: PayoutSort) -> Position:
    """The position of a row already read, in `sort` order: the values its sort key holds in the file."""
    stored = {
        "id": row.id,
        "created_at": format_timestamp(row.created_at),
        "amount_key": amount_sort_key(row.amount),
        "status": row.status.value,
        "provider": row.provider,
        "currency": row.currency,
    }
    return tuple(stored[column] for column in SORT_KEYS[PayoutSort(sort)].columns)
