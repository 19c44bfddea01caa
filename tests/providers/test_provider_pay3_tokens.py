"""Pay3's access token: reused while fresh, renewed shortly before expiry, and renewed ONCE on a 401."""

import time

import httpx
import jwt
import pytest
from provider_fixtures import RecordingTransport, btc_testnet

from treasury_app.providers.errors import AuthenticationError
from treasury_app.providers.pay3 import Pay3Profile, Pay3Provider
from treasury_app.providers.pay3_protocol import Pay3Decisions

TOKEN_PATH = "/v1/client/access-token"
DETAILS_PATH = "/v1/client/crypto-orders"


class FakeMonotonic:
    """This computer's monotonic clock, moved by the test (the sandbox has its own clock)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_one_token_serves_many_calls(sandbox, pay3_for):
    recorder = RecordingTransport()
    client = pay3_for(sandbox, transport=recorder)
    for n in range(4):
        await client.fetch_states([f"tok-{n}"])
    assert recorder.paths().count(TOKEN_PATH) == 1


async def test_the_token_is_renewed_a_margin_before_it_expires_without_waiting_for_a_401(sandbox, pay3_for):
    recorder, clock = RecordingTransport(), FakeMonotonic()
    client = pay3_for(sandbox, transport=recorder, monotonic=clock)
    await client.fetch_states(["early-1"])
    clock.now += 3600 - 60 - 1  # the sandbox's tokens live 3600 s; the margin is 60 s
    await client.fetch_states(["early-1"])
    assert recorder.paths().count(TOKEN_PATH) == 1
    clock.now += 2
    await client.fetch_states(["early-1"])
    assert recorder.paths() == [TOKEN_PATH, DETAILS_PATH, DETAILS_PATH, TOKEN_PATH, DETAILS_PATH]


async def test_the_refresh_margin_is_a_setting(sandbox, pay3_for):
    recorder, clock = RecordingTransport(), FakeMonotonic()
    client = pay3_for(sandbox, transport=recorder, monotonic=clock,
                      decisions=Pay3Decisions.from_settings({"token_refresh_margin_seconds": 600}))
    await client.fetch_states(["margin-1"])
    clock.now += 3000 + 1
    await client.fetch_states(["margin-1"])
    assert recorder.paths().count(TOKEN_PATH) == 2


async def test_a_token_expired_at_pay3_is_renewed_once_on_the_401_and_the_call_succeeds(sandbox, pay3_for):
    recorder = RecordingTransport()
    client = pay3_for(sandbox, transport=recorder)
    await client.estimate(btc_testnet(), "expiry-1")
    # Pay3's clock runs past the token's 3600 s while ours does not: only Pay3's 401 can tell.
    sandbox.advance(3601)
    recorder.requests.clear()
    state = (await client.fetch_states(["expiry-1"]))["expiry-1"]
    assert state.provider_status == "ABANDONED"  # the estimate was never executed
    assert recorder.paths() == [DETAILS_PATH, TOKEN_PATH, DETAILS_PATH]
    assert recorder.requests[0].headers["access-token"] != recorder.requests[2].headers["access-token"]


async def test_a_short_lived_token_expires_and_execute_still_goes_through_once(start_sandbox, pay3_for):
    box = start_sandbox(pay3_token_lifetime=30)
    recorder = RecordingTransport()
    client = pay3_for(box, transport=recorder)
    estimate = await client.estimate(btc_testnet(), "short-1")
    box.advance(31)
    recorder.requests.clear()
    state = await client.submit(btc_testnet(), "short-1", estimate.execution_data)
    assert state.provider_status == "ORDER_PAYMENT_PROCESSING"
    execute = "/v1/client/crypto-payout/execute"
    assert recorder.paths() == [execute, TOKEN_PATH, execute]  # refused for the token, so safe to send again
    assert [p["executed"] for p in box.payouts("pay3")] == [True]


async def test_a_wrong_secret_is_an_authentication_error_after_one_token_request(sandbox, pay3_for):
    recorder = RecordingTransport()
    client = pay3_for(sandbox, transport=recorder, secret="this-is-not-the-secret")
    with pytest.raises(AuthenticationError, match="Could not verify the client"):
        await client.fetch_states(["wrong-1"])
    assert recorder.paths() == [TOKEN_PATH]


async def test_a_wrong_client_id_is_an_authentication_error(sandbox, pay3_for):
    client = pay3_for(sandbox, client_id="somebody-else")
    with pytest.raises(AuthenticationError):
        await client.verify_credentials()


async def test_a_token_refused_even_when_fresh_ends_in_authentication_error_after_exactly_one_renewal():
    seen: list[str] = []

    def pay3_that_refuses_every_token(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path == TOKEN_PATH:
            return httpx.Response(200, json={"accessToken": f"token-number-{len(seen)}", "expiresIn": 3600})
        return httpx.Response(401, json={"error": {"code": 401, "message": "Client verification failed"}})

    client = Pay3Provider(Pay3Profile(base_url="https://pay3.test", client_id="c"), "mock-secret-value",
                          transport=httpx.MockTransport(pay3_that_refuses_every_token))
    try:
        with pytest.raises(AuthenticationError, match="even right after renewing it"):
            await client.fetch_states(["refused-1"])
    finally:
        await client.aclose()
    assert seen == [TOKEN_PATH, DETAILS_PATH, TOKEN_PATH, DETAILS_PATH]


async def test_without_expires_in_the_lifetime_comes_from_the_jwt_exp_claim():
    calls: list[str] = []
    token = jwt.encode({"sub": "c", "exp": int(time.time()) + 100}, "k" * 32, algorithm="HS256")

    def pay3(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if request.url.path == TOKEN_PATH:
            return httpx.Response(200, json={"accessToken": token})
        return httpx.Response(200, json={"data": []})

    clock = FakeMonotonic()
    client = Pay3Provider(Pay3Profile(base_url="https://pay3.test", client_id="c"), "mock-secret-value",
                          transport=httpx.MockTransport(pay3), monotonic=clock)
    try:
        await client.fetch_states(["jwt-1"])
        clock.now += 45  # a 100 s token is renewed after 50 s: the 60 s margin is capped at half its life
        await client.fetch_states(["jwt-1"])
        clock.now += 10
        await client.fetch_states(["jwt-1"])
    finally:
        await client.aclose()
    assert calls.count(TOKEN_PATH) == 2
