"""The filter bar and the column headers of the real window give the rows the ledger's own query gives for the
same choice (the table never filters or sorts in Python)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from ui_loop import drive, until
from window_driver import sign_in, type_into

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.ledger import PayoutFilter
from treasury_app.ui.payouts.filters import status_choice
from treasury_app.ui.payouts.model import PayoutTableModel


def shown_ids(shell) -> list[int]:
    return [shell.model.payout_id_at(row) for row in range(shell.model.rowCount())]


def ledger_ids(shell, **choice) -> list[int]:
    return [p.id for p in shell.session.ledger.payouts.page(PayoutFilter(**choice), limit=10_000)]


async def table_settled(shell) -> None:
    await until(lambda: not shell.model.is_loading and None not in shown_ids(shell), what="the table read")


def choose(combo, data) -> None:
    index = combo.findData(data)
    assert index >= 0, f"{data!r} is not among the choices"
    combo.setCurrentIndex(index)


def test_each_filter_shows_what_the_ledger_query_selects(shell, loop, qtbot):
    async def story() -> None:
        await sign_in(shell, qtbot, "iris")
        bar = shell.window.filters
        await table_settled(shell)
        assert shown_ids(shell) == ledger_ids(shell)
        everything = shell.session.ledger.payouts.page(PayoutFilter(), limit=10_000)

        bar.status.setCurrentIndex(status_choice((PayoutStatus.COMPLETED,)))
        await until(lambda: shell.model.payout_filter.statuses == (PayoutStatus.COMPLETED,))
        await table_settled(shell)
        assert shown_ids(shell) == ledger_ids(shell, statuses=(PayoutStatus.COMPLETED,))
        assert shown_ids(shell), "the demo has completed payouts"

        choose(bar.provider, "pay3")
        await until(lambda: shell.model.payout_filter.provider == "pay3")
        await table_settled(shell)
        assert shown_ids(shell) == ledger_ids(shell, statuses=(PayoutStatus.COMPLETED,), provider="pay3")

        bar.status.setCurrentIndex(status_choice(()))
        choose(bar.provider, None)
        choose(bar.currency, "USDT")
        await until(lambda: shell.model.payout_filter == PayoutFilter(currency="USDT"))
        await table_settled(shell)
        assert shown_ids(shell) == ledger_ids(shell, currency="USDT")

        reference = next(p.reference for p in everything if p.reference)
        choose(bar.currency, None)
        type_into(qtbot, bar.search, reference.lower())  # any case
        await until(lambda: shell.model.payout_filter.text == reference.lower(), what="the search applied")
        await table_settled(shell)
        found = [p.id for p in everything if reference.lower() in (p.reference or "").lower()
                 or reference.lower() in p.address.lower()]
        assert shown_ids(shell) == ledger_ids(shell, text=reference.lower()) == found

    drive(loop, shell, story)


def test_clicking_the_amount_header_sorts_in_the_ledger_both_ways(shell, loop, qtbot):
    async def story() -> None:
        await sign_in(shell, qtbot, "iris")
        await table_settled(shell)
        header = shell.window.table.horizontalHeader()
        amount = int(PayoutTableModel.Column.AMOUNT)
        header.setSortIndicator(amount, Qt.SortOrder.AscendingOrder)
        await until(lambda: shell.model.table_sort.column.value == "amount")
        await table_settled(shell)
        by_id = {p.id: p for p in shell.session.ledger.payouts.page(PayoutFilter(), limit=10_000)}
        ascending = [by_id[i].amount for i in shown_ids(shell)]
        assert ascending == sorted(ascending) and len(ascending) == len(by_id)
        header.setSortIndicator(amount, Qt.SortOrder.DescendingOrder)
        await until(lambda: shell.model.table_sort.direction.value == "desc")
        await table_settled(shell)
        descending = [by_id[i].amount for i in shown_ids(shell)]
        assert descending == sorted(ascending, reverse=True)

    drive(loop, shell, story)


def test_every_asset_the_app_knows_fits_the_asset_column_uncut(shell, loop, qtbot):
    """The longer ones ("BTC · Bitcoin testnet", "USDT · BNB Smart Chain") once lost their ends; and every cell
    of the demo's first page fits its column, as the font at hand measures it."""
    from treasury_app.domain.assets import ASSETS
    from treasury_app.ui.texts import asset_text

    async def story() -> None:
        await sign_in(shell, qtbot, "iris")
        await table_settled(shell)
        view, model = shell.window.table, shell.model
        metrics = view.fontMetrics()
        asset_column = int(PayoutTableModel.Column.ASSET)
        for currency, network in ASSETS:
            assert metrics.horizontalAdvance(asset_text(currency, network)) < view.columnWidth(asset_column)
        for column in (PayoutTableModel.Column.CREATED, PayoutTableModel.Column.PROVIDER,
                       PayoutTableModel.Column.ASSET, PayoutTableModel.Column.AMOUNT):
            for row in range(min(model.rowCount(), 50)):
                text = model.index(row, int(column)).data(Qt.ItemDataRole.DisplayRole)
                assert metrics.horizontalAdvance(text) < view.columnWidth(int(column)), (column, text)

    drive(loop, shell, story)
