"""The compose form offers what the chosen provider takes (its capabilities, as the command line reads them):
Pay3's one fee mode said in words, priority only where the provider takes one."""

from __future__ import annotations

from ui_loop import drive
from window_driver import compose, estimate, sign_in

ETH_ADDRESS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def test_pay3_offers_its_one_fee_mode_in_words_and_estimates_without_a_choice(shell, loop, qtbot):
    async def story() -> None:
        await sign_in(shell, qtbot, "iris")
        dialog = await compose(shell, qtbot, provider="pay3", amount="75")
        assert dialog.fee_only.isVisible() and "Pay3 always takes its fee from the amount" in dialog.fee_only.text()
        assert not dialog.fee_balance.isVisible() and not dialog.fee_amount.isVisible()
        assert not dialog.priority.isVisible()  # Pay3 takes no priority
        await estimate(dialog, qtbot)
        assert dialog.pages.currentIndex() == 1, dialog.problem.text()
        assert dialog._reviewed.payout.fee_mode.value == "from_amount"
        dialog.close()

    drive(loop, shell, story)


def test_cryptomus_offers_both_fee_modes_and_a_priority_on_ethereum(shell, loop, qtbot):
    async def story() -> None:
        await sign_in(shell, qtbot, "iris")
        dialog = await compose(shell, qtbot, asset="ETH-ETH", address=ETH_ADDRESS, amount="0.5")
        assert dialog.fee_balance.isVisible() and dialog.fee_amount.isVisible() and not dialog.fee_only.isVisible()
        assert dialog.fee_balance.isChecked()  # Cryptomus's default: the recipient gets what was typed
        assert dialog.priority.isVisible()
        tron = await compose(shell, qtbot, amount="10")
        assert not tron.priority.isVisible()  # Cryptomus takes a priority on BTC, ETH, POLYGON and BSC only
        dialog.close()
        tron.close()

    drive(loop, shell, story)
