"""Pay3 crypto payouts as a client written from pay3.md meets them: token, estimate, execute, order details."""

import re
from decimal import Decimal

import jwt
import pytest
from sandbox_doc_requests import EVM_ADDRESS, PAY3_CLIENT, TRON_ADDRESS, pay3_signature

ESTIMATE_FIELDS = ["token", "requestId", "currency", "address", "warning", "estimatedFees", "estimatedNetAmount"]
DETAIL_FIELDS = {"orderId", "orderStatus", "updatedTs", "orderType", "requestId", "clientId", "paymentStatus",
                 "receivedAmount", "payersEmail", "settlementStatus", "txnHash", "cryptoCurId", "cryptoAmount"}


def pay3_balance(sandbox, code):
    return Decimal(sandbox.http.get("/_sandbox/balances").json()["pay3"][code])


def test_access_token_is_a_jwt_that_expires(pay3):
    response = pay3.access_token()
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"accessToken", "expiresIn"} and body["expiresIn"] == 3600
    claims = jwt.decode(body["accessToken"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 3600 and claims["sub"] == PAY3_CLIENT


def test_access_token_with_a_wrong_secret_is_refused(pay3):
    response = pay3.access_token(secret="wrong")
    assert response.status_code == 400
    assert response.json() == {"error": {"code": "400", "message": "Could not verify the client"}}


def test_expired_token_answers_401_and_a_new_token_works(start_sandbox):
    box = start_sandbox(pay3_token_lifetime=60)
    client = box.pay3
    old = client.login()
    assert client.estimate(requestId="before-expiry").status_code == 200
    box.advance(61)
    response = client.details("before-expiry", token=old)
    assert response.status_code == 401
    assert response.json() == {"error": {"code": "401", "message": "Client verification failed"}}
    client.login()
    assert client.details("before-expiry").status_code == 200


FORGED = jwt.encode({"sub": PAY3_CLIENT, "exp": 4102444800}, "guessed-key-" * 3)


@pytest.mark.parametrize("token", ["not-a-jwt", FORGED])
def test_forged_token_answers_401(pay3, token):
    response = pay3.estimate(token=token)
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Client verification failed"


def test_missing_token_answers_401(sandbox):
    response = sandbox.http.get("/v1/client/crypto-orders", params={"requestId": "r", "clientId": PAY3_CLIENT})
    assert response.status_code == 401
    assert response.json() == {"error": {"code": "401", "message": "Client verification failed"}}


def test_estimate_answers_fees_net_amount_and_the_low_balance_warning(sandbox, pay3):
    response = pay3.estimate()
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body) == ESTIMATE_FIELDS
    assert (body["estimatedFees"], body["estimatedNetAmount"]) == ("0.000066", "0.000034")
    assert body["warning"] == ("The BTC-BitcoinTestnet balance (0.5000) is below the configured threshold "
                               "(100.0000)")
    assert body["currency"] == "BTC-BitcoinTestnet" and body["requestId"] == "a1d4a50e-5577-4581-a980-98b03bc76260"
    (order,) = sandbox.payouts("pay3")
    assert (order["status"], order["executed"], order["debited"]) == ("CREATED", False, "0")


def test_estimate_has_no_warning_above_the_threshold(pay3):
    body = pay3.estimate(currency="USDT-TRON", address=TRON_ADDRESS, amount="100").json()
    assert "warning" not in body
    assert (body["estimatedFees"], body["estimatedNetAmount"]) == ("1.5", "98.5")


def test_threshold_is_configurable(start_sandbox):
    box = start_sandbox(pay3_low_balance_threshold=Decimal("0.25"))
    assert "warning" not in box.pay3.estimate().json()


@pytest.mark.parametrize("mode", ["createEstimate", "createestimate", "CREATEESTIMATE"])
def test_mode_is_accepted_in_any_case(pay3, mode):
    assert pay3.estimate(mode=mode).status_code == 200


@pytest.mark.parametrize("currency,address", [("USDT-ETH", EVM_ADDRESS), ("ETH-Ethereum", EVM_ADDRESS),
                                              ("USDT-TRON", TRON_ADDRESS), ("BTC-BitcoinTestnet", None)])
def test_each_configured_currency_can_be_estimated(pay3, currency, address):
    overrides = {"currency": currency, "amount": "10"} if address else {}
    if address:
        overrides["address"] = address
    assert pay3.estimate(**overrides).status_code == 200


def test_reused_request_id_answers_7001(sandbox, pay3):
    assert pay3.estimate(requestId="once").status_code == 200
    response = pay3.estimate(requestId="once")
    assert response.status_code == 400
    assert response.json() == {"error": {"code": "7001", "message": "Order already exists for given requestId"}}
    assert len(sandbox.payouts("pay3")) == 1


def test_error_codes_can_be_numbers(start_sandbox):
    box = start_sandbox(pay3_numeric_error_codes=True)
    box.pay3.estimate(requestId="once")
    assert box.pay3.estimate(requestId="once").json()["error"]["code"] == 7001


def test_wrong_signature_is_refused(sandbox, pay3):
    response = pay3.estimate(signature=pay3_signature("address=x&amount=1&currency=y&requestId=z"))
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Could not verify the client"
    assert sandbox.payouts() == []


def test_signature_with_another_secret_is_refused(pay3):
    signed = "address=a&amount=1&currency=c&requestId=r"
    assert pay3.estimate(signature=pay3_signature(signed, "other-secret")).status_code == 400


def test_client_id_other_than_the_tokens_is_refused(pay3):
    assert pay3.estimate(clientId="someone-else").status_code == 400


@pytest.mark.parametrize(("overrides", "words"), [
    ({"requestId": ""}, "requestId"),
    ({"requestId": "has space"}, "requestId"),
    ({"address": ""}, "address"),
    ({"address": TRON_ADDRESS}, "address"),
    ({"currency": "DOGE-Dogecoin"}, "not enabled"),
    ({"amount": "abc"}, "amount"),
    ({"amount": "0.000000001"}, "amount"),
    ({"amount": "0.00005"}, "fees"),
    ({"payerEmail": "nobody"}, "payerEmail"),
    ({"mode": "createExecute"}, "mode"),
])
def test_malformed_estimate_is_refused_naming_the_field(sandbox, pay3, overrides, words):
    response = pay3.estimate(**overrides)
    assert response.status_code == 400, response.text
    assert words in response.json()["error"]["message"]
    assert sandbox.payouts() == []


def test_execute_answers_the_documented_shape(pay3):
    estimate = pay3.estimate(requestId="exec-1").json()
    response = pay3.execute("exec-1", estimate["token"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"txnHash", "orderType", "orderId", "requestId", "status"}
    assert (body["orderType"], body["requestId"], body["status"]) == ("PAYOUT", "exec-1", "ORDER_PAYMENT_PROCESSING")
    assert re.fullmatch(r"[0-9a-f-]{36}", body["orderId"])


def test_execute_debits_the_amount(sandbox, pay3):
    before = pay3_balance(sandbox, "USDT-TRON")
    pay3.estimate_and_execute("debit", currency="USDT-TRON", address=TRON_ADDRESS, amount="100")
    assert pay3_balance(sandbox, "USDT-TRON") == before - 100


def test_second_execute_of_same_order_pays_nothing_more(sandbox, pay3):
    estimate = pay3.estimate(requestId="twice", currency="USDT-TRON", address=TRON_ADDRESS, amount="100").json()
    assert pay3.execute("twice", estimate["token"]).status_code == 200
    balance = pay3_balance(sandbox, "USDT-TRON")
    response = pay3.execute("twice", estimate["token"])
    assert response.status_code == 400
    assert pay3_balance(sandbox, "USDT-TRON") == balance
    assert [p["idempotency_key"] for p in sandbox.payouts("pay3")] == ["twice"]


def test_execute_with_a_wrong_order_token_or_signature_is_refused(pay3):
    estimate = pay3.estimate(requestId="guarded").json()
    assert pay3.execute("guarded", "a003d60c-d0ae-40e5-a7cb-2634ab607253").status_code == 400
    bad = pay3_signature("requestId=guarded&token=other")
    assert pay3.execute("guarded", estimate["token"], signature=bad).json()["error"]["message"] == \
        "Could not verify the client"
    assert pay3.execute("unknown", estimate["token"]).status_code == 400


def test_order_moves_through_the_statuses_to_completed(sandbox, pay3):
    sandbox.http.post("/_sandbox/outcomes", json={"provider": "pay3", "id": "to-complete", "outcome": "COMPLETED"})
    token = pay3.estimate(requestId="to-complete").json()["token"]
    assert pay3.order("to-complete")["orderStatus"] == "CREATED"
    assert pay3.execute("to-complete", token).status_code == 200
    seen = []
    for _ in range(200):
        order = pay3.order("to-complete")
        if not seen or seen[-1] != order["orderStatus"]:
            seen.append(order["orderStatus"])
        if order["orderStatus"] == "COMPLETED":
            break
        sandbox.advance(1)
    assert seen == ["ORDER_PAYMENT_PROCESSING", "ORDER_PAYMENT_INITIATED", "COMPLETED"]
    assert set(order) == DETAIL_FIELDS
    assert order["receivedAmount"] == "0.000034" and order["paymentStatus"] == "SUCCESS"
    assert re.fullmatch(r"[0-9a-f]{64}", order["txnHash"])
    assert order["cryptoCurId"] == "BTC-BitcoinTestnet" and order["payersEmail"] == "user@email.com"
    assert isinstance(order["updatedTs"], int)


def test_failed_order_carries_error_reason_9004_and_is_refunded(sandbox, pay3):
    before = pay3_balance(sandbox, "USDT-TRON")
    sandbox.http.post("/_sandbox/outcomes", json={"provider": "pay3", "id": "to-fail", "outcome": "FAILED"})
    pay3.estimate_and_execute("to-fail", currency="USDT-TRON", address=TRON_ADDRESS, amount="100")
    assert pay3_balance(sandbox, "USDT-TRON") == before - 100
    sandbox.advance(600)
    order = pay3.order("to-fail")
    assert order["orderStatus"] == "FAILED"
    assert order["errorReason"]["errorCode"] == "9004" and order["errorReason"]["errorDesc"]
    assert pay3_balance(sandbox, "USDT-TRON") == before


def test_execute_beyond_the_balance_fails_the_order_without_debit(sandbox, pay3):
    before = pay3_balance(sandbox, "BTC-BitcoinTestnet")
    pay3.estimate_and_execute("too-big", amount="1")
    assert pay3_balance(sandbox, "BTC-BitcoinTestnet") == before
    sandbox.advance(600)
    order = pay3.order("too-big")
    assert (order["orderStatus"], order["errorReason"]["errorCode"]) == ("FAILED", "9004")


def test_estimate_never_executed_ends_abandoned_and_cannot_be_executed(sandbox, pay3):
    token = pay3.estimate(requestId="forgotten").json()["token"]
    sandbox.advance(901)
    assert pay3.order("forgotten")["orderStatus"] == "ABANDONED"
    assert pay3.execute("forgotten", token).status_code == 400


def test_details_of_an_unknown_request_id_is_an_empty_list(pay3):
    response = pay3.details("never-sent")
    assert response.status_code == 200 and response.json() == {"data": []}


def test_details_need_the_tokens_client_id(pay3):
    pay3.estimate(requestId="mine")
    assert pay3.details("mine", client_id="someone-else").status_code == 400


def _pay3_fates(start_sandbox, seed):
    box = start_sandbox(seed=seed, pay3_fail_share=0.4)
    client = box.pay3
    for n in range(10):
        client.estimate_and_execute(f"fate-{n}", currency="USDT-TRON", address=TRON_ADDRESS, amount="10")
    timeline = []
    for _ in range(9):
        box.advance(10)
        timeline.append(tuple(client.order(f"fate-{n}")["orderStatus"] for n in range(10)))
    return timeline


def test_same_seed_gives_every_order_the_same_fate_and_timing(start_sandbox):
    first = _pay3_fates(start_sandbox, 11)
    assert first == _pay3_fates(start_sandbox, 11)
    assert set(first[-1]) == {"COMPLETED", "FAILED"}


def test_a_faster_pace_moves_statuses_but_leaves_an_estimate_its_full_lifetime(start_sandbox):
    box = start_sandbox(speed=50)
    pay3 = box.pay3
    token = pay3.estimate(requestId="typed-slowly").json()["token"]
    box.clock.advance(600)  # ten minutes of a person approving: the desk's own limit for an estimate's age
    assert pay3.execute("typed-slowly", token).status_code == 200
    box.clock.advance(80 / 50)  # the longest Pay3 plan, at the sandbox's pace
    assert pay3.order("typed-slowly")["orderStatus"] == "COMPLETED"
