"""The reports' reads: a payouts report as CSV lines made by SQLite, in batches, and the summary's exact totals.
A caller that wants a report of one state of the file (every report should) reads inside `Ledger.snapshot()`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from .connection import LedgerConnection, typed_errors
from .payout_queries import PayoutFilter
from .report_queries import payout_report_count_query, payout_report_query, prepare_for_reports, summary_query

BATCH_ROWS = 5000  # lines fetched at a time: a few megabytes, whatever the size of the report


@dataclass(frozen=True)
class SummaryGroup:
    """One currency × provider × status of the summary: the count and the exact totals (None: no payout of the
    group has that figure, e.g. fees before any estimate)."""

    currency: str
    provider: str
    status: str
    payouts: int
    amount: Decimal
    fees: Decimal | None
    net_amount: Decimal | None
    total_debited: Decimal | None


class ReportReads:
    def __init__(self, link: LedgerConnection) -> None:
        self._link = link

    def count(self, payout_filter: PayoutFilter) -> int:
        query = payout_report_count_query(payout_filter)
        return int(self._link.scalar(query.sql, query.params))

    def payout_lines(self, payout_filter: PayoutFilter, delimiter: str = ",") -> Iterator[list[str]]:
        """The report's lines (no line ends), oldest payout first, `BATCH_ROWS` at a time."""
        query = payout_report_query(payout_filter, delimiter)
        self._prepare()
        with typed_errors(self._link.path):
            cursor = self._link.conn.execute(query.sql, query.params)
            try:
                while batch := cursor.fetchmany(BATCH_ROWS):
                    yield [line for (line,) in batch]
            finally:
                cursor.close()

    def summary(self, payout_filter: PayoutFilter) -> list[SummaryGroup]:
        """Ordered by currency, provider and status."""
        query = summary_query(payout_filter)
        self._prepare()
        return [SummaryGroup(currency, provider, status, count, Decimal(amount), *(_decimal(v) for v in rest))
                for currency, provider, status, count, amount, *rest in self._link.tuples(query.sql, query.params)]

    def _prepare(self) -> None:
        # Every time: made inside a snapshot, the temporary table goes with the snapshot's rollback.
        with typed_errors(self._link.path):
            prepare_for_reports(self._link.conn)


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)
