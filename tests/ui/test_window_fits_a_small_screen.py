"""The signed-in window fits an 800-pixel-wide screen (a laptop at 150 %, a remote desktop): no part of it — the
status bar's poller line above all — may make it wider; a long line is cut with "…" and kept whole in the label."""

from __future__ import annotations

from ui_loop import drive, until
from window_driver import on_dashboard, sign_in

SMALL_SCREEN = 800


def test_every_page_of_the_signed_in_window_fits_800_pixels(shell, loop, qtbot):
    async def story() -> None:
        await sign_in(shell, qtbot, "ada", to_table=False)  # an admin: the most actions in the toolbar
        await until(lambda: on_dashboard(shell), what="the dashboard")
        long_line = "Poller: following 1,234 payouts in flight · last asked 2026-12-07 12:00:00 · 2 problems"
        # "Working…" hides the bar's own labels while the dashboard reads: measure the bar as it mostly is
        await until(lambda: not shell.operations.busy and shell.window.status.poller.isVisible(),
                    what="the status bar's labels shown")
        shell.window.status.poller.setText(long_line)  # the poller's next round writes its own, as long
        assert shell.window.minimumSizeHint().width() <= SMALL_SCREEN, "dashboard"
        shell.window.payouts.trigger()
        await until(lambda: shell.window.screens.currentWidget() is shell.window.desk, what="the payouts table")
        shell.window.status.poller.setText(long_line)
        assert shell.window.minimumSizeHint().width() <= SMALL_SCREEN, "payouts"
        assert shell.window.status.poller.text() == long_line  # cut on screen only, whole in the label

    drive(loop, shell, story)
