"""Desktop notifications in the real window (offscreen has no system tray: the bar across the top of the
window): a payout of mine that the sandbox completes; what happened while I was signed out, as one summary;
a payout that starts waiting for my approval. Amounts and addresses leave the screen when I sign out."""

from __future__ import annotations

from decimal import Decimal

from ui_loop import drive, until
from window_driver import PASSWORDS, click, compose, estimate, send_composed, sign_in, sign_out

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.services.desk_news import NoticeKind


async def send_small(shell, qtbot, amount: str) -> int:
    dialog = await compose(shell, qtbot, amount=amount)
    await estimate(dialog, qtbot)
    payout_id = dialog._reviewed.payout.id
    outcome = await send_composed(dialog, qtbot)
    assert outcome.startswith("Sent"), outcome
    dialog.close()
    return payout_id


def notices_of(shell, payout_id: int) -> list[NoticeKind]:
    return [n.kind for n in shell.notices.notifier.shown if n.payout is not None and n.payout.id == payout_id]


def test_a_payout_the_sandbox_completes_is_notified_to_its_initiator_and_shown_on_request(shell, loop, qtbot,
                                                                                          sandbox):
    async def story() -> None:
        await sign_in(shell, qtbot, "iris")
        payout_id = await send_small(shell, qtbot, "12.5")
        sandbox.clock.advance(15 * 60)
        shell.session.poller.wake()
        await until(lambda: NoticeKind.COMPLETED in notices_of(shell, payout_id), timeout=30,
                    what="the notification of the payout completed")
        bar = shell.notices.bar
        assert bar.isVisible()
        assert bar.title.text() == f"Payout {payout_id} completed"
        assert "12.50 USDT" in bar.text.text() and "has been paid" in bar.text.text(), bar.text.text()
        assert shell.session.ledger.payouts.get(payout_id).status is PayoutStatus.COMPLETED
        click(qtbot, bar.show_button)
        await until(lambda: shell.window.detail.payout_id == payout_id, what="the payout in the detail panel")
        assert not bar.isVisible()  # read: it goes

    drive(loop, shell, story, timeout=90)


def test_what_happened_while_signed_out_is_one_summary_at_the_next_sign_in(shell, loop, qtbot, sandbox):
    async def story() -> None:
        await sign_in(shell, qtbot, "iris")
        sent = [await send_small(shell, qtbot, amount) for amount in ("3", "4")]
        await sign_out(shell, qtbot)
        shown_before = len(shell.notices.notifier.shown)
        sandbox.clock.advance(15 * 60)
        shell.session.poller.wake()
        await until(lambda: all(shell.session.ledger.payouts.get(i).status is PayoutStatus.COMPLETED for i in sent),
                    timeout=30, what="both payouts completed while nobody was signed in")
        assert len(shell.notices.notifier.shown) == shown_before  # nobody to tell: nothing on the sign-in screen
        assert not shell.notices.bar.isVisible()

        await sign_in(shell, qtbot, "iris")
        await until(lambda: len(shell.notices.notifier.shown) > shown_before, what="the summary")
        (summary,) = shell.notices.notifier.shown[shown_before:]
        assert summary.kind is NoticeKind.SUMMARY and summary.while_away
        assert summary.counts.get(NoticeKind.COMPLETED, 0) >= 2  # ours (and any demo payout of iris's in flight)
        assert shell.notices.bar.title.text() == "While you were away"
        assert "payouts completed" in shell.notices.bar.text.text()

        await sign_out(shell, qtbot)
        assert not shell.notices.bar.isVisible() and shell.notices.bar.text.text() == ""  # no amounts left shown

    drive(loop, shell, story, timeout=90)


def test_a_payout_that_starts_waiting_is_notified_to_an_approver_signed_in(shell, loop, qtbot):
    async def story() -> None:
        await sign_in(shell, qtbot, "arno")
        await until(lambda: shell.notices.news.known_waiting("arno") is not None, what="what waits, at sign-in")
        assert not [n for n in shell.notices.notifier.shown if n.kind is NoticeKind.WAITING]  # no news yet
        # Sent for approval elsewhere (another process on this ledger, as `treasury-app payout request-approval`):
        session = shell.session
        iris = session.accounts.authenticate("iris", PASSWORDS["iris"])
        payout = session.workflow.compose(iris, provider="cryptomus", currency="USDT", network="TRON",
                                          address="TDD97yguPESTpcrJMqU6h2ozZbibv4Vaqm", amount=Decimal("2500"))
        await session.workflow.estimate(iris, payout.id, route_for_approval=False)
        session.approvals.request_approval(payout.id, acting=iris)
        session.poller.wake()  # the round after which the desk looks again
        await until(lambda: NoticeKind.WAITING in notices_of(shell, payout.id), timeout=20,
                    what="the notification of the payout waiting")
        assert shell.notices.bar.title.text() == f"Payout {payout.id} waits for your approval"
        assert "2,500.00 USDT" in shell.notices.bar.text.text() and "iris" in shell.notices.bar.text.text()

    drive(loop, shell, story, timeout=60)

