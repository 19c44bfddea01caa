"""The export dialog in the real window: it starts from the table's filter, writes the file the audit trail
vouches for, leaves nothing when cancelled, and asks before replacing a file."""

from __future__ import annotations

import csv
import hashlib
import json

from PySide6.QtWidgets import QMessageBox
from ui_loop import drive, until
from window_driver import click, open_dialog, sign_in, type_into

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.ledger import PayoutFilter
from treasury_app.services.reports import REPORT_EXPORTED
from treasury_app.ui.export_dialog import ExportDialog
from treasury_app.ui.payouts.filters import status_choice


def exports_in_audit(shell) -> list[dict]:
    return [json.loads(r.detail_json) for r in shell.session.ledger.audit.rows() if r.action == REPORT_EXPORTED]


async def export_dialog(shell, qtbot) -> ExportDialog:
    await sign_in(shell, qtbot, "iris")
    await until(lambda: shell.window.export.isVisible(), what="the Export action")
    shell.window.export.trigger()
    return await open_dialog(shell, ExportDialog)


def test_the_dialog_starts_from_the_tables_filter_and_writes_the_file_the_audit_trail_vouches_for(
        shell, loop, qtbot, tmp_path):
    async def story() -> None:
        await sign_in(shell, qtbot, "iris")
        bar = shell.window.filters
        bar.status.setCurrentIndex(status_choice((PayoutStatus.COMPLETED,)))
        bar.provider.setCurrentIndex(bar.provider.findData("pay3"))
        shell.window.export.trigger()
        dialog = await open_dialog(shell, ExportDialog)
        assert dialog.status.currentIndex() == status_choice((PayoutStatus.COMPLETED,))
        assert dialog.provider.currentData() == "pay3" and dialog.whole_ledger.isChecked()
        assert dialog.file.text().endswith(".csv")
        target = tmp_path / "completed-pay3.csv"
        type_into(qtbot, dialog.file, str(target))
        click(qtbot, dialog.export_button)
        await until(lambda: dialog.written is not None, what="the export written")

        content = target.read_bytes()
        digest = hashlib.sha256(content).hexdigest()
        assert digest in dialog.outcome.text() and dialog.open_folder.isVisible()
        (recorded,) = exports_in_audit(shell)
        assert recorded["sha256"] == digest and recorded["filters"]["provider"] == "pay3"
        rows = list(csv.reader(content.decode("utf-8").splitlines()))[2:]
        expected = shell.session.ledger.payouts.count(PayoutFilter(statuses=(PayoutStatus.COMPLETED,),
                                                                   provider="pay3"))
        assert len(rows) == expected > 0

    drive(loop, shell, story)


def test_a_cancelled_export_leaves_no_file_and_no_audit_row(shell, loop, qtbot, tmp_path):
    async def story() -> None:
        dialog = await export_dialog(shell, qtbot)
        folder = tmp_path / "reports"
        folder.mkdir()
        target = folder / "cancelled.csv"
        type_into(qtbot, dialog.file, str(target))
        click(qtbot, dialog.export_button)
        # In the same turn of the loop: the export's thread has not started yet, so it meets the cancel at its
        # first batch (after the count and the heading), whatever the machine's speed.
        assert dialog.close_button.text() == "Cancel"
        click(qtbot, dialog.close_button)
        await until(lambda: dialog.export_button.isEnabled(), what="the export ended")
        assert "cancelled" in dialog.error.text() and "no file was written" in dialog.error.text()
        assert list(folder.iterdir()) == [] and exports_in_audit(shell) == []

    drive(loop, shell, story)


def test_an_existing_file_is_kept_when_the_person_says_no_and_replaced_on_yes(shell, loop, qtbot, tmp_path):
    async def answer(dialog: ExportDialog, button: QMessageBox.StandardButton) -> None:
        box = await until(lambda: dialog.findChild(QMessageBox, "replace-question"), what="the question")
        assert "kept.csv exists" in box.text()
        click(qtbot, box.button(button))
        await until(lambda: dialog.findChild(QMessageBox, "replace-question") is None, what="the box gone")

    async def story() -> None:
        dialog = await export_dialog(shell, qtbot)
        target = tmp_path / "kept.csv"
        target.write_text("last month's report\n")
        type_into(qtbot, dialog.file, str(target))
        click(qtbot, dialog.export_button)
        await answer(dialog, QMessageBox.StandardButton.No)
        assert target.read_text() == "last month's report\n" and "Nothing was written" in dialog.file_error.text()
        assert exports_in_audit(shell) == []
        click(qtbot, dialog.export_button)
        await answer(dialog, QMessageBox.StandardButton.Yes)
        await until(lambda: dialog.written is not None, what="the export written")
        assert target.read_text(encoding="utf-8").startswith("Treasury Desk payouts report")

    drive(loop, shell, story)


def test_a_period_that_ends_before_it_starts_is_said_next_to_the_period(shell, loop, qtbot, tmp_path):
    async def story() -> None:
        dialog = await export_dialog(shell, qtbot)
        dialog.whole_ledger.setChecked(False)
        dialog.end.setDate(dialog.start.date().addDays(-3))
        type_into(qtbot, dialog.file, str(tmp_path / "never.csv"))
        before = exports_in_audit(shell)
        click(qtbot, dialog.export_button)
        assert dialog.period_error.isVisible() and "must be later than" in dialog.period_error.text()
        assert not (tmp_path / "never.csv").exists() and exports_in_audit(shell) == before == []

    drive(loop, shell, story)
