"""The whole story with the keyboard alone, in the real window: sign in, compose a large payout, send it for
approval, the approver approves it, the initiator sends it. Every key goes to the widget that has the focus, as
a person's keyboard does: no click, and no widget is set from the test. Where a field is reached by Tab, the
test presses Tab until the focus is there (at most a screenful of presses): the window's tab order is tested."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from ui_loop import drive, until
from window_driver import PASSWORDS, TRON_ADDRESS, on_dashboard

from treasury_app.domain.payout_actions import PayoutAction
from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.ui.approvals.queue_dialog import ApprovalsDialog
from treasury_app.ui.compose.compose_dialog import ComposeDialog
from treasury_app.ui.payouts.send_dialog import SendDialog

MOST_TABS = 40
K = Qt.Key
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard focus"
    return widget


async def back_to_the_window(shell) -> None:
    """A dialog closed: the desktop's window manager gives the keyboard back to the main window (offscreen has
    none, so the test does what it would)."""
    if QApplication.focusWidget() is None:
        shell.window.activateWindow()
    await until(lambda: QApplication.focusWidget() is not None, what="the keyboard back on the window")


def press(key: Qt.Key, modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    QTest.keyClick(focused(), key, modifiers)


def type_text(text: str) -> None:
    QTest.keyClicks(focused(), text)


def tab_to(widget: QWidget, what: str) -> None:
    for _ in range(MOST_TABS):
        if focused() is widget:
            return
        press(K.Key_Tab)
    raise AssertionError(f"{MOST_TABS} presses of Tab never reached {what} (the focus is on {focused()!r})")


async def sign_in_by_keyboard(shell, name: str) -> None:
    await until(lambda: shell.window.screens.currentWidget() is shell.sign_in, what="the sign-in screen")
    await until(lambda: QApplication.focusWidget() in (shell.sign_in.operator, shell.sign_in.password),
                what="the focus in the sign-in form")
    tab_to(shell.sign_in.operator, "the operator's name")
    QTest.keyClick(focused(), K.Key_A, CTRL)  # select what is there, and type over it
    type_text(name)
    press(K.Key_Return)  # to the password
    type_text(PASSWORDS[name])
    press(K.Key_Return)
    await until(lambda: on_dashboard(shell), what=f"{name} signed in, on the dashboard")


async def compose_by_keyboard(shell, amount: str) -> ComposeDialog:
    press(K.Key_N, CTRL)
    dialog = await until(lambda: next((d for d in shell.dialogs.shown if isinstance(d, ComposeDialog)
                                       and d.isVisible()), None), what="New payout")
    await until(lambda: dialog.asset.isEnabled() and dialog.asset.currentData() is not None, what="the assets")
    tab_to(dialog.address, "the address")
    type_text(TRON_ADDRESS)
    tab_to(dialog.amount, "the amount")
    type_text(amount)
    press(K.Key_Return)  # Enter asks for the estimate
    await until(lambda: dialog.pages.currentIndex() == 1, what=f"the review (problem: {dialog.problem.text()})")
    return dialog


def test_the_whole_story_can_be_done_with_the_keyboard_alone(shell, loop, qtbot, sandbox):
    async def story() -> None:
        await back_to_the_window(shell)
        await sign_in_by_keyboard(shell, "iris")
        dialog = await compose_by_keyboard(shell, "1500")
        payout_id = dialog._reviewed.payout.id
        assert focused() is dialog.send and dialog.send.text() == "Send for approval"
        press(K.Key_Return)
        await until(lambda: dialog.pages.currentIndex() == 2, what="sent for approval")
        assert focused() is dialog.done_button
        press(K.Key_Return)  # Done
        await until(lambda: not dialog.isVisible(), what="New payout closed")
        await back_to_the_window(shell)

        press(K.Key_L, CTRL | SHIFT)  # sign out
        await sign_in_by_keyboard(shell, "arno")
        press(K.Key_A, CTRL | SHIFT)
        approvals = await until(lambda: next((d for d in shell.dialogs.shown if isinstance(d, ApprovalsDialog)
                                              and d.isVisible()), None), what="the approvals")
        await until(lambda: approvals.for_me.rowCount() > 0, what="the queue")
        await until(lambda: approvals.isActiveWindow(), what="the approvals in front, with the keyboard")
        tab_to(approvals.for_me, "the payouts waiting for me")
        for _ in range(approvals.for_me.rowCount() + 1):
            if approvals._selected is not None and approvals._selected.payout.id == payout_id:
                break
            press(K.Key_Down)
        assert approvals._selected.payout.id == payout_id
        tab_to(approvals.password, "the approver's password")
        type_text(PASSWORDS["arno"])
        press(K.Key_Return, CTRL)  # approve
        await until(lambda: shell.session.ledger.payouts.get(payout_id).status is PayoutStatus.APPROVED,
                    what="approved")
        press(K.Key_Escape)
        await until(lambda: not approvals.isVisible(), what="the approvals closed")
        await back_to_the_window(shell)

        press(K.Key_L, CTRL | SHIFT)
        await sign_in_by_keyboard(shell, "iris")
        press(K.Key_2, CTRL)  # the payouts table, newest first: the payout just approved on top
        await until(lambda: focused() is shell.window.table, what="the table focused")
        for _ in range(5):
            if shell.window.table.selected_payout() == payout_id:
                break
            press(K.Key_Down)
        assert shell.window.table.selected_payout() == payout_id
        send = shell.window.detail.buttons[PayoutAction.EXECUTE]
        await until(lambda: shell.window.detail.payout_id == payout_id and send.isEnabled(), what="Send enabled")
        tab_to(send, "Send in the detail panel")
        press(K.Key_Space)
        sending = await until(lambda: next((d for d in shell.dialogs.shown if isinstance(d, SendDialog)
                                            and d.isVisible()), None), what="the send dialog")
        await until(lambda: sending.isActiveWindow(), what="the send dialog in front, with the keyboard")
        assert focused() is sending.send and sending.send.text() == "Send 1,500.00 USDT"
        press(K.Key_Return)
        await until(lambda: sending.pages.currentIndex() == 1, what="sent")
        assert sending.outcome.title.text().startswith("Sent: 1,500.00 USDT")
        assert focused() is sending.done_button
        press(K.Key_Return)  # Done
        await until(lambda: not sending.isVisible(), what="the send dialog closed")
        assert shell.session.ledger.payouts.get(payout_id).status in (PayoutStatus.PROCESSING, PayoutStatus.COMPLETED)

    drive(loop, shell, story, timeout=90)
