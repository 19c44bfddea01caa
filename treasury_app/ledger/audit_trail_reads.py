"""The audit trail as the window reads it: newest first, filtered by operator, action and period, a page at a
time by keyset on `seq` (never OFFSET), with the count and the page starts that let a view jump anywhere.

The chain walk (`AuditLogRepository.rows`) reads oldest first and unfiltered; this is the other way round, for
people looking for something.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .connection import LedgerConnection
from .records import AuditRow
from .timestamps import format_timestamp


@dataclass(frozen=True)
class AuditFilter:
    """Which rows: by one operator, of one action, at or after `since` and before `until` (UTC datetimes).
    None is "any"; an operator of "" means rows with no operator (the app's own, e.g. the poller's)."""

    operator: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class AuditTrailReads:
    def __init__(self, link: LedgerConnection) -> None:
        self._link = link

    def count(self, audit_filter: AuditFilter) -> int:
        where, params = _where(audit_filter)
        found = self._link.row(f"SELECT count(*) AS n FROM audit_log WHERE {where}", params)
        return int(found["n"]) if found is not None else 0

    def page(self, audit_filter: AuditFilter, size: int, *, at_or_before: int | None = None) -> list[AuditRow]:
        """Up to `size` rows, newest first, from row `at_or_before` down (None: from the newest)."""
        where, params = _where(audit_filter)
        if at_or_before is not None:
            where += " AND seq <= ?"
            params = (*params, at_or_before)
        found = self._link.rows(f"SELECT * FROM audit_log WHERE {where} ORDER BY seq DESC LIMIT ?", (*params, size))
        return [AuditRow.from_row(row) for row in found]

    def page_starts(self, audit_filter: AuditFilter, size: int, *, at_or_before: int | None = None) -> list[int]:
        """The `seq` each page of `size` rows starts at, newest page first (from row `at_or_before` down): one
        number per page, so a view can read page k straight away (`page(at_or_before=starts[k])`) without
        reading the pages before it."""
        where, params = _where(audit_filter)
        if at_or_before is not None:
            where += " AND +seq <= ?"  # only leaves out the rows appended since: the filter's index chooses
            params = (*params, at_or_before)
        # The matches first, by the filter's own index; then numbered in seq order. As one query, SQLite walks the
        # trail in seq order to spare the numbering a sort, even when an index finds the few matching rows.
        found = self._link.rows(
            f"WITH matches AS MATERIALIZED (SELECT seq FROM audit_log WHERE {where}) "
            f"SELECT seq FROM (SELECT seq, row_number() OVER (ORDER BY seq DESC) - 1 AS n FROM matches) "
            f"WHERE n % ? = 0 ORDER BY seq DESC", (*params, size))
        return [row["seq"] for row in found]

    def operators(self) -> list[str]:
        """Every operator named in the trail (for the filter's choices), in name order."""
        return self._distinct("operator")

    def actions(self) -> list[str]:
        return self._distinct("action")

    def _distinct(self, column: str) -> list[str]:
        # One index seek per distinct value (the next one after the last), not a walk of the whole trail: a
        # million rows name a dozen operators and a few dozen actions.
        found = self._link.rows(
            f"WITH RECURSIVE seen(value) AS (SELECT min({column}) FROM audit_log "
            f"UNION ALL SELECT (SELECT min({column}) FROM audit_log WHERE {column} > seen.value) FROM seen "
            f"WHERE seen.value IS NOT NULL) SELECT value FROM seen WHERE value IS NOT NULL")
        return [row["value"] for row in found]


def _where(audit_filter: AuditFilter) -> tuple[str, tuple[Any, ...]]:
    clauses, params = ["1 = 1"], []
    if audit_filter.operator == "":
        clauses.append("operator IS NULL")
    elif audit_filter.operator is not None:
        clauses.append("operator = ?")
        params.append(audit_filter.operator)
    if audit_filter.action is not None:
        clauses.append("action = ?")
        params.append(audit_filter.action)
    # Stored times are one fixed-width UTC text format: compared as text, in the `at` index's order.
    if audit_filter.since is not None:
        clauses.append("at >= ?")
        params.append(format_timestamp(audit_filter.since))
    if audit_filter.until is not None:
        clauses.append("at < ?")
        params.append(format_timestamp(audit_filter.until))
    return " AND ".join(clauses), tuple(params)
