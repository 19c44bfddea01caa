"""What the window says when something is wrong — before anything is sent (inline, beside the field) and after
(the provider's refusal or silence, in words) — and that the ledger then holds the payout's true state."""

from __future__ import annotations

import httpx
from ui_desk import open_shell
from ui_loop import drive, ui_run, until
from window_driver import click, compose, estimate, send_composed, shown_messages, sign_in

from treasury_app.domain.payout_lifecycle import PayoutStatus

TYPO_TRON = "TDD97yguPESTpcrJMqU6h2ozZbibv4Vaqn"  # the last character changed: the checksum no longer matches
ETH_ADDRESS = "0x52908400098527886E0F7030069857D2E4169EE7"  # EIP-55's own example


def add_faults(sandbox, *specs: str) -> None:
    response = httpx.post(f"{sandbox.base_url}/_sandbox/faults", json={"faults": list(specs)}, timeout=10)
    assert response.status_code == 200, response.text


def orders_at_sandbox(sandbox, key: str) -> int:
    listed = httpx.get(f"{sandbox.base_url}/_sandbox/payouts", params={"provider": "cryptomus"}, timeout=10)
    return sum(1 for payout in listed.json()["payouts"] if payout.get("idempotency_key") == key)


def payout_count(shell) -> int:
    return shell.session.ledger.payouts.count()


def test_a_bad_address_and_too_many_decimals_are_said_beside_their_fields_and_nothing_is_written(
        shell, loop, qtbot):
    async def story() -> None:
        await sign_in(shell, qtbot, "iris")
        before = payout_count(shell)
        dialog = await compose(shell, qtbot, address=TYPO_TRON, amount="12.1234567")
        await until(lambda: dialog.errors["address"].isVisible() and dialog.errors["amount"].isVisible(),
                    what="both errors shown while typing")
        assert "checksum" in dialog.errors["address"].text()
        assert "7 decimal places; at most 6" in dialog.errors["amount"].text()
        click(qtbot, dialog.estimate)
        await until(lambda: not shell.operations.busy)
        assert dialog.pages.currentIndex() == 0  # still the form: nothing was asked of the provider
        assert payout_count(shell) == before
        dialog.close()

    drive(loop, shell, story)


def test_a_payout_over_the_balance_is_refused_in_words_and_recorded_as_failed(shell, loop, qtbot):
    async def story() -> None:
        await sign_in(shell, qtbot, "iris")
        dialog = await compose(shell, qtbot, asset="ETH-ETH", address=ETH_ADDRESS, amount="25")  # 20 ETH held
        await estimate(dialog, qtbot)
        assert dialog.pages.currentIndex() == 1, dialog.problem.text()
        payout_id = dialog._reviewed.payout.id
        said = await send_composed(dialog, qtbot)
        assert "not enough funds" in said.lower(), said
        assert "Traceback" not in said
        assert shell.session.ledger.payouts.get(payout_id).status is PayoutStatus.FAILED
        dialog.close()

    drive(loop, shell, story)


def test_a_server_error_at_send_leaves_the_payout_unknown_said_in_words_and_never_resent(
        shell, loop, qtbot, sandbox):
    async def story() -> None:
        await sign_in(shell, qtbot, "iris")
        dialog = await compose(shell, qtbot, amount="120")
        await estimate(dialog, qtbot)
        payout_id = dialog._reviewed.payout.id
        add_faults(sandbox, "cryptomus:create:500")
        said = await send_composed(dialog, qtbot)
        assert said and "Traceback" not in said and "HTTPStatusError" not in said
        # A 500 cannot prove that nothing was done: the payout is unknown, asked by its key, never sent again.
        payout = shell.session.ledger.payouts.get(payout_id)
        assert payout.status is PayoutStatus.UNKNOWN
        assert "outcome not known yet" in said and "never sent twice" in said
        # In a sentence; the server's own words (a JSON body) only as the details under it, cut short.
        assert "Cryptomus gave no usable answer" in said and "code" not in said
        details = dialog.outcome.details
        assert details.isVisibleTo(dialog) and "HTTP 500" in details.text() and len(details.text()) < 200
        assert orders_at_sandbox(sandbox, payout.idempotency_key) == 0
        dialog.close()

    drive(loop, shell, story)


def test_a_connection_dropped_after_the_provider_acted_ends_in_the_true_state_sent_once(
        shell, loop, qtbot, sandbox):
    async def story() -> None:
        await sign_in(shell, qtbot, "iris")
        dialog = await compose(shell, qtbot, amount="130")
        await estimate(dialog, qtbot)
        payout_id = dialog._reviewed.payout.id
        add_faults(sandbox, "cryptomus:create:commit-drop:1")
        said = await send_composed(dialog, qtbot)
        # Cryptomus created it and the answer was lost: the client asks by the key at once, or the payout is
        # `unknown` until the poller does; either way it is never sent again.
        assert "Traceback" not in said and said.strip(), said
        sandbox.clock.advance(60)
        shell.session.poller.wake()
        await until(lambda: shell.session.ledger.payouts.get(payout_id).status
                    in (PayoutStatus.PROCESSING, PayoutStatus.COMPLETED), timeout=30,
                    what="the payout as Cryptomus holds it")
        key = shell.session.ledger.payouts.get(payout_id).idempotency_key
        assert orders_at_sandbox(sandbox, key) == 1
        dialog.close()

    drive(loop, shell, story)


def test_closing_the_window_while_a_payout_is_submitting_loses_nothing(shell, loop, qtbot, sandbox, demo_folder):
    async def story() -> int:
        await sign_in(shell, qtbot, "iris")
        dialog = await compose(shell, qtbot, amount="140")
        await estimate(dialog, qtbot)
        payout_id = dialog._reviewed.payout.id
        add_faults(sandbox, "cryptomus:create:latency=3:1")
        click(qtbot, dialog.send)
        await until(lambda: shell.session.ledger.payouts.get(payout_id).status is PayoutStatus.SUBMITTING,
                    what="the payout submitting")
        shell.close_grace = 0.2  # the person closes at once; the answer comes after the window is gone
        return payout_id

    payout_id = ui_run(loop, _shown(shell, story))
    ui_run(loop, shell.close())
    left = shell.session.ledger.payouts.get(payout_id)
    assert left.status is PayoutStatus.SUBMITTING
    ui_run(loop, shell.session.aclose())

    async def next_start() -> PayoutStatus:
        again = await open_shell(demo_folder, sandbox)
        try:
            again.show()
            again.start_poller()  # recovery first: it asks Cryptomus by the payout's key
            return await until(lambda: _settled(again, payout_id), timeout=30, what="the payout recovered")
        finally:
            await again.close()
            await again.session.aclose()

    assert ui_run(loop, next_start()) in (PayoutStatus.PROCESSING, PayoutStatus.COMPLETED)
    assert orders_at_sandbox(sandbox, left.idempotency_key) == 1  # sent once, and only once


async def _shown(shell, story):
    shell.show()
    shell.start_poller()
    return await story()


def _settled(shell, payout_id: int) -> PayoutStatus | None:
    status = shell.session.ledger.payouts.get(payout_id).status
    return None if status is PayoutStatus.SUBMITTING else status


def test_an_evm_address_without_checksum_is_flagged_on_the_review_with_its_checksummed_form(shell, loop, qtbot):
    async def story() -> None:
        await sign_in(shell, qtbot, "iris")
        dialog = await compose(shell, qtbot, asset="ETH-ETH", address=ETH_ADDRESS.lower(), amount="0.5")
        await estimate(dialog, qtbot)
        assert dialog.pages.currentIndex() == 1, dialog.problem.text()
        warning = dialog.review.checksum
        assert warning.isVisible()
        assert "no checksum" in warning.text()
        shown = warning.text().replace(" ", "")
        assert "0x5290840009852788" in shown and "6E0F7030069857D2E4169EE7" in shown  # its checksummed form
        dialog.close()

        checksummed = await compose(shell, qtbot, asset="ETH-ETH", address=ETH_ADDRESS, amount="0.5")
        await estimate(checksummed, qtbot)
        assert not checksummed.review.checksum.isVisible()
        checksummed.close()

    drive(loop, shell, story)


def test_an_unexpected_error_is_said_in_words_and_its_details_are_in_the_log_file_it_names(shell, loop, qtbot):
    from treasury_app.desk_log import log_to_data_folder, stop_logging_to_file

    path = log_to_data_folder(shell.front.data_dir)
    try:
        async def story() -> None:
            async def broken() -> None:
                raise RuntimeError("the widget's bug, 4711")

            await shell.operations.run("show the broken thing", broken)
            messages.extend(await until(lambda: shown_messages(shell), what="the failure said"))

        messages: list[str] = []
        drive(loop, shell, story)
        (message,) = messages
        assert message.startswith("Could not show the broken thing.")
        assert f"the details are in the log file: {path}." in message, message
        assert "4711" not in message  # the person reads words; the traceback is for whoever looks into it
        logged = path.read_text(encoding="utf-8")
        assert "show the broken thing failed" in logged and "RuntimeError: the widget's bug, 4711" in logged
    finally:
        stop_logging_to_file()
