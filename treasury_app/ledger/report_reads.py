"""The reports' reads: a payouts report as CSV lines made by SQLite, in batches, and the summary's exact totals.
A caller that wants a report of one state of the file (every report should) reads inside `Ledger.snapshot()`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter

from .connection import LedgerConnection, typed_errors
from .payout_queries import PayoutFilter
from .report_queries import (
    LINE_END,
    PAYOUT_REPORT_HEADER,
    line_needs_quotes,
    payout_id_in,
    payout_report_count_query,
    payout_report_query,
    prepare_for_reports,
    quoted_lines_query,
    summary_query,
)

BATCH_ROWS = 5000  # lines fetched at a time: a few megabytes, whatever the size of the report
QUOTED_LOOKUP_IDS = 500  # payout ids per query for the lines that need quotes
_LINE_END = LINE_END.encode("ascii")
_first = itemgetter(0)  # a row's only column, the line


@dataclass(frozen=True)
class ReportBatch:
    """Consecutive lines of a payouts report: the file's bytes (UTF-8, each line ended by CRLF) and how many."""

    rows: int
    text: bytes


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
        query = payout_report_count_query(self._link.dialect, payout_filter)
        return int(self._link.scalar(query.sql, query.params))

    def payout_lines(self, payout_filter: PayoutFilter, delimiter: str = ",") -> Iterator[ReportBatch]:
        """The report's lines, oldest payout first, `BATCH_ROWS` at a time. Call inside `Ledger.snapshot()` for
        one state of the file (the lines that need quotes are read again, by id, between batches)."""
        query = payout_report_query(payout_filter, delimiter)
        separator = delimiter.encode("ascii")
        self._prepare()
        with typed_errors(self._link.path):
            cursor = self._link.conn.execute(query.sql, query.params)
            try:
                while batch := cursor.fetchmany(BATCH_ROWS):
                    lines = list(map(_first, batch))
                    if _may_need_quotes(b"".join(lines), len(lines), separator):
                        yield ReportBatch(len(lines), self._with_quotes(lines, delimiter, separator))
                    else:
                        yield ReportBatch(len(lines), _LINE_END.join(lines) + _LINE_END)
            finally:
                cursor.close()

    def _with_quotes(self, lines: list[bytes], delimiter: str, separator: bytes) -> bytes:
        """The batch with the lines that need quotes made again by SQLite, quoted (rare: typed text with the
        delimiter, a quote or a line break in it)."""
        suspects = {index: payout_id_in(line, separator)
                    for index, line in enumerate(lines) if line_needs_quotes(line, separator)}
        ids = list(suspects.values())
        remade: dict[int, bytes] = {}
        for start in range(0, len(ids), QUOTED_LOOKUP_IDS):
            query = quoted_lines_query(ids[start:start + QUOTED_LOOKUP_IDS], delimiter)
            remade.update(self._link.conn.execute(query.sql, query.params).fetchall())
        for index, payout_id in suspects.items():
            lines[index] = remade[payout_id]
        return _LINE_END.join(lines) + _LINE_END

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


def _may_need_quotes(run_together: bytes, rows: int, separator: bytes) -> bool:
    """Whether any of a batch's lines may need quotes, checked on the lines run together without line ends (a
    few passes of C over the bytes, where a check per line in SQL cost a third of the export): a quote, any line
    break, or a delimiter beyond those between cells. Without the line ends, a line break is a `memchr` away
    where counting them against the number of lines took three times the time."""
    return (b'"' in run_together or b"\n" in run_together or b"\r" in run_together
            or run_together.count(separator) != rows * (len(PAYOUT_REPORT_HEADER) - 1))


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)
