"""Every Cryptomus validation error (422 with the `errors` map) and every documented business message."""

import dataclasses
from decimal import Decimal

import pytest
from sandbox_doc_requests import BTC_ADDRESS, EVM_ADDRESS, TRON_ADDRESS

from treasury_app.sandbox.config import DEFAULT_CRYPTOMUS_BALANCES, DEFAULT_USD_RATES, SandboxConfig


@pytest.mark.parametrize(("fields", "error_field", "code"), [
    ({"amount": None}, "amount", "validation.required"),
    ({"amount": ""}, "amount", "validation.required"),
    ({"amount": "ten"}, "amount", "validation.numeric"),
    ({"amount": "1e3"}, "amount", "validation.numeric"),
    ({"amount": "0"}, "amount", "validation.gt.numeric"),
    ({"amount": "-5"}, "amount", "validation.gt.numeric"),
    ({"amount": True}, "amount", "validation.numeric"),
    ({"amount": "10.1234567"}, "amount", "validation.decimal"),  # USDT on TRON has 6 places
    ({"currency": None}, "currency", "validation.required"),
    ({"currency": 5}, "currency", "validation.string"),
    ({"network": 5}, "network", "validation.string"),
    ({"currency": "USDT", "network": None}, "network", "validation.required"),  # USDT lives on several
    ({"order_id": None}, "order_id", "validation.required"),
    ({"order_id": "x" * 101}, "order_id", "validation.max.string"),
    ({"order_id": "no spaces"}, "order_id", "validation.alpha_dash"),
    ({"order_id": "üñí"}, "order_id", "validation.alpha_dash"),
    ({"order_id": 12}, "order_id", "validation.string"),
    ({"address": None}, "address", "validation.required"),
    ({"address": "not-an-address"}, "address", "validation.address"),
    ({"address": EVM_ADDRESS}, "address", "validation.address"),  # an Ethereum address on TRON
    ({"is_subtract": None}, "is_subtract", "validation.required"),
    ({"is_subtract": "yes"}, "is_subtract", "validation.boolean"),
    ({"is_subtract": "true"}, "is_subtract", "validation.boolean"),
    ({"memo": "m" * 31}, "memo", "validation.max.string"),
    ({"priority": "urgent"}, "priority", "validation.in"),
    ({"course_source": "Coinbase"}, "course_source", "validation.in"),
    ({"from_currency": "BTC"}, "from_currency", "validation.in"),
    ({"url_callback": "ftp://example.com/x"}, "url_callback", "validation.url"),
    ({"currency": "USD", "to_currency": None}, "to_currency", "validation.required"),
])
def test_malformed_field_answers_422_with_the_errors_map(sandbox, cryptomus, fields, error_field, code):
    response = cryptomus.create(**fields)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["state"] == 1
    assert code in body["errors"][error_field]
    assert sandbox.payouts() == []


def test_every_missing_required_field_is_named_at_once(cryptomus):
    response = cryptomus.call("/v1/payout", {})
    assert set(response.json()["errors"]) == {"amount", "currency", "order_id", "address", "is_subtract"}


@pytest.mark.parametrize("value", [True, False, 1, 0, "1", "0"])
def test_is_subtract_takes_every_boolean_form_laravel_takes(cryptomus, value):
    assert cryptomus.create(is_subtract=value).status_code == 200


@pytest.mark.parametrize(("fields", "message"), [
    ({"currency": "XYZ"}, "The currency was not found"),
    ({"currency": "BTC", "network": "TRON"}, "The service was not found"),
    ({"currency": "USDC", "network": "BSC", "address": EVM_ADDRESS}, "The service was not found"),  # unavailable
    ({"currency": "DOGE", "network": "DOGE", "address": "DH5yaieqoZN36fDVciNyRueRGvGLR3mr7L", "amount": "100"},
     "Wallet not found"),
    ({"amount": "0.4"}, "Minimum amount 0.5 USDT"),
    ({"amount": "10000001"}, "Maximum amount 10000000 USDT"),
    ({"amount": "25000"}, "Not enough funds"),  # 25000 + 1 commission > 25000
    ({"amount": "1", "is_subtract": False, "currency": "TRX"}, "The withdrawal amount is too small"),
    ({"currency": "USD", "to_currency": "XYZ"}, "Not found service to_currency"),
    ({"currency": "BTC", "network": "BTC", "address": BTC_ADDRESS, "amount": "1", "from_currency": "USDT"},
     "Not enough balance for convert USDT to BTC"),
])
def test_business_errors_answer_the_documented_messages(sandbox, cryptomus, fields, message):
    before = cryptomus.merchant_balance("USDT")
    response = cryptomus.create(**fields)
    assert response.status_code != 200
    assert response.json() == {"state": 1, "message": message}
    assert sandbox.payouts() == []
    assert cryptomus.merchant_balance("USDT") == before


def test_a_refused_order_id_can_be_used_again(cryptomus):
    assert cryptomus.create(order_id="retry-me", amount="0.4").status_code != 200
    assert cryptomus.create(order_id="retry-me", amount="1").status_code == 200


def test_conversion_without_a_rate_answers_error_convert(start_sandbox):
    rates = {k: v for k, v in DEFAULT_USD_RATES.items() if k != "TRX"}
    box = start_sandbox(cryptomus_usd_rates=rates)
    response = box.cryptomus.create(currency="USD", to_currency="TRX", network="TRON", amount="20")
    assert response.json() == {"state": 1, "message": "Error convert to_currency"}


def test_forbidden_switch_refuses_every_create(start_sandbox):
    box = start_sandbox(cryptomus_forbidden=True)
    response = box.cryptomus.create()
    assert response.json() == {"state": 1, "message": "You are forbidden"}
    assert box.payouts() == []


def test_forbidden_switch_still_answers_an_existing_order_id(sandbox, cryptomus):
    created = cryptomus.result(cryptomus.create(order_id="before-block"))
    sandbox.http.post("/_sandbox/switches", json={"cryptomus_forbidden": True})
    assert cryptomus.result(cryptomus.create(order_id="before-block"))["uuid"] == created["uuid"]
    assert cryptomus.create(order_id="after-block").json()["message"] == "You are forbidden"


def test_terminal_not_found_switch_at_run_time_and_back(sandbox, cryptomus):
    sandbox.http.post("/_sandbox/switches", json={"cryptomus_terminal_not_found": True})
    assert cryptomus.create().json() == {"state": 1, "message": "The terminal was not found"}
    sandbox.http.post("/_sandbox/switches", json={"cryptomus_terminal_not_found": False})
    assert cryptomus.create().status_code == 200


def test_config_balances_decide_the_wallets(start_sandbox):
    box = start_sandbox(cryptomus_balances={**DEFAULT_CRYPTOMUS_BALANCES, "USDT": Decimal("5")})
    assert box.cryptomus.create(amount="4").status_code == 200  # 4 + 1 commission = 5
    assert box.cryptomus.create(amount="0.5", order_id="next").json()["message"] == "Not enough funds"


def test_config_refuses_a_service_the_catalogue_does_not_know():
    from treasury_app.domain.errors import InvalidFieldError
    from treasury_app.sandbox.config import CryptomusService

    bogus = CryptomusService("USDT", "NOWHERE", Decimal(1), Decimal(2), Decimal(0))
    with pytest.raises(InvalidFieldError):
        dataclasses.replace(SandboxConfig(), cryptomus_services=(bogus,))


def test_address_is_checked_for_the_network(cryptomus):
    assert cryptomus.create(address=TRON_ADDRESS[:-1] + "W").status_code == 422
