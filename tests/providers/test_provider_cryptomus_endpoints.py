"""The Cryptomus client against the sandbox over loopback: every endpoint, as the workflow uses it."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from provider_fixtures import EVM_ADDRESS, TON_ADDRESS, TRON_ADDRESS, RecordingTransport, usdt_tron

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.domain.payout_request import compose_payout
from treasury_app.providers.cryptomus_signing import encode_body, sign_body
from treasury_app.providers.errors import ProviderUnavailableError
from treasury_app.sandbox import DEFAULT_CRYPTOMUS_PAYOUT_KEY

# Long enough for any sandbox status plan to reach its final step (speed 1: at most 85 s).
PAST_EVERY_PLAN = 200


async def test_services_become_payout_options_with_limits_and_fee_rule(cryptomus):
    options = {o.asset.code: o for o in await cryptomus.payout_options()}
    tron = options["USDT-TRON"]
    assert (tron.min_amount, tron.max_amount) == (Decimal("0.5"), Decimal("10000000"))
    assert (tron.fee_fixed, tron.fee_percent) == (Decimal("1"), Decimal("0"))
    assert tron.is_available and tron.wire_code == "USDT:TRON"
    assert options["USDC-POLYGON"].fee_percent == Decimal("0.5")
    assert options["USDC-BSC"].is_available is False
    assert all(isinstance(o.min_amount, Decimal) for o in options.values())


async def test_estimate_with_fee_from_balance_sends_the_amount_and_debits_amount_plus_fee(cryptomus, sandbox):
    estimate = await cryptomus.estimate(usdt_tron("10.5"), "est-1")
    assert (estimate.fee, estimate.net_amount, estimate.total_debited) == (Decimal(1), Decimal("10.5"),
                                                                          Decimal("11.5"))
    assert estimate.registers_order is False and estimate.execution_data == {}
    assert estimate.raw["service"]["currency"] == "USDT"
    assert sandbox.payouts() == []  # a preview moves and registers nothing


async def test_estimate_with_fee_from_amount_gives_the_recipient_less(cryptomus):
    estimate = await cryptomus.estimate(usdt_tron("10.5", fee_mode="from_amount"), "est-2")
    assert (estimate.fee, estimate.net_amount, estimate.total_debited) == (Decimal(1), Decimal("9.5"),
                                                                          Decimal("10.5"))


async def test_estimate_adds_the_percent_of_the_amount_to_the_fixed_fee(cryptomus):
    request = compose_payout(provider="cryptomus", currency="USDC", network="POLYGON", address=EVM_ADDRESS,
                             amount="100")
    estimate = await cryptomus.estimate(request, "est-3")
    assert estimate.fee == Decimal("0.2") + Decimal("0.5")  # 0.2 fixed + 0.5 % of 100


async def test_estimate_warns_that_priority_changes_the_fee(cryptomus):
    request = compose_payout(provider="cryptomus", currency="USDT", network="ETH", address=EVM_ADDRESS,
                             amount="50", priority="high")
    estimate = await cryptomus.estimate(request, "est-4")
    assert any("Priority 'high'" in w for w in estimate.warnings)


async def test_estimate_warns_when_the_balance_does_not_cover_the_total(start_sandbox, cryptomus_for):
    box = start_sandbox(cryptomus_balances={"USDT": Decimal("5")})
    estimate = await cryptomus_for(box).estimate(usdt_tron("10"), "est-5")
    assert any("balance (5)" in w and "(11" in w for w in estimate.warnings)


@pytest.mark.parametrize(("fault", "why"), [("500", "server error HTTP 500"), ("malformed", "could not be read"),
                                            ("429=30", "too many requests")])
async def test_an_estimate_whose_balance_cannot_be_read_still_gives_fee_and_net_and_says_why(
        sandbox, cryptomus, fault, why):
    sandbox.add_faults(f"cryptomus:balance:{fault}")
    estimate = await cryptomus.estimate(usdt_tron("10.5"), "est-6")
    assert (estimate.fee, estimate.net_amount, estimate.total_debited) == (Decimal(1), Decimal("10.5"),
                                                                          Decimal("11.5"))
    (warning,) = [w for w in estimate.warnings if "balance" in w]
    assert "balance could not be read" in warning and why in warning, warning
    assert "(11.5 USDT)" in warning


async def test_an_estimate_without_the_services_list_still_fails(sandbox, cryptomus):
    sandbox.add_faults("cryptomus:services:500")
    with pytest.raises(ProviderUnavailableError, match="list payout services: server error HTTP 500"):
        await cryptomus.estimate(usdt_tron("10.5"), "est-7")


async def test_submit_creates_one_payout_under_the_order_id(cryptomus, sandbox):
    state = await cryptomus.submit(usdt_tron("10.5"), "order-1", {})
    assert state.status is PayoutStatus.PROCESSING and state.provider_status == "process"
    assert state.is_final is False and state.idempotency_key == "order-1"
    assert state.provider_payout_id and state.tx_hash is None
    (payout,) = sandbox.payouts("cryptomus")
    assert (payout["idempotency_key"], payout["amount"], payout["address"]) == ("order-1", "10.5", TRON_ADDRESS)


async def test_a_second_submit_with_the_same_key_returns_the_first_payout_and_pays_nothing_more(cryptomus, sandbox):
    first = await cryptomus.submit(usdt_tron("10.5"), "order-2", {})
    second = await cryptomus.submit(usdt_tron("10.5"), "order-2", {})
    assert second.provider_payout_id == first.provider_payout_id
    assert len(sandbox.payouts("cryptomus")) == 1


async def test_submit_signs_exactly_the_bytes_it_sends(sandbox, cryptomus_for):
    recorder = RecordingTransport()
    client = cryptomus_for(sandbox, transport=recorder)
    await client.submit(usdt_tron("10.5"), "order-3", {})
    (request,) = recorder.requests
    body = request.content
    assert request.headers["sign"] == sign_body(body, DEFAULT_CRYPTOMUS_PAYOUT_KEY)
    assert body == encode_body({"amount": "10.5", "currency": "USDT", "network": "TRON", "order_id": "order-3",
                                "address": TRON_ADDRESS, "is_subtract": True})


async def test_memo_and_priority_travel_where_the_network_has_them(sandbox, cryptomus_for):
    recorder = RecordingTransport()
    client = cryptomus_for(sandbox, transport=recorder)
    ton = compose_payout(provider="cryptomus", currency="TON", network="TON", address=TON_ADDRESS, amount="1",
                         memo="deposit 42")
    eth = compose_payout(provider="cryptomus", currency="ETH", network="ETH", address=EVM_ADDRESS, amount="0.01",
                         priority="economy")
    await client.submit(ton, "memo-1", {})
    await client.submit(eth, "prio-1", {})
    assert b'"memo":"deposit 42"' in recorder.requests[0].content
    assert b'"priority":"economy"' in recorder.requests[1].content


async def test_info_follows_a_payout_to_paid_and_final(cryptomus, sandbox):
    sandbox.force_outcome("cryptomus", "order-4", "paid")
    await cryptomus.submit(usdt_tron("10.5"), "order-4", {})
    sandbox.advance(PAST_EVERY_PLAN)
    state = await cryptomus.payout_info("order-4")
    assert state.status is PayoutStatus.COMPLETED and state.is_final
    assert state.tx_hash and state.paid_amount == Decimal("10.5")
    assert state.raw["status"] == "paid"


@pytest.mark.parametrize(("outcome", "status"), [("fail", PayoutStatus.FAILED),
                                                  ("system_fail", PayoutStatus.FAILED),
                                                  ("cancel", PayoutStatus.CANCELLED)])
async def test_final_failures_map_onto_the_lifecycle_with_the_raw_status_kept(cryptomus, sandbox, outcome, status):
    sandbox.force_outcome("cryptomus", f"end-{outcome}", outcome)
    await cryptomus.submit(usdt_tron("2"), f"end-{outcome}", {})
    sandbox.advance(PAST_EVERY_PLAN)
    state = await cryptomus.payout_info(f"end-{outcome}")
    assert (state.status, state.provider_status, state.is_final) == (status, outcome, True)
    assert state.failure_reason and state.paid_amount is None


async def test_an_unknown_order_id_has_no_state(cryptomus):
    assert await cryptomus.payout_info("never-sent") is None
    assert await cryptomus.fetch_states(["never-sent"]) == {"never-sent": None}


async def test_few_states_are_read_one_by_one_with_info(sandbox, cryptomus_for):
    recorder = RecordingTransport()
    client = cryptomus_for(sandbox, transport=recorder)
    await client.submit(usdt_tron("1"), "few-1", {})
    states = await client.fetch_states(["few-1", "few-2"])
    assert states["few-1"].provider_status == "process" and states["few-2"] is None
    assert recorder.paths()[1:] == ["/v1/payout/info", "/v1/payout/info"]


async def test_many_states_are_read_in_batches_through_the_list_following_the_cursor(start_sandbox, cryptomus_for):
    box = start_sandbox(cryptomus_page_size=3)
    recorder = RecordingTransport()
    client = cryptomus_for(box, transport=recorder)
    keys = [f"batch-{n}" for n in range(8)]
    for key in keys:
        await client.submit(usdt_tron("1"), key, {})
    recorder.requests.clear()
    states = await client.fetch_states([*keys, "batch-missing"])
    assert all(states[key].idempotency_key == key for key in keys) and states["batch-missing"] is None
    list_calls = [r for r in recorder.requests if r.url.path == "/v1/payout/list"]
    assert len(list_calls) == 3  # 8 payouts, 3 a page
    assert "cursor" not in list_calls[0].url.params and all("cursor" in r.url.params for r in list_calls[1:])
    # The cursor travels in the URL; the signed body is the same every time.
    assert {r.content for r in list_calls} == {b"{}"}
    assert recorder.paths().count("/v1/payout/info") == 1  # only the key the list did not have


async def test_the_history_is_listed_page_by_page_and_filtered_by_date(start_sandbox, cryptomus_for):
    box = start_sandbox(cryptomus_page_size=2)
    client = cryptomus_for(box)
    for n in range(5):
        await client.submit(usdt_tron("1"), f"hist-{n}", {})
    history = await client.list_payouts()
    assert [s.idempotency_key for s in history] == [f"hist-{n}" for n in reversed(range(5))]
    assert len(await client.list_payouts(max_pages=2)) == 4
    now = datetime.fromtimestamp(box.clock.now(), UTC)
    assert await client.list_payouts(date_from=now + timedelta(days=1)) == []
    assert len(await client.list_payouts(date_from=now - timedelta(hours=1), date_to=now + timedelta(hours=1))) == 5


async def test_balances_are_the_merchant_wallets_as_decimals(cryptomus):
    balances = {b.currency: b for b in await cryptomus.balances()}
    assert balances["USDT"].amount == Decimal("25000")
    assert balances["BTC"].amount == Decimal("1.5")
    assert balances["USDT"].raw["balance_usd"] == "25000.00"


async def test_a_payout_lowers_the_balance_by_amount_and_fee(cryptomus):
    await cryptomus.submit(usdt_tron("10"), "bal-1", {})
    balances = {b.currency: b.amount for b in await cryptomus.balances()}
    assert balances["USDT"] == Decimal("25000") - Decimal("11")


async def test_credentials_are_verified_with_a_signed_read(cryptomus):
    await cryptomus.verify_credentials()

