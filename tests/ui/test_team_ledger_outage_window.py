"""The window on a team ledger whose server goes away (stopped with pg_ctl, postgres_outage.py) while a clerk is
half-way through a payout: the window says so in words (a banner and the status bar), the payout's form stays
open with what was typed, pressing Estimate meanwhile says why nothing happened, and when the server is back
the window recovers by itself: the banner goes, and the same form is estimated and saved."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from postgres_cluster import (  # noqa: F401
    postgres_cluster,
    postgres_database,
    postgres_ledgers_database,
)
from postgres_outage import server_stopped
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from ui_loop import ui_run, until
from window_driver import click, compose, shown_messages, sign_in

from treasury_app.desk_log import stop_logging_to_file
from treasury_app.ledger import LedgerLocation, LedgerUnavailableError, open_ledger
from treasury_app.ledger.location import shown_url
from treasury_app.services.desk_session import DeskSession, SandboxChoice
from treasury_app.services.ledger_choice import ChosenBy, LedgerChoice
from treasury_app.services.operator_accounts import OperatorAccounts
from treasury_app.ui.app import LaunchOptions, run_window
from treasury_app.ui.shell import Shell

# Where the window (and, beside it, the form: `-form`) is drawn while the server is down, to look at.
SCREENSHOT_ENV = "TREASURY_OUTAGE_SCREENSHOT"


def team_desk(url: str) -> None:
    with open_ledger(url) as ledger:
        accounts = OperatorAccounts(ledger)
        accounts.add("ada", ["admin"], "ada-outage-desk", acting=None)
        admin = accounts.authenticate("ada", "ada-outage-desk")
        accounts.add("iris", ["initiator"], "iris-outage-desk", acting=admin)


def test_a_lost_server_is_said_in_the_window_the_open_form_is_kept_and_the_window_recovers_by_itself(
        loop, qtbot, tmp_path, sandbox, postgres_cluster, postgres_database):
    team_desk(postgres_database)
    where = shown_url(postgres_database).removeprefix("postgresql://")
    picture = Path(os.environ.get(SCREENSHOT_ENV) or tmp_path / "ledger-lost.png")

    async def story() -> None:
        session = await DeskSession.open(tmp_path / "desk-a", ledger=LedgerChoice(LedgerLocation(url=postgres_database),
                                                                                  ChosenBy.CONNECT),
                                         sandbox=SandboxChoice(url=sandbox.base_url), clock=sandbox.clock)
        shell = Shell(session)
        qtbot.addWidget(shell.window)
        shell.show()
        shell.start_poller()
        try:
            banner, status = shell.ledger_watch.banner, shell.window.status.ledger
            await sign_in(shell, qtbot, "iris", "iris-outage-desk")
            assert session._feed is not None and session._feed.wait_until_listening(10)
            dialog = await compose(shell, qtbot, amount="125.50", reference="INV-2207")
            assert not banner.isVisible()

            with server_stopped(postgres_cluster):
                await until(banner.isVisible, 15, "the banner saying the team ledger is gone")
                assert banner.title.text() == "The team ledger cannot be reached"
                assert where in banner.text.text() and "reconnects by itself" in banner.text.text()
                assert "not reachable" in status.text() and where in status.toolTip()
                assert postgres_cluster.password not in banner.text.text() + banner.toolTip() + status.toolTip()
                # The half-written payout is still there, as typed; asking for its estimate says why it cannot be.
                assert dialog.isVisible() and dialog.amount.text() == "125.50"
                click(qtbot, dialog.estimate)
                await until(dialog.problem.isVisible, 15, "the form saying why the estimate was not saved")
                assert "cannot be reached" in dialog.problem.text() and "Nothing was saved" in dialog.problem.text()
                assert dialog.isVisible() and dialog.pages.currentIndex() == 0
                assert (dialog.amount.text(), dialog.reference.text()) == ("125.50", "INV-2207")
                # A read the window makes meanwhile (Refresh re-reads the table) fails in the banner's words, not in
                # a box of its own.
                read = shell.first_page_painted()
                shell.window.refresh.trigger()
                await asyncio.wait_for(read, 15)
                assert not shown_messages(shell), shown_messages(shell)
                picture.parent.mkdir(parents=True, exist_ok=True)
                assert shell.window.grab().save(str(picture)), picture
                form = picture.with_name(f"{picture.stem}-form{picture.suffix}")
                assert dialog.grab().save(str(form)), form

            await until(lambda: not banner.isVisible(), 20, "the banner gone once the server is back")
            assert status.text() == f"Team ledger: {where}"
            click(qtbot, dialog.estimate)  # the same form, nothing retyped, no restart of the desk
            await until(lambda: dialog.pages.currentIndex() == 1, 20,
                        f"the estimate once the server is back (the form says: {dialog.problem.text()!r})")
            composed = dialog._reviewed.payout
            with open_ledger(postgres_database) as other_desk:  # saved once, for every desk to see
                assert other_desk.payouts.count() == 1
                assert other_desk.payouts.get(composed.id).reference == "INV-2207"
            await until(lambda: shell.model.rowCount() == 1, 10, "the saved payout in the table")
            assert not shown_messages(shell), shown_messages(shell)
        finally:
            await shell.close()
            await session.aclose()

    ui_run(loop, story(), timeout=120)


def test_a_window_started_while_the_server_is_down_says_so_in_a_box_before_the_command_exits(
        qapp, tmp_path, postgres_cluster, postgres_database):
    """Started from a menu, nobody reads stderr: the window's start says it in a box, then ends as the command
    line does (LedgerUnavailableError: one line, exit 5)."""
    team_desk(postgres_database)
    seen: list[tuple[str, str]] = []

    def answer(tries: int = 500) -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            seen.append((box.text(), box.informativeText()))
            box.accept()
        elif tries:
            QTimer.singleShot(20, lambda: answer(tries - 1))

    # run_window sets the whole application up (style, palette, names, the log file): put it back for the tests
    # that follow on this process.
    before = (qapp.style().name(), qapp.palette(), qapp.styleSheet(), qapp.applicationName(),
              qapp.applicationDisplayName())
    try:
        with server_stopped(postgres_cluster):
            QTimer.singleShot(0, answer)
            with pytest.raises(LedgerUnavailableError):
                run_window(LaunchOptions(tmp_path / "desk", ledger=postgres_database))
    finally:
        stop_logging_to_file()
        style, palette, sheet, name, display_name = before
        qapp.setStyle(style)
        qapp.setPalette(palette)
        qapp.setStyleSheet(sheet)
        qapp.setApplicationName(name)
        qapp.setApplicationDisplayName(display_name)
    assert len(seen) == 1, "no box said why the window did not open"
    text, details = seen[0]
    assert text == "Treasury Desk cannot open: the team ledger cannot be reached."
    assert shown_url(postgres_database).removeprefix("postgresql://") in details and "Start Treasury Desk again" in details
    assert postgres_cluster.password not in text + details
