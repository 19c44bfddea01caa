"""The dashboard's figures: how many payouts wait, move or went wrong; what was paid each day per currency and
the fees it cost; the providers' balances (read now) and what the latest estimates said of balances that cannot
be read. Both faces could show them; the window does.

Days are this computer's local days (`local_days`), the same the payouts table's period filter uses, so every
count opens exactly the payouts it counted. Amounts are `Decimal` sums per currency: never added across
currencies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.ledger import Ledger, PayoutFilter
from treasury_app.providers.errors import ProviderError
from treasury_app.providers.interface import Balance, PayoutProvider

from .approval_queue import count_waiting_for
from .local_days import day_periods, period_bounds
from .operator_accounts import SignedIn

S = PayoutStatus
# Sent, or being sent, and not final: the poller follows them. Unknown ones are counted apart (they need a
# person), so "being paid" is these two.
BEING_PAID = (S.SUBMITTING, S.PROCESSING)
FAILED_WITHIN_DAYS = 7  # today and the six days before
CHART_DAYS = (30, 90)
# How far back the latest estimates are looked for: an older warning says little of today's balance.
ESTIMATES_WITHIN = timedelta(days=30)


@dataclass(frozen=True)
class DashboardCounts:
    """The counts, each with the filter that selects exactly the payouts counted (None: the approvals queue
    holds them, split by who may decide)."""

    waiting_for_me: int
    waiting_for_others: int
    being_paid: int
    unknown: int
    completed_today: int
    failed_this_week: int
    today_from: datetime  # local midnight: where "today" starts
    week_from: datetime  # local midnight six days ago: where "the last 7 days" start
    period_end: datetime  # the next local midnight: where both end

    def filter_of(self, count: str) -> PayoutFilter:
        """The payouts a count counted: `count` is one of being_paid, unknown, completed_today, failed_this_week."""
        end = self.period_end
        filters = {
            "being_paid": PayoutFilter(statuses=BEING_PAID),
            "unknown": PayoutFilter(statuses=(S.UNKNOWN,)),
            "completed_today": PayoutFilter(statuses=(S.COMPLETED,), finished_from=self.today_from, finished_to=end),
            "failed_this_week": PayoutFilter(statuses=(S.FAILED,), finished_from=self.week_from, finished_to=end),
        }
        return filters[count]


@dataclass(frozen=True)
class CurrencyDay:
    day: date
    payouts: int
    amount: Decimal
    fee: Decimal


@dataclass(frozen=True)
class CurrencyVolume:
    """One currency's completed payouts, a value for every day of the period (zero on a day without any)."""

    currency: str
    days: tuple[CurrencyDay, ...]

    @property
    def payouts(self) -> int:
        return sum(day.payouts for day in self.days)

    @property
    def amount(self) -> Decimal:
        return sum((day.amount for day in self.days), Decimal(0))

    @property
    def fee(self) -> Decimal:
        return sum((day.fee for day in self.days), Decimal(0))


@dataclass(frozen=True)
class DailyVolume:
    """Completed payouts per local day (the day each completed), per currency, over the last `days` days."""

    days: tuple[date, ...]
    currencies: tuple[CurrencyVolume, ...]  # the currencies with payouts in the period, by code


@dataclass(frozen=True)
class EstimateNews:
    """What the newest estimate of one asset said of the balance it is paid from (Pay3 has no balance
    endpoint: its estimates' low-balance warning is the only word on it), and how old that word is."""

    provider: str
    currency: str
    network: str
    payout_id: int
    estimated_at: datetime
    age: timedelta
    warnings: tuple[str, ...]


@dataclass(frozen=True)
class DeskFigures:
    """What the ledger says, read in one snapshot."""

    counts: DashboardCounts
    volume: DailyVolume
    estimates: tuple[EstimateNews, ...]
    read_at: datetime


@dataclass(frozen=True)
class ProviderBalances:
    """One provider's balances as read at `read_at`, or why there are none."""

    provider: str
    balances: tuple[Balance, ...]
    read_at: datetime
    note: str | None  # why this provider's balances cannot be read (Pay3): the estimates say what is known
    problem: str | None  # the provider was asked and did not answer usably


def dashboard_counts(ledger: Ledger, acting: SignedIn, now: datetime) -> DashboardCounts:
    """One read of the kept per-status counts, one of the final-time index, one grouped count of who composed
    the waiting payouts: quick on a million payouts."""
    today_from, end = _bounds(0, now)
    week_from, _ = _bounds(FAILED_WITHIN_DAYS - 1, now)
    with ledger.snapshot():
        by_status = ledger.dashboard.status_counts()
        completed_today, failed_this_week = ledger.dashboard.finished_counts(
            [(S.COMPLETED, today_from, end), (S.FAILED, week_from, end)])
        waiting_for_me = count_waiting_for(ledger, acting)
    waiting = by_status.get(S.AWAITING_APPROVAL, 0)
    return DashboardCounts(
        waiting_for_me=waiting_for_me, waiting_for_others=waiting - waiting_for_me,
        being_paid=sum(by_status.get(status, 0) for status in BEING_PAID), unknown=by_status.get(S.UNKNOWN, 0),
        completed_today=completed_today, failed_this_week=failed_this_week, today_from=today_from,
        week_from=week_from, period_end=end)


def _bounds(days_back: int, now: datetime) -> tuple[datetime, datetime]:
    start, end = period_bounds(days_back, now)
    if start is None or end is None:
        raise ValueError("a period of days always has bounds")
    return start, end


def daily_volume(ledger: Ledger, days: int, now: datetime) -> DailyVolume:
    """Completed payouts of the last `days` local days, per day and currency (one grouped query)."""
    if days not in CHART_DAYS:
        raise ValueError(f"the chart shows {' or '.join(map(str, CHART_DAYS))} days, not {days}")
    periods = day_periods(days, now)
    found = ledger.dashboard.daily_sums(S.COMPLETED, periods)
    by_currency: dict[str, dict[date, CurrencyDay]] = {}
    for part in found:
        by_currency.setdefault(part.currency, {})[part.day] = CurrencyDay(part.day, part.payouts, part.amount,
                                                                           part.fee)
    zero = Decimal(0)
    currencies = tuple(
        CurrencyVolume(currency, tuple(known.get(p.day, CurrencyDay(p.day, 0, zero, zero)) for p in periods))
        for currency, known in sorted(by_currency.items()))
    return DailyVolume(tuple(p.day for p in periods), currencies)


def estimate_news(ledger: Ledger, providers: Sequence[str], now: datetime) -> tuple[EstimateNews, ...]:
    """For providers without a balance endpoint: the newest estimate of each asset in the last 30 days."""
    news: list[EstimateNews] = []
    for provider in providers:
        for latest in ledger.dashboard.latest_estimates(provider, now - ESTIMATES_WITHIN):
            news.append(EstimateNews(provider, latest.currency, latest.network, latest.payout_id,
                                     latest.estimated_at, max(now - latest.estimated_at, timedelta(0)),
                                     latest.warnings))
    return tuple(news)


def read_desk_figures(ledger: Ledger, acting: SignedIn, now: datetime, *, chart_days: int = CHART_DAYS[0],
                      estimates_of: Sequence[str] = ()) -> DeskFigures:
    """Everything the dashboard shows from the ledger, from one state of it (for the worker thread)."""
    with ledger.snapshot():
        return DeskFigures(dashboard_counts(ledger, acting, now), daily_volume(ledger, chart_days, now),
                           estimate_news(ledger, estimates_of, now), now)


def providers_without_balances(providers: Mapping[str, PayoutProvider]) -> tuple[str, ...]:
    return tuple(name for name, client in providers.items() if client.balances_note is not None)


async def read_balances(providers: Mapping[str, PayoutProvider],
                        clock: Callable[[], datetime]) -> tuple[ProviderBalances, ...]:
    """Each provider's balances, asked now (one call each, one after the other); a provider that fails is
    reported in words, the others still shown. A provider without a balance endpoint is not asked."""
    read: list[ProviderBalances] = []
    for name, client in providers.items():
        if client.balances_note is not None:
            read.append(ProviderBalances(name, (), clock(), client.balances_note, None))
            continue
        try:
            balances = tuple(await client.balances())
        except ProviderError as error:
            read.append(ProviderBalances(name, (), clock(), None, str(error)))
            continue
        read.append(ProviderBalances(name, balances, clock(), None, None))
    return tuple(read)
