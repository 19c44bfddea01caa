"""The Pay3 client against the sandbox over loopback: token, estimate, execute, order details, balances."""

import asyncio
import json
from dataclasses import replace
from decimal import Decimal

import httpx
from provider_fixtures import BTC_TESTNET_ADDRESS, EVM_ADDRESS, FAST, TRON_ADDRESS, RecordingTransport, btc_testnet

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.domain.payout_request import compose_payout
from treasury_app.providers.pay3 import Pay3Currency
from treasury_app.providers.pay3_protocol import sign
from treasury_app.sandbox import DEFAULT_PAY3_API_SECRET

PAST_EVERY_PLAN = 200  # seconds: every sandbox status plan has reached its final step


def usdt_tron_pay3(amount: str = "20"):
    return compose_payout(provider="pay3", currency="USDT", network="TRON", address=TRON_ADDRESS, amount=amount,
                          fee_mode="from_amount")


async def test_payout_options_are_the_profile_s_currencies(sandbox, pay3_for):
    client = pay3_for(sandbox, currencies=(Pay3Currency.parse("USDT-TRON=USDT:TRON"),))
    (option,) = await client.payout_options()
    assert (option.asset.code, option.wire_code, option.is_available) == ("USDT-TRON", "USDT-TRON", True)
    assert option.min_amount is None and option.fee_fixed is None  # Pay3 publishes neither


async def test_the_default_currencies_are_those_of_pay3_md(pay3):
    codes = {o.wire_code: o.asset.code for o in await pay3.payout_options()}
    assert codes == {"BTC-BitcoinTestnet": "BTC-BTC_TESTNET", "USDT-TRON": "USDT-TRON", "USDT-ETH": "USDT-ETH",
                     "ETH-Ethereum": "ETH-ETH"}


async def test_estimate_gives_fee_net_amount_warning_and_the_token_to_execute(pay3, sandbox):
    estimate = await pay3.estimate(btc_testnet("0.001"), "est-p3-1")
    assert (estimate.fee, estimate.net_amount, estimate.total_debited) == (Decimal("0.000066"), Decimal("0.000934"),
                                                                          Decimal("0.001"))
    assert estimate.warnings == ("The BTC-BitcoinTestnet balance (0.5000) is below the configured threshold "
                                 "(100.0000)",)
    assert set(estimate.execution_data) == {"token", "requestId"}
    assert estimate.execution_data["requestId"] == "est-p3-1" and estimate.registers_order is True
    (order,) = sandbox.payouts("pay3")
    assert (order["idempotency_key"], order["executed"], order["debited"]) == ("est-p3-1", False, "0")


async def test_estimate_without_a_low_balance_has_no_warning(pay3):
    estimate = await pay3.estimate(usdt_tron_pay3("20"), "est-p3-2")
    assert estimate.warnings == () and estimate.fee == Decimal("1.5")


async def test_create_order_is_signed_as_pay3_md_decides(sandbox, pay3_for):
    recorder = RecordingTransport()
    client = pay3_for(sandbox, transport=recorder)
    await client.estimate(btc_testnet("0.001"), "signed-1")
    token_request, create = recorder.requests
    assert token_request.url.path == "/v1/client/access-token"
    body = json.loads(create.content)
    assert body == {"clientId": "sandbox-client", "requestId": "signed-1", "address": BTC_TESTNET_ADDRESS,
                    "currency": "BTC-BitcoinTestnet", "amount": "0.001", "payerEmail": "payouts@example.com",
                    "mode": "createEstimate"}
    expected = f"address={BTC_TESTNET_ADDRESS}&amount=0.001&currency=BTC-BitcoinTestnet&requestId=signed-1"
    assert create.headers["signature"] == sign(expected, DEFAULT_PAY3_API_SECRET)
    assert create.headers["access-token"]


async def test_execute_submits_the_estimated_order(pay3, sandbox):
    estimate = await pay3.estimate(btc_testnet("0.001"), "exec-1")
    state = await pay3.submit(btc_testnet("0.001"), "exec-1", estimate.execution_data)
    assert (state.status, state.provider_status, state.is_final) == (PayoutStatus.PROCESSING,
                                                                     "ORDER_PAYMENT_PROCESSING", False)
    assert state.provider_payout_id and state.raw["orderType"] == "PAYOUT"
    (order,) = sandbox.payouts("pay3")
    assert (order["executed"], order["debited"]) == (True, "0.001")


async def test_order_details_follow_a_payout_to_completed(pay3, sandbox):
    sandbox.force_outcome("pay3", "done-1", "COMPLETED")
    estimate = await pay3.estimate(usdt_tron_pay3("20"), "done-1")
    await pay3.submit(usdt_tron_pay3("20"), "done-1", estimate.execution_data)
    sandbox.advance(PAST_EVERY_PLAN)
    state = (await pay3.fetch_states(["done-1"]))["done-1"]
    assert (state.status, state.is_final) == (PayoutStatus.COMPLETED, True)
    assert state.paid_amount == Decimal("18.5") and state.tx_hash
    assert state.raw["paymentStatus"] == "SUCCESS"


async def test_a_failed_order_carries_pay3_s_reason(pay3, sandbox):
    sandbox.force_outcome("pay3", "failed-1", "FAILED")
    estimate = await pay3.estimate(usdt_tron_pay3("20"), "failed-1")
    await pay3.submit(usdt_tron_pay3("20"), "failed-1", estimate.execution_data)
    sandbox.advance(PAST_EVERY_PLAN)
    state = (await pay3.fetch_states(["failed-1"]))["failed-1"]
    assert (state.status, state.is_final) == (PayoutStatus.FAILED, True)
    assert "9004" in state.failure_reason and state.paid_amount is None


async def test_an_order_paid_beyond_the_balance_fails_at_pay3_not_at_execute(pay3, sandbox):
    big = compose_payout(provider="pay3", currency="USDT", network="ETH", address=EVM_ADDRESS, amount="20000",
                         fee_mode="from_amount")
    estimate = await pay3.estimate(big, "broke-1")
    await pay3.submit(big, "broke-1", estimate.execution_data)
    sandbox.advance(PAST_EVERY_PLAN)
    state = (await pay3.fetch_states(["broke-1"]))["broke-1"]
    assert state.status is PayoutStatus.FAILED and "Insufficient" in state.failure_reason


async def test_an_estimated_order_is_estimated_then_abandoned_when_never_executed(pay3, sandbox):
    await pay3.estimate(btc_testnet(), "left-1")
    assert (await pay3.fetch_states(["left-1"]))["left-1"].status is PayoutStatus.ESTIMATED
    sandbox.advance(901)
    state = (await pay3.fetch_states(["left-1"]))["left-1"]
    assert (state.status, state.provider_status, state.is_final) == (PayoutStatus.CANCELLED, "ABANDONED", True)


async def test_an_unknown_request_id_has_no_state(pay3):
    assert await pay3.fetch_states(["nobody-1", "nobody-2"]) == {"nobody-1": None, "nobody-2": None}


class InFlightGauge(RecordingTransport):
    """The real transport, counting how many order-detail requests are in flight at once."""

    def __init__(self) -> None:
        super().__init__()
        self.now = self.most = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path != "/v1/client/crypto-orders":
            return await super().handle_async_request(request)
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            await asyncio.sleep(0.02)
            return await super().handle_async_request(request)
        finally:
            self.now -= 1


async def test_many_states_are_read_one_get_each_with_bounded_concurrency(sandbox, pay3_for):
    gauge = InFlightGauge()
    client = pay3_for(sandbox, transport=gauge, settings=replace(FAST, max_concurrent_reads=2))
    keys = [f"many-{n}" for n in range(7)]
    states = await client.fetch_states(keys)
    assert states == dict.fromkeys(keys)
    assert gauge.paths().count("/v1/client/crypto-orders") == 7
    assert gauge.most == 2
    assert gauge.paths().count("/v1/client/access-token") == 1  # one token, shared by concurrent callers


async def test_numeric_error_codes_are_read_like_strings(start_sandbox, pay3_for):
    box = start_sandbox(pay3_numeric_error_codes=True)
    client = pay3_for(box)
    box.force_outcome("pay3", "numeric-1", "FAILED")
    estimate = await client.estimate(usdt_tron_pay3(), "numeric-1")
    await client.submit(usdt_tron_pay3(), "numeric-1", estimate.execution_data)
    box.advance(PAST_EVERY_PLAN)
    state = (await client.fetch_states(["numeric-1"]))["numeric-1"]
    assert "Pay3 error 9004" in state.failure_reason
    assert isinstance(state.raw["errorReason"]["errorCode"], int)


async def test_balances_are_not_offered_and_the_client_says_why(pay3):
    assert await pay3.balances() == []
    assert "no balance endpoint" in pay3.balances_note
