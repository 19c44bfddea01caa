"""The dashboard's figures equal what the ledger's rows say: every count, and the per-day Decimal sums of the
chart for 30 and 90 days — over the demo desk plus payouts of several currencies, with fees, completed today,
yesterday and eight days ago. The expected values are worked out here from the rows themselves."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from treasury_app.app_paths import ledger_path
from treasury_app.domain.assets import find_asset
from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.domain.payout_request import FeeMode, PayoutRequest
from treasury_app.ledger import ImportedPayout, Ledger, PayoutRecord, open_ledger
from treasury_app.services.dashboard import daily_volume, dashboard_counts, read_desk_figures
from treasury_app.services.demo_data import write_demo_desk
from treasury_app.services.operator_accounts import SignedIn

S = PayoutStatus
NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
ADDRESSES = {"TRON": "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "ETH": "0x52908400098527886E0F7030069857D2E4169EE7",
             "BTC": "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"}
KEYS = itertools.count(1)


def finished(currency: str, network: str, amount: str, fee: str | None, status: PayoutStatus,
             at: datetime, created_by: str = "iris") -> ImportedPayout:
    request = PayoutRequest(provider="cryptomus", asset=find_asset(currency, network), address=ADDRESSES[network],
                            amount=Decimal(amount), fee_mode=FeeMode.FROM_BALANCE)
    return ImportedPayout(request, idempotency_key=f"dashboard-{next(KEYS)}", status=status,
                          created_at=at - timedelta(hours=2), created_by=created_by,
                          actual_fee=None if fee is None else Decimal(fee), finished_at=at)


@pytest.fixture
def ledger(tmp_path: Path):
    folder = tmp_path / "desk"
    write_demo_desk(folder, now=NOW, payouts=120)
    today = datetime.combine(NOW.astimezone().date(), datetime.min.time()).astimezone()
    extra = [
        finished("USDT", "TRON", "1500.25", "1.5", S.COMPLETED, NOW - timedelta(minutes=5)),
        finished("ETH", "ETH", "987654321.123456789012345678", "0.000012345678901234", S.COMPLETED,
                 today + timedelta(minutes=1)),
        finished("BTC", "BTC", "0.00012345", "0.00000999", S.COMPLETED, today - timedelta(hours=3)),  # yesterday
        finished("USDT", "TRON", "20", None, S.COMPLETED, today - timedelta(days=8)),
        finished("USDT", "TRON", "75", None, S.FAILED, today - timedelta(days=6, hours=-1)),  # within 7 days
        finished("USDT", "TRON", "80", None, S.FAILED, today - timedelta(days=8)),  # before them
        finished("BTC", "BTC", "0.5", "0.0001", S.COMPLETED, today - timedelta(days=60)),  # in 90 days, not 30
    ]
    with open_ledger(ledger_path(folder)) as opened:
        opened.payouts.import_payouts(extra, actor="test")
        yield opened


def every_payout(ledger: Ledger) -> list[PayoutRecord]:
    return [payout for batch in ledger.payouts.iter_batches() for payout in batch]


def local_day(moment: datetime) -> date:
    return moment.astimezone().date()


def test_the_counts_are_the_ledgers(ledger):
    arno = SignedIn("arno", frozenset({"approver"}), NOW)
    counts = dashboard_counts(ledger, arno, NOW)

    payouts = every_payout(ledger)
    today = local_day(NOW)
    waiting = [p for p in payouts if p.status is S.AWAITING_APPROVAL]
    assert waiting, "the demo desk has payouts waiting for approval"
    assert counts.waiting_for_me == sum(1 for p in waiting if p.created_by.lower() != "arno")
    assert counts.waiting_for_others == len(waiting) - counts.waiting_for_me
    assert counts.being_paid == sum(1 for p in payouts if p.status in (S.SUBMITTING, S.PROCESSING))
    assert counts.unknown == sum(1 for p in payouts if p.status is S.UNKNOWN)
    assert counts.completed_today == sum(1 for p in payouts if p.status is S.COMPLETED
                                         and local_day(p.finished_at) == today) >= 2
    assert counts.failed_this_week == sum(1 for p in payouts if p.status is S.FAILED
                                          and 0 <= (today - local_day(p.finished_at)).days <= 6) >= 1
    # Each count's filter selects exactly the payouts it counted.
    for name in ("being_paid", "unknown", "completed_today", "failed_this_week"):
        assert ledger.payouts.count(counts.filter_of(name)) == getattr(counts, name), name


def test_an_initiator_has_nothing_waiting_for_their_approval(ledger):
    iris = SignedIn("iris", frozenset({"initiator"}), NOW)
    counts = dashboard_counts(ledger, iris, NOW)
    assert counts.waiting_for_me == 0
    assert counts.waiting_for_others == sum(1 for p in every_payout(ledger) if p.status is S.AWAITING_APPROVAL)


@pytest.mark.parametrize("days", [30, 90])
def test_the_chart_is_each_days_decimal_sums_per_currency_and_zero_on_a_day_without_payouts(ledger, days):
    volume = daily_volume(ledger, days, NOW)

    today = local_day(NOW)
    first = today - timedelta(days=days - 1)
    assert volume.days == tuple(first + timedelta(days=n) for n in range(days))
    amounts: dict[tuple[str, date], Decimal] = defaultdict(Decimal)
    fees: dict[tuple[str, date], Decimal] = defaultdict(Decimal)
    counts: dict[tuple[str, date], int] = defaultdict(int)
    for payout in every_payout(ledger):
        if payout.status is S.COMPLETED and first <= local_day(payout.finished_at) <= today:
            key = (payout.currency, local_day(payout.finished_at))
            amounts[key] += payout.amount
            fees[key] += payout.actual_fee if payout.actual_fee is not None else (payout.estimated_fee or 0)
            counts[key] += 1
    assert {v.currency for v in volume.currencies} == {currency for currency, _ in amounts}
    for currency_volume in volume.currencies:
        for day in currency_volume.days:
            key = (currency_volume.currency, day.day)
            assert (day.amount, day.fee, day.payouts) == (amounts.get(key, 0), fees.get(key, 0), counts.get(key, 0))
    eth = next(v for v in volume.currencies if v.currency == "ETH")
    assert eth.days[-1].amount >= Decimal("987654321.123456789012345678")  # every digit kept
    assert Decimal("0.000012345678901234") <= eth.days[-1].fee
    assert any(day.amount == 0 and day.payouts == 0 for day in eth.days)  # a day without ETH payouts is zero
    btc = next(v for v in volume.currencies if v.currency == "BTC")
    assert (Decimal("0.5") in [d.amount for d in btc.days]) is (days == 90)  # sixty days ago: only in 90 days


def test_the_figures_come_from_one_snapshot_and_say_when(ledger):
    arno = SignedIn("arno", frozenset({"approver"}), NOW)
    figures = read_desk_figures(ledger, arno, NOW, chart_days=30, estimates_of=("pay3",))
    assert figures.read_at == NOW and len(figures.volume.days) == 30
    assert figures.counts == dashboard_counts(ledger, arno, NOW)
    assert figures.estimates, "the demo desk has Pay3 payouts estimated in the last 30 days"
    for news in figures.estimates:  # the latest estimate of each Pay3 asset, with its age
        assert news.provider == "pay3" and news.age == NOW - news.estimated_at
        newest = max((p for p in every_payout(ledger) if p.provider == "pay3" and p.currency == news.currency
                      and p.network == news.network and p.estimated_at is not None), key=lambda p: p.estimated_at)
        assert (news.payout_id, news.warnings) == (newest.id, newest.estimate_warnings)


def test_a_chart_of_another_length_is_refused(ledger):
    with pytest.raises(ValueError, match="30 or 90"):
        daily_volume(ledger, 45, NOW)
