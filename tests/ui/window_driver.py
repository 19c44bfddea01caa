"""Driving the window as a person does — typing, clicking, waiting for what the screen shows — for the window
tests. Each step waits for the screen it leads to, so a test reads as the story it tells."""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QMessageBox, QWidget
from ui_loop import until

from treasury_app.services.demo_data import DEMO_OPERATORS
from treasury_app.ui.approvals.queue_dialog import ApprovalsDialog
from treasury_app.ui.compose.compose_dialog import ComposeDialog
from treasury_app.ui.payouts.send_dialog import SendDialog
from treasury_app.ui.shell import Shell

W = TypeVar("W", bound=QWidget)
PASSWORDS = {demo.name: demo.password for demo in DEMO_OPERATORS}
TRON_ADDRESS = "TDD97yguPESTpcrJMqU6h2ozZbibv4Vaqm"


def click(qtbot, widget: QAbstractButton) -> None:
    assert widget.isVisible(), f"{widget.text()!r} is not on the screen"
    assert widget.isEnabled(), f"{widget.text()!r} is greyed out: {widget.toolTip()}"
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def type_into(qtbot, field, text: str) -> None:
    field.setFocus()
    field.clear()
    qtbot.keyClicks(field, text)


async def sign_in(shell: Shell, qtbot, name: str, password: str | None = None, *, to_table: bool = True) -> None:
    """Sign in; the dashboard comes first (or, back after the idle lock, the page left), and then (`to_table`)
    the payouts table, as a clerk presses Ctrl+2."""
    screen = shell.sign_in
    await until(lambda: shell.window.screens.currentWidget() is screen, what="the sign-in screen")
    type_into(qtbot, screen.operator, name)
    type_into(qtbot, screen.password, password if password is not None else PASSWORDS[name])
    click(qtbot, screen.submit)
    await until(lambda: on_dashboard(shell) or screen.error.isVisible()
                or (shell.calls is not None and shell.window.screens.currentWidget() is shell.window.desk),
                what=f"{name} signed in, or an error")
    if to_table and on_dashboard(shell):
        shell.window.payouts.trigger()
        await until(lambda: shell.window.screens.currentWidget() is shell.window.desk, what="the payouts table")


def on_dashboard(shell: Shell) -> bool:
    return shell.dashboard is not None and shell.window.screens.currentWidget() is shell.dashboard.screen


async def sign_out(shell: Shell, qtbot) -> None:
    shell.window.sign_out.trigger()
    await until(lambda: shell.window.screens.currentWidget() is shell.sign_in, what="the sign-in screen")


async def open_dialog(shell: Shell, kind: type[W]) -> W:
    return await until(lambda: next((d for d in shell.dialogs.shown if isinstance(d, kind) and d.isVisible()), None),
                       what=f"a {kind.__name__}")


async def compose(shell: Shell, qtbot, *, provider: str = "cryptomus", asset: str = "USDT-TRON",
                  address: str = TRON_ADDRESS, amount: str, reference: str = "") -> ComposeDialog:
    """Open New payout and fill the form (not yet estimated)."""
    shell.window.new_payout.trigger()
    dialog = await open_dialog(shell, ComposeDialog)
    dialog.provider.setCurrentIndex(dialog.provider.findData(provider))
    await until(lambda: dialog.asset.isEnabled() and dialog.asset.findData(asset) >= 0,
                what=f"{provider}'s assets in the form")
    dialog.asset.setCurrentIndex(dialog.asset.findData(asset))
    type_into(qtbot, dialog.address, address)
    type_into(qtbot, dialog.amount, amount)
    if reference:
        type_into(qtbot, dialog.reference, reference)
    return dialog


async def estimate(dialog: ComposeDialog, qtbot) -> None:
    click(qtbot, dialog.estimate)
    await until(lambda: dialog.pages.currentIndex() == 1 or dialog.problem.isVisible()
                or any(label.isVisible() for label in dialog.errors.values()), what="the provider's estimate")


async def send_composed(dialog: ComposeDialog, qtbot) -> str:
    """Press the review's send button; what the dialog then says (the outcome, or the problem that stopped it)."""
    click(qtbot, dialog.send)
    await until(lambda: dialog.pages.currentIndex() == 2 or dialog.review_problem.isVisible(),
                what="the answer to the send")
    if dialog.pages.currentIndex() == 2:
        return f"{dialog.outcome.title.text()} {dialog.outcome.explanation.text()}"
    return dialog.review_problem.text()


async def approve_in_dialog(shell: Shell, qtbot, payout_id: int, password: str) -> ApprovalsDialog:
    shell.window.approvals.trigger()
    dialog = await open_dialog(shell, ApprovalsDialog)
    assert dialog.select_payout(payout_id), f"payout {payout_id} is not in the approvals queue"
    type_into(qtbot, dialog.password, password)
    if dialog.approve_button.isEnabled():
        click(qtbot, dialog.approve_button)
    return dialog


async def send_from_detail(shell: Shell, qtbot, payout_id: int) -> SendDialog:
    from treasury_app.domain.payout_actions import PayoutAction

    await select(shell, payout_id)
    execute = shell.window.detail.buttons[PayoutAction.EXECUTE]
    await until(lambda: execute.isEnabled(), what=f"Send enabled for payout {payout_id}: {execute.toolTip()}")
    click(qtbot, execute)
    return await open_dialog(shell, SendDialog)


async def select(shell: Shell, payout_id: int) -> None:
    await until(lambda: shell.window.table.select_payout(payout_id), what=f"payout {payout_id} in the table")
    await until(lambda: shell.window.detail.payout_id == payout_id,
                what=f"payout {payout_id} in the detail panel (messages shown: {shown_messages(shell)})")
    # and no read still under way: the panel shows the payout as it is now, not as an earlier read found it
    await until(lambda: not shell.operations.busy, what="the window's reads done")


def shown_messages(shell: Shell) -> list[str]:
    """The failures the window is showing in message boxes (for a test's own failure message)."""
    return [f"{box.text()} {box.informativeText()}" for box in shell.dialogs.shown if isinstance(box, QMessageBox)]


async def open_administration(shell: Shell):
    """Administration from the toolbar (for an admin), laid out with its tabs' first reads done."""
    from treasury_app.ui.admin.admin_dialog import AdministrationDialog

    shell.window.administration.trigger()
    dialog = await open_dialog(shell, AdministrationDialog)
    await until(lambda: not shell.operations.busy, what="the administration's first reads")
    return dialog
