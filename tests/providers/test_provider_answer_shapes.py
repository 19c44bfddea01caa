"""Answers the sandbox never gives (it speaks correctly): missing fields, wrong types, empty or non-JSON bodies,
wrong status codes. httpx.MockTransport stands in for the PROVIDER here; the client code is the real one.

Reads end in `UnexpectedAnswerError` (after the usual repeats); a create or execute ends in
`OutcomeUnknownError`, because the provider may have acted before answering something unreadable.
"""

from decimal import Decimal

import httpx
import pytest
from provider_fixtures import FAST, btc_testnet, usdt_tron

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.providers.cryptomus import CryptomusProfile, CryptomusProvider
from treasury_app.providers.errors import (
    AuthenticationError,
    InsufficientFundsError,
    OutcomeUnknownError,
    ProviderUnavailableError,
    RequestRefusedError,
    UnexpectedAnswerError,
)
from treasury_app.providers.pay3 import Pay3Profile, Pay3Provider

MERCHANT = "8b7ef1b6-5c1f-4f0b-9b44-5a9d4b3c2a10"
GOOD_PAYOUT = {"uuid": "a7c0caec-a594-4aaa-b1c4-77d511857594", "amount": "10.5", "currency": "USDT",
               "network": "TRON", "address": usdt_tron().address, "txid": None, "status": "process",
               "is_final": False, "balance": 129, "payer_currency": "USDT", "payer_amount": "10.5"}


class ScriptedProvider:
    """Answers every request with the same response, and counts the requests by path."""

    def __init__(self, status: int, body: bytes | str | object, headers: dict[str, str] | None = None) -> None:
        self.status, self.headers, self.calls = status, headers or {}, []
        self.body = body if isinstance(body, bytes | str) else httpx.Response(200, json=body).content

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request.url.path)
        return httpx.Response(self.status, content=self.body, headers=self.headers)


async def cryptomus_answering(script: ScriptedProvider, call: str):
    client = CryptomusProvider(CryptomusProfile(merchant=MERCHANT, base_url="https://cryptomus.test"),
                               "mock-payout-key", settings=FAST, transport=httpx.MockTransport(script))
    try:
        if call == "submit":
            return await client.submit(usdt_tron("10.5"), "shape-1", {})
        if call == "info":
            return await client.payout_info("shape-1")
        return await getattr(client, call)()
    finally:
        await client.aclose()


def envelope(result: object) -> dict:
    return {"state": 0, "result": result}


CRYPTOMUS_BAD_ANSWERS = {
    "empty body": (200, b""),
    "not JSON": (200, "OK"),
    "HTML with 200": (200, "<html><body>Welcome</body></html>"),
    "a JSON list": (200, [1, 2]),
    "no result": (200, {"state": 0}),
    "state 1 without a message": (200, {"state": 1}),
    "state 0 with 201": (201, envelope([])),
    "a redirect": (302, b""),
    "404 page": (404, "<h1>Not Found</h1>"),
    "NaN amount": (200, b'{"state":0,"result":{"amount":NaN}}'),
}
CRYPTOMUS_BAD_RESULTS = {
    "balances": {"result is text": "x", "no balance object": [{"wallets": []}],
                 "wallet without amount": [{"balance": {"merchant": [{"currency_code": "USDT"}]}}],
                 "amount is a boolean": [{"balance": {"merchant": [{"currency_code": "USDT", "balance": True}]}}],
                 "amount is words": [{"balance": {"merchant": [{"currency_code": "USDT", "balance": "lots"}]}}]},
    "payout_options": {"result is an object": {"a": 1},
                       "service without network": [{"currency": "USDT", "is_available": True}],
                       "availability is words": [{"currency": "USDT", "network": "TRON", "is_available": "maybe"}]},
    "info": {"no uuid": {**GOOD_PAYOUT, "uuid": None}, "no status": {k: v for k, v in GOOD_PAYOUT.items()
                                                                     if k != "status"},
             "is_final missing": {k: v for k, v in GOOD_PAYOUT.items() if k != "is_final"},
             "status is a list": {**GOOD_PAYOUT, "status": ["paid"]}},
    "list_payouts": {"items is an object": {"items": {}, "paginate": {}},
                     "item without status": {"items": [{"uuid": "u", "is_final": True}], "paginate": {}}},
}


@pytest.mark.parametrize("call", ["balances", "payout_options", "info", "list_payouts"])
@pytest.mark.parametrize(("status", "body"), CRYPTOMUS_BAD_ANSWERS.values(), ids=CRYPTOMUS_BAD_ANSWERS)
async def test_an_unreadable_cryptomus_answer_to_a_read_is_unexpected(call, status, body):
    script = ScriptedProvider(status, body)
    with pytest.raises(UnexpectedAnswerError, match="unexpected answer"):
        await cryptomus_answering(script, call)
    assert len(script.calls) == FAST.max_attempts


@pytest.mark.parametrize(("status", "body"), CRYPTOMUS_BAD_ANSWERS.values(), ids=CRYPTOMUS_BAD_ANSWERS)
async def test_an_unreadable_cryptomus_answer_to_a_create_is_outcome_unknown(status, body):
    with pytest.raises(OutcomeUnknownError, match="reconcile"):
        await cryptomus_answering(ScriptedProvider(status, body), "submit")


@pytest.mark.parametrize(("call", "result"), [(call, result) for call, cases in CRYPTOMUS_BAD_RESULTS.items()
                                              for result in cases.values()],
                         ids=[f"{call}: {case}" for call, cases in CRYPTOMUS_BAD_RESULTS.items() for case in cases])
async def test_a_cryptomus_result_of_the_wrong_shape_is_unexpected(call, result):
    with pytest.raises(UnexpectedAnswerError):
        await cryptomus_answering(ScriptedProvider(200, envelope(result)), call)


@pytest.mark.parametrize("result", [{**GOOD_PAYOUT, "uuid": None}, {**GOOD_PAYOUT, "is_final": "perhaps"}, "ok"])
async def test_a_create_answered_with_a_broken_payout_is_outcome_unknown(result):
    with pytest.raises(OutcomeUnknownError):
        await cryptomus_answering(ScriptedProvider(200, envelope(result)), "submit")


async def test_a_server_error_without_a_body_is_unavailable_for_a_read():
    with pytest.raises(ProviderUnavailableError, match="HTTP 503 .empty body."):
        await cryptomus_answering(ScriptedProvider(503, b""), "balances")


async def test_cryptomus_numbers_and_flags_are_read_leniently_and_exactly():
    payout = {**GOOD_PAYOUT, "amount": 10.5, "is_final": 1, "status": "paid", "txid": "abc"}
    body = b'{"state":"0","result":' + httpx.Response(200, json=payout).content + b"}"
    state = await cryptomus_answering(ScriptedProvider(200, body), "info")
    assert state.status is PayoutStatus.COMPLETED and state.paid_amount == Decimal("10.5")
    assert isinstance(state.raw["amount"], Decimal)  # parsed with parse_float=Decimal, never a float


@pytest.mark.parametrize(("word", "final", "status"), [
    ("paid", False, PayoutStatus.PROCESSING), ("fail", False, PayoutStatus.PROCESSING),
    ("check", False, PayoutStatus.PROCESSING), ("PAID", True, PayoutStatus.COMPLETED),
    ("refunded", True, PayoutStatus.UNKNOWN), ("process", True, PayoutStatus.UNKNOWN),
])
async def test_cryptomus_finality_comes_from_is_final_not_the_word(word, final, status):
    state = await cryptomus_answering(ScriptedProvider(200, envelope({**GOOD_PAYOUT, "status": word,
                                                                      "is_final": final})), "info")
    assert (state.status, state.provider_status) == (status, word)


async def test_a_cryptomus_message_nobody_documented_is_a_refusal_with_its_words():
    with pytest.raises(RequestRefusedError, match="Something new happened"):
        await cryptomus_answering(ScriptedProvider(400, {"state": 1, "message": "Something new happened"}), "submit")


async def test_not_enough_balance_for_convert_is_insufficient_funds():
    script = ScriptedProvider(400, {"state": 1, "message": "Not enough balance for convert USDT to LTC"})
    with pytest.raises(InsufficientFundsError):
        await cryptomus_answering(script, "submit")


# --- Pay3 -------------------------------------------------------------------------------------------------


class Pay3Script:
    """A token always; then the scripted answer for the path under test (and for details, when asked)."""

    def __init__(self, path: str, status: int, body: bytes | str | object) -> None:
        self.path, self.answer = path, ScriptedProvider(status, body)
        self.calls: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request.url.path)
        if request.url.path == "/v1/client/access-token" and self.path != request.url.path:
            return httpx.Response(200, json={"accessToken": "mock-access-token-1", "expiresIn": 3600})
        if request.url.path == self.path:
            return self.answer(request)
        return httpx.Response(200, json={"data": []})


async def pay3_answering(script: Pay3Script, call: str):
    client = Pay3Provider(Pay3Profile(base_url="https://pay3.test", client_id="c"), "mock-api-secret",
                          settings=FAST, transport=httpx.MockTransport(script))
    try:
        if call == "estimate":
            return await client.estimate(btc_testnet(), "shape-2")
        if call == "submit":
            return await client.submit(btc_testnet(), "shape-2", {"token": "t", "requestId": "shape-2"})
        if call == "details":
            return (await client.fetch_states(["shape-2"]))["shape-2"]
        return await client.verify_credentials()
    finally:
        await client.aclose()


PATHS = {"estimate": "/v1/client/crypto-payout/create-order", "submit": "/v1/client/crypto-payout/execute",
         "details": "/v1/client/crypto-orders", "token": "/v1/client/access-token"}
PAY3_BAD_ANSWERS = {
    "empty body": (200, b""), "not JSON": (200, "<html>oops</html>"), "a JSON list": (200, []),
    "error is text": (400, {"error": "bad"}), "no error shape": (400, {"message": "bad"}),
    "a redirect": (301, b""),
}
PAY3_BAD_BODIES = {
    "estimate": {"no token": {"requestId": "shape-2", "estimatedFees": "1", "estimatedNetAmount": "1"},
                 "other requestId": {"token": "t", "requestId": "other", "estimatedFees": "1",
                                     "estimatedNetAmount": "1"},
                 "fee is words": {"token": "t", "requestId": "shape-2", "estimatedFees": "some",
                                  "estimatedNetAmount": "1"}},
    "submit": {"no status": {"txnHash": "", "orderId": "o", "requestId": "shape-2"},
               "other requestId": {"status": "COMPLETED", "requestId": "other"}},
    "details": {"no data": {"orders": []}, "data is text": {"data": "none"},
                "another order": {"data": [{"requestId": "other", "orderStatus": "COMPLETED"}]},
                "no status": {"data": [{"requestId": "shape-2"}]}},
    "token": {"no token": {"expiresIn": 3600}, "token is a number list": {"accessToken": [1]}},
}
PAY3_EXPECTED = {"estimate": OutcomeUnknownError, "submit": OutcomeUnknownError,
                 "details": UnexpectedAnswerError, "token": UnexpectedAnswerError}


@pytest.mark.parametrize("call", list(PATHS))
@pytest.mark.parametrize(("status", "body"), PAY3_BAD_ANSWERS.values(), ids=PAY3_BAD_ANSWERS)
async def test_an_unreadable_pay3_answer_is_typed_by_what_the_call_could_have_done(call, status, body):
    script = Pay3Script(PATHS[call], status, body)
    with pytest.raises(PAY3_EXPECTED[call]):
        await pay3_answering(script, call)
    expected_calls = 1 if call in ("estimate", "submit") else FAST.max_attempts
    assert script.calls.count(PATHS[call]) == expected_calls


@pytest.mark.parametrize(("call", "body"), [(call, body) for call, cases in PAY3_BAD_BODIES.items()
                                            for body in cases.values()],
                         ids=[f"{call}: {case}" for call, cases in PAY3_BAD_BODIES.items() for case in cases])
async def test_a_pay3_answer_of_the_wrong_shape_is_typed(call, body):
    with pytest.raises(PAY3_EXPECTED[call]):
        await pay3_answering(Pay3Script(PATHS[call], 200, body), call)


async def test_a_malformed_token_answer_is_never_quoted_in_the_error():
    script = Pay3Script(PATHS["token"], 200, '{"accessToken":"eyJhbGciOiJIUzI1NiJ9.half-a-tok')
    with pytest.raises(UnexpectedAnswerError) as caught:
        await pay3_answering(script, "token")
    assert "eyJ" not in str(caught.value)


@pytest.mark.parametrize(("word", "status", "final"), [
    ("order payment processing", PayoutStatus.PROCESSING, False),
    ("Order_Payment_Initiated", PayoutStatus.PROCESSING, False),
    (" order  started ", PayoutStatus.PROCESSING, False),
    ("completed", PayoutStatus.COMPLETED, True), ("Failed", PayoutStatus.FAILED, True),
    ("abandoned", PayoutStatus.CANCELLED, True), ("created", PayoutStatus.ESTIMATED, False),
    ("SOMETHING_NEW", PayoutStatus.PROCESSING, False),
])
async def test_pay3_status_words_are_compared_ignoring_case_spaces_and_underscores(word, status, final):
    body = {"data": [{"requestId": "shape-2", "orderStatus": word, "orderType": "REFUND_SOMETHING",
                      "settlementStatus": "A_NEW_ONE", "receivedAmount": 1}]}
    state = await pay3_answering(Pay3Script(PATHS["details"], 200, body), "details")
    assert (state.status, state.is_final, state.provider_status) == (status, final, word)


async def test_a_pay3_error_code_nobody_documented_is_a_refusal_with_its_code():
    script = Pay3Script(PATHS["submit"], 400, {"error": {"code": 8123, "message": "Limits exceeded today"}})
    with pytest.raises(RequestRefusedError, match="Limits exceeded today") as caught:
        await pay3_answering(script, "submit")
    assert caught.value.code == "8123"


async def test_could_not_verify_the_client_on_execute_is_an_authentication_error():
    script = Pay3Script(PATHS["submit"], 400, {"error": {"code": "400", "message": "Could not verify the client"}})
    with pytest.raises(AuthenticationError):
        await pay3_answering(script, "submit")


async def test_a_payout_list_without_order_ids_falls_back_to_info_per_key():
    """cryptomus.md does not promise `order_id` on list items (the sandbox adds it): then each key is asked."""
    calls: list[str] = []

    def cryptomus(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if request.url.path == "/v1/payout/list":
            page = {"merchant_uuid": MERCHANT, "items": [GOOD_PAYOUT], "paginate": {"nextCursor": None}}
            return httpx.Response(200, json=envelope(page))
        return httpx.Response(200, json=envelope(GOOD_PAYOUT))

    client = CryptomusProvider(CryptomusProfile(merchant=MERCHANT, base_url="https://cryptomus.test"),
                               "mock-payout-key", settings=FAST, transport=httpx.MockTransport(cryptomus))
    try:
        keys = [f"k-{n}" for n in range(4)]
        states = await client.fetch_states(keys)
    finally:
        await client.aclose()
    assert [s.idempotency_key for s in states.values()] == keys
    assert calls == ["/v1/payout/list"] + ["/v1/payout/info"] * 4


class EndlessHistory:
    """A payout list of one payout a page that never ends, its `paginate.perPage` as given; counts requests."""

    def __init__(self, **paginate: object) -> None:
        self.paginate, self.calls = paginate, []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request.url.path)
        if request.url.path == "/v1/payout/info":
            return httpx.Response(404, json={"state": 1, "message": "Payout not found"})
        page = len(self.calls)
        item = {**GOOD_PAYOUT, "order_id": f"other-{page}"}
        paginate = {"nextCursor": f"after-{page}", **self.paginate}
        return httpx.Response(200, json=envelope({"items": [item], "paginate": paginate}))


async def pages_read_for_four_absent_payouts(history: EndlessHistory) -> int:
    client = CryptomusProvider(CryptomusProfile(merchant=MERCHANT, base_url="https://cryptomus.test"),
                               "mock-payout-key", settings=FAST, transport=httpx.MockTransport(history))
    try:
        states = await client.fetch_states([f"absent-{n}" for n in range(4)])
    finally:
        await client.aclose()
    assert set(states.values()) == {None} and history.calls.count("/v1/payout/info") == 4
    return history.calls.count("/v1/payout/list")


async def test_a_payout_list_page_size_of_one_is_followed():
    # Four payouts fill four pages of one, and two spare.
    assert await pages_read_for_four_absent_payouts(EndlessHistory(perPage=1)) == 6
    assert await pages_read_for_four_absent_payouts(EndlessHistory(perPage="1")) == 6


@pytest.mark.parametrize("per_page", [None, "lots", -3, 0, 1.5, True, [15]], ids=repr)
async def test_a_missing_or_senseless_page_size_is_taken_as_the_documented_15(per_page):
    # At 15 a page, four payouts fill one page and two spare; then four pages without any: ask them one by one.
    paginate = {} if per_page is None else {"perPage": per_page}
    assert await pages_read_for_four_absent_payouts(EndlessHistory(**paginate)) == 4
