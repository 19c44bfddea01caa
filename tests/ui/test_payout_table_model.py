"""The payouts table's Qt model over a real ledger read on a worker thread: the count, far rows read through
anchors, sorting in the ledger, and poller updates that repaint rows without resetting the view."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QTableView

from treasury_app.domain.assets import ASSETS
from treasury_app.domain.payout_lifecycle import PayoutStatus as S
from treasury_app.domain.payout_request import FeeMode, PayoutRequest
from treasury_app.ledger import ImportedPayout, open_ledger
from treasury_app.services.payout_table import PayoutFilter, PayoutTable
from treasury_app.ui.payouts.model import PAYOUT_ID_ROLE, STATUS_ROLE, PayoutTableModel

ROWS = 2500
START = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)
Column = PayoutTableModel.Column


def stock() -> list[ImportedPayout]:
    usdt, btc = ASSETS[("USDT", "TRON")], ASSETS[("BTC", "BTC")]
    return [
        ImportedPayout(
            request=PayoutRequest(provider="pay3" if n % 2 else "cryptomus", asset=btc if n % 7 == 0 else usdt,
                                  address=f"TAddress{n:06d}", amount=Decimal((n * 7919) % 10007) + Decimal("0.5"),
                                  fee_mode=FeeMode.FROM_BALANCE, reference=f"INV-{n}"),
            idempotency_key=f"ui-{n}", status=S.PROCESSING if n % 3 else S.COMPLETED,
            created_at=START + timedelta(minutes=n), created_by="alice",
        )
        for n in range(ROWS)
    ]


@pytest.fixture
def desk(tmp_path):
    """A ledger file, the window's own connection (for the test's writes) and a worker thread with its own."""
    path = tmp_path / "ledger.sqlite3"
    with open_ledger(path) as ledger:
        ledger.payouts.import_payouts(stock(), actor="import")
    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="table-worker")
    worker_ledger = worker.submit(open_ledger, path).result()
    table = worker.submit(PayoutTable, worker_ledger).result()
    window_ledger = open_ledger(path)
    yield table, worker, window_ledger
    window_ledger.close()
    worker.submit(worker_ledger.close).result()
    worker.shutdown()


@pytest.fixture
def model(qtbot, desk):
    table, worker, _ = desk
    made = PayoutTableModel(table, worker, page_size=100, cached_pages=4)
    with qtbot.waitSignal(made.query_finished, timeout=10_000):
        made.set_query(PayoutFilter())
    return made


def test_row_count_is_the_ledgers_count_without_reading_every_row(model, qtbot):
    assert model.rowCount() == ROWS and model.count == ROWS and not model.is_loading
    assert model.payout_id_at(0) == ROWS  # newest first
    assert model.payout_id_at(150) is None  # page 1 not read: nothing loads it but the view asking


def test_a_new_filter_counts_and_announces_its_rows(model, qtbot):
    with qtbot.waitSignal(model.count_changed, timeout=10_000) as counted:
        model.set_query(PayoutFilter(currency="BTC"))
    expected = len([n for n in range(ROWS) if n % 7 == 0])
    assert counted.args == [expected]
    qtbot.waitUntil(lambda: model.rowCount() == expected, timeout=10_000)
    assert all(model.index(row, Column.ASSET).data() == "BTC · Bitcoin" for row in range(min(expected, 100)))


def test_data_for_a_far_row_reads_its_page_through_the_anchors_and_shows_it(model, qtbot):
    far = 2250  # the 2,251st newest: payout n = ROWS - 1 - far, id n + 1
    n = ROWS - 1 - far
    assert model.index(far, Column.AMOUNT).data() is None  # asks for its page
    qtbot.waitUntil(lambda: model.index(far, 0).data(PAYOUT_ID_ROLE) is not None, timeout=10_000)
    assert model.index(far, 0).data(PAYOUT_ID_ROLE) == n + 1
    amount = Decimal((n * 7919) % 10007) + Decimal("0.5")
    places = 8 if n % 7 == 0 else 2
    assert model.index(far, Column.AMOUNT).data() == f"{amount:,.{places}f}"
    assert model.index(far, Column.AMOUNT).data(Qt.ItemDataRole.TextAlignmentRole) == (
        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    local = (START + timedelta(minutes=n)).astimezone()
    assert model.index(far, Column.CREATED).data() == local.strftime("%Y-%m-%d %H:%M")
    assert model.row_of_payout(n + 1) == far


def test_clicking_the_amount_header_sorts_in_the_ledger(model, qtbot):
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in Column] == [
        "Created", "Status", "Provider", "Asset", "Amount", "Address", "Reference"]
    with qtbot.waitSignal(model.query_finished, timeout=10_000):
        model.sort(Column.AMOUNT, Qt.SortOrder.DescendingOrder)
    largest = sorted(range(ROWS), key=lambda n: (Decimal((n * 7919) % 10007), n), reverse=True)
    assert [model.index(row, 0).data(PAYOUT_ID_ROLE) for row in range(50)] == [n + 1 for n in largest[:50]]
    assert model.rowCount() == ROWS


def test_a_poller_update_repaints_its_row_and_keeps_the_selection(model, qtbot, desk):
    _, _, window_ledger = desk
    view = QTableView()
    view.setModel(model)
    qtbot.addWidget(view)
    selected_row = next(row for row in range(100) if S(model.index(row, 0).data(STATUS_ROLE)) is S.PROCESSING)
    payout_id = model.index(selected_row, 0).data(PAYOUT_ID_ROLE)
    view.selectionModel().select(model.index(selected_row, 0),
                                 QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))
    window_ledger.payouts.transition(payout_id, S.COMPLETED, actor="poller")

    with qtbot.waitSignal(model.dataChanged, timeout=10_000) as changed:
        model.refresh_payouts([payout_id, 999_999])
    top_left, bottom_right = changed.args[:2]
    assert (top_left.row(), bottom_right.row()) == (selected_row, selected_row)
    assert model.index(selected_row, Column.STATUS).data() == "Completed"
    assert S(model.index(selected_row, 0).data(STATUS_ROLE)) is S.COMPLETED
    assert resets == []
    assert [index.row() for index in view.selectionModel().selectedRows()] == [selected_row]


def test_a_change_announced_while_a_new_query_is_read_shows_once_that_query_is_in(model, qtbot, desk):
    """The race the payout story met once in fifteen runs: a new query's first page is read on the worker, a
    payout on it changes, and the change is announced before that page reaches the GUI thread. The page holds
    the payout as it was, and the announcement must still bring it up to date."""
    _, worker, window_ledger = desk
    payout_id = ROWS - 1  # payout n = ROWS - 2: processing, cryptomus, the newest of that provider
    with qtbot.waitSignal(model.query_finished, timeout=10_000):
        model.set_query(PayoutFilter(provider="pay3"))  # shown now: rows without it
    assert model.row_of_payout(payout_id) is None
    model.set_query(PayoutFilter(provider="cryptomus"))  # a new query, with the payout on its first row
    worker.submit(lambda: None).result()  # the worker has read that first page; the GUI thread has not seen it
    window_ledger.payouts.transition(payout_id, S.COMPLETED, actor="poller")
    model.refresh_payouts([payout_id])  # announced before the page is delivered: the payout is on no row yet

    def completed_on_first_row() -> bool:
        return model.row_of_payout(payout_id) == 0 and S(model.index(0, 0).data(STATUS_ROLE)) is S.COMPLETED

    qtbot.waitUntil(completed_on_first_row, timeout=10_000)
    assert model.index(0, Column.STATUS).data() == "Completed"


def test_pages_beyond_the_cache_are_let_go_and_read_again_when_wanted(model, qtbot):
    for page in range(6):  # four pages are kept
        row = page * 100
        model.index(row, 0).data()
        qtbot.waitUntil(lambda row=row: model.payout_id_at(row) is not None, timeout=10_000)
    assert model.payout_id_at(0) is None and model.row_of_payout(ROWS) is None  # page 0 was let go
    model.index(0, 0).data()
    qtbot.waitUntil(lambda: model.payout_id_at(0) == ROWS, timeout=10_000)


def test_a_stopped_model_asks_the_worker_nothing_more(model, qtbot):
    # The anchors' parts follow each other from the count on; a closing window stops them (its worker closes).
    model.stop_reading()
    model.set_query(PayoutFilter(currency="BTC"))
    qtbot.wait(200)
    assert not model.is_loading and model.count == ROWS  # the last query's rows stay; nothing new was read


def test_the_views_sort_before_any_query_reads_nothing_and_is_the_first_querys_sort(qtbot, desk):
    """A view asks the model to sort the moment sorting is enabled: at start that was a whole-ledger read,
    thrown away when the window asked for its first query."""
    from treasury_app.ui.payouts.table import PayoutTableView

    table, worker, _ = desk
    made = PayoutTableModel(table, worker, page_size=100, cached_pages=4)
    view = PayoutTableView(made)  # enables sorting, indicator on Created, newest first
    qtbot.addWidget(view)
    view.horizontalHeader().setSortIndicator(int(Column.AMOUNT), Qt.SortOrder.DescendingOrder)
    assert not made.is_loading and made.count is None  # nothing asked of the worker
    with qtbot.waitSignal(made.query_finished, timeout=10_000):
        made.set_query(PayoutFilter())
    largest = sorted(range(ROWS), key=lambda n: (Decimal((n * 7919) % 10007), n), reverse=True)
    assert [made.index(row, 0).data(PAYOUT_ID_ROLE) for row in range(20)] == [n + 1 for n in largest[:20]]
