"""The window's payout table, read as the window reads it: every filter and sort in the ledger's order, pages
by position that never repeat or skip, anchors that land on the row asked for, search by every field."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from treasury_app.domain.assets import ASSETS
from treasury_app.domain.errors import InvalidFieldError
from treasury_app.domain.payout_lifecycle import PayoutStatus as S
from treasury_app.domain.payout_request import FeeMode, PayoutRequest
from treasury_app.ledger import ImportedPayout, PayoutChanges, open_ledger
from treasury_app.services.payout_table import PayoutFilter, PayoutTable, SortColumn, TableSort

START = datetime(2026, 1, 1, tzinfo=UTC)
ROWS = 3000
STATUSES = [S.COMPLETED, S.COMPLETED, S.COMPLETED, S.FAILED, S.PROCESSING, S.DRAFT, S.CANCELLED]
KINDS = [("USDT", "TRON", "T"), ("BTC", "BTC", "bc1q"), ("ETH", "ETH", "0x"), ("USDC", "ETH", "0x")]


def stock(count: int) -> list[ImportedPayout]:
    """Payouts with clashing times and amounts (ties must fall back on id), over providers, assets, statuses."""
    rng = random.Random(12)
    items = []
    for n in range(count):
        currency, network, prefix = KINDS[rng.randrange(len(KINDS))]
        status = rng.choice(STATUSES)
        sent = status in {S.COMPLETED, S.FAILED, S.PROCESSING}
        items.append(ImportedPayout(
            request=PayoutRequest(
                provider=rng.choice(("cryptomus", "pay3")), asset=ASSETS[(currency, network)],
                address=f"{prefix}addr{n:05d}{'x' * 20}", amount=Decimal(rng.randrange(1, 400)) / 4,
                fee_mode=FeeMode.FROM_BALANCE, reference=f"INV-{n:05d}" if n % 3 else None,
                note="salary" if n % 5 == 0 else None,
            ),
            idempotency_key=f"idem-{n:05d}-key",
            status=status,
            # Every ten payouts share a minute: the created sort must break ties by id.
            created_at=START + timedelta(minutes=n // 10),
            created_by="alice",
            provider_payout_id=f"pp-{n:05d}-out" if sent else None,
            tx_hash=f"{n:05d}" + "e" * 59 if status is S.COMPLETED else None,
        ))
    return items


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    path = tmp_path_factory.mktemp("table") / "ledger.sqlite3"
    with open_ledger(path) as ledger:
        ledger.payouts.import_payouts(stock(ROWS), actor="import", batch_size=700)
        yield PayoutTable(ledger), ledger


def everything(ledger):
    """Every payout as a full record: the oracle the table's answers are compared with."""
    return [p for batch in ledger.payouts.iter_batches(batch_size=5000) for p in batch]


def python_order(records, sort: TableSort):
    lead = {SortColumn.CREATED: lambda p: (), SortColumn.AMOUNT: lambda p: (p.amount,),
            SortColumn.STATUS: lambda p: (p.status.value,), SortColumn.PROVIDER: lambda p: (p.provider,),
            SortColumn.CURRENCY: lambda p: (p.currency,)}[sort.column]
    if sort.column is SortColumn.AMOUNT:
        key = lambda p: (*lead(p), p.id)  # noqa: E731
    else:
        key = lambda p: (*lead(p), p.created_at, p.id)  # noqa: E731
    return [p.id for p in sorted(records, key=key, reverse=sort.direction == "desc")]


FILTERS = {
    "everything": (PayoutFilter(), lambda p: True),
    "completed": (PayoutFilter(statuses=(S.COMPLETED,)), lambda p: p.status is S.COMPLETED),
    "failed or draft": (PayoutFilter(statuses=(S.FAILED, S.DRAFT)), lambda p: p.status in {S.FAILED, S.DRAFT}),
    "pay3 in BTC": (PayoutFilter(provider="pay3", currency="BTC"), lambda p: (p.provider, p.currency) == ("pay3", "BTC")),
    "an hour": (PayoutFilter(created_from=START + timedelta(minutes=100), created_to=START + timedelta(minutes=160)),
              lambda p: START + timedelta(minutes=100) <= p.created_at < START + timedelta(minutes=160)),
    "salary, cryptomus": (PayoutFilter(text="salary", provider="cryptomus"),
                          lambda p: p.note == "salary" and p.provider == "cryptomus"),
}
SORTS = [TableSort(column, direction) for column in SortColumn for direction in ("asc", "desc")]


def walk_forwards(table: PayoutTable, payout_filter, sort, size):
    rows = table.first_page(payout_filter, sort, size)
    seen = list(rows)
    while len(rows) == size:
        rows = table.page_after(payout_filter, sort, rows[-1], size)
        seen.extend(rows)
    return [row.id for row in seen]


@pytest.mark.parametrize("name", FILTERS)
@pytest.mark.parametrize("sort", SORTS, ids=lambda s: f"{s.column}-{s.direction}")
def test_paging_forwards_gives_the_ids_of_a_full_query_sorted_in_python(table, name, sort):
    service, ledger = table
    payout_filter, keep = FILTERS[name]
    expected = python_order([p for p in everything(ledger) if keep(p)], sort)
    assert expected, "the stock should hold matches"
    walked = walk_forwards(service, payout_filter, sort, 97)
    assert walked == expected  # same rows, same order: nothing repeated, nothing skipped
    assert service.count(payout_filter) == len(expected)


@pytest.mark.parametrize("sort", SORTS[:6], ids=lambda s: f"{s.column}-{s.direction}")
def test_paging_backwards_from_any_page_gives_the_rows_before_it(table, sort):
    service, ledger = table
    expected = python_order(everything(ledger), sort)
    anchor = service.anchors(PayoutFilter(), sort, 500)[3]  # page starting at row 2000
    page = service.page_from(PayoutFilter(), sort, anchor, 50)
    before = service.page_before(PayoutFilter(), sort, page[0], 120)
    assert [row.id for row in before] == expected[1880:2000]
    assert [row.id for row in page] == expected[2000:2050]


@pytest.mark.parametrize("name", ["everything", "completed", "pay3 in BTC"])
@pytest.mark.parametrize("sort", [TableSort(), TableSort("amount", "asc"), TableSort("status", "desc")],
                         ids=lambda s: f"{s.column}-{s.direction}")
def test_a_jump_from_the_nearest_anchor_lands_on_the_row_asked_for(table, name, sort):
    service, ledger = table
    payout_filter, keep = FILTERS[name]
    expected = python_order([p for p in everything(ledger) if keep(p)], sort)
    every = 40
    anchors = service.anchors(payout_filter, sort, every)
    assert len(anchors) == len(expected) // every
    # Each anchor is the row every·k itself (hopped along the sort's index, or numbered in one pass for few).
    firsts = [service.page_from(payout_filter, sort, anchor, 1) for anchor in anchors]
    assert [page[0].id if page else None for page in firsts] == [
        expected[k * every] if k * every < len(expected) else None for k in range(1, len(anchors) + 1)]
    target = len(expected) * 9 // 10  # row "900,000" of this ledger
    page_number = target // every
    page = service.page_from(payout_filter, sort, anchors[page_number - 1], every)
    assert [row.id for row in page] == expected[page_number * every:(page_number + 1) * every]
    assert page[target % every].id == expected[target]


@pytest.mark.parametrize(
    ("text", "field"),
    [("addr01234", "address"), ("inv-01234", "reference"), ("idem-01234", "idempotency key"),
     ("pp-01234-o", "provider payout id"), ("01234eee", "tx hash")],
)
def test_text_search_finds_a_payout_by_each_field(table, text, field):
    service, ledger = table
    found = service.first_page(PayoutFilter(text=text), TableSort(), 50)
    assert [row.id for row in found] == [1235], field  # payout n = 1234 has id 1235
    assert service.count(PayoutFilter(text=text)) == 1


def test_a_short_search_looks_in_every_field_too(tmp_path):
    with open_ledger(tmp_path / "short.sqlite3") as ledger:
        ledger.payouts.import_payouts(stock(40), actor="import")
        service = PayoutTable(ledger)
        # Two characters are below what the trigram index serves: the LIKE fallback must cover the same fields.
        assert {row.id for row in service.first_page(PayoutFilter(text="-0"), TableSort(), 100)} == set(range(1, 41))
        by_tx = [p.id for p in everything(ledger) if p.tx_hash and "ee" in p.tx_hash]
        assert len(by_tx) < 40 and {row.id for row in service.first_page(PayoutFilter(text="ee"), TableSort(), 100)} \
            >= set(by_tx)


def test_rows_re_reads_changed_payouts_with_their_new_version(tmp_path):
    with open_ledger(tmp_path / "changes.sqlite3") as ledger:
        ledger.payouts.import_payouts(stock(20), actor="import")
        service = PayoutTable(ledger)
        before = {row.id: row for row in service.rows([3, 4, 99])}
        processing = next(p for p in everything(ledger) if p.status is S.PROCESSING)
        ledger.payouts.transition(processing.id, S.COMPLETED, actor="poller",
                                  changes=PayoutChanges(tx_hash="f" * 64))
        after = service.rows([processing.id, 3])
        changed = next(row for row in after if row.id == processing.id)
        assert set(before) == {3, 4}  # an id not in the ledger is left out
        assert changed.status is S.COMPLETED and changed.tx_hash == "f" * 64
        assert changed.version == processing.version + 1
        assert service.count(PayoutFilter(statuses=(S.COMPLETED,))) == sum(
            p.status is S.COMPLETED for p in everything(ledger))  # the counts table followed the change


def test_a_query_reads_page_count_and_anchors_from_one_snapshot(tmp_path):
    path = tmp_path / "snapshot.sqlite3"
    with open_ledger(path) as ledger, open_ledger(path) as other_window:
        ledger.payouts.import_payouts(stock(50), actor="import")
        service = PayoutTable(ledger)
        more = stock(60)[50:]

        def another_window_adds_payouts(_rows) -> None:
            other_window.payouts.import_payouts(more, actor="import")

        query = service.read_query(PayoutFilter(), TableSort(), 20, on_first_page=another_window_adds_payouts,
                                   anchor_every=20)
        assert query.count == 50 and len(query.anchors) == 2
        assert [row.id for row in query.first_page] == list(range(50, 30, -1))
        assert service.count(PayoutFilter()) == 60  # once the snapshot ends, the new payouts are there


def test_a_sort_that_is_not_a_table_sort_is_refused_naming_the_field():
    with pytest.raises(InvalidFieldError) as refused:
        TableSort("address", "asc")
    assert refused.value.field == "sort column"
    with pytest.raises(InvalidFieldError):
        TableSort("created", "sideways")


@pytest.mark.parametrize("name", ["everything", "pay3 in BTC"])
@pytest.mark.parametrize("sort", [TableSort(), TableSort("amount", "desc")], ids=lambda s: f"{s.column}-{s.direction}")
def test_anchors_read_a_part_at_a_time_are_the_anchors_read_at_once(table, name, sort):
    service, _ = table
    payout_filter, _ = FILTERS[name]
    whole = service.anchors(payout_filter, sort, 20)
    parts: list = []
    while True:
        part = service.anchors(payout_filter, sort, 20, after=parts[-1] if parts else None, at_most=7)
        assert len(part) <= 7
        parts.extend(part)
        if len(part) < 7:
            break
    assert parts == whole and len(whole) > 14
    with pytest.raises(InvalidFieldError, match="at_most"):
        service.anchors(payout_filter, sort, 20, at_most=0)
