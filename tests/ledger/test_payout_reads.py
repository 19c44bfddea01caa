"""Reading payouts as the window, the poller and the reports do: pages, filters, sorts, search, batches, totals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ledger_fixtures import EVM_ADDRESS, TRON_ADDRESS, make_request

from treasury_app.domain.errors import InvalidFieldError
from treasury_app.domain.payout_lifecycle import PayoutStatus as S
from treasury_app.ledger import (
    ImportedPayout,
    PayoutChanges,
    PayoutFilter,
    PayoutNotFoundError,
    PayoutSort,
    open_ledger,
)

BACKENDS = ("sqlite", "postgresql")

START = datetime(2026, 1, 1, tzinfo=UTC)
STATUS_CYCLE = [S.COMPLETED, S.PROCESSING, S.FAILED, S.DRAFT, S.COMPLETED, S.UNKNOWN, S.SUBMITTING]


def variety(n: int) -> list[ImportedPayout]:
    """n payouts over two providers, three assets, several statuses, hours apart, amounts in every magnitude."""
    assets = [("USDT", "TRON", TRON_ADDRESS), ("ETH", "ETH", EVM_ADDRESS), ("USDC", "ETH", EVM_ADDRESS.lower())]
    items = []
    for i in range(n):
        currency, network, address = assets[i % 3]
        amount = Decimal(f"{(i * 7919) % 1000}.{i:03d}") + Decimal(10) ** (i % 5)
        items.append(ImportedPayout(
            request=make_request(provider="pay3" if i % 2 else "cryptomus", currency=currency, network=network,
                                 address=address, amount=amount, reference=f"REF-{i:04d}", note=f"note {i}"),
            idempotency_key=f"v-{i}", status=STATUS_CYCLE[i % len(STATUS_CYCLE)],
            created_at=START + timedelta(hours=i), created_by="alice" if i % 4 else "bob",
        ))
    return items


@pytest.fixture
def stocked(ledger):
    ledger.payouts.import_payouts(variety(40), actor="import", batch_size=16)
    return ledger


def ids(records) -> list[int]:
    return [record.id for record in records]


def everything(ledger) -> list:
    return ledger.payouts.page(limit=10_000)


def test_get_of_an_unknown_payout_names_it(ledger):
    with pytest.raises(PayoutNotFoundError, match="id 9"):
        ledger.payouts.get(9)
    with pytest.raises(PayoutNotFoundError):
        ledger.payouts.events(9)
    assert ledger.payouts.find_by_key("nope") is None


def test_the_first_page_is_newest_first(stocked):
    page = stocked.payouts.page(limit=10)
    assert [p.idempotency_key for p in page] == [f"v-{i}" for i in range(39, 29, -1)]


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        (PayoutSort.NEWEST, lambda p: (-p.created_at.timestamp(), -p.id)),
        (PayoutSort.OLDEST, lambda p: (p.created_at, p.id)),
        (PayoutSort.AMOUNT_ASC, lambda p: (p.amount, p.id)),
        (PayoutSort.AMOUNT_DESC, lambda p: (-p.amount, -p.id)),
        (PayoutSort.STATUS_ASC, lambda p: (p.status.value, p.created_at, p.id)),
        (PayoutSort.PROVIDER_ASC, lambda p: (p.provider, p.created_at, p.id)),
        (PayoutSort.CURRENCY_ASC, lambda p: (p.currency, p.created_at, p.id)),
    ],
)
def test_every_sort_order_is_total_and_exact(stocked, sort, key):
    rows = stocked.payouts.page(sort=sort, limit=1000)
    assert ids(rows) == ids(sorted(rows, key=key)) and len(rows) == 40
    descending = PayoutSort(sort.value.replace("_asc", "_desc")) if sort.value.endswith("_asc") else None
    if descending is not None:  # descending is exactly ascending reversed, ties included
        assert ids(stocked.payouts.page(sort=descending, limit=1000)) == ids(rows)[::-1]


def test_pages_follow_each_other_without_gaps_or_repeats(stocked):
    pages = [stocked.payouts.page(sort=PayoutSort.AMOUNT_ASC, limit=7, offset=o) for o in range(0, 42, 7)]
    assert [p for page in pages for p in ids(page)] == ids(stocked.payouts.page(sort=PayoutSort.AMOUNT_ASC,
                                                                                 limit=1000))


@pytest.mark.parametrize(
    ("payout_filter", "oracle"),
    [
        (PayoutFilter(statuses=(S.COMPLETED,)), lambda p: p.status is S.COMPLETED),
        (PayoutFilter(statuses=("failed", "unknown")), lambda p: p.status in {S.FAILED, S.UNKNOWN}),
        (PayoutFilter(provider=" PAY3 "), lambda p: p.provider == "pay3"),
        (PayoutFilter(currency="eth"), lambda p: p.currency == "ETH"),
        (PayoutFilter(created_by="bob"), lambda p: p.created_by == "bob"),
        (PayoutFilter(created_from=START + timedelta(hours=10), created_to=START + timedelta(hours=20)),
         lambda p: START + timedelta(hours=10) <= p.created_at < START + timedelta(hours=20)),
        (PayoutFilter(statuses=(S.COMPLETED,), provider="cryptomus", currency="USDT"),
         lambda p: p.status is S.COMPLETED and p.provider == "cryptomus" and p.currency == "USDT"),
        (PayoutFilter(text="ref-001"), lambda p: "REF-001" in p.reference),
        (PayoutFilter(text="7"), lambda p: any("7" in v for v in (p.reference, p.note, p.address, p.idempotency_key))),
    ],
)
def test_filters_select_exactly_what_they_say_and_count_agrees(stocked, payout_filter, oracle):
    expected = [p for p in everything(stocked) if oracle(p)]
    assert expected, "the variety should contain matches"
    assert ids(stocked.payouts.page(payout_filter, limit=1000)) == ids(expected)
    assert stocked.payouts.count(payout_filter) == len(expected)


def test_an_empty_filter_counts_everything(stocked):
    assert stocked.payouts.count() == stocked.payouts.count(PayoutFilter(text="   ", provider="")) == 40


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"statuses": ("paid",)}, "status"),
        ({"text": "x" * 201}, "search"),
        ({"text": "abc\x00def"}, "search"),
        ({"text": "line\nbreak"}, "search"),
        ({"created_from": datetime(2026, 1, 1)}, "created_from"),
        ({"created_from": START, "created_to": START}, "created_to"),
    ],
)
def test_a_bad_filter_is_refused_naming_the_field(fields, field):
    with pytest.raises(InvalidFieldError) as refused:
        PayoutFilter(**fields)
    assert refused.value.field == field


@pytest.mark.parametrize(("limit", "offset"), [(0, 0), (10_001, 0), (10, -1)])
def test_a_page_outside_the_allowed_size_is_refused(ledger, limit, offset):
    with pytest.raises(InvalidFieldError):
        ledger.payouts.page(limit=limit, offset=offset)
    with pytest.raises(InvalidFieldError):
        ledger.payouts.listing(limit=limit, offset=offset)


@pytest.mark.parametrize("sort", list(PayoutSort))
@pytest.mark.parametrize("payout_filter", [PayoutFilter(), PayoutFilter(statuses=(S.COMPLETED,)),
                                           PayoutFilter(text="REF-00"), PayoutFilter(provider="pay3")])
def test_table_listing_shows_the_same_rows_in_the_same_order_as_full_records(stocked, payout_filter, sort):
    records = stocked.payouts.page(payout_filter, sort, limit=15, offset=3)
    rows = stocked.payouts.listing(payout_filter, sort, limit=15, offset=3)
    assert records, "the variety should fill the page"
    assert [tuple(row) for row in rows] == [
        (r.id, r.created_at, r.status, r.provider, r.currency, r.network, r.amount, r.address, r.reference, r.tx_hash,
         r.version)
        for r in records
    ]
    assert all(type(row.amount) is Decimal and row.created_at.tzinfo is UTC for row in rows)


HOSTILE_REFERENCES = [
    'A "quoted" ref', "star*ref", "x OR y", "NEAR(a b)", "50% off", "under_score", "back\\slash", "it's",
    "col:umn", "-minus", "^caret", "AND NOT", "(paren)", "plain", "ab", "Ab_%", "dots...", "{braces}",
]
HOSTILE_SEARCHES = [
    '"', '""', '"quoted"', "*", "star*", "OR", "x OR y", "NEAR(", "NEAR(a b)", "%", "50%", "_", "r_s", "\\",
    "back\\", "'", "it's", "col:", "umn", "-", "-minus", "^", "^caret", "AND", "NOT", "(", ")", "ab", "AB",
    "a", "{", "...", "'; DROP TABLE payouts; --",
]


def matches(text: str, payout) -> bool:
    needle = text.lower()
    return any(needle in (value or "").lower() for value in (payout.address, payout.reference, payout.note,
                                                              payout.idempotency_key, payout.provider_payout_id,
                                                              payout.tx_hash))


@pytest.fixture
def hostile(ledger):
    for n, reference in enumerate(HOSTILE_REFERENCES):
        ledger.payouts.add(make_request(reference=reference, note=None), idempotency_key=f"h{n}", actor="alice")
    return ledger


@pytest.mark.parametrize("text", HOSTILE_SEARCHES)
def test_hostile_search_text_is_taken_literally(hostile, text):
    expected = {p.id for p in everything(hostile) if matches(text.strip(), p)}
    found = {p.id for p in hostile.payouts.page(PayoutFilter(text=text), limit=1000)}
    assert found == expected
    assert hostile.payouts.count(PayoutFilter(text=text)) == len(expected)
    assert hostile.payouts.count() == len(HOSTILE_REFERENCES)  # and nothing was dropped


def test_search_agrees_with_a_plain_substring_test_for_any_text(tmp_path):
    with open_ledger(tmp_path / "search.sqlite3") as ledger:
        for n, reference in enumerate(HOSTILE_REFERENCES):
            ledger.payouts.add(make_request(reference=reference, note=f"n{n} OR *"), idempotency_key=f"h{n}",
                               actor="alice")
        rows = everything(ledger)

        @settings(max_examples=150, deadline=None)
        @given(st.text(alphabet='aAbB"*%_\\ ()-:^ORNEA\'.x5', min_size=1, max_size=6))
        def search_is_substring(text: str) -> None:
            if not text.strip():
                return
            expected = {p.id for p in rows if matches(text.strip(), p)}
            assert {p.id for p in ledger.payouts.page(PayoutFilter(text=text), limit=1000)} == expected

        search_is_substring()


def test_a_new_payout_is_found_by_search_at_once(ledger, add_payout):
    # The full-text index follows the table through triggers; a new row is found at once.
    add_payout(reference="INV-77-ALPHA")
    assert ledger.payouts.count(PayoutFilter(text="77-alp")) == 1


def test_batches_cover_every_row_once_in_order(stocked):
    for sort in PayoutSort:
        batches = list(stocked.payouts.iter_batches(sort=sort, batch_size=6))
        assert [len(b) for b in batches] == [6] * 6 + [4]
        assert [p.id for b in batches for p in b] == ids(stocked.payouts.page(sort=sort, limit=1000))


def test_batches_respect_the_filter(stocked):
    payout_filter = PayoutFilter(statuses=(S.COMPLETED,), currency="USDT")
    batched = [p.id for b in stocked.payouts.iter_batches(payout_filter, batch_size=2) for p in b]
    assert batched == ids(stocked.payouts.page(payout_filter, sort=PayoutSort.OLDEST, limit=1000))
    assert list(stocked.payouts.iter_batches(PayoutFilter(text="no such text"))) == []


def test_the_total_amount_is_exact_where_a_default_decimal_context_would_round(ledger, add_payout):
    big = Decimal("123456789012345.123456789012345678")
    for _ in range(3):
        add_payout(currency="USDT", network="BSC", amount=big)
    add_payout(currency="USDT", network="BSC", amount=Decimal("0.000000000000000001"))
    add_payout(currency="ETH", network="ETH", address=EVM_ADDRESS, amount=Decimal("5"))
    with localcontext(prec=100):
        exact = big * 3 + Decimal("0.000000000000000001")
    assert ledger.payouts.total_amount(PayoutFilter(currency="USDT")) == exact
    assert big * 3 != exact  # the default 28-digit context would have lost digits
    assert ledger.payouts.total_amount(PayoutFilter(currency="BTC")) == 0


def test_a_destination_counts_as_paid_only_after_a_completed_payout(ledger, add_payout):
    payout = add_payout(address=TRON_ADDRESS)
    assert not ledger.payouts.has_completed_payout_to("TRON", TRON_ADDRESS)
    for target in (S.ESTIMATED, S.SUBMITTING, S.COMPLETED):
        ledger.payouts.transition(payout.id, target, actor="alice")
    assert ledger.payouts.has_completed_payout_to("tron", TRON_ADDRESS)
    assert not ledger.payouts.has_completed_payout_to("ETH", TRON_ADDRESS)


def test_open_payouts_are_what_the_poller_follows_never_polled_and_overdue_first(stocked):
    open_ones = stocked.payouts.open_payouts()
    assert {p.status for p in open_ones} == {S.PROCESSING, S.UNKNOWN, S.SUBMITTING}
    assert len(open_ones) == stocked.payouts.count(PayoutFilter(statuses=(S.PROCESSING, S.UNKNOWN, S.SUBMITTING)))

    now = datetime(2026, 6, 1, tzinfo=UTC)
    later, sooner = open_ones[0], open_ones[1]
    stocked.payouts.schedule_poll(later.id, next_poll_at=now + timedelta(minutes=5), poll_failures=1)
    stocked.payouts.schedule_poll(sooner.id, next_poll_at=now - timedelta(minutes=5), poll_failures=1)
    due = stocked.payouts.open_payouts(due_before=now)
    assert later.id not in ids(due) and ids(due)[-1] == sooner.id  # never-polled (NULL) first
    assert ids(stocked.payouts.open_payouts(due_before=now + timedelta(hours=1)))[-2:] == [sooner.id, later.id]
    assert {p.provider for p in stocked.payouts.open_payouts(provider="pay3")} == {"pay3"}
    assert len(stocked.payouts.open_payouts(limit=2)) == 2
    with pytest.raises(InvalidFieldError):
        stocked.payouts.open_payouts(limit=0)


def test_a_completed_payout_leaves_the_open_list(ledger, add_payout):
    payout = add_payout()
    for target in (S.ESTIMATED, S.SUBMITTING):
        payout = ledger.payouts.transition(payout.id, target, actor="alice")
    assert ids(ledger.payouts.open_payouts()) == [payout.id]
    ledger.payouts.transition(payout.id, S.COMPLETED, actor="poller", changes=PayoutChanges(provider_status="paid"))
    assert ledger.payouts.open_payouts() == []
