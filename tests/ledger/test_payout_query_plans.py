"""Filtered, sorted pages stay fast on a large ledger: the repository keeps SQLite from sorting every match.

Correctness first (every way of using the indexes returns the same rows), then the plans on a ledger big
enough for the choice to matter.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from ledger_fixtures import make_request

from treasury_app.domain.payout_lifecycle import PayoutStatus as S
from treasury_app.ledger import ImportedPayout, PayoutFilter, PayoutSort, open_ledger
from treasury_app.ledger.dialects import SQLITE
from treasury_app.ledger.payout_queries import IndexUse, page_query
from treasury_app.ledger.payouts import WALK_AT_MATCHES

START = datetime(2026, 1, 1, tzinfo=UTC)


def many(n: int, rare_every: int = 1000) -> list[ImportedPayout]:
    """n payouts, nearly all completed USDT; every `rare_every`-th failed and in BTC."""
    return [
        ImportedPayout(
            request=make_request(currency="BTC" if i % rare_every == 0 else "USDT",
                                 network="BTC" if i % rare_every == 0 else "TRON",
                                 amount=Decimal(f"{(i * 7919) % 100_003}.{i % 100:02d}"),
                                 reference=f"R{i}", note="rare note" if i % rare_every == 0 else "bulk"),
            idempotency_key=f"m{i}", status=S.FAILED if i % rare_every == 0 else S.COMPLETED,
            created_at=START + timedelta(minutes=i), created_by="alice",
        )
        for i in range(n)
    ]


FILTERS = [
    PayoutFilter(statuses=(S.COMPLETED,)),
    PayoutFilter(statuses=(S.FAILED,)),
    PayoutFilter(statuses=(S.FAILED, S.COMPLETED)),
    PayoutFilter(currency="BTC"),
    PayoutFilter(provider="cryptomus", created_from=START + timedelta(minutes=50)),
    PayoutFilter(text="rare note"),
    PayoutFilter(text="bulk", statuses=(S.COMPLETED,)),
]


@pytest.mark.parametrize("payout_filter", FILTERS, ids=repr)
@pytest.mark.parametrize("sort", list(PayoutSort))
def test_every_way_of_using_the_indexes_returns_the_same_page(ledger, payout_filter, sort):
    ledger.payouts.import_payouts(many(300, rare_every=7), actor="import")
    conn = sqlite3.connect(ledger.path)
    try:
        pages = {
            use: [row[0] for row in conn.execute(*_args(page_query(SQLITE, payout_filter, sort, 25, 10, use)))]
            for use in IndexUse
        }
    finally:
        conn.close()
    assert pages[IndexUse.WALK_ORDER] == pages[IndexUse.SORT_MATCHES] == pages[IndexUse.PLANNER]
    assert [p.id for p in ledger.payouts.page(payout_filter, sort, limit=25, offset=10)] == pages[IndexUse.PLANNER]


def _args(query):
    return query.sql, query.params


def plan(ledger, payout_filter: PayoutFilter, sort: PayoutSort) -> str:
    query = ledger.payouts.page_sql(payout_filter, sort)
    conn = sqlite3.connect(ledger.path)
    try:
        return " | ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + query.sql, query.params))
    finally:
        conn.close()


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    path = tmp_path_factory.mktemp("large") / "ledger.sqlite3"
    with open_ledger(path) as ledger:
        ledger.payouts.import_payouts(many(WALK_AT_MATCHES + 1500), actor="import", batch_size=2000)
        yield ledger


def test_a_common_status_sorted_by_amount_walks_the_amount_index_instead_of_sorting_every_match(large):
    found = plan(large, PayoutFilter(statuses=(S.COMPLETED,)), PayoutSort.AMOUNT_DESC)
    assert "payouts_amount" in found and "TEMP B-TREE" not in found


def test_a_rare_status_sorted_by_amount_is_found_through_its_index_and_sorted(large):
    found = plan(large, PayoutFilter(statuses=(S.FAILED,)), PayoutSort.AMOUNT_DESC)
    assert "payouts_status_created" in found and "TEMP B-TREE" in found


def test_a_common_search_newest_first_walks_the_date_index(large):
    found = plan(large, PayoutFilter(text="bulk"), PayoutSort.NEWEST)
    assert "payouts_created" in found and "TEMP B-TREE" not in found


def test_a_short_period_sorted_by_amount_sorts_that_period_only(large):
    day = PayoutFilter(created_from=START, created_to=START + timedelta(hours=2))
    found = plan(large, day, PayoutSort.AMOUNT_ASC)
    assert "payouts_created" in found and "TEMP B-TREE" in found


def test_an_unfiltered_page_needs_no_help(large):
    assert plan(large, PayoutFilter(), PayoutSort.AMOUNT_DESC) == "SCAN payouts USING INDEX payouts_amount"
    assert plan(large, PayoutFilter(), PayoutSort.NEWEST) == "SCAN payouts USING INDEX payouts_created"


def test_export_batches_of_a_common_filter_in_amount_order_walk_the_amount_index(large):
    batches = list(large.payouts.iter_batches(PayoutFilter(currency="USDT"), sort=PayoutSort.AMOUNT_ASC,
                                              batch_size=2000))
    amounts = [p.amount for batch in batches for p in batch]
    assert len(amounts) == large.payouts.count(PayoutFilter(currency="USDT")) and amounts == sorted(amounts)


def test_whether_a_destination_was_paid_is_looked_up_by_its_address_not_by_walking_the_completed(ledger):
    from treasury_app.ledger.payout_queries import completed_to_query

    ledger.payouts.import_payouts(many(300, rare_every=7), actor="import")
    query = completed_to_query(SQLITE, "TRON", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t")
    conn = sqlite3.connect(ledger.path)
    try:
        plan = " ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + query.sql, query.params))
    finally:
        conn.close()
    assert "USING INDEX payouts_address" in plan, plan
