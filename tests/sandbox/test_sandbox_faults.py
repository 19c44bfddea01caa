"""Injected faults: every kind, on both providers, one-shot or sticky, from the config or at run time."""

import json
import time

import httpx
import pytest
from sandbox_doc_requests import TRON_ADDRESS

from treasury_app.sandbox import FaultKind, FaultSpecError, parse_fault
from treasury_app.sandbox.faults import ANY, FaultBoard

TRANSPORT_ERRORS = (httpx.RemoteProtocolError, httpx.ReadError)
CRYPTOMUS_SERVER_ERROR = {"message": "Server error, #1", "code": 500, "error": None}


def call(box, provider, endpoint, key="fault-1"):
    """One request to a provider endpoint, built as the references describe it."""
    if provider == "cryptomus":
        client = box.cryptomus
        return {
            "create": lambda: client.create(order_id=key),
            "info": lambda: client.info(order_id=key),
            "list": lambda: client.call("/v1/payout/list"),
            "services": lambda: client.call("/v1/payout/services"),
            "balance": lambda: client.call("/v1/balance"),
        }[endpoint]()
    client = box.pay3
    return {
        "token": lambda: client.access_token(),
        "create": lambda: client.estimate(requestId=key),
        "execute": lambda: client.estimate_and_execute(key),
        "details": lambda: client.details(key),
    }[endpoint]()


ALL_ENDPOINTS = [("cryptomus", e) for e in ("create", "info", "list", "services", "balance")] + \
                [("pay3", e) for e in ("token", "create", "execute", "details")]


@pytest.fixture
def box(sandbox):
    sandbox.pay3.login()  # a token first, so a fault on another endpoint does not hit the login
    return sandbox


@pytest.mark.parametrize(("provider", "endpoint"), ALL_ENDPOINTS)
def test_500_hits_the_chosen_endpoint_only(box, provider, endpoint):
    box.add_faults(f"{provider}:{endpoint}:500")
    response = call(box, provider, endpoint)
    assert response.status_code == 500
    other_provider = "pay3" if provider == "cryptomus" else "cryptomus"
    assert call(box, other_provider, "create", key="unaffected").status_code == 200


def test_cryptomus_500_has_the_documented_body_and_creates_nothing(box):
    box.add_faults("cryptomus:create:500")
    response = call(box, "cryptomus", "create")
    assert (response.status_code, response.json()) == (500, CRYPTOMUS_SERVER_ERROR)
    assert box.payouts() == []


def test_pay3_500_has_pay3s_error_shape(box):
    box.add_faults("pay3:create:500")
    response = call(box, "pay3", "create")
    assert response.status_code == 500 and "code" in response.json()["error"]


@pytest.mark.parametrize("provider", ["cryptomus", "pay3"])
def test_429_carries_retry_after(box, provider):
    box.add_faults(f"{provider}:create:429=7")
    response = call(box, provider, "create")
    assert response.status_code == 429 and response.headers["Retry-After"] == "7"
    assert box.payouts() == []


def test_429_without_value_asks_to_retry_after_one_second(box):
    box.add_faults("cryptomus:balance:429")
    assert call(box, "cryptomus", "balance").headers["Retry-After"] == "1"


@pytest.mark.parametrize("provider", ["cryptomus", "pay3"])
def test_dropped_connection_is_a_transport_error_not_a_response(box, provider):
    box.add_faults(f"{provider}:create:drop")
    with pytest.raises(TRANSPORT_ERRORS):
        call(box, provider, "create")
    assert box.payouts() == []


@pytest.mark.parametrize("provider", ["cryptomus", "pay3"])
def test_malformed_json_is_a_200_whose_body_does_not_parse(box, provider):
    box.add_faults(f"{provider}:create:malformed")
    response = call(box, provider, "create")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)
    assert box.payouts() == []


@pytest.mark.parametrize("provider", ["cryptomus", "pay3"])
def test_html_error_page_is_a_502_in_html(box, provider):
    box.add_faults(f"{provider}:create:html")
    response = call(box, provider, "create")
    assert response.status_code == 502 and response.headers["content-type"].startswith("text/html")
    assert response.text.startswith("<html>")


def test_latency_delays_the_answer(box):
    box.add_faults("cryptomus:balance:latency=0.3")
    started = time.monotonic()
    assert call(box, "cryptomus", "balance").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_latency_combines_with_another_fault(box):
    box.add_faults("any:any:latency=0.2:1", "cryptomus:balance:500:1")
    started = time.monotonic()
    assert call(box, "cryptomus", "balance").status_code == 500
    assert time.monotonic() - started >= 0.2


def test_commit_then_drop_creates_the_cryptomus_payout_once(box):
    box.add_faults("cryptomus:create:commit-drop:1")
    with pytest.raises(TRANSPORT_ERRORS):
        box.cryptomus.create(order_id="lost-answer")
    (payout,) = box.payouts()
    assert payout["idempotency_key"] == "lost-answer"
    # Reconciling by order_id, or re-sending the same order_id, finds the payout and pays nothing more.
    assert box.cryptomus.result(box.cryptomus.info(order_id="lost-answer"))["uuid"] == payout["id"]
    assert box.cryptomus.result(box.cryptomus.create(order_id="lost-answer"))["uuid"] == payout["id"]
    assert len(box.payouts()) == 1


def test_commit_then_drop_executes_the_pay3_order_once(box):
    token = box.pay3.estimate(requestId="lost-execute").json()["token"]
    box.add_faults("pay3:execute:commit-drop:1")
    with pytest.raises(TRANSPORT_ERRORS):
        box.pay3.execute("lost-execute", token)
    assert box.pay3.order("lost-execute")["orderStatus"] == "ORDER_PAYMENT_PROCESSING"
    assert box.pay3.execute("lost-execute", token).status_code == 400  # already executed: nothing paid twice
    (order,) = box.payouts("pay3")
    assert order["executed"] is True and order["debited"] == "0.0001"


def test_commit_then_drop_on_estimate_records_the_request_id(box):
    box.add_faults("pay3:create:commit-drop:1")
    with pytest.raises(TRANSPORT_ERRORS):
        box.pay3.estimate(requestId="lost-estimate")
    assert box.pay3.estimate(requestId="lost-estimate").json()["error"]["code"] == "7001"


def test_counted_fault_hits_that_many_calls_then_stops(box):
    box.add_faults("cryptomus:balance:500:2")
    codes = [call(box, "cryptomus", "balance").status_code for _ in range(3)]
    assert codes == [500, 500, 200]
    assert box.http.get("/_sandbox/faults").json() == {"faults": []}


def test_sticky_fault_stays_until_cleared(box):
    box.add_faults("cryptomus:balance:500")
    assert [call(box, "cryptomus", "balance").status_code for _ in range(3)] == [500, 500, 500]
    assert box.http.delete("/_sandbox/faults").json() == {"faults": []}
    assert call(box, "cryptomus", "balance").status_code == 200


def test_any_provider_any_endpoint_hits_both_providers(box):
    box.add_faults("any:any:html")
    assert call(box, "cryptomus", "services").status_code == 502
    assert call(box, "pay3", "details").status_code == 502


def test_faults_never_hit_the_control_endpoints(box):
    box.add_faults("any:any:drop")
    assert box.http.get("/_sandbox/payouts").status_code == 200


def test_control_endpoint_lists_and_accepts_object_faults(box):
    response = box.http.post("/_sandbox/faults", json={"faults": [
        {"provider": "pay3", "endpoint": "token", "kind": "429", "value": 3, "count": 1},
        "cryptomus:any:latency=0.5",
    ]})
    assert response.json() == {"faults": [{"fault": "pay3:token:429=3:1", "remaining": 1},
                                          {"fault": "cryptomus:any:latency=0.5", "remaining": None}]}
    replaced = box.http.post("/_sandbox/faults", json={"faults": ["pay3:details:drop"], "replace": True})
    assert replaced.json() == {"faults": [{"fault": "pay3:details:drop", "remaining": None}]}


def test_control_endpoint_refuses_a_fault_it_cannot_read(box):
    response = box.add_faults("cryptomus:execute:500")
    assert response.status_code == 400 and "execute" in response.json()["error"]


def test_faults_from_the_config_are_active_from_the_start_and_come_back_on_reset(start_sandbox):
    box = start_sandbox(faults=(parse_fault("cryptomus:create:500:1"),))
    assert call(box, "cryptomus", "create").status_code == 500
    assert call(box, "cryptomus", "create").status_code == 200
    box.http.post("/_sandbox/reset")
    assert box.payouts() == []
    assert call(box, "cryptomus", "create").status_code == 500


@pytest.mark.parametrize(("spec", "expected"), [
    ("cryptomus:create:500", ("cryptomus", "create", FaultKind.SERVER_ERROR, None, None)),
    ("pay3:execute:commit-drop:1", ("pay3", "execute", FaultKind.COMMIT_DROP, None, 1)),
    ("any:any:latency=2.5", (ANY, ANY, FaultKind.LATENCY, 2.5, None)),
    ("*:details:429=30:3", (ANY, "details", FaultKind.RATE_LIMITED, 30.0, 3)),
    (" Cryptomus:Balance:HTML ", ("cryptomus", "balance", FaultKind.HTML, None, None)),
])
def test_fault_specs_are_read(spec, expected):
    rule = parse_fault(spec)
    assert (rule.provider, rule.endpoint, rule.kind, rule.value, rule.count) == expected
    assert parse_fault(rule.spec()) == rule


@pytest.mark.parametrize(("spec", "words"), [
    ("cryptomus:create", "PROVIDER:ENDPOINT:KIND"),
    ("stripe:create:500", "provider"),
    ("pay3:balance:500", "endpoint"),
    ("cryptomus:create:503", "kind"),
    ("cryptomus:create:latency", "seconds"),
    ("cryptomus:create:latency=soon", "number"),
    ("cryptomus:create:drop=3", "value"),
    ("cryptomus:create:500:0", "COUNT"),
    ("cryptomus:create:500:x", "COUNT"),
])
def test_badly_written_fault_specs_say_what_to_change(spec, words):
    with pytest.raises(FaultSpecError, match=words):
        parse_fault(spec)


def test_a_call_draws_at_most_one_fault_besides_latency():
    board = FaultBoard((parse_fault("cryptomus:create:500:1"), parse_fault("cryptomus:create:html:1")))
    assert board.draw("cryptomus", "create").fault.kind is FaultKind.SERVER_ERROR
    assert board.draw("cryptomus", "create").fault.kind is FaultKind.HTML
    assert board.draw("cryptomus", "create").fault is None


def test_pay3_address_of_the_wrong_network_is_not_a_fault(box):
    """A sanity check that the fault helpers leave ordinary refusals alone."""
    response = box.pay3.estimate(requestId="plain", address=TRON_ADDRESS)
    assert response.status_code == 400
