"""The dashboard's reads: how many payouts stand in each status, how many reached a final status in a period,
per-day sums of what was paid, and the latest estimate per asset of one provider — each one grouped query,
quick on a million payouts.

Sums stay exact without leaving SQL: SQLite's `sum()` over decimal text would add doubles, so every amount is
cut into four nine-digit integer groups of its fixed-width key (`column_codecs.amount_sort_key`'s shape),
SQLite adds integers (exact, and far from overflowing: a group is below 10^9, a million rows below 10^15), and
Python puts the groups back together as a `Decimal`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from treasury_app.domain.payout_lifecycle import PayoutStatus

from .column_codecs import (
    AMOUNT_KEY_FRACTION_DIGITS,
    AMOUNT_KEY_INTEGER_DIGITS,
    decode_json,
)
from .connection import LedgerConnection
from .timestamps import format_timestamp, parse_timestamp

_GROUP = 9  # digits per integer group: 18 whole digits and 18 decimals make four groups
_ZEROS = "0" * AMOUNT_KEY_FRACTION_DIGITS


@dataclass(frozen=True)
class DayPeriod:
    """One day as the caller counts days (its own time zone): from `start` (inclusive) to `end` (exclusive)."""

    day: date
    start: datetime
    end: datetime


@dataclass(frozen=True)
class DaySum:
    """What the payouts of one status that reached it on one day add up to, in one currency."""

    day: date
    currency: str
    payouts: int
    amount: Decimal
    fee: Decimal  # the fee the provider reported, or (when it reported none) the fee it estimated


@dataclass(frozen=True)
class LatestEstimate:
    """The newest estimate recorded for one asset of one provider: when it was made and what it warned of."""

    currency: str
    network: str
    payout_id: int
    estimated_at: datetime
    warnings: tuple[str, ...]


def _key_of_text(column: str) -> str:
    """SQL for the fixed-width key (18 digits '.' 18 digits) of a plain decimal text column, NULL for NULL."""
    point = f"instr({column}, '.')"
    whole = f"(CASE WHEN {point} > 0 THEN substr({column}, 1, {point} - 1) ELSE {column} END)"
    fraction = f"(CASE WHEN {point} > 0 THEN substr({column}, {point} + 1) ELSE '' END)"
    return (f"(substr('{'0' * AMOUNT_KEY_INTEGER_DIGITS}' || {whole}, -{AMOUNT_KEY_INTEGER_DIGITS}) || '.' || "
            f"substr({fraction} || '{_ZEROS}', 1, {AMOUNT_KEY_FRACTION_DIGITS}))")


def _group_sums(key: str, name: str) -> str:
    """Four exact integer sums, one per nine-digit group of a fixed-width key (the '.' is at position 19)."""
    starts = (1, 1 + _GROUP, 2 + 2 * _GROUP, 2 + 3 * _GROUP)
    return ", ".join(f"coalesce(sum(CAST(substr({key}, {start}, {_GROUP}) AS INTEGER)), 0) AS {name}{number}"
                     for number, start in enumerate(starts))


def _decimal_of_groups(groups: Sequence[int]) -> Decimal:
    high, low, first_decimals, last_decimals = (int(group) for group in groups)
    whole = Decimal(high * 10 ** _GROUP + low)
    fraction = Decimal(first_decimals * 10 ** _GROUP + last_decimals).scaleb(-AMOUNT_KEY_FRACTION_DIGITS)
    return whole + fraction


class DashboardReads:
    def __init__(self, link: LedgerConnection) -> None:
        self._link = link

    def status_counts(self) -> dict[PayoutStatus, int]:
        """How many payouts stand in each status now, from the counts the ledger keeps per status, provider
        and currency (a few rows, however many payouts)."""
        found = self._link.tuples("SELECT status, sum(n) FROM payout_counts GROUP BY status")
        return {PayoutStatus(status): int(n) for status, n in found if n}

    def finished_counts(self, periods: Sequence[tuple[PayoutStatus, datetime, datetime]]) -> list[int]:
        """For each (status, start, end): how many payouts reached that final status in [start, end) — one
        statement, each part a range of the (status, finished_at) index."""
        if not periods:
            return []
        parts = ", ".join("(SELECT count(*) FROM payouts WHERE status = ? AND finished_at >= ? AND finished_at < ?)"
                          for _ in periods)
        params: list[str] = []
        for status, start, end in periods:
            params += [status.value, format_timestamp(start), format_timestamp(end)]
        found = self._link.tuples(f"SELECT {parts}", tuple(params))
        return [int(n) for n in found[0]]

    def daily_sums(self, status: PayoutStatus, days: Sequence[DayPeriod]) -> list[DaySum]:
        """Per day and currency, the payouts that reached `status` that day: how many, their amounts and fees.

        The days drive the join (CROSS JOIN keeps them outside), so each is one range of the (status,
        finished_at) index: the cost follows the payouts in the period, not the ledger's size."""
        if not days:
            return []
        values = ", ".join("(?, ?, ?)" for _ in days)
        params: list[str] = []
        for period in days:
            params += [period.day.isoformat(), format_timestamp(period.start), format_timestamp(period.end)]
        # MATERIALIZED: each row's fee key is worked out once, not once per digit group (a third of the time).
        fee_key = _key_of_text("coalesce(p.actual_fee, p.estimated_fee, '0')")
        sql = (f"WITH days (day, start, end_) AS (VALUES {values}), "
               f"picked AS MATERIALIZED (SELECT days.day AS day, p.currency AS currency, p.amount_key AS amount_key, "
               f"{fee_key} AS fee_key FROM days CROSS JOIN payouts AS p "
               f"WHERE p.status = ? AND p.finished_at >= days.start AND p.finished_at < days.end_) "
               f"SELECT day, currency, count(*), {_group_sums('amount_key', 'a')}, {_group_sums('fee_key', 'f')} "
               f"FROM picked GROUP BY day, currency ORDER BY day, currency")
        found = self._link.tuples(sql, (*params, status.value))
        return [DaySum(date.fromisoformat(day), currency, int(count), _decimal_of_groups(rest[0:4]),
                       _decimal_of_groups(rest[4:8]))
                for day, currency, count, *rest in found]

    def latest_estimates(self, provider: str, since: datetime) -> list[LatestEstimate]:
        """Per currency and network, the newest estimate of a payout to `provider` composed since `since`
        (composed: the (provider, created_at) index bounds the walk to the recent payouts)."""
        found = self._link.tuples(
            "SELECT currency, network, id, max(estimated_at), estimate_warnings FROM payouts "
            "WHERE provider = ? AND created_at >= ? AND estimated_at IS NOT NULL "
            "GROUP BY currency, network ORDER BY currency, network",
            (provider, format_timestamp(since)))
        # SQLite takes the bare columns (id, warnings) from the row that holds the max().
        return estimates_of(found)


def estimates_of(rows: Sequence[Sequence[Any]]) -> list[LatestEstimate]:
    """(currency, network, payout id, estimated at, warnings JSON) rows as `LatestEstimate`s."""
    return [LatestEstimate(currency, network, int(payout_id), parse_timestamp(at),
                           tuple(str(text) for text in (decode_json(warnings) or ())))
            for currency, network, payout_id, at, warnings in rows]
