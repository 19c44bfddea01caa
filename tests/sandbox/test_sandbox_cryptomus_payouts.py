"""Cryptomus payouts as a client written from cryptomus.md meets them: create, info, list, services, balance."""

import base64
import json
import re
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from sandbox_doc_requests import BTC_ADDRESS, EVM_ADDRESS, MERCHANT, CryptomusClient, decimal_json

from treasury_app.sandbox import SandboxConfig, start_in_background
from treasury_app.sandbox.clock import MANUAL_CLOCK_START

RESULT_FIELDS = {"uuid", "amount", "currency", "network", "address", "txid", "status", "is_final", "balance",
                 "payer_currency", "payer_amount"}


def test_create_answers_the_documented_result_shape(cryptomus):
    result = cryptomus.result(cryptomus.create())
    assert set(result) == RESULT_FIELDS
    assert re.fullmatch(r"[0-9a-f-]{36}", result["uuid"])
    assert result["txid"] is None and result["status"] == "process" and result["is_final"] is False
    assert (result["payer_currency"], result["payer_amount"]) == ("USDT", Decimal("10.50"))
    # The documented example mixes a string amount with a numeric balance; so does the sandbox.
    assert isinstance(result["amount"], str) and isinstance(result["balance"], Decimal)


def test_second_create_with_same_order_id_creates_nothing(sandbox, cryptomus):
    first = cryptomus.result(cryptomus.create(order_id="same-order"))
    balance_after_first = cryptomus.merchant_balance("USDT")
    second = cryptomus.result(cryptomus.create(order_id="same-order"))
    assert second["uuid"] == first["uuid"]
    assert cryptomus.merchant_balance("USDT") == balance_after_first
    assert [p["idempotency_key"] for p in sandbox.payouts()] == ["same-order"]


def test_second_create_with_same_order_id_returns_the_first_even_with_other_fields(sandbox, cryptomus):
    first = cryptomus.result(cryptomus.create(order_id="same-order", amount="10.50"))
    second = cryptomus.result(cryptomus.create(order_id="same-order", amount="99"))
    assert second["uuid"] == first["uuid"] and second["amount"] == "10.50000000"
    assert len(sandbox.payouts()) == 1


def test_is_subtract_true_debits_amount_plus_commission(cryptomus):
    before = cryptomus.merchant_balance("USDT")
    result = cryptomus.result(cryptomus.create(amount="10.50", is_subtract=True))
    assert cryptomus.merchant_balance("USDT") == before - Decimal("11.50")  # USDT on TRON: 1 USDT commission
    assert result["balance"] == before - Decimal("11.50")
    assert result["payer_amount"] == Decimal("10.50")


def test_is_subtract_false_debits_only_the_amount(cryptomus):
    before = cryptomus.merchant_balance("USDT")
    cryptomus.result(cryptomus.create(amount="10.50", is_subtract=False))
    assert cryptomus.merchant_balance("USDT") == before - Decimal("10.50")


def test_percent_commission_is_added_to_the_fixed_fee(cryptomus):
    before = cryptomus.merchant_balance("USDC")
    cryptomus.result(cryptomus.create(currency="USDC", network="POLYGON", address=EVM_ADDRESS, amount="100"))
    assert cryptomus.merchant_balance("USDC") == before - Decimal("100.70")  # 0.2 + 0.5 % of 100


def test_priority_changes_the_fee_on_networks_that_take_it(cryptomus):
    before = cryptomus.merchant_balance("ETH")
    cryptomus.result(cryptomus.create(currency="ETH", network="ETH", address=EVM_ADDRESS, amount="1",
                                      priority="highest", order_id="eth-highest"))
    assert cryptomus.merchant_balance("ETH") == before - Decimal("1.001")  # fee 0.0005 doubled


def test_network_may_be_left_out_when_the_currency_has_one(cryptomus):
    result = cryptomus.result(cryptomus.create(currency="BTC", network=None, address=BTC_ADDRESS, amount="0.01"))
    assert result["network"] == "BTC"


def test_failed_payout_refunds_the_balance_when_final(sandbox, cryptomus):
    before = cryptomus.merchant_balance("USDT")
    sandbox.http.post("/_sandbox/outcomes", json={"provider": "cryptomus", "id": "will-fail", "outcome": "fail"})
    cryptomus.result(cryptomus.create(order_id="will-fail"))
    assert cryptomus.merchant_balance("USDT") == before - Decimal("11.50")
    sandbox.advance(600)
    result = cryptomus.result(cryptomus.info(order_id="will-fail"))
    assert (result["status"], result["is_final"], result["txid"]) == ("fail", True, None)
    assert cryptomus.merchant_balance("USDT") == before


def test_forcing_the_outcome_of_an_existing_payout_changes_its_end(sandbox, cryptomus):
    cryptomus.result(cryptomus.create(order_id="late-decision"))
    response = sandbox.http.post("/_sandbox/outcomes",
                                 json={"provider": "cryptomus", "id": "late-decision", "outcome": "system_fail"})
    assert response.json()["applied_to_existing"] is True
    sandbox.advance(600)
    assert cryptomus.result(cryptomus.info(order_id="late-decision"))["status"] == "system_fail"


def test_statuses_advance_process_check_paid_with_a_txid(sandbox, cryptomus):
    sandbox.http.post("/_sandbox/outcomes", json={"provider": "cryptomus", "id": "will-pay", "outcome": "paid"})
    uuid = cryptomus.result(cryptomus.create(order_id="will-pay"))["uuid"]
    seen = []
    for _ in range(120):
        result = cryptomus.result(cryptomus.info(uuid=uuid))
        if not seen or seen[-1] != result["status"]:
            seen.append(result["status"])
        if result["is_final"]:
            break
        sandbox.advance(1)
    assert seen == ["process", "check", "paid"]
    assert re.fullmatch(r"[0-9a-f]{64}", result["txid"])


def _fates(start_sandbox, seed):
    # Random failures are off by default: asked for here, so that a seed decides fates as well as timings.
    box = start_sandbox(seed=seed, cryptomus_fail_share=0.3, cryptomus_system_fail_share=0.1)
    client = box.cryptomus
    for n in range(12):
        client.result(client.create(order_id=f"fate-{n}", amount="1"))
    timeline = []
    for _ in range(10):
        box.advance(10)
        timeline.append(tuple(client.result(client.info(order_id=f"fate-{n}"))["status"] for n in range(12)))
    return timeline


def test_same_seed_gives_every_order_the_same_fate_and_timing(start_sandbox):
    assert _fates(start_sandbox, 7) == _fates(start_sandbox, 7)


def test_different_seeds_give_different_fates(start_sandbox):
    assert _fates(start_sandbox, 7) != _fates(start_sandbox, 8)


def test_every_payout_ends_final_with_some_failures_over_many_orders(start_sandbox):
    box = start_sandbox(seed=3, cryptomus_fail_share=0.3, cryptomus_system_fail_share=0.1)
    client = box.cryptomus
    for n in range(40):
        client.result(client.create(order_id=f"many-{n}", amount="1"))
    box.advance(3600)
    ends = {client.result(client.info(order_id=f"many-{n}"))["status"] for n in range(40)}
    assert ends == {"paid", "fail", "system_fail"}


def test_speed_fifty_makes_a_minute_take_about_a_second(start_sandbox):
    box = start_sandbox(speed=50)
    client = box.cryptomus
    client.result(client.create(order_id="fast"))
    box.advance(2)  # the slowest plan takes 85 provider seconds: 1.7 s at speed 50
    assert client.result(client.info(order_id="fast"))["is_final"] is True


def test_info_by_order_id_wins_over_uuid(cryptomus):
    first = cryptomus.result(cryptomus.create(order_id="first"))
    second = cryptomus.result(cryptomus.create(order_id="second"))
    result = cryptomus.result(cryptomus.info(uuid=first["uuid"], order_id="second"))
    assert result["uuid"] == second["uuid"]


def test_info_of_an_unknown_payout_is_an_error(cryptomus):
    response = cryptomus.info(order_id="never-created")
    assert response.status_code == 404
    assert response.json() == {"state": 1, "message": "Payout not found"}


@pytest.mark.parametrize(("fields", "error_field", "code"), [
    ({}, "uuid", "validation.required_without"),
    ({"order_id": "x" * 33}, "order_id", "validation.max.string"),
    ({"order_id": "has space"}, "order_id", "validation.alpha_dash"),
    ({"uuid": "not-a-uuid"}, "uuid", "validation.uuid"),
])
def test_info_validates_its_fields(cryptomus, fields, error_field, code):
    response = cryptomus.info(**fields)
    assert response.status_code == 422
    assert code in response.json()["errors"][error_field]


def test_list_pages_with_next_cursor_newest_first(start_sandbox):
    box = start_sandbox(cryptomus_page_size=4)
    client = box.cryptomus
    for n in range(10):
        client.result(client.create(order_id=f"page-{n}", amount="1"))
        box.advance(1)
    seen, cursor, pages = [], None, 0
    while True:
        params = {"cursor": cursor} if cursor else None
        result = client.result(client.call("/v1/payout/list", {}, params=params))
        pages += 1
        seen += [item["order_id"] for item in result["items"]]
        paginate = result["paginate"]
        assert paginate["perPage"] == 4 and paginate["hasPages"] is True
        assert paginate["count"] == len(result["items"])
        cursor = paginate["nextCursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == [f"page-{n}" for n in reversed(range(10))]


def test_list_previous_cursor_goes_back_one_page(start_sandbox):
    box = start_sandbox(cryptomus_page_size=3)
    client = box.cryptomus
    for n in range(7):
        client.result(client.create(order_id=f"back-{n}", amount="1"))
    first = client.result(client.call("/v1/payout/list"))
    assert first["paginate"]["previousCursor"] is None
    second = client.result(client.call("/v1/payout/list", params={"cursor": first["paginate"]["nextCursor"]}))
    back = client.result(client.call("/v1/payout/list", params={"cursor": second["paginate"]["previousCursor"]}))
    assert [i["order_id"] for i in back["items"]] == [i["order_id"] for i in first["items"]]


def test_list_cursor_is_sent_in_the_query_and_not_signed(cryptomus):
    """The body is signed without the cursor, so the same signed `{}` serves every page."""
    for n in range(20):
        cryptomus.result(cryptomus.create(order_id=f"q-{n}", amount="1"))
    first = cryptomus.result(cryptomus.call("/v1/payout/list"))
    cursor = first["paginate"]["nextCursor"]
    json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))  # an opaque but well-formed cursor
    second = cryptomus.result(cryptomus.call("/v1/payout/list", params={"cursor": cursor}))
    assert second["items"] and second["paginate"]["nextCursor"] is None


def test_list_items_carry_times_in_utc_plus_three(sandbox, cryptomus):
    cryptomus.result(cryptomus.create(order_id="timed"))
    sandbox.advance(3600)
    result = cryptomus.result(cryptomus.call("/v1/payout/list"))
    (item,) = result["items"]
    assert result["merchant_uuid"] == MERCHANT
    created = datetime.strptime(item["created_at"], "%Y-%m-%d %H:%M:%S")
    assert created == datetime.fromtimestamp(MANUAL_CLOCK_START, UTC).replace(tzinfo=None) + timedelta(hours=3)
    assert datetime.strptime(item["updated_at"], "%Y-%m-%d %H:%M:%S") > created
    assert set(item) >= RESULT_FIELDS


def test_list_filters_by_date_in_utc_plus_three(sandbox, cryptomus):
    cryptomus.result(cryptomus.create(order_id="day-one"))
    sandbox.advance(86400)
    cryptomus.result(cryptomus.create(order_id="day-two"))
    # The manual clock starts 2025-01-01 00:00 UTC, which is 03:00 in UTC+3.
    result = cryptomus.result(cryptomus.call("/v1/payout/list", {"date_from": "2025-01-02 0:00:00",
                                                                  "date_to": "2025-01-02 23:59:59"}))
    assert [i["order_id"] for i in result["items"]] == ["day-two"]


def test_list_dates_are_moscow_time_to_the_second_and_include_their_bounds(cryptomus):
    cryptomus.result(cryptomus.create(order_id="at-start"))  # 2025-01-01 00:00:00 UTC, 03:00:00 in Moscow

    def listed(**period: str) -> list[str]:
        return [i["order_id"] for i in cryptomus.result(cryptomus.call("/v1/payout/list", period))["items"]]

    assert listed(date_from="2025-01-01 3:00:00", date_to="2025-01-01 03:00:00") == ["at-start"]
    assert listed(date_from="2025-01-01 03:00:01") == []
    assert listed(date_to="2025-01-01 02:59:59") == []
    # The hour around it written in UTC finds nothing: the period is read in Moscow time.
    assert listed(date_from="2024-12-31 23:00:00", date_to="2025-01-01 01:00:00") == []


@pytest.mark.parametrize("field", ["date_from", "date_to"])
def test_list_refuses_a_badly_written_date(cryptomus, field):
    response = cryptomus.call("/v1/payout/list", {field: "2025-01-02T00:00:00"})
    assert response.status_code == 422
    assert response.json()["errors"] == {field: ["validation.date_format"]}


def test_list_refuses_a_cursor_it_did_not_write(cryptomus):
    response = cryptomus.call("/v1/payout/list", params={"cursor": "%%%"})
    assert response.status_code == 422


def test_services_list_every_field_with_numbers_as_strings(cryptomus):
    services = cryptomus.result(cryptomus.call("/v1/payout/services"))
    usdt_tron = next(s for s in services if (s["currency"], s["network"]) == ("USDT", "TRON"))
    assert usdt_tron == {"network": "TRON", "currency": "USDT", "is_available": True,
                         "limit": {"min_amount": "0.50000000", "max_amount": "10000000.00000000"},
                         "commission": {"fee_amount": "1.00000000", "percent": "0.00"}}
    for service in services:
        for value in [*service["limit"].values(), *service["commission"].values()]:
            assert isinstance(value, str)
    assert any(not s["is_available"] for s in services)


def test_balance_lists_merchant_wallets_with_balance_usd(cryptomus):
    result = cryptomus.result(cryptomus.call("/v1/balance"))
    balance = result[0]["balance"]
    assert set(balance) == {"merchant", "user"}
    btc = next(w for w in balance["merchant"] if w["currency_code"] == "BTC")
    assert set(btc) == {"uuid", "balance", "currency_code", "balance_usd"}
    assert (btc["balance"], btc["balance_usd"]) == ("1.50000000", "90000.00")


def test_amounts_arrive_without_floats(cryptomus):
    response = cryptomus.create(amount="0.7")
    assert decimal_json(response)["result"]["payer_amount"] == Decimal("0.7")


def test_fiat_amount_is_paid_in_to_currency(cryptomus):
    before = cryptomus.merchant_balance("USDT")
    result = cryptomus.result(cryptomus.create(currency="USD", to_currency="USDT", amount="20", order_id="fiat"))
    assert (result["currency"], result["payer_currency"], result["payer_amount"]) == ("USD", "USDT", Decimal("20"))
    assert cryptomus.merchant_balance("USDT") == before - Decimal("21")


def test_from_currency_usdt_pays_from_the_usdt_wallet(cryptomus):
    usdt, trx = cryptomus.merchant_balance("USDT"), cryptomus.merchant_balance("TRX")
    cryptomus.result(cryptomus.create(currency="TRX", network="TRON", amount="100", from_currency="USDT",
                                      order_id="convert"))
    assert cryptomus.merchant_balance("TRX") == trx
    assert cryptomus.merchant_balance("USDT") == usdt - Decimal("12.12")  # (100 + 1 TRX) at 0.12 USD


def test_real_clock_at_high_speed_reaches_final_in_real_time():
    with start_in_background(SandboxConfig(port=0, speed=2000)) as running:
        client = CryptomusClient(httpx.Client(base_url=running.base_url, timeout=10))
        uuid = client.result(client.create(order_id="real-time"))["uuid"]
        deadline = time.monotonic() + 5
        while not (result := client.result(client.info(uuid=uuid)))["is_final"] and time.monotonic() < deadline:
            time.sleep(0.02)
        client.http.close()
    assert result["is_final"] is True
