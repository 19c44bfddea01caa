"""The SQL behind the window's payout table and the reports: filters, sort orders, text search, keyset batches.

Every query here is shaped to walk one of the schema's indexes in order and stop at LIMIT, so a page of a
million-row ledger costs about as much as a page of a hundred-row one.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from treasury_app.domain.errors import InvalidFieldError
from treasury_app.domain.payout_lifecycle import PayoutStatus

from .dialects import Dialect
from .timestamps import format_timestamp

SEARCH_MAX_LENGTH = 200

# Every column but amount_key, in table order: what `PayoutRecord.from_values` is built from, positionally.
PAYOUT_COLUMN_NAMES = (
    "id", "idempotency_key", "provider", "currency", "network", "address", "amount", "fee_mode", "priority", "memo",
    "reference", "note", "status", "provider_status", "provider_payout_id", "tx_hash", "estimated_fee",
    "estimated_net", "estimated_total", "estimate_warnings", "estimate_data", "estimated_at", "actual_fee",
    "actual_amount", "failure_reason", "created_by", "created_at", "updated_at", "submitted_at", "finished_at",
    "next_poll_at", "poll_failures", "version",
)
PAYOUT_COLUMNS = ", ".join(PAYOUT_COLUMN_NAMES)
# What a row of the payout table shows; the detail panel loads the whole record of the selected payout.
LISTING_COLUMN_NAMES = (
    "id", "created_at", "status", "provider", "currency", "network", "amount", "address", "reference", "tx_hash",
    "version",
)
LISTING_COLUMNS = ", ".join(LISTING_COLUMN_NAMES)


class PayoutSort(StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"
    AMOUNT_ASC = "amount_asc"
    AMOUNT_DESC = "amount_desc"
    STATUS_ASC = "status_asc"
    STATUS_DESC = "status_desc"
    PROVIDER_ASC = "provider_asc"
    PROVIDER_DESC = "provider_desc"
    CURRENCY_ASC = "currency_asc"
    CURRENCY_DESC = "currency_desc"


@dataclass(frozen=True)
class SortKey:
    """The columns a sort orders by, all in one direction, `id` last so that the order is total: paging never
    shows a row twice or skips one. One direction throughout is what lets a row-value comparison continue a
    page from an index (SQLite uses an index for `(a, b, id) > (?, ?, ?)` only when its columns agree), and
    it makes a descending sort exactly the ascending one reversed (status descending: newest first within a
    status; ascending: oldest first)."""

    columns: tuple[str, ...]
    descending: bool

    def order_by(self, dialect: Dialect, *, reverse: bool = False, keep_off_index: bool = False) -> str:
        direction = "ASC" if self.descending == reverse else "DESC"
        terms = ", ".join(f"{column} {direction}" for column in self.columns)
        return dialect.off_index(terms) if keep_off_index else terms


SORT_KEYS: dict[PayoutSort, SortKey] = {
    PayoutSort.NEWEST: SortKey(("created_at", "id"), True),
    PayoutSort.OLDEST: SortKey(("created_at", "id"), False),
    PayoutSort.AMOUNT_ASC: SortKey(("amount_key", "id"), False),
    PayoutSort.AMOUNT_DESC: SortKey(("amount_key", "id"), True),
    PayoutSort.STATUS_ASC: SortKey(("status", "created_at", "id"), False),
    PayoutSort.STATUS_DESC: SortKey(("status", "created_at", "id"), True),
    PayoutSort.PROVIDER_ASC: SortKey(("provider", "created_at", "id"), False),
    PayoutSort.PROVIDER_DESC: SortKey(("provider", "created_at", "id"), True),
    PayoutSort.CURRENCY_ASC: SortKey(("currency", "created_at", "id"), False),
    PayoutSort.CURRENCY_DESC: SortKey(("currency", "created_at", "id"), True),
}

# Keyset batches continue after the last row seen: a row-value comparison SQLite answers from the index.
KEYSET_COLUMNS = {sort: (key.columns, "<" if key.descending else ">") for sort, key in SORT_KEYS.items()}
# The filter each grouping sort's index also serves (status order walks (status, created_at, id)).
_GROUP_FILTERS = {"status": "statuses", "provider": "provider", "currency": "currency"}
# Filters that `payout_counts` (kept per status, provider and currency) cannot answer.
_UNCOUNTED_FIELDS = ("created_from", "created_to", "finished_from", "finished_to", "text", "created_by")


@dataclass(frozen=True)
class PayoutFilter:
    """What the window's filter bar and the reports select; empty fields select everything.

    `created_from` is inclusive and `created_to` exclusive, so consecutive periods never share a payout; the
    same for `finished_from` and `finished_to`, the moment a payout reached its final status (the reports'
    period "by final time"; a payout not final yet has none and is not in such a period).
    `text` finds payouts whose address, reference, note, idempotency key, provider payout id or tx hash
    contains it (case-insensitive), taken literally.
    """

    statuses: tuple[PayoutStatus, ...] = ()
    provider: str | None = None
    currency: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    text: str | None = None
    created_by: str | None = None
    finished_from: datetime | None = None
    finished_to: datetime | None = None

    def __post_init__(self) -> None:
        set_field = object.__setattr__
        set_field(self, "statuses", _statuses(self.statuses))
        set_field(self, "provider", _word(self.provider, str.lower))
        set_field(self, "currency", _word(self.currency, str.upper))
        set_field(self, "created_by", _word(self.created_by, str))
        set_field(self, "text", _search_text(self.text))
        for name in ("created_from", "created_to", "finished_from", "finished_to"):
            moment = getattr(self, name)
            if moment is not None and (not isinstance(moment, datetime) or moment.utcoffset() is None):
                raise InvalidFieldError(name, "must be a date and time with a time zone")
        for start, end in (("created_from", "created_to"), ("finished_from", "finished_to")):
            if getattr(self, start) and getattr(self, end) and getattr(self, end) <= getattr(self, start):
                raise InvalidFieldError(end, f"must be later than {start}")


class IndexUse(StrEnum):
    """How a filtered, sorted query should use the indexes (see `competing_filters`)."""

    PLANNER = "planner"  # nothing competes: SQLite's own choice is right
    WALK_ORDER = "walk_order"  # many match: walk the sort order's index, filters checked row by row
    SORT_MATCHES = "sort_matches"  # few match: find them through the filters' indexes, then sort them


@dataclass(frozen=True)
class SqlQuery:
    sql: str
    params: tuple[Any, ...]


def page_query(dialect: Dialect, payout_filter: PayoutFilter, sort: PayoutSort, limit: int, offset: int,
               use: IndexUse = IndexUse.PLANNER, columns: str = PAYOUT_COLUMNS) -> SqlQuery:
    where, params = where_clause(dialect, payout_filter, _off_index(payout_filter, sort, use))
    sql = f"SELECT {columns} FROM payouts{where} ORDER BY {_order_by(dialect, sort, use)} LIMIT ? OFFSET ?"
    return SqlQuery(sql, (*params, limit, offset))


def initiator_counts_query(dialect: Dialect, payout_filter: PayoutFilter) -> SqlQuery:
    """How many payouts match, per initiator (`created_by`)."""
    where, params = where_clause(dialect, payout_filter)
    return SqlQuery(f"SELECT created_by, count(*) FROM payouts{where} GROUP BY created_by", tuple(params))


def completed_to_query(dialect: Dialect, network: str, address: str) -> SqlQuery:
    """Whether a payout to this destination completed. `+status`: without statistics SQLite would walk the
    status index through every completed payout (47 ms on 100,000, for each payout the approvals queue shows)
    where an address has a few payouts at most."""
    return SqlQuery("SELECT EXISTS (SELECT 1 FROM payouts WHERE address = ? AND network = ? "
                    f"AND {dialect.off_index('status')} = ?)",
                    (address, network.strip().upper(), PayoutStatus.COMPLETED.value))


def amounts_in_order_query(dialect: Dialect, payout_filter: PayoutFilter) -> SqlQuery:
    """Each matching payout's creation time, initiator and amount, oldest first."""
    where, params = where_clause(dialect, payout_filter)
    return SqlQuery(f"SELECT created_at, created_by, amount FROM payouts{where} ORDER BY created_at, id",
                    tuple(params))


def initiators_query(dialect: Dialect, payout_filter: PayoutFilter) -> SqlQuery:
    """Each matching payout's id and initiator, and nothing else (read from the filter's index)."""
    where, params = where_clause(dialect, payout_filter)
    return SqlQuery(f"SELECT id, created_by FROM payouts{where} ORDER BY id", tuple(params))


def count_query(dialect: Dialect, payout_filter: PayoutFilter) -> SqlQuery:
    """How many payouts match; from `payout_counts` (a few rows) when only status, provider and currency filter."""
    where, params = where_clause(dialect, payout_filter)
    if all(getattr(payout_filter, name) in (None, ()) for name in _UNCOUNTED_FIELDS):
        return SqlQuery(f"SELECT coalesce(sum(n), 0) FROM payout_counts{where}", tuple(params))
    return SqlQuery(f"SELECT count(*) FROM payouts{where}", tuple(params))


def bounded_count_query(dialect: Dialect, payout_filter: PayoutFilter, at_most: int) -> SqlQuery:
    """How many payouts match, counting no further than `at_most` (cheap even when a million match)."""
    where, params = where_clause(dialect, payout_filter)
    return SqlQuery(f"SELECT count(*) FROM (SELECT 1 FROM payouts{where} LIMIT ?) AS bounded", (*params, at_most))


def amounts_query(dialect: Dialect, payout_filter: PayoutFilter) -> SqlQuery:
    where, params = where_clause(dialect, payout_filter)
    return SqlQuery(f"SELECT amount FROM payouts{where}", tuple(params))


def keyset_query(dialect: Dialect, payout_filter: PayoutFilter, sort: PayoutSort, after: tuple[Any, ...] | None, size: int,
                 use: IndexUse = IndexUse.PLANNER, columns: str = PAYOUT_COLUMNS, *,
                 backwards: bool = False) -> SqlQuery:
    """Up to `size` rows in `sort` order right after the position `after` (from the start when None).

    `backwards` reads the rows right before `after` instead, nearest first (the caller reverses them). Never
    OFFSET: SQLite seeks to the position in the sort's index and reads `size` rows from there.
    """
    key = SORT_KEYS[PayoutSort(sort)]
    where, params = _where_after(dialect, payout_filter, sort, use, after, backwards=backwards)
    order = key.order_by(dialect, reverse=backwards, keep_off_index=use is IndexUse.SORT_MATCHES)
    return SqlQuery(f"SELECT {columns} FROM payouts{where} ORDER BY {order} LIMIT ?", (*params, size))


def _where_after(dialect: Dialect, payout_filter: PayoutFilter, sort: PayoutSort, use: IndexUse, after: tuple[Any, ...] | None, *,
                 backwards: bool = False) -> tuple[str, list[Any]]:
    """The filter's WHERE, and the rows after the position `after` in `sort` order (before it, `backwards`)."""
    key = SORT_KEYS[PayoutSort(sort)]
    where, params = where_clause(dialect, payout_filter, _off_index(payout_filter, sort, use))
    if after is not None:
        comparison = "<" if key.descending != backwards else ">"
        keyset = f"({', '.join(key.columns)}) {comparison} ({', '.join('?' * len(key.columns))})"
        where = f"{where} AND {keyset}" if where else f" WHERE {keyset}"
        params = [*params, *after]
    return where, params


def batch_query(dialect: Dialect, payout_filter: PayoutFilter, sort: PayoutSort, after: tuple[Any, ...] | None, size: int,
                use: IndexUse = IndexUse.PLANNER) -> SqlQuery:
    """An export batch: whole records, then `amount_key` (for the next batch's position)."""
    return keyset_query(dialect, payout_filter, sort, after, size, use, f"{PAYOUT_COLUMNS}, amount_key")


def anchor_hop_query(dialect: Dialect, payout_filter: PayoutFilter, sort: PayoutSort, after: tuple[Any, ...] | None, every: int,
                     use: IndexUse = IndexUse.PLANNER) -> SqlQuery:
    """The sort position of the `every`-th row after `after` (from the start when None): the next anchor.

    A keyset seek, then a short OFFSET of `every - 1` rows inside the sort's index (the rows are stepped over in
    SQLite, never read into Python): the hops over a million rows take a fifth of one numbered pass
    (`anchors_query`). Only where the sort's index is walked; few matches are sorted once instead.
    """
    key = SORT_KEYS[PayoutSort(sort)]
    query = keyset_query(dialect, payout_filter, sort, after, 1, use, ", ".join(key.columns))
    return SqlQuery(f"{query.sql} OFFSET ?", (*query.params, every - 1))


def anchors_query(dialect: Dialect, payout_filter: PayoutFilter, sort: PayoutSort, every: int,
                  use: IndexUse = IndexUse.PLANNER, after: tuple[Any, ...] | None = None,
                  at_most: int | None = None) -> SqlQuery:
    """The sort position of rows every, 2·every, … (1-based): where the pages that start at row k·every begin.

    One pass over the matches in sort order (ROW_NUMBER), so that the window can reach row 900,000 with one
    keyset page from the nearest anchor instead of reading (or OFFSETting past) every row before it. For few
    matches, which are sorted anyway; many are hopped over along the sort's index (`anchor_hop_query`).
    Counted from the row after `after` (from the start when None); `at_most` anchors (None: all).
    """
    key = SORT_KEYS[PayoutSort(sort)]
    columns = ", ".join(key.columns)
    where, params = _where_after(dialect, payout_filter, sort, use, after)
    order = key.order_by(dialect, keep_off_index=use is IndexUse.SORT_MATCHES)
    sql = (f"SELECT {columns} FROM (SELECT {columns}, row_number() OVER (ORDER BY {order}) AS row_number "
           f"FROM payouts{where}) AS numbered WHERE row_number % ? = 0 ORDER BY row_number LIMIT ?")
    return SqlQuery(sql, (*params, every, dialect.no_limit if at_most is None else at_most))


def competing_filters(payout_filter: PayoutFilter, sort: PayoutSort) -> frozenset[str]:
    """Filters whose index SQLite may choose instead of the sort order's index, or the other way round.

    Without statistics SQLite guesses. It picks the currency index for "USDT, largest amount first" and sorts
    half a million rows to show a hundred (seconds); and it walks the whole amount index for "yesterday,
    largest first" when a sort of yesterday's three thousand would do. The repository counts (cheaply, up to a
    bound) and decides: `+column` keeps a filter off its index, `ORDER BY +column` keeps the order off its.
    """
    competing = {"text"} if payout_filter.text is not None else set()
    present = {
        "statuses": bool(payout_filter.statuses),
        "provider": payout_filter.provider is not None,
        "currency": payout_filter.currency is not None,
        "created": payout_filter.created_from is not None or payout_filter.created_to is not None,
    }
    given = {name for name, is_given in present.items() if is_given}
    lead = SORT_KEYS[PayoutSort(sort)].columns[0]
    if lead == "amount_key":
        competing |= given  # no index pairs a filter with amounts
    elif lead in _GROUP_FILTERS:
        competing |= given - {_GROUP_FILTERS[lead]}  # (status, created_at, id) serves a status filter too
    elif len(payout_filter.statuses) > 1:
        # (status, created_at, id) serves one status in date order; several would be merged by a sort.
        competing.add("statuses")
    return frozenset(competing)


def _off_index(payout_filter: PayoutFilter, sort: PayoutSort, use: IndexUse) -> frozenset[str]:
    return competing_filters(payout_filter, sort) if use is IndexUse.WALK_ORDER else frozenset()


def _order_by(dialect: Dialect, sort: PayoutSort, use: IndexUse) -> str:
    return SORT_KEYS[PayoutSort(sort)].order_by(dialect, keep_off_index=use is IndexUse.SORT_MATCHES)


def where_clause(dialect: Dialect, payout_filter: PayoutFilter,
                 off_index: frozenset[str] = frozenset()) -> tuple[str, list[Any]]:
    """The WHERE clause; filters named in `off_index` are written so that no index serves them (see above)."""

    def column(name: str, group: str) -> str:
        return dialect.off_index(name) if group in off_index else name

    clauses: list[str] = []
    params: list[Any] = []
    if payout_filter.statuses:
        clauses.append(f"{column('status', 'statuses')} IN ({', '.join('?' * len(payout_filter.statuses))})")
        params.extend(status.value for status in payout_filter.statuses)
    for name in ("provider", "currency", "created_by"):
        value = getattr(payout_filter, name)
        if value is not None:
            clauses.append(f"{column(name, name)} = ?")
            params.append(value)
    if payout_filter.created_from is not None:
        clauses.append(f"{column('created_at', 'created')} >= ?")
        params.append(format_timestamp(payout_filter.created_from))
    if payout_filter.created_to is not None:
        clauses.append(f"{column('created_at', 'created')} < ?")
        params.append(format_timestamp(payout_filter.created_to))
    if payout_filter.finished_from is not None:
        clauses.append("finished_at >= ?")
        params.append(format_timestamp(payout_filter.finished_from))
    if payout_filter.finished_to is not None:
        clauses.append("finished_at < ?")
        params.append(format_timestamp(payout_filter.finished_to))
    if payout_filter.text is not None:
        clause, text_params = dialect.text_search(payout_filter.text, column("id", "text"))
        clauses.append(clause)
        params.extend(text_params)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def _statuses(values: Iterable[PayoutStatus | str]) -> tuple[PayoutStatus, ...]:
    if isinstance(values, str):
        values = (values,)
    chosen: list[PayoutStatus] = []
    for value in values:
        try:
            status = PayoutStatus(value)
        except ValueError:
            names = ", ".join(s.value for s in PayoutStatus)
            raise InvalidFieldError("status", f"'{value}' is not a payout status; use one of {names}") from None
        if status not in chosen:
            chosen.append(status)
    return tuple(chosen)


def _word(value: str | None, normalise: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return normalise(text) if text else None


def _search_text(value: str | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidFieldError("search", "must be text")
    text = value.strip()
    if not text:
        return None
    if len(text) > SEARCH_MAX_LENGTH:
        raise InvalidFieldError("search", f"is {len(text)} characters long; at most {SEARCH_MAX_LENGTH} are allowed")
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} for ch in text):
        raise InvalidFieldError("search", "contains a control character or a line break; type plain text")
    return text
