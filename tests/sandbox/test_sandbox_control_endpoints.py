"""The sandbox-only endpoints under /_sandbox, and the in-process API that tests and the demo mode use."""

from decimal import Decimal

import httpx
import pytest
from sandbox_doc_requests import TRON_ADDRESS

from treasury_app.sandbox import SandboxConfig, SandboxRefused, start_in_background


def test_payouts_lists_every_payout_of_both_providers(sandbox):
    sandbox.cryptomus.create(order_id="c-1")
    sandbox.cryptomus.create(order_id="c-2")
    sandbox.pay3.estimate_and_execute("p-1", currency="USDT-TRON", address=TRON_ADDRESS, amount="10")
    sandbox.pay3.estimate(requestId="p-2")
    rows = sandbox.payouts()
    assert [(r["provider"], r["idempotency_key"]) for r in rows] == [
        ("cryptomus", "c-1"), ("cryptomus", "c-2"), ("pay3", "p-1"), ("pay3", "p-2")]
    assert [r["executed"] for r in rows] == [True, True, True, False]
    assert {r["asset"] for r in rows} == {"USDT-TRON", "BTC-BTC_TESTNET"}
    assert [r["idempotency_key"] for r in sandbox.payouts("pay3")] == ["p-1", "p-2"]
    assert sandbox.http.get("/_sandbox/payouts", params={"provider": "stripe"}).status_code == 400


def test_balances_show_both_providers(sandbox):
    balances = sandbox.http.get("/_sandbox/balances").json()
    assert Decimal(balances["cryptomus"]["USDT"]) == 25000
    assert Decimal(balances["pay3"]["BTC-BitcoinTestnet"]) == Decimal("0.5")


def test_advance_moves_statuses_forward(sandbox):
    sandbox.cryptomus.create(order_id="later")
    response = sandbox.http.post("/_sandbox/advance", json={"seconds": 3600})
    assert response.status_code == 200 and "now" in response.json()
    assert sandbox.cryptomus.result(sandbox.cryptomus.info(order_id="later"))["is_final"] is True


@pytest.mark.parametrize("body", [{"seconds": -1}, {"seconds": "soon"}, {}])
def test_advance_refuses_anything_but_forward_seconds(sandbox, body):
    assert sandbox.http.post("/_sandbox/advance", json=body).status_code == 400


def test_reset_restores_balances_and_forgets_payouts(sandbox):
    sandbox.cryptomus.create(order_id="gone")
    sandbox.http.post("/_sandbox/switches", json={"cryptomus_forbidden": True})
    assert sandbox.http.post("/_sandbox/reset").json() == {"reset": True}
    assert sandbox.payouts() == []
    assert sandbox.cryptomus.merchant_balance("USDT") == 25000
    assert sandbox.cryptomus.create(order_id="gone").status_code == 200


@pytest.mark.parametrize("body", [
    {"provider": "cryptomus", "id": "x", "outcome": "COMPLETED"},
    {"provider": "pay3", "id": "x", "outcome": "paid"},
    {"provider": "stripe", "id": "x", "outcome": "paid"},
    {"provider": "pay3", "outcome": "FAILED"},
])
def test_outcomes_refuse_what_the_provider_has_not(sandbox, body):
    assert sandbox.http.post("/_sandbox/outcomes", json=body).status_code in (400, 409)


def test_outcome_of_a_final_payout_cannot_change(sandbox):
    sandbox.cryptomus.create(order_id="done")
    sandbox.advance(3600)
    response = sandbox.http.post("/_sandbox/outcomes", json={"provider": "cryptomus", "id": "done", "outcome": "fail"})
    assert response.status_code == 409


def test_switches_refuse_non_booleans(sandbox):
    assert sandbox.http.post("/_sandbox/switches", json={"cryptomus_forbidden": "yes"}).status_code == 400


def test_info_shows_the_credentials_for_a_demo(sandbox):
    info = sandbox.http.get("/_sandbox").json()
    assert info["sandbox"] is True
    assert info["cryptomus"]["payout_key"] == "sandbox-cryptomus-payout-key"
    assert "USDT-TRON" in info["pay3"]["currencies"]


def test_control_bodies_must_be_json_objects(sandbox):
    assert sandbox.http.post("/_sandbox/faults", content=b"not json").status_code == 400
    assert sandbox.http.post("/_sandbox/faults", json=[1]).status_code == 400


def test_start_in_background_with_defaults_serves_on_a_free_loopback_port():
    with start_in_background() as running:
        assert running.base_url.startswith("http://127.0.0.1:") and running.port != 8700
        assert running.cryptomus_base_url == running.pay3_base_url == running.base_url
        assert httpx.get(f"{running.base_url}/_sandbox/payouts").json() == {"payouts": []}
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{running.base_url}/_sandbox/payouts")


def test_two_sandboxes_run_side_by_side(start_sandbox):
    first, second = start_sandbox(), start_sandbox()
    assert first.running.port != second.running.port
    first.cryptomus.create(order_id="only-here")
    assert second.payouts() == []


def test_state_is_readable_from_the_test_thread(sandbox):
    sandbox.cryptomus.create(order_id="seen")
    assert [p.order.order_id for p in sandbox.running.state.cryptomus.payouts()] == ["seen"]


def test_stop_twice_is_harmless(sandbox):
    sandbox.running.stop()
    sandbox.running.stop()


def test_non_loopback_host_is_refused_without_allow_remote():
    with pytest.raises(SandboxRefused, match="allow"):
        start_in_background(SandboxConfig(host="0.0.0.0", port=0))


def test_busy_port_is_reported(sandbox):
    with pytest.raises(OSError):
        start_in_background(SandboxConfig(port=sandbox.running.port))
