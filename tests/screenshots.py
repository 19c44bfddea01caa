"""Render every screen of the window to PNG, on demo data and the built-in sandbox, for the README and for
looking at what was built.

    .venv/bin/python tests/screenshots.py [--out resources/screenshots] [--real-window]

Offscreen by default (`widget.grab()`); `--real-window` draws on the display given by DISPLAY (run it under
`xvfb-run -s "-screen 0 1600x1000x24"`), where fonts, icons and sizes are those of a real X11 desktop.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "ui"))
sys.path.insert(0, str(HERE / "providers"))  # the in-memory keyring the Administration shots save into


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=HERE.parent / "resources" / "screenshots")
    parser.add_argument("--real-window", action="store_true", help="draw on $DISPLAY instead of offscreen")
    args = parser.parse_args()
    if not args.real_window:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    os.environ.setdefault("TREASURY_INSECURE_TEST_HASHING", "1")  # demo passwords hashed in milliseconds

    from PySide6.QtWidgets import QApplication

    from treasury_app.ui import theme
    from treasury_app.ui.event_loop import DeskEventLoop

    app = QApplication.instance() or QApplication(["treasury-desk-screenshots"])
    theme.apply(app)
    loop = DeskEventLoop(app)
    asyncio.set_event_loop(loop)
    args.out.mkdir(parents=True, exist_ok=True)
    with loop:
        written = loop.run_until_complete(render_all(args.out))
    for path in written:
        print(path)
    return 0


async def render_all(out: Path) -> list[Path]:
    from window_driver import (PASSWORDS, approve_in_dialog, compose, estimate, open_dialog, select,
                               send_from_detail, sign_in, sign_out, type_into)

    from treasury_app.services.demo_data import DEMO_OPERATORS, write_demo_desk
    from treasury_app.services.desk_session import DeskSession
    from treasury_app.ui.approvals.queue_dialog import ApprovalsDialog
    from treasury_app.ui.shell import Shell
    from ui_loop import until

    written: list[Path] = []

    def grab(widget, name: str) -> None:
        path = out / f"{name}.png"
        widget.grab().save(str(path))
        written.append(path)

    class Bot:  # what the driver needs of pytest-qt's qtbot, done with QTest directly
        @staticmethod
        def mouseClick(widget, button):  # noqa: N802 — pytest-qt's name
            from PySide6.QtTest import QTest

            QTest.mouseClick(widget, button)

        @staticmethod
        def keyClicks(widget, text):  # noqa: N802
            from PySide6.QtTest import QTest

            QTest.keyClicks(widget, text)

    bot = Bot()
    with tempfile.TemporaryDirectory(prefix="treasury-screens-") as folder:
        empty = await DeskSession.open(Path(folder) / "empty")
        first = Shell(empty)
        first.show()
        first.window.resize(1280, 800)
        await asyncio.sleep(0.2)
        grab(first.window, "first-run")
        await first.close()
        await empty.aclose()

        data_dir = Path(folder) / "demo"
        await asyncio.to_thread(write_demo_desk, data_dir)
        session = await DeskSession.open(data_dir)
        shell = Shell(session, demo_operators=DEMO_OPERATORS, demo=True)
        shell.show()
        shell.window.resize(1440, 900)
        shell.start_poller()
        try:
            await asyncio.sleep(0.2)
            grab(shell.window, "sign-in")
            await sign_in(shell, bot, "iris", to_table=False)  # the dashboard first, as after every sign-in
            await until(lambda: shell.dashboard.screen.figures is not None and "(read" in
                        shell.dashboard.screen.balances.text() and not shell.operations.busy, what="the dashboard")
            await asyncio.sleep(0.3)
            grab(shell.window, "dashboard")
            shell.window.payouts.trigger()
            await until(lambda: shell.model.rowCount() > 0 and not shell.model.is_loading, what="the table")
            first_id = shell.model.payout_id_at(0)
            await select(shell, first_id)
            await asyncio.sleep(0.3)
            grab(shell.window, "desk")

            dialog = await compose(shell, bot, amount="1500.1234567", address="TDD97yguPESTpcrJMqU6h2ozZbibv4Vaqn",
                                   reference="INV-2026-0412")
            await asyncio.sleep(0.2)
            grab(dialog, "compose-errors")

            type_into(bot, dialog.address, "TDD97yguPESTpcrJMqU6h2ozZbibv4Vaqm")
            type_into(bot, dialog.amount, "1500")
            await estimate(dialog, bot)
            await asyncio.sleep(0.2)
            grab(dialog, "compose-review")
            payout_id = dialog._reviewed.payout.id
            bot.mouseClick(dialog.send, _left())
            await until(lambda: dialog.pages.currentIndex() == 2, what="the outcome")
            grab(dialog, "compose-sent-for-approval")
            dialog.close()

            await sign_out(shell, bot)
            await sign_in(shell, bot, "arno")
            approvals = await approve_in_dialog(shell, bot, payout_id, "")
            approvals.password.clear()
            await asyncio.sleep(0.2)
            grab(approvals, "approvals")
            approvals.close()
            approvals = await approve_in_dialog(shell, bot, payout_id, PASSWORDS["arno"])
            await until(lambda: approvals.select_payout(payout_id) is False, what="approved")
            approvals.close()

            await sign_out(shell, bot)
            await sign_in(shell, bot, "iris")

            sending = await send_from_detail(shell, bot, payout_id)
            await asyncio.sleep(0.2)
            grab(sending, "send")
            bot.mouseClick(sending.send, _left())
            await until(lambda: sending.pages.currentIndex() == 1, what="sent")
            grab(sending, "sent")
            sending.close()
            await select(shell, payout_id)
            await asyncio.sleep(0.3)
            grab(shell.window, "desk-after-send")
            assert not any(isinstance(d, ApprovalsDialog) for d in shell.dialogs.shown)

            from treasury_app.ui.export_dialog import ExportDialog

            shell.window.export.trigger()
            exporting = await open_dialog(shell, ExportDialog)
            exporting.whole_ledger.setChecked(False)
            exporting.file.setText(str(Path(tempfile.mkdtemp(prefix="treasury-shots-")) / exporting.file_name()))
            await asyncio.sleep(0.2)
            grab(exporting, "export")
            bot.mouseClick(exporting.export_button, _left())
            await until(lambda: exporting.written is not None, what="exported")
            await asyncio.sleep(0.1)
            grab(exporting, "export-done")
            exporting.close()

            from treasury_app.services.address_book import AddressBook, EntryFields
            from treasury_app.ui.address_book.screen import AddressBookDialog

            book, ada = AddressBook(session.ledger), session.accounts.authenticate("ada", PASSWORDS["ada"])
            for entry in (EntryFields("Supplier Ltd", "USDT", "TRON", "TDD97yguPESTpcrJMqU6h2ozZbibv4Vaqm",
                                      "Monthly invoice, contract 2026-04"),
                          EntryFields("Exchange hot wallet", "USDT", "TRON", "TJRabPrwbZy45sbavfcjinPJC18kjpRTv8"),
                          EntryFields("Payroll contractor (EU)", "USDC", "ETH",
                                      "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359", "Invoices in EUR, paid in USDC"),
                          EntryFields("Cold storage", "BTC", "BTC", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq")):
                book.add(entry, acting=ada)
            shell.window.address_book.trigger()
            screen = await open_dialog(shell, AddressBookDialog)
            await until(lambda: screen.table.rowCount() == 4, what="the address book's entries")
            screen.table.selectRow(3)
            await asyncio.sleep(0.2)
            grab(screen, "address-book")
            screen.close()
            dialog = await compose(shell, bot, amount="250", address="")
            type_into(bot, dialog.book.search, "supp")
            await until(lambda: len(dialog.book.entries) == 1, what="the picker's search")
            dialog.book.choose(dialog.book.entries[0].id)
            await asyncio.sleep(0.2)
            grab(dialog, "compose-address-book")
            dialog.close()

            from treasury_app.ui.audit.audit_dialog import AuditDialog

            shell.window.audit_trail.trigger()
            auditing = await open_dialog(shell, AuditDialog)
            await until(lambda: auditing.model.loaded and not shell.operations.busy, what="the audit trail")
            bot.mouseClick(auditing.verify_button, _left())
            await until(lambda: auditing.verdict is not None, what="the chain verified")
            await asyncio.sleep(0.2)
            grab(auditing, "audit-verified")
            auditing.operator.setCurrentIndex(auditing.operator.findData("arno"))
            await until(lambda: auditing.model.audit_filter.operator == "arno" and not shell.operations.busy,
                        what="arno's rows")
            auditing.table.selectRow(0)
            await asyncio.sleep(0.2)
            grab(auditing, "audit-filtered")

            auditing.hide()
            from treasury_app.services.desk_news import NoticeKind

            def completed_notice():
                return next((n for n in shell.notices.notifier.shown if n.kind is NoticeKind.COMPLETED
                             and n.payout is not None and n.payout.id == payout_id), None)

            notice = await until(completed_notice, timeout=90, what="the sandbox paying the payout, and its notice")
            shell.notices.bar.present(notice)  # the latest, should another payout's have come after it
            await asyncio.sleep(0.3)
            grab(shell.window, "notice-completed")
            auditing.show()

            # Last, for it breaks the demo's chain: one row edited behind the app's back, as anyone with the file can.
            import sqlite3

            editing = sqlite3.connect(session.ledger.path, isolation_level=None)
            editing.execute("UPDATE audit_log SET operator = 'mallory' WHERE seq = 12")
            editing.close()
            auditing.operator.setCurrentIndex(auditing.operator.findData(None))
            bot.mouseClick(auditing.verify_button, _left())
            await until(lambda: auditing.verdict is not None and not auditing.verdict.intact, what="the break found")
            await asyncio.sleep(0.2)
            grab(auditing, "audit-broken")
            auditing.close()

            await render_administration(shell, session, bot, grab)

            shell._idle_lock_seconds = 600.0  # as read at the sign-in; the lock itself, as the idle watch calls it
            shell._lock()
            await asyncio.sleep(0.2)
            grab(shell.window, "locked")
        finally:
            await shell.close()
            await session.aclose()
    return written


async def render_administration(shell, session, bot, grab) -> None:
    """The three tabs of Administration, as ada (the demo's admin) sees them: an operator locked by wrong
    passwords, the USDT policy, and a Cryptomus profile saved (into an in-memory keyring: never the keyring of
    the computer the script runs on) and checked against the embedded sandbox."""
    import keyring
    from provider_test_keyrings import MemoryKeyring
    from window_driver import click, open_administration, sign_in, sign_out, type_into

    from treasury_app.sandbox import DEFAULT_CRYPTOMUS_MERCHANT, DEFAULT_CRYPTOMUS_PAYOUT_KEY
    from ui_loop import until

    for _ in range(5):
        try:
            session.accounts.authenticate("arno", "a wrong guess at arno's password")
        except Exception:  # noqa: BLE001 — refused, as wanted: the account ends locked
            pass
    await sign_out(shell, bot)
    await sign_in(shell, bot, "ada")
    admin = await open_administration(shell)
    operators = admin.operators
    await until(lambda: operators.select_operator("arno"), what="arno in the list")
    await asyncio.sleep(0.2)
    grab(admin, "admin-operators")

    admin.show_tab(admin.policy)
    admin.policy.choose_currency("USDT")
    type_into(bot, admin.policy.desk_limit, "250000")
    click(bot, admin.policy.save_policy)
    await until(lambda: "saved" in admin.policy.saved_notice.text(), what="the policy saved")
    await until(lambda: not shell.operations.busy, what="the policy read again")
    await asyncio.sleep(0.2)
    grab(admin, "admin-policy")

    before = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    try:
        admin.show_tab(admin.providers)
        form = admin.providers.forms["cryptomus"]
        type_into(bot, form.inputs["base_url"], session.sandbox.base_url if session.sandbox else "")
        type_into(bot, form.inputs["merchant"], DEFAULT_CRYPTOMUS_MERCHANT)
        type_into(bot, form.secret, DEFAULT_CRYPTOMUS_PAYOUT_KEY)
        click(bot, form.save)
        await until(lambda: "Saved" in form.result.text(), what="the profile saved")
        click(bot, form.check_button)
        await until(lambda: "Reachable" in form.result.text(), what="the connection checked")
        await asyncio.sleep(0.2)
        grab(admin, "admin-providers")
    finally:
        keyring.set_keyring(before)
    admin.close()


def _left():
    from PySide6.QtCore import Qt

    return Qt.MouseButton.LeftButton


if __name__ == "__main__":
    sys.exit(main())
