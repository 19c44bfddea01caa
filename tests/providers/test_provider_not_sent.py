"""Which transport failures prove that a request never left this machine: only those end as RequestNotSentError.

The workflow puts a payout back for another execute on that error alone, so each case here is a real
connection: a port nobody listens on, a TLS handshake that fails, and the sandbox's faults after connecting.
"""

import asyncio

import httpx
import pytest
from provider_fixtures import IMPATIENT, RecordingTransport, Sandbox, btc_testnet, closed_port_url, usdt_tron

from treasury_app.providers.cryptomus import CryptomusProfile, CryptomusProvider
from treasury_app.providers.errors import (
    OutcomeUnknownError,
    ProviderUnavailableError,
    RequestNotSentError,
)
from treasury_app.sandbox import DEFAULT_CRYPTOMUS_MERCHANT, DEFAULT_CRYPTOMUS_PAYOUT_KEY


class StopsSandboxAfterFirstAnswer(RecordingTransport):
    """The real transport; once the first answer is in, the sandbox goes away, so later attempts are refused."""

    def __init__(self, box: Sandbox) -> None:
        super().__init__()
        self.box = box

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        await response.aread()
        await asyncio.to_thread(self.box.running.stop)
        return response


async def test_a_create_to_a_port_nobody_listens_on_was_not_sent_on_any_attempt(open_clients):
    recorder = RecordingTransport()
    client = CryptomusProvider(CryptomusProfile(merchant=DEFAULT_CRYPTOMUS_MERCHANT, base_url=closed_port_url()),
                               DEFAULT_CRYPTOMUS_PAYOUT_KEY, transport=recorder)
    open_clients.append(client)
    with pytest.raises(RequestNotSentError, match="could not connect") as caught:
        await client.submit(usdt_tron(), "noconn-2", {})
    assert caught.value.provider == "cryptomus"
    assert len(recorder.requests) == 3  # an idempotent write: every attempt tried, none connected


async def test_a_pay3_execute_that_cannot_connect_was_not_sent_nor_was_its_token_request(pay3_for, start_sandbox):
    box = start_sandbox()
    client = pay3_for(box)
    estimate = await client.estimate(btc_testnet(), "noconn-pay3")
    box.stop()  # the order was registered by the estimate; now Pay3 cannot be reached at all
    with pytest.raises(RequestNotSentError, match="execute payout noconn-pay3: could not connect"):
        await client.submit(btc_testnet(), "noconn-pay3", estimate.execution_data)
    fresh = pay3_for(box)  # no access token yet: the token request is the one that cannot connect
    with pytest.raises(RequestNotSentError, match="access token: could not connect"):
        await fresh.submit(btc_testnet(), "noconn-pay3", estimate.execution_data)


async def test_a_failed_tls_handshake_sent_nothing_of_the_request(sandbox, open_clients):
    # TLS spoken to the sandbox's plain-HTTP port: the handshake fails before the request could be written.
    client = CryptomusProvider(CryptomusProfile(merchant=DEFAULT_CRYPTOMUS_MERCHANT,
                                                base_url=sandbox.base_url.replace("http://", "https://")),
                               DEFAULT_CRYPTOMUS_PAYOUT_KEY, settings=IMPATIENT)
    open_clients.append(client)
    with pytest.raises(RequestNotSentError, match="could not connect"):
        await client.submit(usdt_tron(), "tls-1", {})
    assert sandbox.payouts() == []


@pytest.mark.parametrize("fault", ["drop", "latency=1.5", "commit-drop", "500"])
async def test_a_create_that_connected_and_then_failed_may_have_been_sent(sandbox, cryptomus_for, fault):
    sandbox.add_faults(f"cryptomus:create:{fault}")
    client = cryptomus_for(sandbox, settings=IMPATIENT)
    with pytest.raises(OutcomeUnknownError) as caught:
        await client.submit(usdt_tron(), f"maybe-{fault.split('=')[0]}", {})
    assert not isinstance(caught.value, RequestNotSentError)


async def test_a_call_answered_once_and_then_refused_is_not_reported_as_never_sent(start_sandbox, cryptomus_for):
    box = start_sandbox()
    box.add_faults("cryptomus:balance:500")
    transport = StopsSandboxAfterFirstAnswer(box)
    client = cryptomus_for(box, transport=transport)
    with pytest.raises(ProviderUnavailableError, match="could not connect") as caught:
        await client.balances()
    assert not isinstance(caught.value, RequestNotSentError)  # the first attempt did reach the provider
    assert len(transport.requests) == 3


async def test_a_create_answered_with_500_and_then_refused_stays_unknown(start_sandbox, cryptomus_for):
    box = start_sandbox()
    box.add_faults("cryptomus:create:500")
    client = cryptomus_for(box, transport=StopsSandboxAfterFirstAnswer(box))
    with pytest.raises(OutcomeUnknownError, match="may have reached"):
        await client.submit(usdt_tron(), "answered-then-gone", {})
