"""The Audit trail screen in the real window, over the demo desk's real ledger file: the rows it shows are the
ledger's for each filter, it reads pages and never the whole trail, and Verify says what `audit verify` says —
the chain head when intact, the first bad row after an edit made behind the app's back."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QDate
from PySide6.QtGui import QGuiApplication
from ui_loop import drive, until
from window_driver import click, open_dialog, sign_in

from treasury_app.ledger.audit_trail_reads import AuditFilter
from treasury_app.security.audit_chain import verify
from treasury_app.services import audit
from treasury_app.services.audit_trail import verdict_of
from treasury_app.ui.audit.audit_dialog import AuditDialog
from treasury_app.ui.audit.model import PAGE_SIZE


async def audit_dialog(shell, qtbot, name: str = "iris") -> AuditDialog:
    await sign_in(shell, qtbot, name)
    await until(lambda: shell.window.audit_trail.isVisible(), what="the Audit trail action")
    shell.window.audit_trail.trigger()
    dialog = await open_dialog(shell, AuditDialog)
    await until(lambda: dialog.model.loaded and not shell.operations.busy, what="the audit trail read")
    return dialog


async def shown_seqs(dialog: AuditDialog) -> list[int]:
    """Every row the table shows, asking for each page as a scrolling view would."""
    model = dialog.model
    for number in range(model.rowCount()):
        model.data(model.index(number, 0))  # a row not read yet asks for its page
        await until(lambda n=number: model.entry_at(n) is not None, what=f"row {number}")
    return [model.entry_at(number).seq for number in range(model.rowCount())]


def ledger_seqs(shell, keep) -> list[int]:
    return [row.seq for row in reversed(list(shell.session.ledger.audit.rows())) if keep(row)]


async def choose(dialog: AuditDialog, combo, data) -> None:
    index = combo.findData(data)
    assert index >= 0, f"{data!r} is not among the choices"
    combo.setCurrentIndex(index)
    await until(lambda: dialog.model.audit_filter == dialog.current_filter() and dialog.model.loaded
                and "Reading" not in dialog.count.text(), what="the filtered rows")


def test_the_rows_shown_are_the_ledgers_audit_rows_for_each_filter(shell, loop, qtbot):
    async def story() -> None:
        dialog = await audit_dialog(shell, qtbot)
        assert await shown_seqs(dialog) == ledger_seqs(shell, lambda row: True)
        first = dialog.model.entry_at(0)
        newest = shell.session.ledger.audit.last()
        assert first.seq == newest.seq and first.action == newest.action and "digest" not in first.detail

        await choose(dialog, dialog.operator, "iris")
        assert await shown_seqs(dialog) == ledger_seqs(shell, lambda row: row.operator == "iris") != []
        assert f"{dialog.model.rowCount():,} audit row" in dialog.count.text()

        action = shell.session.ledger.audit.last().action
        await choose(dialog, dialog.operator, None)
        await choose(dialog, dialog.action, action)
        assert await shown_seqs(dialog) == ledger_seqs(shell, lambda row: row.action == action) != []

        await choose(dialog, dialog.action, None)
        today = datetime.now(UTC).date()
        dialog.start.setDate(QDate(today.year, today.month, today.day))
        dialog.end.setDate(QDate(today.year, today.month, today.day))
        dialog.whole_trail.setChecked(False)
        await until(lambda: dialog.model.audit_filter.since is not None and dialog.model.loaded
                    and "Reading" not in dialog.count.text(), what="today's rows")
        midnight = datetime.combine(today, datetime.min.time(), tzinfo=UTC)
        assert await shown_seqs(dialog) == ledger_seqs(
            shell, lambda row: midnight <= row.at < midnight + timedelta(days=1))

        dialog.start.setDate(QDate(today.year, today.month, today.day).addDays(1))
        assert dialog.period_error.isVisible() and "ends before it starts" in dialog.period_error.text()

    drive(loop, shell, story)


def test_a_long_trail_is_read_a_page_at_a_time(shell, loop, qtbot):
    ledger = shell.session.ledger
    with ledger.transaction():
        for number in range(5000):
            audit.record(ledger, "arno", "test.filler", None, {"n": number})

    async def story() -> None:
        dialog = await audit_dialog(shell, qtbot)
        model = dialog.model
        total = ledger.audit_trail.count(AuditFilter())  # signing in added its own row
        assert model.rowCount() == total > 5000  # the scroll bar knows the whole length
        assert model.rows_held == PAGE_SIZE  # but only the first page was read
        dialog.table.scrollToBottom()
        await until(lambda: model.entry_at(total - 1) is not None, what="the oldest row, at the bottom")
        assert model.entry_at(total - 1).seq == 1
        assert model.entry_at(PAGE_SIZE * 10) is None  # the pages between were never read
        assert model.rows_held <= 3 * PAGE_SIZE < total

        seen: list[tuple[int, int]] = []
        dialog.progressed.connect(lambda done, of: seen.append((done, of)))
        click(qtbot, dialog.verify_button)
        await until(lambda: dialog.verdict is not None, what="the verdict")
        assert dialog.verdict.intact and (2000, total) in seen and seen[-1] == (total, total)
        assert dialog.progress.isHidden() and dialog.verify_button.isEnabled()

    drive(loop, shell, story)


def test_verify_on_an_intact_ledger_shows_the_chain_head_to_copy(shell, loop, qtbot):
    async def story() -> None:
        dialog = await audit_dialog(shell, qtbot, "arno")
        click(qtbot, dialog.verify_button)
        await until(lambda: dialog.verdict is not None, what="the verdict")
        report = verify(shell.session.ledger)
        assert report.intact
        expected = f"row {report.head_seq}, hash {report.head_hash}"
        assert dialog.head.text() == expected and dialog.head.isReadOnly()
        assert "intact" in dialog.result.text() and f"{report.rows_checked} rows" in dialog.result.text()
        assert dialog.progress.isHidden()
        click(qtbot, dialog.copy_head)
        assert QGuiApplication.clipboard().text() == expected

    drive(loop, shell, story)


def test_verify_after_a_row_edited_in_the_file_names_the_first_bad_row(shell, loop, qtbot):
    ledger_file = shell.session.ledger.path
    conn = sqlite3.connect(ledger_file, isolation_level=None)  # what anyone with the file can do
    conn.execute("UPDATE audit_log SET operator = 'mallory' WHERE seq = 7")
    conn.close()

    async def story() -> None:
        dialog = await audit_dialog(shell, qtbot)
        click(qtbot, dialog.verify_button)
        await until(lambda: dialog.verdict is not None, what="the verdict")
        expected = verdict_of(verify(shell.session.ledger))
        assert not dialog.verdict.intact and expected.first_problem.startswith("row 7 ")
        assert f"First broken: {expected.first_problem}" in dialog.result.text()
        assert "mallory" in dialog.result.text() and "broken" in dialog.result.text()
        assert dialog.head.text() == "" and not dialog.copy_head.isEnabled()  # no head to note on a broken chain

    drive(loop, shell, story)


def test_every_role_finds_the_audit_trail_and_nobody_signed_out_does(shell, loop, qtbot):
    async def story() -> None:
        shell.show()
        assert not shell.window.audit_trail.isVisible() and not shell.window.audit_trail.isEnabled()
        await sign_in(shell, qtbot, "ada")
        assert shell.window.audit_trail.isVisible() and shell.window.audit_trail.isEnabled()

    drive(loop, shell, story)
