"""The payouts repository: every write and read of payouts and their timeline that services need.

A status change is checked by the domain's lifecycle, claimed by compare-and-set, and committed together with
its event row, all inside one IMMEDIATE transaction, so two windows or processes can never both win.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from decimal import Decimal, Inexact, localcontext
from itertools import islice
from typing import Any

from treasury_app.domain.errors import InvalidFieldError
from treasury_app.domain.payout_lifecycle import (
    IN_FLIGHT_STATUSES,
    PayoutStatus,
    check_transition,
    unsent_return_status,
)
from treasury_app.domain.payout_request import PayoutRequest, validate_idempotency_key

from .changes import POLL_FIELDS, ImportedPayout, PayoutChanges
from .column_codecs import encode_json, optional_json
from .connection import LedgerConnection
from .errors import ConstraintViolation, DuplicateRecordError, KeyFixedError, PayoutNotFoundError, StaleRecordError
from .payout_queries import (
    KEYSET_COLUMNS,
    LISTING_COLUMNS,
    PAYOUT_COLUMN_NAMES,
    PAYOUT_COLUMNS,
    IndexUse,
    PayoutFilter,
    PayoutSort,
    SqlQuery,
    amounts_in_order_query,
    amounts_query,
    batch_query,
    bounded_count_query,
    competing_filters,
    completed_to_query,
    count_query,
    initiator_counts_query,
    initiators_query,
    page_query,
)
from .payout_rows import (
    COPY_COLUMNS,
    CREATE_COPY_TABLE,
    CREATE_IMPORT_TABLE,
    INSERT_COLUMNS,
    INSERT_COPIED,
    INSERT_EVENT,
    INSERT_PAYOUT,
    INSERT_STAGED,
    STAGE_PAYOUT,
    check_actor,
    imported_row,
    payout_row,
)
from .records import PayoutEvent, PayoutListing, PayoutRecord
from .timestamps import format_timestamp, parse_timestamp

PAGE_MAX_ROWS = 10_000
# Up to this many matches, sorting them beats walking an index in the page's order (a few milliseconds).
WALK_AT_MATCHES = 5_000
_IN_FLIGHT = tuple(sorted(status.value for status in IN_FLIGHT_STATUSES))
# Sums of amounts are exact or refused: a default context (28 digits) would round an 18-decimal total.
_SUM_PRECISION = 80

Clock = Callable[[], datetime]


class PayoutRepository:
    def __init__(self, link: LedgerConnection, clock: Clock) -> None:
        self._link = link
        self._clock = clock

    # --- writing -------------------------------------------------------------------------------------------

    def add(self, request: PayoutRequest, *, idempotency_key: str, actor: str) -> PayoutRecord:
        """A new draft payout and the first event of its timeline, committed together."""
        now = format_timestamp(self._clock())
        row = payout_row(request, validate_idempotency_key(idempotency_key), PayoutStatus.DRAFT,
                          created_by=check_actor(actor), created_at=now, updated_at=now)
        with self._link.transaction():
            payout_id = self._insert_payouts([row])
            self._link.execute(INSERT_EVENT, (payout_id, now, actor, None, PayoutStatus.DRAFT.value, None, None))
            return self.get(payout_id)

    def import_payouts(self, payouts: Iterable[ImportedPayout], *, actor: str, batch_size: int = 5000) -> int:
        """Payouts made elsewhere, in batches of one transaction each; returns how many were written.

        A batch is all or nothing; batches before a failing one stay written (the error says how many).
        """
        check_actor(actor)
        written = 0
        items = iter(payouts)
        while batch := list(islice(items, batch_size)):
            rows = [imported_row(item) for item in batch]  # every check before the lock is taken
            now = format_timestamp(self._clock())
            with self._link.transaction():
                last_id = self._link.execute("SELECT coalesce(max(id), 0) FROM payouts").fetchone()[0]
                self._insert_payouts(rows, written_before=written, first_id=last_id + 1)
                # Under the write lock every id above last_id is this batch's: one statement writes its events,
                # with the ids the database would give one by one (largest + 1, + 2, …), given at once.
                self._link.execute(
                    "INSERT INTO payout_events (id, payout_id, at, actor, from_status, to_status, provider_status,"
                    " detail) SELECT (SELECT coalesce(max(id), 0) FROM payout_events) + row_number() OVER"
                    " (ORDER BY id), id, ?, ?, NULL, status, provider_status, ? FROM payouts WHERE id > ? ORDER BY id",
                    (now, actor, encode_json({"imported": True}), last_id),
                )
            written += len(rows)
        return written

    def transition(
        self,
        payout_id: int,
        target: PayoutStatus,
        *,
        actor: str,
        expected_status: PayoutStatus | None = None,
        expected_version: int | None = None,
        changes: PayoutChanges | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> PayoutRecord:
        """Move a payout to `target`, if the lifecycle allows it and nobody changed it since it was read.

        `expected_status`/`expected_version` make it a compare-and-set: `StaleRecordError` when another window
        or process got there first. `submitted_at` is set the first time a payout enters submitting (when its
        request may first have left), `finished_at` when it reaches a final status.
        """
        target = PayoutStatus(target)
        values = (changes or PayoutChanges()).column_values()
        detail_json = _detail(detail)
        check_actor(actor)
        with self._link.transaction():
            current = PayoutRecord.from_values(self._locked_row(payout_id))
            _check_expected(current, expected_status, expected_version)
            check_transition(current.status, target, subject=f"payout {payout_id}")
            now = self._clock()
            values["status"] = target.value
            if target is PayoutStatus.SUBMITTING and current.submitted_at is None:
                values["submitted_at"] = format_timestamp(now)
            if target.is_final:
                values["finished_at"] = format_timestamp(now)
            return self._update(current, values, now, actor=actor, event_detail=detail_json, write_event=True)

    def return_unsent(self, payout_id: int, *, actor: str, expected_version: int,
                      detail: Mapping[str, Any] | None = None) -> PayoutRecord:
        """Move a claimed payout whose request certainly never left back to the status it was claimed from.

        The status comes from the claim's own event, never from the caller, and the domain decides whether the
        return is allowed (never for a claim taken from `unknown`). `submitted_at` is cleared: no request of
        this payout has left yet, so its key may still be replaced while it waits (`replace_idempotency_key`).
        """
        detail_json = _detail(detail)
        check_actor(actor)
        with self._link.transaction():
            current = PayoutRecord.from_values(self._locked_row(payout_id))
            _check_expected(current, None, expected_version)
            claimed_from = self._link.scalar(
                "SELECT from_status FROM payout_events WHERE payout_id = ? AND to_status = ? ORDER BY id DESC LIMIT 1",
                (payout_id, PayoutStatus.SUBMITTING.value))
            target = unsent_return_status(current.status, PayoutStatus(claimed_from) if claimed_from else None,
                                          subject=f"payout {payout_id}")
            return self._update(current, {"status": target.value, "submitted_at": None}, self._clock(), actor=actor,
                                event_detail=detail_json, write_event=True)

    def record_provider_update(
        self,
        payout_id: int,
        changes: PayoutChanges,
        *,
        actor: str,
        expected_version: int | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> PayoutRecord:
        """What the provider said that does not move the local status (raw status, tx hash, actual fee…).

        Writes an event only when a provider field really changed; an answer identical to what is stored
        writes nothing, so a poller asking every few seconds does not flood the timeline.
        """
        values = changes.column_values()
        detail_json = _detail(detail)
        check_actor(actor)
        with self._link.transaction():
            stored = self._locked_row(payout_id)
            current = PayoutRecord.from_values(stored)
            _check_expected(current, None, expected_version)
            stored_by_name = dict(zip(PAYOUT_COLUMN_NAMES, stored, strict=True))
            changed = {name: value for name, value in values.items() if stored_by_name[name] != value}
            if not changed:
                return current
            return self._update(current, changed, self._clock(), actor=actor, event_detail=detail_json,
                                write_event=bool(set(changed) - POLL_FIELDS))

    def replace_idempotency_key(self, payout_id: int, new_key: str, *, actor: str, expected_version: int,
                                changes: PayoutChanges | None = None,
                                detail: Mapping[str, Any] | None = None) -> PayoutRecord:
        """Give a payout that was never sent a new idempotency key (and the estimate made under it).

        Needed where the provider's estimate registers the order under the key (Pay3's requestId can be
        estimated once): a fresh estimate needs a fresh key. Refused once a request may have left
        (`submitted_at` set), because the provider may hold an order under the old key.
        """
        key = validate_idempotency_key(new_key)
        values = (changes or PayoutChanges()).column_values()
        values["idempotency_key"] = key
        detail_json = _detail({**(detail or {}), "new_idempotency_key": key})
        check_actor(actor)
        with self._link.transaction():
            current = PayoutRecord.from_values(self._locked_row(payout_id))
            _check_expected(current, None, expected_version)
            if current.submitted_at is not None or current.status not in _REKEYABLE:
                raise KeyFixedError(payout_id, current.status.value)
            try:
                return self._update(current, values, self._clock(), actor=actor, event_detail=detail_json,
                                    write_event=True)
            except ConstraintViolation as error:
                if "payouts.idempotency_key" not in str(error):
                    raise
                raise DuplicateRecordError(f"a payout with idempotency key '{key}' is already in the ledger") from None

    def schedule_poll(self, payout_id: int, *, next_poll_at: datetime | None, poll_failures: int) -> PayoutRecord:
        """One payout's back-off bookkeeping; see `schedule_polls` (no event, no version or `updated_at` move)."""
        if not self.schedule_polls([(payout_id, next_poll_at, poll_failures)]):
            raise PayoutNotFoundError(payout_id)
        return self.get(payout_id)

    def _locked_row(self, payout_id: int) -> tuple[Any, ...]:
        """The stored row, read inside the write transaction (so nobody can change it before we write)."""
        found = self._link.execute(f"SELECT {PAYOUT_COLUMNS} FROM payouts WHERE id = ?", (payout_id,)).fetchone()
        if found is None:
            raise PayoutNotFoundError(payout_id)
        return tuple(found)

    def _insert_payouts(self, rows: list[dict[str, Any]], written_before: int | None = None,
                        first_id: int | None = None) -> int:
        """Insert payout rows; returns the new id when there is one row. Many rows take the dialect's bulk path;
        `first_id` (the largest id + 1, read under the write lock) is the first of theirs."""
        try:
            if len(rows) == 1:
                return self._link.insert(INSERT_PAYOUT, rows[0])
            if self._link.dialect.bulk_inserts == "copy":
                assert first_id is not None, "a bulk insert reads the largest id under the write lock first"
                self._link.execute(CREATE_COPY_TABLE)
                self._link.copy_rows("payout_import", COPY_COLUMNS, (
                    (first_id + n, *(row[column] for column in INSERT_COLUMNS)) for n, row in enumerate(rows)))
                self._link.execute(INSERT_COPIED)
                return 0
            # Many rows go through a temporary table and ONE INSERT … SELECT. Inserted one statement at a time,
            # each row's full-text trigger makes FTS5 flush its pending index data separately (it does so at
            # every statement savepoint), which halves the import rate of a large ledger.
            self._link.execute(CREATE_IMPORT_TABLE)
            self._link.executemany(STAGE_PAYOUT, rows)
            self._link.execute(INSERT_STAGED)
            self._link.execute("DELETE FROM temp.payout_import")
            return 0
        except ConstraintViolation as error:
            if "payouts.idempotency_key" not in str(error):
                raise
            if written_before is None:
                key = rows[0]["idempotency_key"]
                raise DuplicateRecordError(f"a payout with idempotency key '{key}' is already in the ledger") from None
            raise DuplicateRecordError(
                f"a payout in this batch of {len(rows)} has an idempotency key already in the ledger; the batch was "
                f"not imported ({written_before} payouts before it were)"
            ) from None

    def _update(self, current: PayoutRecord, values: dict[str, Any], now: datetime, *, actor: str,
                event_detail: str | None, write_event: bool) -> PayoutRecord:
        stamp = format_timestamp(now)
        values = {**values, "updated_at": stamp, "version": current.version + 1}
        assignments = ", ".join(f"{column} = :{column}" for column in values)
        cursor = self._link.execute(
            f"UPDATE payouts SET {assignments} WHERE id = :where_id AND version = :where_version",
            {**values, "where_id": current.id, "where_version": current.version},
        )
        if cursor.rowcount != 1:  # cannot happen under the write lock; if it does, write nothing
            raise StaleRecordError(f"payout {current.id} changed while it was being updated; nothing was written")
        if write_event:
            provider_status = values.get("provider_status", current.provider_status)
            self._link.execute(INSERT_EVENT, (current.id, stamp, actor, current.status.value,
                                               values.get("status", current.status.value), provider_status,
                                               event_detail))
        return self.get(current.id)

    # --- reading -------------------------------------------------------------------------------------------

    def get(self, payout_id: int) -> PayoutRecord:
        rows = self._link.tuples(f"SELECT {PAYOUT_COLUMNS} FROM payouts WHERE id = ?", (payout_id,))
        if not rows:
            raise PayoutNotFoundError(payout_id)
        return PayoutRecord.from_values(rows[0])

    def find_by_key(self, idempotency_key: str) -> PayoutRecord | None:
        rows = self._link.tuples(f"SELECT {PAYOUT_COLUMNS} FROM payouts WHERE idempotency_key = ?",
                                 (idempotency_key,))
        return PayoutRecord.from_values(rows[0]) if rows else None

    def events(self, payout_id: int) -> list[PayoutEvent]:
        """The payout's timeline, oldest first (every payout has at least its first event)."""
        rows = self._link.rows("SELECT * FROM payout_events WHERE payout_id = ? ORDER BY id", (payout_id,))
        if not rows:
            raise PayoutNotFoundError(payout_id)
        return [PayoutEvent.from_row(row) for row in rows]

    def open_payouts(self, provider: str | None = None, due_before: datetime | None = None,
                     limit: int | None = None) -> list[PayoutRecord]:
        """What the poller follows: sent (or maybe sent) and not final; never-polled first, then most overdue."""
        sql = f"SELECT {PAYOUT_COLUMNS} FROM payouts WHERE status IN ({', '.join('?' * len(_IN_FLIGHT))})"
        params: list[Any] = list(_IN_FLIGHT)
        if provider is not None:
            sql += " AND provider = ?"
            params.append(provider.strip().lower())
        if due_before is not None:
            sql += " AND (next_poll_at IS NULL OR next_poll_at <= ?)"
            params.append(format_timestamp(due_before))
        sql += " ORDER BY next_poll_at NULLS FIRST, id"  # never polled first (PostgreSQL puts NULL last)
        if limit is not None:
            sql += " LIMIT ?"
            params.append(_positive(limit, "limit"))
        return [PayoutRecord.from_values(row) for row in self._link.tuples(sql, params)]

    def page(self, payout_filter: PayoutFilter | None = None, sort: PayoutSort = PayoutSort.NEWEST,
             limit: int = 100, offset: int = 0) -> list[PayoutRecord]:
        """One page of payouts as full records (reports, the poller's views); the table uses `listing`."""
        query = self.page_sql(payout_filter, sort, limit, offset)
        return [PayoutRecord.from_values(row) for row in self._link.tuples(query.sql, query.params)]

    def listing(self, payout_filter: PayoutFilter | None = None, sort: PayoutSort = PayoutSort.NEWEST,
                limit: int = 100, offset: int = 0) -> list[PayoutListing]:
        """One page of the payout table with only the columns a table row shows.

        A full `PayoutRecord` has 33 converted fields; building a hundred of them costs several times what
        SQLite spends finding the rows. The table scrolls through pages, so it reads these instead and loads
        the full record only for the payout a person selects.
        """
        query = self.listing_sql(payout_filter, sort, limit, offset)
        return [PayoutListing.from_values(row) for row in self._link.tuples(query.sql, query.params)]

    def page_sql(self, payout_filter: PayoutFilter | None = None, sort: PayoutSort = PayoutSort.NEWEST,
                 limit: int = 100, offset: int = 0) -> SqlQuery:
        """The SQL `page` runs for these arguments (for diagnostics and the benchmark's comparison)."""
        return self._page_query(payout_filter, sort, limit, offset, PAYOUT_COLUMNS)

    def listing_sql(self, payout_filter: PayoutFilter | None = None, sort: PayoutSort = PayoutSort.NEWEST,
                    limit: int = 100, offset: int = 0) -> SqlQuery:
        """The SQL `listing` runs for these arguments."""
        return self._page_query(payout_filter, sort, limit, offset, LISTING_COLUMNS)

    def _page_query(self, payout_filter: PayoutFilter | None, sort: PayoutSort, limit: int, offset: int,
                    columns: str) -> SqlQuery:
        if not 1 <= limit <= PAGE_MAX_ROWS:
            raise InvalidFieldError("limit", f"must be between 1 and {PAGE_MAX_ROWS}")
        if offset < 0:
            raise InvalidFieldError("offset", "must be 0 or more")
        payout_filter = payout_filter or PayoutFilter()
        sort = PayoutSort(sort)
        use = self.index_use(payout_filter, sort)
        return page_query(self._link.dialect, payout_filter, sort, limit, offset, use, columns)

    def index_use(self, payout_filter: PayoutFilter, sort: PayoutSort) -> IndexUse:
        """When filters and sort order compete for indexes: sort the matches if few, else walk the order.

        Few matches are found through the filters' indexes and sorted in milliseconds; among many, walking the
        sort order's index reaches a page's end long before a sort of every match would finish.
        """
        if not self._link.dialect.index_hints or not competing_filters(payout_filter, sort):
            return IndexUse.PLANNER
        probe = bounded_count_query(self._link.dialect, payout_filter, WALK_AT_MATCHES + 1)
        many = self._link.scalar(probe.sql, probe.params) > WALK_AT_MATCHES
        return IndexUse.WALK_ORDER if many else IndexUse.SORT_MATCHES

    def count(self, payout_filter: PayoutFilter | None = None) -> int:
        query = count_query(self._link.dialect, payout_filter or PayoutFilter())
        return int(self._link.scalar(query.sql, query.params))

    def counts_by_initiator(self, payout_filter: PayoutFilter) -> dict[str, int]:
        """How many matching payouts each initiator composed (one grouped query, however many payouts)."""
        query = initiator_counts_query(self._link.dialect, payout_filter)
        return {name: int(count) for name, count in self._link.tuples(query.sql, query.params)}

    def initiators_of(self, payout_filter: PayoutFilter) -> list[tuple[int, str]]:
        """(id, initiator) of every matching payout, by id: the approvals' notices follow the waiting ones."""
        query = initiators_query(self._link.dialect, payout_filter)
        return [(int(payout_id), name) for payout_id, name in self._link.tuples(query.sql, query.params)]

    def iter_batches(self, payout_filter: PayoutFilter | None = None, *, sort: PayoutSort = PayoutSort.OLDEST,
                     batch_size: int = 1000) -> Iterator[list[PayoutRecord]]:
        """Every matching payout, a batch at a time (for CSV exports: memory stays flat however many rows).

        Each batch is its own query continuing after the previous batch's last row, so no read transaction is
        held open between batches (a long-held one would stop WAL checkpoints while the file is exported).
        """
        payout_filter = payout_filter or PayoutFilter()
        sort = PayoutSort(sort)
        columns, _ = KEYSET_COLUMNS[sort]
        _positive(batch_size, "batch_size")
        # batch_query selects the record's columns and then amount_key: where each keyset column sits in a row.
        positions = [len(PAYOUT_COLUMN_NAMES) if c == "amount_key" else PAYOUT_COLUMN_NAMES.index(c) for c in columns]
        after: tuple[Any, ...] | None = None
        use = self.index_use(payout_filter, sort)
        while True:
            query = batch_query(self._link.dialect, payout_filter, sort, after, batch_size, use)
            rows = self._link.tuples(query.sql, query.params)
            if rows:
                yield [PayoutRecord.from_values(row[:-1]) for row in rows]
            if len(rows) < batch_size:
                return
            after = tuple(rows[-1][position] for position in positions)

    def total_amount(self, payout_filter: PayoutFilter) -> Decimal:
        """The exact sum of the matching payouts' amounts (daily limits); summed here, never as SQL REAL."""
        query = amounts_query(self._link.dialect, payout_filter)
        total = Decimal(0)
        with localcontext(prec=_SUM_PRECISION) as context:
            context.traps[Inexact] = True
            for (amount,) in self._link.iterate(query.sql, query.params):
                total += Decimal(amount)
        return total

    def amounts_in_order(self, payout_filter: PayoutFilter) -> list[tuple[datetime, str, Decimal]]:
        """(created_at, initiator, amount) of every matching payout, oldest first: running daily totals for many
        payouts from one read of their day (the approvals queue)."""
        query = amounts_in_order_query(self._link.dialect, payout_filter)
        return [(parse_timestamp(at), by, Decimal(amount)) for at, by, amount in self._link.iterate(query.sql,
                                                                                                  query.params)]

    def has_completed_payout_to(self, network: str, address: str) -> bool:
        """Whether this destination was ever paid (policy: "a destination never paid before needs approval")."""
        query = completed_to_query(self._link.dialect, network, address)
        return bool(self._link.scalar(query.sql, query.params))

    # --- the poller's bookkeeping, a batch at a time -----------------------------------------------------------

    def schedule_polls(self, schedules: Iterable[tuple[int, datetime | None, int]]) -> int:
        """The poller's back-off for many payouts in ONE transaction; returns how many payouts were found.

        Each item is (payout id, when to ask next or None, failed asks in a row). One commit for the batch, and
        not a durable one (no fsync): a commit per payout would make a cycle over thousands mostly commits.
        Bookkeeping, not a fact about the payout: no event, and neither `version` nor `updated_at` moves, so a
        window's compare-and-set is not spoiled by a poll, and `updated_at` keeps saying when the payout last
        changed (the poller's back-off grows with that age).
        """
        rows = [(None if at is None else format_timestamp(at), self._checked_failures(failures), payout_id)
                for payout_id, at, failures in schedules]
        if not rows:
            return 0
        # Not durable: a back-off lost to a power cut only means a payout is asked a little early.
        with self._link.transaction(durable=False):
            cursor = self._link.executemany(
                "UPDATE payouts SET next_poll_at = ?, poll_failures = ? WHERE id = ?", rows)
        return cursor.rowcount

    @staticmethod
    def _checked_failures(value: int) -> int:
        return int(PayoutChanges(poll_failures=value).column_values()["poll_failures"])


# Statuses of payouts never sent, whose key no provider can have executed anything under.
_REKEYABLE = frozenset({PayoutStatus.DRAFT, PayoutStatus.ESTIMATED, PayoutStatus.AWAITING_APPROVAL,
                        PayoutStatus.APPROVED, PayoutStatus.EXPIRED})


def _check_expected(current: PayoutRecord, expected_status: PayoutStatus | None,
                    expected_version: int | None) -> None:
    if expected_status is not None and current.status != PayoutStatus(expected_status):
        raise StaleRecordError(
            f"payout {current.id} is now '{current.status}', not '{PayoutStatus(expected_status)}': another window "
            "or process changed it first. Nothing was written; reload it and decide again."
        )
    if expected_version is not None and current.version != expected_version:
        raise StaleRecordError(
            f"payout {current.id} changed since it was read (version {expected_version}, now {current.version}, "
            f"status '{current.status}'). Nothing was written; reload it and decide again."
        )


def _detail(detail: Mapping[str, Any] | None) -> str | None:
    if detail is not None and not isinstance(detail, Mapping):
        raise TypeError(f"an event's detail must be a mapping, not {type(detail).__name__}")
    return optional_json(detail)


def _positive(value: int, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidFieldError(field, "must be a whole number of 1 or more")
    return value
