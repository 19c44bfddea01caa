"""The window opens as the person left it on this data folder: size, the split, the columns' widths, order and
sort, and the filters — and the table's rows are the ledger's for that filter and sort. A layout file that makes
no sense, or one that cannot be written, never stops the window from opening or closing."""

from __future__ import annotations

import json
import logging

from PySide6.QtCore import Qt
from ui_desk import open_shell
from ui_loop import drive, ui_run, until
from window_driver import sign_in

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.ledger import PayoutFilter
from treasury_app.ui.payouts.filters import status_choice
from treasury_app.ui.payouts.model import PAYOUT_ID_ROLE, PayoutTableModel
from treasury_app.ui.window_state import STATE_FILE

Column = PayoutTableModel.Column


def shown_ids(shell, rows: int) -> list[int]:
    return [shell.model.index(row, 0).data(PAYOUT_ID_ROLE) for row in range(rows)]


def test_size_split_columns_sort_and_filters_come_back_at_the_next_start(shell, loop, qtbot, demo_folder, sandbox):
    left_size: list[tuple[int, int]] = []

    async def leave_it_so() -> None:
        await sign_in(shell, qtbot, "iris")
        window = shell.window
        left_size.append((window.width(), window.height()))  # the first start's size
        window.resize(761, 471)  # within the offscreen screen (800 × 600): a bigger one is fitted to it
        left_size.append((window.width(), window.height()))  # as Qt made it (never under the minimum size)
        window.splitter.setSizes([420, 300])
        header = window.table.horizontalHeader()
        header.resizeSection(int(Column.AMOUNT), 251)
        header.moveSection(header.visualIndex(int(Column.PROVIDER)), 0)
        header.setSortIndicator(int(Column.AMOUNT), Qt.SortOrder.AscendingOrder)
        bar = window.filters
        bar.status.setCurrentIndex(status_choice((PayoutStatus.COMPLETED,)))
        bar.provider.setCurrentIndex(bar.provider.findData("pay3"))
        bar.period.setCurrentIndex(bar.period.findData(89))
        bar.period_basis.setCurrentIndex(bar.period_basis.findData(True))  # by the final status's time
        window.close()  # as the person closes it

    drive(loop, shell, leave_it_so)
    saved = json.loads((demo_folder / STATE_FILE).read_text(encoding="utf-8"))
    assert saved["filters"] == {"statuses": ["completed"], "provider": "pay3", "currency": None, "period_days": 89,
                                "text": "", "by_final_time": True}

    again = ui_run(loop, open_shell(demo_folder, sandbox))
    qtbot.addWidget(again.window)
    try:
        async def as_left() -> None:
            window = again.window
            left, first = left_size[1], left_size[0]
            assert window.height() == left[1] != first[1]
            # A window wider than the screen (the signed-in toolbar's minimum can be, offscreen at 800 × 600)
            # comes back fitted to the screen, as Qt restores any geometry; one that fits comes back as it was.
            screen_width = window.screen().availableGeometry().width()
            if left[0] <= screen_width:
                assert window.width() == left[0]
            else:
                assert window.width() <= screen_width
            header = window.table.horizontalHeader()
            assert header.sectionSize(int(Column.AMOUNT)) == 251
            assert header.logicalIndex(0) == int(Column.PROVIDER)
            assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == (
                int(Column.AMOUNT), Qt.SortOrder.AscendingOrder)
            bar = window.filters
            assert bar.status.currentIndex() == status_choice((PayoutStatus.COMPLETED,))
            assert (bar.provider.currentData(), bar.period.currentData()) == ("pay3", 89)
            chosen = bar.current_filter()
            assert bar.period_basis.currentData() is True and chosen.finished_from is not None
            assert chosen.created_from is None
            ledger = again.session.ledger
            expected = [p for batch in ledger.payouts.iter_batches(chosen) for p in batch]
            expected.sort(key=lambda p: (p.amount, p.id))
            assert expected
            # The rows and count of an earlier query stay until this one's are in: wait for them.
            await until(lambda: again.model.count == len(expected) and again.model.rowCount() == len(expected),
                        what=f"the table holding the {len(expected)} payouts of the saved filter")
            rows = min(len(expected), 20)
            assert shown_ids(again, rows) == [p.id for p in expected[:rows]]
            assert chosen.statuses == (PayoutStatus.COMPLETED,) and chosen.provider == "pay3"

        drive(loop, again, as_left)
    finally:
        ui_run(loop, again.session.aclose())


def test_a_layout_file_that_makes_no_sense_is_ignored_and_the_window_opens_as_on_a_first_start(
        loop, qtbot, demo_folder, sandbox, caplog):
    (demo_folder / STATE_FILE).write_text('{"format": 1, "filters": {"statuses": ["paid-twice"]}}', encoding="utf-8")
    shell = ui_run(loop, open_shell(demo_folder, sandbox))
    qtbot.addWidget(shell.window)
    try:
        async def first_layout() -> None:
            await until(lambda: shell.model.count is not None, what="the table counted")
            assert shell.model.count == shell.session.ledger.payouts.count(PayoutFilter())
            assert shell.window.filters.status.currentIndex() == 0

        with caplog.at_level(logging.WARNING, logger="treasury_app.ui.window_state"):
            drive(loop, shell, first_layout)
        assert any("makes no sense" in r.getMessage() for r in caplog.records), caplog.text
    finally:
        ui_run(loop, shell.session.aclose())


def test_a_layout_that_cannot_be_saved_costs_the_layout_only(shell, loop, qtbot, demo_folder, caplog):
    (demo_folder / STATE_FILE).mkdir()  # a folder where the file would go: the rename fails

    async def close_it() -> None:
        await sign_in(shell, qtbot, "iris")
        shell.window.close()

    with caplog.at_level(logging.WARNING, logger="treasury_app.ui.window_state"):
        drive(loop, shell, close_it)
    assert any("could not be saved" in r.getMessage() for r in caplog.records), caplog.text
    assert not shell.window.isVisible()
    assert [p.name for p in demo_folder.iterdir() if p.name.startswith(f".{STATE_FILE}")] == []
