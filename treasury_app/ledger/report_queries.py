"""The SQL of the reports: every cell of a payouts report made by SQLite itself, so that a million rows go from
the file to the CSV writer without a line of Python per row.

Amounts stay text all the way: SQLite pads them with zeros to the asset's decimal places (string functions,
never arithmetic, so never a float). The few cells that need a sum or a difference (a net amount or a total
debited worked out from the provider's actual fee) and the summary's totals are computed by Python `Decimal`
functions registered on the connection (`report_functions`), exactly. Text a person or a provider typed is
neutralised where a spreadsheet would run it as a formula (`domain.spreadsheet_cells`).
"""

from __future__ import annotations

import decimal
import json
import sqlite3
from decimal import Decimal
from collections.abc import Sequence
from typing import Any

from treasury_app.domain.assets import ASSETS, decimals_of
from treasury_app.domain.errors import InvalidFieldError
from treasury_app.domain.money import format_amount
from treasury_app.domain.spreadsheet_cells import FORMULA_STARTERS, NEUTRALISING_PREFIX

from .dialects import SQLITE, Dialect
from .payout_queries import PayoutFilter, SqlQuery, where_clause

# Exact sums: wide enough for any two ledger amounts (36 integer and 18 fraction digits at most), and a sum
# that would need rounding raises instead of being rounded.
EXACT = decimal.Context(prec=120, traps=[decimal.Inexact, decimal.InvalidOperation, decimal.Overflow])

def _padded(column: str) -> str:
    """`column` (plain decimal text or NULL) with zeros up to the asset's places; never shortened or rounded.
    ("3" → "3.000000" and "4.36311" → "4.363110" for USDT on Tron; "4.3631100001" stays as it is.)

    The asset's `point_zeros` ('.000000') is read from just past what the amount already has of it: `ltrim`
    leaves an amount's '.fraction' (nothing for a whole amount; the ledger's amounts are digits and one point).
    Three string functions a cell, and none for NULL (the actual fee and amount until a payout is final, the
    estimates of an imported one): the padding was a third of the report's time with twice as many. An asset
    the catalogue does not know (no `a` row) pads with nothing."""
    return (f"CASE WHEN {column} IS NOT NULL "
            f"THEN {column} || ifnull(substr(a.point_zeros, 1 + length(ltrim({column}, '0123456789'))), '') END")


def _neutralised(column: str) -> str:
    """A GLOB class of the formula starters; `-` first, where it stands for itself and not for a range."""
    starters = "".join(sorted(FORMULA_STARTERS, key=lambda c: c != "-"))
    return f"CASE WHEN {column} GLOB '[{starters}]*' THEN {_sql_text(NEUTRALISING_PREFIX)} || {column} " \
           f"ELSE {column} END"


def _sql_text(text: str) -> str:
    """A SQL string literal (a tab, line feed or carriage return stays as it is inside the quotes)."""
    return "'" + text.replace("'", "''") + "'"


# What the recipient got: the provider's paid amount; else, with the actual fee known, the amount (fee paid on
# top) or the amount less the fee (fee out of the amount); else the estimate's net.
_NET = ("CASE WHEN p.actual_amount IS NOT NULL THEN {actual_amount} "
        "WHEN p.actual_fee IS NULL THEN {estimated_net} "
        "WHEN p.fee_mode = 'from_amount' THEN report_difference(p.amount, p.actual_fee, a.places) "
        "ELSE {amount} END")
# What left our balance: with the actual fee known, the amount (fee out of it) or the amount plus the fee;
# else the estimate's total.
_TOTAL = ("CASE WHEN p.actual_fee IS NULL THEN {estimated_total} "
          "WHEN p.fee_mode = 'from_amount' THEN {amount} "
          "ELSE report_sum(p.amount, p.actual_fee, a.places) END")
_AMOUNTS = {name: _padded(f"p.{name}") for name in ("amount", "actual_amount", "estimated_net", "estimated_total")}

# (column name in the file, SQL expression, the typed text it comes from or None); `p` is the payout, `a` its
# asset's places, `ap` its standing approvals. Typed text is neutralised and quoted as it needs; the other cells
# (times, ids, codes, amounts) never hold a delimiter, a quote or a line break.
_TYPED = {"idempotency_key": "p.idempotency_key", "provider_payout_id": "p.provider_payout_id",
          "address": "p.address", "provider_status": "p.provider_status", "tx_hash": "p.tx_hash",
          "initiator": "p.created_by", "approvers": "ap.approvers", "reference": "p.reference", "note": "p.note"}
_CELLS: tuple[tuple[str, str], ...] = (
    ("created_at", "p.created_at"),
    ("estimated_at", "p.estimated_at"),
    ("approved_at", "ap.approved_at"),
    ("executed_at", "p.submitted_at"),
    ("final_at", "p.finished_at"),
    ("payout_id", "p.id"),
    ("idempotency_key", ""),
    ("provider", "p.provider"),
    ("provider_payout_id", ""),
    ("currency", "p.currency"),
    ("network", "p.network"),
    ("address", ""),
    ("amount", _padded("p.amount")),
    ("estimated_fee", _padded("p.estimated_fee")),
    ("actual_fee", _padded("p.actual_fee")),
    ("net_amount", _NET.format(**_AMOUNTS)),
    ("total_debited", _TOTAL.format(**_AMOUNTS)),
    ("fee_mode", "p.fee_mode"),
    ("status", "p.status"),
    ("provider_status", ""),
    ("tx_hash", ""),
    ("initiator", ""),
    ("approvers", ""),
    ("reference", ""),
    ("note", ""),
)
PAYOUT_REPORT_COLUMNS: tuple[tuple[str, str, str | None], ...] = tuple(
    (name, _neutralised(_TYPED[name]), _TYPED[name]) if name in _TYPED else (name, expression, None)
    for name, expression in _CELLS)
PAYOUT_REPORT_HEADER = tuple(name for name, _, _ in PAYOUT_REPORT_COLUMNS)
# The delimiters a report may use: none of them can occur in a time, an amount or a code.
DELIMITERS = (",", ";", "\t", "|")
LINE_END = "\r\n"  # RFC 4180, and what Python's csv module writes
SUMMARY_HEADER = ("currency", "provider", "status", "payouts", "amount", "fees", "net_amount", "total_debited")

# The approvals that stand: approved and not voided (a changed payout voids its approvals), in the order given.
# `{only}`: nothing, or a condition on payout_id that keeps the grouping to the payouts asked for.
_APPROVED = ("SELECT payout_id, max(decided_at) AS approved_at, group_concat(operator, '; ') AS approvers "
             "FROM (SELECT payout_id, decided_at, operator FROM approvals "
             "WHERE decision = 'approved' AND voided_at IS NULL{only} ORDER BY payout_id, decided_at, id) "
             "GROUP BY payout_id")
# The payout ids of a list given as one JSON parameter (one variable, however many ids).
_IDS_GIVEN = "IN (SELECT value FROM json_each(?))"


def _report_source(payout_filter: PayoutFilter, approvals_only: str = "") -> tuple[str, list[Any]]:
    """The FROM … WHERE of a report and its parameters. The payout filter's WHERE names payout columns
    unqualified: the joins bring none of the same name (the asset table's are prefixed `a_`). SQLite
    materialises the approvals' grouping once per query: over every approval for the whole report, over
    `approvals_only`'s for a few lines."""
    where, params = where_clause(SQLITE, payout_filter)
    source = ("FROM payouts AS p "
              "LEFT JOIN temp.report_asset_places AS a ON a.a_currency = p.currency AND a.a_network = p.network "
              f"LEFT JOIN ({_APPROVED.format(only=approvals_only)}) AS ap ON ap.payout_id = p.id{where}")
    return source, params


def payout_report_query(payout_filter: PayoutFilter, delimiter: str = ",") -> SqlQuery:
    """The payouts report, oldest payout first (the order of `payouts_created`): per payout its line without
    quotes (UTF-8 bytes, no line end), made whole by SQLite in one flat pass.

    A line whose typed text holds the delimiter, a quote or a line break needs quotes: the reader finds those
    by looking at a whole batch at once (`line_needs_quotes`) and asks `quoted_lines_query` for them by the
    payout id the line holds (`payout_id_in`). Checking each line in SQL instead (the typed text run together,
    searched four times) cost a third of the export, and the subquery that check needs copies every cell once
    more. The line is the only column: a second (the id) cost the reader a Python object a row."""
    check_delimiter(delimiter)
    source, params = _report_source(payout_filter)
    cells = [expression for _, expression, _ in PAYOUT_REPORT_COLUMNS]
    # A BLOB: the bytes go to the file as SQLite made them, neither decoded to str nor encoded back.
    return SqlQuery(f"SELECT CAST(printf({_line_format(delimiter)}, {', '.join(cells)}) AS BLOB) "
                    f"{source} ORDER BY p.created_at, p.id", tuple(params))


# The payout id's cell, and the cells before it: times, never a delimiter (so a line's id is found by splitting
# at its first delimiters, whatever its typed text holds).
PAYOUT_ID_CELL = PAYOUT_REPORT_HEADER.index("payout_id")
if any(raw is not None for _, _, raw in PAYOUT_REPORT_COLUMNS[:PAYOUT_ID_CELL]):
    raise RuntimeError("a typed cell before the payout id would hide the id of a line that needs quotes")


def payout_id_in(line: bytes, delimiter: bytes) -> int:
    """The payout id of a line from `payout_report_query`."""
    return int(line.split(delimiter, PAYOUT_ID_CELL + 1)[PAYOUT_ID_CELL])


def quoted_lines_query(payout_ids: Sequence[int], delimiter: str = ",") -> SqlQuery:
    """The lines of these payouts as the report writes them (id and UTF-8 bytes, in no order): a line whose typed
    text holds the delimiter, a quote or a line break has all its typed cells quoted, quotes doubled (RFC 4180,
    as Python's csv module reads it); any other line is the one `payout_report_query` made."""
    check_delimiter(delimiter)
    ids = json.dumps([int(payout_id) for payout_id in payout_ids])
    # The approvals grouped for these payouts only: grouped for all of them, each such query read every
    # approval in the ledger, and a report where most lines need quotes took minutes for 100,000 payouts.
    source, _ = _report_source(PayoutFilter(), approvals_only=f" AND payout_id {_IDS_GIVEN}")
    cells = [f"{expression} AS c{number}" for number, (_, expression, _) in enumerate(PAYOUT_REPORT_COLUMNS)]
    typed = [raw for _, _, raw in PAYOUT_REPORT_COLUMNS if raw is not None]
    cells.append(f"printf('{'%s' * len(typed)}', {', '.join(typed)}) AS typed")
    plain = [f"c{number}" for number in range(len(PAYOUT_REPORT_COLUMNS))]
    quoted = [f"'\"' || replace(c{number}, '\"', '\"\"') || '\"'" if raw is not None else f"c{number}"
              for number, (_, _, raw) in enumerate(PAYOUT_REPORT_COLUMNS)]
    line = _line_format(delimiter)
    needs_quotes = " OR ".join(f"instr(typed, {_sql_text(c)}) > 0" for c in (delimiter, '"', "\n", "\r"))
    # NULL cells print as nothing (printf's %s), quoted or not (NULL || … is NULL).
    return SqlQuery(f"SELECT id, CAST(CASE WHEN {needs_quotes} THEN printf({line}, {', '.join(quoted)}) "
                    f"ELSE printf({line}, {', '.join(plain)}) END AS BLOB) "
                    f"FROM (SELECT p.id AS id, {', '.join(cells)} {source} "
                    f"WHERE p.id {_IDS_GIVEN})", (ids, ids))


def line_needs_quotes(line: bytes, delimiter: bytes) -> bool:
    """Whether a line from `payout_report_query` may need quotes: a quote or a line break in it, or a delimiter
    more than those between its cells (times, ids, codes and amounts never hold one, so one is in typed text)."""
    return (b'"' in line or b"\n" in line or b"\r" in line
            or line.count(delimiter) != len(PAYOUT_REPORT_COLUMNS) - 1)


def _line_format(delimiter: str) -> str:
    return _sql_text(delimiter.join(["%s"] * len(PAYOUT_REPORT_COLUMNS)))


def check_delimiter(delimiter: str) -> None:
    if delimiter not in DELIMITERS:
        raise InvalidFieldError("delimiter", f"must be one of {', '.join(map(repr, DELIMITERS))}")


def payout_report_count_query(dialect: Dialect, payout_filter: PayoutFilter) -> SqlQuery:
    where, params = where_clause(dialect, payout_filter)
    return SqlQuery(f"SELECT count(*) FROM payouts{where}", tuple(params))


def summary_query(payout_filter: PayoutFilter) -> SqlQuery:
    """Count and exact totals per currency, provider and status; fees are the actual ones where the provider
    reported them, else the estimates (a payout with neither adds nothing to the fees). Totals come unpadded:
    the caller writes them with the currency's places."""
    source, params = _report_source(payout_filter)
    raw = {name: f"p.{name}" for name in ("amount", "actual_amount", "estimated_net", "estimated_total")}
    net = _NET.format(**raw).replace("a.places", "0")
    total = _TOTAL.format(**raw).replace("a.places", "0")
    return SqlQuery(
        f"SELECT p.currency, p.provider, p.status, count(*), report_total(p.amount), "
        f"report_total(coalesce(p.actual_fee, p.estimated_fee)), report_total({net}), report_total({total}) "
        f"{source} GROUP BY p.currency, p.provider, p.status ORDER BY p.currency, p.provider, p.status",
        tuple(params))


class _ExactTotal:
    """SQLite aggregate: the exact sum of decimal texts (NULLs skipped; none at all: NULL)."""

    def __init__(self) -> None:
        self.total: Decimal | None = None

    def step(self, value: str | None) -> None:
        if value is not None:
            self.total = EXACT.add(self.total if self.total is not None else Decimal(0), Decimal(value))

    def finalize(self) -> str | None:
        return None if self.total is None else format_amount(self.total)


def _sum(a: str, b: str, places: int | None) -> str:
    return format_amount(EXACT.add(Decimal(a), Decimal(b)), places or 0)


def _difference(a: str, b: str, places: int | None) -> str:
    return format_amount(EXACT.subtract(Decimal(a), Decimal(b)), places or 0)


def prepare_for_reports(conn: sqlite3.Connection) -> None:
    """What the report queries need on a connection: each asset's decimal places and the '.000000' its amounts
    are padded with (a temporary table, looked up
    by key: scanning the catalogue for each of a million payouts costs seconds) and the exact decimal
    functions. Idempotent."""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS report_asset_places (a_currency TEXT, a_network TEXT, "
                 "places INTEGER NOT NULL, point_zeros TEXT NOT NULL, PRIMARY KEY (a_currency, a_network)) "
                 "WITHOUT ROWID")
    conn.executemany("INSERT OR REPLACE INTO temp.report_asset_places VALUES (?, ?, ?, ?)",
                     [(currency, network, asset.decimals, "." + "0" * asset.decimals if asset.decimals else "")
                      for (currency, network), asset in ASSETS.items()])
    conn.create_function("report_sum", 3, _sum, deterministic=True)
    conn.create_function("report_difference", 3, _difference, deterministic=True)
    conn.create_aggregate("report_total", 1, _ExactTotal)


def currency_places(currency: str) -> int:
    """The places a currency's totals are written with: the most it has on any network (0 if unknown)."""
    try:
        return decimals_of(currency)
    except InvalidFieldError:
        return 0
