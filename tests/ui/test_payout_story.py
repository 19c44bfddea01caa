"""The story the app exists for, in the real window: the initiator composes a large USDT payout, it goes for
approval; the approver approves it with their password; the initiator sends it; the table follows it to
completed as the sandbox's clock moves, repainting its row without resetting the table."""

from __future__ import annotations

from ui_loop import drive, until
from window_driver import (
    PASSWORDS,
    approve_in_dialog,
    click,
    compose,
    estimate,
    open_dialog,
    select,
    send_from_detail,
    sign_in,
    sign_out,
)

from treasury_app.domain.payout_actions import PayoutAction
from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.ui.approvals.queue_dialog import ApprovalsDialog
from treasury_app.ui.compose.compose_dialog import ComposeDialog
from treasury_app.ui.payouts.model import PAYOUT_ID_ROLE, STATUS_ROLE


def status_in_table(shell, payout_id: int) -> PayoutStatus | None:
    row = shell.model.row_of_payout(payout_id)
    if row is None:
        return None
    index = shell.model.index(row, 0)
    assert index.data(PAYOUT_ID_ROLE) == payout_id
    return PayoutStatus(index.data(STATUS_ROLE))


def test_a_large_payout_is_composed_approved_sent_and_followed_to_completed(shell, loop, qtbot, sandbox):
    async def story() -> None:
        await sign_in(shell, qtbot, "iris")
        assert shell.window.new_payout.isVisible()
        dialog = await compose(shell, qtbot, amount="1500", reference="INV-2026-1500")
        await estimate(dialog, qtbot)
        assert dialog.pages.currentIndex() == 1, dialog.problem.text()
        payout_id = dialog._reviewed.payout.id
        assert dialog.send.text() == "Send for approval"
        assert "1,500" in dialog.review.amount.text() and "USDT" in dialog.review.amount.text()
        assert "TDD9 7ygu" in dialog.review.address.text()  # the address in groups of four
        click(qtbot, dialog.send)
        await until(lambda: dialog.pages.currentIndex() == 2, what="the outcome page")
        assert dialog.outcome.title.text() == "Sent for approval"
        dialog.close()
        await until(lambda: status_in_table(shell, payout_id) is PayoutStatus.AWAITING_APPROVAL,
                    what="the payout awaiting approval in the table")

        await sign_out(shell, qtbot)
        await sign_in(shell, qtbot, "arno")
        assert not shell.window.new_payout.isVisible()  # an approver composes nothing
        await until(lambda: shell.window.approvals.text() != "Approvals", what="the count of payouts waiting")
        approvals = await approve_in_dialog(shell, qtbot, payout_id, PASSWORDS["arno"])
        await until(lambda: status_in_table(shell, payout_id) is PayoutStatus.APPROVED, what="approved in the table")
        approvals.close()

        await sign_out(shell, qtbot)
        await sign_in(shell, qtbot, "iris")
        sending = await send_from_detail(shell, qtbot, payout_id)
        assert sending.send.text() == "Send 1,500.00 USDT"
        assert "arno" in sending.review.approval.text()
        click(qtbot, sending.send)
        await until(lambda: sending.pages.currentIndex() == 1, what="the send's outcome")
        assert sending.outcome.title.text().startswith("Sent: 1,500.00 USDT")
        sending.close()
        await until(lambda: status_in_table(shell, payout_id) is PayoutStatus.PROCESSING, what="processing")

        await select(shell, payout_id)
        resets: list[str] = []
        shell.model.modelReset.connect(lambda: resets.append("reset"))
        shell.model.rowsRemoved.connect(lambda *_: resets.append("rows removed"))
        sandbox.clock.advance(15 * 60)  # the provider's quarter of an hour: it has paid
        shell.session.poller.wake()
        await until(lambda: status_in_table(shell, payout_id) is PayoutStatus.COMPLETED, timeout=30,
                    what="the payout completed in the table")
        assert resets == []  # the poller's news repainted the row; nothing was reset or removed
        assert shell.window.table.selected_payout() == payout_id  # the selection stayed
        await until(lambda: "Completed" in shell.window.detail.status.text(), what="completed in the detail panel")
        assert not shell.window.detail.buttons[PayoutAction.EXECUTE].isEnabled()

    drive(loop, shell, story, timeout=120)


def test_an_operator_who_may_approve_cannot_approve_their_own_payout_and_the_window_says_why(shell, loop, qtbot):
    async def story() -> None:
        admin = shell.session.accounts.authenticate("ada", PASSWORDS["ada"])
        shell.session.accounts.add("max", ["initiator", "approver"], "max-demo-desk", acting=admin)
        await sign_in(shell, qtbot, "max", "max-demo-desk")
        dialog = await compose(shell, qtbot, amount="2500")
        await estimate(dialog, qtbot)
        payout_id = dialog._reviewed.payout.id
        click(qtbot, dialog.send)
        await until(lambda: dialog.pages.currentIndex() == 2, what="sent for approval")
        dialog.close()

        shell.window.approvals.trigger()
        approvals = await open_dialog(shell, ApprovalsDialog)
        assert approvals.select_payout(payout_id)
        assert approvals.tabs.currentWidget() is approvals.for_others  # waiting for someone else, not for him
        assert not approvals.approve_button.isEnabled() and not approvals.reject_button.isEnabled()
        assert "you initiated this payout" in approvals.why_not.text().lower(), approvals.why_not.text()
        approvals.close()

        await select(shell, payout_id)
        approve = shell.window.detail.buttons[PayoutAction.APPROVE]
        assert not approve.isEnabled()
        assert "you initiated this payout" in approve.toolTip().lower(), approve.toolTip()

    drive(loop, shell, story)


def test_a_viewer_sees_the_payouts_but_no_new_payout_button(shell, loop, qtbot):
    async def story() -> None:
        admin = shell.session.accounts.authenticate("ada", PASSWORDS["ada"])
        shell.session.accounts.add("vera", ["viewer"], "vera-demo-desk", acting=admin)
        await sign_in(shell, qtbot, "vera", "vera-demo-desk")
        assert shell.window.screens.currentWidget() is shell.window.desk
        assert not shell.window.new_payout.isVisible()
        await until(lambda: shell.model.rowCount() > 0, what="the payouts in the table")
        shell.window.new_payout.trigger()  # its shortcut, Ctrl+N, must not open the form either
        assert not any(isinstance(d, ComposeDialog) for d in shell.dialogs.shown)

    drive(loop, shell, story)
