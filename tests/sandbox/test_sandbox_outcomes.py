"""What becomes of a sandbox payout: by default every one succeeds, test amounts always end as documented
(decimals ending in 13 fail, in 14 are cancelled), and random failures by seed happen only when asked for."""

from decimal import Decimal

import pytest
from sandbox_doc_requests import BTC_TESTNET_ADDRESS, TRON_ADDRESS

from treasury_app.sandbox import SandboxConfig
from treasury_app.sandbox.config import random_failure_shares
from treasury_app.sandbox.status_plans import AmountFate, decimal_digits, fate_of_amount

PAST_EVERY_PLAN = 1000  # longer than any plan (the Pay3 abandonment: 900 s), shorter than a Pay3 token's life


def cryptomus_end(box, order_id: str, amount: str, **fields) -> str:
    client = box.cryptomus
    client.result(client.create(order_id=order_id, amount=amount, **fields))
    box.advance(PAST_EVERY_PLAN)
    result = client.result(client.info(order_id=order_id))
    assert result["is_final"] is True
    return result["status"]


def pay3_ends(box, orders: dict[str, dict]) -> dict[str, dict]:
    """Each order (request id → estimate fields) estimated and executed, then read once every plan is over."""
    for request_id, fields in orders.items():
        executed = box.pay3.estimate_and_execute(request_id, **fields)
        assert executed.status_code == 200, executed.text
    box.advance(PAST_EVERY_PLAN)
    return {request_id: box.pay3.order(request_id) for request_id in orders}


@pytest.mark.parametrize(("amount", "decimals", "fate"), [
    ("10.13", "13", AmountFate.FAIL), ("10.130", "13", AmountFate.FAIL), ("0.00013", "00013", AmountFate.FAIL),
    ("2.513", "513", AmountFate.FAIL), ("10.14", "14", AmountFate.CANCEL), ("1500", "", None),
    ("13", "", None), ("10.5", "5", None), ("10.31", "31", None), ("0.001", "001", None),
])
def test_a_test_amount_is_told_by_its_last_decimals(amount, decimals, fate):
    assert decimal_digits(Decimal(amount)) == decimals
    assert fate_of_amount(Decimal(amount)) is fate


def test_by_default_every_cryptomus_payout_is_paid_whatever_the_seed(start_sandbox):
    for seed in (0, 1, 7):
        box = start_sandbox(seed=seed)
        ends = {cryptomus_end(box, f"ok-{n}", "1") for n in range(15)}
        assert ends == {"paid"}, (seed, ends)


def test_by_default_every_pay3_payout_completes_whatever_the_seed(start_sandbox):
    for seed in (0, 1, 7):
        box = start_sandbox(seed=seed)
        orders = {f"ok-{n}": {"amount": "10", "currency": "USDT-TRON", "address": TRON_ADDRESS} for n in range(10)}
        ends = {order["orderStatus"] for order in pay3_ends(box, orders).values()}
        assert ends == {"COMPLETED"}, (seed, ends)


@pytest.mark.parametrize(("amount", "end"), [("10.13", "fail"), ("1500.13", "fail"), ("10.14", "cancel"),
                                             ("10.15", "paid")])
def test_cryptomus_test_amounts_end_as_documented(start_sandbox, amount, end):
    box = start_sandbox()
    assert cryptomus_end(box, "magic-1", amount) == end


def test_a_cryptomus_test_amount_in_btc_fails_and_its_funds_come_back(start_sandbox):
    box = start_sandbox()
    before = box.cryptomus.merchant_balance("BTC")
    assert cryptomus_end(box, "magic-btc", "0.00013", currency="BTC", network="BTC",
                         address="bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4") == "fail"
    assert box.cryptomus.merchant_balance("BTC") == before


def test_pay3_test_amounts_end_as_documented(start_sandbox):
    ends = pay3_ends(start_sandbox(), {
        "magic-fail": {"amount": "0.00013", "currency": "BTC-BitcoinTestnet", "address": BTC_TESTNET_ADDRESS},
        "magic-cancel": {"amount": "10.14", "currency": "USDT-TRON", "address": TRON_ADDRESS},
        "plain": {"amount": "10.5", "currency": "USDT-TRON", "address": TRON_ADDRESS},
    })
    assert ends["magic-fail"]["orderStatus"] == "FAILED" and ends["magic-fail"]["errorReason"]["errorCode"] == "9004"
    assert ends["magic-cancel"]["orderStatus"] == "ABANDONED"
    assert ends["plain"]["orderStatus"] == "COMPLETED"


def test_a_forced_outcome_wins_over_a_test_amount(start_sandbox):
    box = start_sandbox()
    box.http.post("/_sandbox/outcomes", json={"provider": "cryptomus", "id": "forced", "outcome": "paid"})
    assert cryptomus_end(box, "forced", "10.13") == "paid"


def test_random_failures_happen_only_when_asked_for_and_follow_the_seed(start_sandbox):
    def ends(seed: int) -> list[str]:
        box = start_sandbox(seed=seed, **random_failure_shares(0.5))
        return [cryptomus_end(box, f"random-{n}", "1") for n in range(20)]

    first = ends(3)
    assert {"paid", "fail"} <= set(first)
    assert first == ends(3)


def test_the_failure_rate_is_shared_out_between_the_providers_failure_words():
    assert random_failure_shares(0.1) == pytest.approx(
        {"cryptomus_fail_share": 0.08, "cryptomus_system_fail_share": 0.02, "pay3_fail_share": 0.1})
    with pytest.raises(ValueError, match="between 0 and 1"):
        random_failure_shares(1.5)
    with pytest.raises(ValueError, match="failure shares"):
        SandboxConfig(cryptomus_fail_share=0.7, cryptomus_system_fail_share=0.4)


def test_the_control_endpoint_says_how_payouts_end(start_sandbox):
    box = start_sandbox(**random_failure_shares(0.25))
    outcomes = box.http.get("/_sandbox").json()["outcomes"]
    assert outcomes["fail_when_decimals_end_in"] == "13" and outcomes["cancel_when_decimals_end_in"] == "14"
    assert outcomes["pay3_fail_share"] == "0.25"
