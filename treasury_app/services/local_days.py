"""Days as the person at the desk counts them: from midnight to midnight in this computer's time zone, each day
with its own offset (a day that changes to or from summer time is 23 or 25 hours long).

The table's period filter and the dashboard use the same bounds, so a dashboard count and the table it opens
agree payout for payout.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from treasury_app.ledger.dashboard_reads import DayPeriod


def local_midnight(day: date) -> datetime:
    """The moment `day` starts here (a naive time read as local time, with the offset of that date)."""
    return datetime.combine(day, time(0)).astimezone()


def local_today(now: datetime) -> date:
    return now.astimezone().date()


def period_bounds(days_back: int | None, now: datetime) -> tuple[datetime | None, datetime | None]:
    """Local midnight `days_back` days ago up to the next local midnight (exclusive); None: all time."""
    if days_back is None:
        return None, None
    today = local_today(now)
    return local_midnight(today - timedelta(days=days_back)), local_midnight(today + timedelta(days=1))


def day_periods(count: int, now: datetime) -> list[DayPeriod]:
    """The last `count` local days, oldest first, today last."""
    today = local_today(now)
    days = [today - timedelta(days=back) for back in range(count - 1, -1, -1)]
    return [DayPeriod(day, local_midnight(day), local_midnight(day + timedelta(days=1))) for day in days]
