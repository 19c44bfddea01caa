"""The address book in the window: an approver adds an entry through the screen and sees it in the table; an
initiator picks it in the compose form and the address field holds it; a completed payout's destination is
added from its detail panel in one click (greyed, with the reason, for an initiator)."""

from __future__ import annotations

from ui_loop import drive, until
from window_driver import TRON_ADDRESS, click, open_dialog, select, sign_in, sign_out, type_into

from treasury_app.domain.payout_actions import PayoutAction
from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.ledger import PayoutFilter
from treasury_app.ui.address_book.entry_form import EntryDialog
from treasury_app.ui.address_book.screen import AddressBookDialog
from treasury_app.ui.compose.compose_dialog import ComposeDialog

OTHER_TRON = "TJRabPrwbZy45sbavfcjinPJC18kjpRTv8"


def labels_in(dialog: AddressBookDialog) -> list[str]:
    return [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())]


def test_an_approver_adds_an_entry_through_the_window_and_sees_it_in_the_table(shell, loop, qtbot):
    async def story() -> None:
        await sign_in(shell, qtbot, "arno")
        shell.window.address_book.trigger()
        book = await open_dialog(shell, AddressBookDialog)
        click(qtbot, book.add_button)
        form = await until(lambda: next((c for c in book._children if isinstance(c, EntryDialog)), None),
                           what="the entry form")
        type_into(qtbot, form.label, "Supplier Ltd")
        form.asset.setCurrentIndex(form.asset.findData("USDT|ETH"))
        type_into(qtbot, form.address, TRON_ADDRESS)
        assert form.errors["address"].isVisible()  # a TRON address on Ethereum, said beside the field
        assert "TRON" in form.errors["address"].text() or "Tron" in form.errors["address"].text()
        form.asset.setCurrentIndex(form.asset.findData("USDT|TRON"))
        assert not form.errors["address"].isVisible()
        click(qtbot, form.save)
        await until(lambda: labels_in(book) == ["Supplier Ltd"], what="the new entry in the table")
        assert book.table.item(0, 2).text() == TRON_ADDRESS and book.table.item(0, 4).text() == "arno"
        type_into(qtbot, book.search, "nobody")
        await until(lambda: labels_in(book) == [], what="the search to hide it")

    drive(loop, shell, story)


def test_an_initiator_picks_an_entry_in_compose_and_the_address_field_holds_it(shell, loop, qtbot):
    shell.front.ledger.address_book.add(label="Exchange hot wallet", currency="USDT", network="TRON",
                                        address=OTHER_TRON, actor="ada")

    async def story() -> None:
        await sign_in(shell, qtbot, "iris")
        shell.window.address_book.trigger()
        book = await open_dialog(shell, AddressBookDialog)
        await until(lambda: labels_in(book) == ["Exchange hot wallet"], what="the entry listed")
        assert not book.add_button.isEnabled() and "initiator may not" in book.add_button.toolTip()
        book.close()
        shell.window.new_payout.trigger()
        dialog = await open_dialog(shell, ComposeDialog)
        dialog.provider.setCurrentIndex(dialog.provider.findData("cryptomus"))
        await until(lambda: dialog.asset.isEnabled(), what="the provider's assets")
        type_into(qtbot, dialog.book.search, "HOT")
        await until(lambda: [e.label for e in dialog.book.entries] == ["Exchange hot wallet"],
                    what="the search in the picker")
        assert dialog.book.choose(dialog.book.entries[0].id)
        assert dialog.address.text() == OTHER_TRON
        assert dialog.asset.currentData() == "USDT-TRON"
        assert not dialog.errors["address"].isVisible()

    drive(loop, shell, story)


def test_a_completed_payouts_destination_is_added_from_the_detail_panel(shell, loop, qtbot):
    completed = shell.front.ledger.payouts.page(PayoutFilter(statuses=(PayoutStatus.COMPLETED,)), limit=50)
    known = {(e.network, e.address) for e in shell.front.ledger.address_book.all()}
    payout = next(p for p in completed if (p.network, p.address) not in known
                  and shell.front.ledger.address_book.find(p.network, p.address) is None)

    async def story() -> None:
        await sign_in(shell, qtbot, "iris")
        await select(shell, payout.id)
        add = shell.window.detail.buttons[PayoutAction.ADD_TO_ADDRESS_BOOK]
        assert add.isVisible() and not add.isEnabled()
        assert "approver or admin" in add.toolTip()
        await sign_out(shell, qtbot)
        await sign_in(shell, qtbot, "arno")
        await select(shell, payout.id)
        await until(lambda: add.isEnabled(), what=f"Add to address book enabled: {add.toolTip()}")
        click(qtbot, add)
        form = await open_dialog(shell, EntryDialog)
        assert form.address.text() == payout.address
        assert form.asset.currentData() == f"{payout.currency}|{payout.network}"
        assert form.label.hasFocus() or form.label.text() == ""
        type_into(qtbot, form.label, "Paid supplier")
        click(qtbot, form.save)
        await until(lambda: shell.front.ledger.address_book.find(payout.network, payout.address) is not None,
                    what="the entry in the ledger")
        await until(lambda: not add.isEnabled() and "already in the address book" in add.toolTip(),
                    what="the panel re-read: the address is in the book now")

    drive(loop, shell, story)




def test_removing_an_entry_asks_first_and_cancel_keeps_it(shell, loop, qtbot):
    from PySide6.QtWidgets import QMessageBox

    shell.front.ledger.address_book.add(label="Old supplier", currency="USDT", network="TRON", address=OTHER_TRON,
                                        actor="ada")

    async def story() -> None:
        await sign_in(shell, qtbot, "arno")
        shell.window.address_book.trigger()
        book = await open_dialog(shell, AddressBookDialog)
        await until(lambda: labels_in(book) == ["Old supplier"], what="the entry listed")
        book.table.selectRow(0)

        def question() -> QMessageBox | None:
            return next((c for c in book._children if isinstance(c, QMessageBox) and c.isVisible()), None)

        click(qtbot, book.remove_button)
        box = await until(question, what="the question before removing")
        assert "Old supplier" in box.text()
        click(qtbot, box.button(QMessageBox.StandardButton.Cancel))
        await until(lambda: question() is None, what="the question closed")
        assert shell.front.ledger.address_book.all() != []
        click(qtbot, book.remove_button)
        box = await until(question, what="the question again")
        click(qtbot, box.button(QMessageBox.StandardButton.Yes))
        await until(lambda: labels_in(book) == [], what="the entry gone from the table")
        assert shell.front.ledger.address_book.all() == []
        rows = [r for r in shell.front.ledger.audit.rows() if r.action == "address_book.removed"]
        assert [r.operator for r in rows] == ["arno"]

    drive(loop, shell, story)
