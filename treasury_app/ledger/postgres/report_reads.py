"""The reports' reads on a team ledger: the same bytes as SQLite's (`ledger/report_reads.py`), made another way.

SQLite makes each line itself (printf, string padding, Python functions registered for the sums), because its
rows would otherwise cost a Python object per cell. PostgreSQL cannot run our Python, so here the server sends
the raw cells through a server-side cursor, `BATCH_ROWS` at a time, and `report_line` writes them with the same
rules: amounts padded to the asset's places (text, never rounded), net and total worked out with exact
`Decimal`s, typed text neutralised against spreadsheet formulas, and all of a line's typed cells quoted when any
of them holds the delimiter, a quote or a line break. The summary's totals are `numeric` sums: exact, as
PostgreSQL's numeric always is.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from treasury_app.domain.assets import ASSETS
from treasury_app.domain.money import format_amount
from treasury_app.domain.spreadsheet_cells import neutralised

from ..dialects import POSTGRES
from ..payout_queries import PayoutFilter, SqlQuery, where_clause
from ..report_queries import (
    EXACT,
    LINE_END,
    PAYOUT_REPORT_HEADER,
    check_delimiter,
)
from ..report_reads import BATCH_ROWS, ReportBatch, ReportReads, SummaryGroup

if TYPE_CHECKING:
    pass

# The cells a line is made from, in this order (the report's columns, then what net and total are worked out of).
_SELECTED = (
    "p.created_at", "p.estimated_at", "ap.approved_at", "p.submitted_at", "p.finished_at", "p.id",
    "p.idempotency_key", "p.provider", "p.provider_payout_id", "p.currency", "p.network", "p.address", "p.amount",
    "p.estimated_fee", "p.actual_fee", "p.actual_amount", "p.estimated_net", "p.estimated_total", "p.fee_mode",
    "p.status", "p.provider_status", "p.tx_hash", "p.created_by", "ap.approvers", "p.reference", "p.note",
)
# The approvals that stand (approved, not voided), their operators in the order they decided.
_APPROVED = ("SELECT payout_id, max(decided_at) AS approved_at, "
             "string_agg(operator, '; ' ORDER BY decided_at, id) AS approvers "
             "FROM approvals WHERE decision = 'approved' AND voided_at IS NULL GROUP BY payout_id")
_QUOTE_TRIGGERS = ('"', "\n", "\r")
# Each asset's places and the '.000000' its amounts are padded with (none for an asset the catalogue lacks).
_PLACES = {key: asset.decimals for key, asset in ASSETS.items()}
_POINT_ZEROS = {key: ("." + "0" * places if places else "") for key, places in _PLACES.items()}
_DIGITS = "0123456789"


def report_query(payout_filter: PayoutFilter) -> SqlQuery:
    # The filter's WHERE names payout columns unqualified; the approvals' grouping brings none of the same name.
    where, params = where_clause(POSTGRES, payout_filter)
    return SqlQuery(f"SELECT {', '.join(_SELECTED)} FROM payouts AS p LEFT JOIN ({_APPROVED}) AS ap "
                    f"ON ap.payout_id = p.id{where} ORDER BY p.created_at, p.id", tuple(params))


def summary_query(payout_filter: PayoutFilter) -> SqlQuery:
    """Count and exact totals per currency, provider and status, as SQLite's `summary_query` defines them."""
    where, params = where_clause(POSTGRES, payout_filter)
    amount, fee = "amount::numeric", "actual_fee::numeric"
    net = (f"CASE WHEN actual_amount IS NOT NULL THEN actual_amount::numeric "
           f"WHEN actual_fee IS NULL THEN estimated_net::numeric "
           f"WHEN fee_mode = 'from_amount' THEN {amount} - {fee} ELSE {amount} END")
    total = (f"CASE WHEN actual_fee IS NULL THEN estimated_total::numeric "
             f"WHEN fee_mode = 'from_amount' THEN {amount} ELSE {amount} + {fee} END")
    return SqlQuery(
        f"SELECT currency, provider, status, count(*), sum({amount}), "
        f"sum(coalesce(actual_fee, estimated_fee)::numeric), sum({net}), sum({total}) "
        f"FROM payouts{where} GROUP BY currency, provider, status ORDER BY currency, provider, status", tuple(params))


def report_line(row: Sequence[Any], delimiter: str) -> str:
    """One payout's line (without its line end) from the cells of `report_query`."""
    (created_at, estimated_at, approved_at, submitted_at, finished_at, payout_id, key, provider, provider_payout_id,
     currency, network, address, amount, estimated_fee, actual_fee, actual_amount, estimated_net, estimated_total,
     fee_mode, status, provider_status, tx_hash, initiator, approvers, reference, note) = row
    asset = (currency, network)
    places = _PLACES.get(asset)
    zeros = _POINT_ZEROS.get(asset, "")

    def padded(value: str | None) -> str | None:
        if value is None:
            return None
        return value + zeros[len(value.lstrip(_DIGITS)):]

    if actual_amount is not None:
        net = padded(actual_amount)
    elif actual_fee is None:
        net = padded(estimated_net)
    elif fee_mode == "from_amount":
        net = format_amount(EXACT.subtract(Decimal(amount), Decimal(actual_fee)), places or 0)
    else:
        net = padded(amount)
    if actual_fee is None:
        total = padded(estimated_total)
    elif fee_mode == "from_amount":
        total = padded(amount)
    else:
        total = format_amount(EXACT.add(Decimal(amount), Decimal(actual_fee)), places or 0)

    typed = (key, provider_payout_id, address, provider_status, tx_hash, initiator, approvers, reference, note)
    quote = any(text is not None and (delimiter in text or any(c in text for c in _QUOTE_TRIGGERS)) for text in typed)
    key, provider_payout_id, address, provider_status, tx_hash, initiator, approvers, reference, note = (
        _typed_cell(text, quote) for text in typed)
    cells = (created_at, estimated_at, approved_at, submitted_at, finished_at, payout_id, key, provider,
             provider_payout_id, currency, network, address, padded(amount), padded(estimated_fee), padded(actual_fee),
             net, total, fee_mode, status, provider_status, tx_hash, initiator, approvers, reference, note)
    return delimiter.join("" if cell is None else str(cell) for cell in cells)


def _typed_cell(text: str | None, quote: bool) -> str | None:
    shown = neutralised(text)
    if shown is None or not quote:
        return shown
    return '"' + shown.replace('"', '""') + '"'


# The report's columns but net and total (worked out here), and the three cells they are worked out from.
if len(_SELECTED) != len(PAYOUT_REPORT_HEADER) - 2 + 3:
    raise RuntimeError("the team ledger's report query and the report's columns disagree")


class PostgresReportReads(ReportReads):
    """`ReportReads` for a team ledger: its `count`, and the same bytes made another way."""

    def payout_lines(self, payout_filter: PayoutFilter, delimiter: str = ",") -> Iterator[ReportBatch]:
        """The report's lines, oldest payout first, `BATCH_ROWS` at a time, from one snapshot of the ledger."""
        check_delimiter(delimiter)
        query = report_query(payout_filter)
        for rows in self._link.batches(query.sql, query.params, BATCH_ROWS):
            text = LINE_END.join(report_line(row, delimiter) for row in rows) + LINE_END
            yield ReportBatch(len(rows), text.encode("utf-8"))

    def summary(self, payout_filter: PayoutFilter) -> list[SummaryGroup]:
        """Ordered by currency, provider and status."""
        query = summary_query(payout_filter)
        return [SummaryGroup(currency, provider, status, int(count), *totals)
                for currency, provider, status, count, *totals in self._link.tuples(query.sql, query.params)]
