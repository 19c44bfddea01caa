"""The dashboard's reads on a team ledger: SQLite's (`ledger/dashboard_reads.py`) where the SQL is the same, and
the two that SQLite answers its own way written for PostgreSQL: sums are `numeric` sums (exact, no digit groups
needed), and the newest estimate per asset is `DISTINCT ON` (SQLite takes bare columns from the max() row)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from treasury_app.domain.payout_lifecycle import PayoutStatus

from ..dashboard_reads import (
    DashboardReads,
    DayPeriod,
    DaySum,
    LatestEstimate,
    estimates_of,
)
from ..timestamps import format_timestamp


class PostgresDashboardReads(DashboardReads):
    def daily_sums(self, status: PayoutStatus, days: Sequence[DayPeriod]) -> list[DaySum]:
        """Per day and currency, the payouts that reached `status` that day: how many, their amounts and fees
        (each day one range of the (status, finished_at) index)."""
        if not days:
            return []
        values = ", ".join("(?, ?, ?)" for _ in days)
        params: list[str] = []
        for period in days:
            params += [period.day.isoformat(), format_timestamp(period.start), format_timestamp(period.end)]
        sql = (f"WITH days (day, start_at, end_at) AS (VALUES {values}) "
               f"SELECT days.day, p.currency, count(*), sum(p.amount::numeric), "
               f"sum(coalesce(p.actual_fee, p.estimated_fee, '0')::numeric) "
               f"FROM days JOIN payouts AS p ON p.status = ? AND p.finished_at >= days.start_at "
               f"AND p.finished_at < days.end_at GROUP BY days.day, p.currency ORDER BY days.day, p.currency")
        found = self._link.tuples(sql, (*params, status.value))
        return [DaySum(date.fromisoformat(day), currency, int(count), amount, fee)
                for day, currency, count, amount, fee in found]

    def latest_estimates(self, provider: str, since: datetime) -> list[LatestEstimate]:
        """Per currency and network, the newest estimate of a payout to `provider` composed since `since`."""
        found = self._link.tuples(
            "SELECT DISTINCT ON (currency, network) currency, network, id, estimated_at, estimate_warnings "
            "FROM payouts WHERE provider = ? AND created_at >= ? AND estimated_at IS NOT NULL "
            "ORDER BY currency, network, estimated_at DESC, id DESC",
            (provider, format_timestamp(since)))
        return estimates_of(found)
