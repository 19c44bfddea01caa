"""Secrets never reach a log line or an error text: a failing run is captured at DEBUG and searched for them."""

import logging
import secrets
import traceback
from dataclasses import replace

import httpx
import pytest
from provider_fixtures import RecordingTransport, btc_testnet, usdt_tron

from treasury_app.providers.errors import AuthenticationError
from treasury_app.providers.pay3 import Pay3Profile, Pay3Provider
from treasury_app.providers.redaction import MASK, SecretRegistry, redact, register_secret

BAD_CHECKSUM_TRON = "TXguLRFtrAFrEDA17WuPfrxB84jVzJcNNV"


def test_a_secret_is_masked_in_every_spelling_it_can_take():
    registry = SecretRegistry()
    registry.add('p@ss/word"with+odd chars')
    text = 'raw p@ss/word"with+odd chars, json p@ss/word\\"with+odd chars, url p%40ss%2Fword%22with%2Bodd%20chars'
    assert registry.redact(text) == f"raw {MASK}, json {MASK}, url {MASK}"


def test_a_log_record_with_a_registered_secret_is_redacted_however_it_is_logged(caplog):
    secret = "redaction-probe-" + secrets.token_hex(8)
    register_secret(secret)
    caplog.set_level(logging.DEBUG)
    logger = logging.getLogger("some.library.we.do.not.own")
    logger.debug("key=%s", secret)
    logger.warning("key=" + secret)
    try:
        raise RuntimeError(f"it failed with {secret}")
    except RuntimeError:
        logger.exception("while using %r", {"key": secret})
    assert caplog.records and secret not in caplog.text
    assert all(secret not in r.getMessage() for r in caplog.records)
    assert redact(f"x{secret}x") == f"x{MASK}x"


def texts_of(error: BaseException) -> list[str]:
    """Everything a person or a log could ever see of an error: its text, repr, and the whole chained traceback."""
    return [str(error), repr(error), "".join(traceback.format_exception(error))]


@pytest.fixture
def secret_sandbox(start_sandbox):
    """A sandbox whose credentials are random, so that finding one anywhere can only be a leak."""
    return start_sandbox(cryptomus_payout_key="cryptomus-key-" + secrets.token_hex(12),
                         pay3_api_secret="pay3-secret-" + secrets.token_hex(12), pay3_token_lifetime=60)


async def test_a_failing_run_leaves_no_secret_in_logs_or_errors(secret_sandbox, cryptomus_for, pay3_for, caplog):
    box = secret_sandbox
    caplog.set_level(logging.DEBUG)
    wrong_key, wrong_secret = "wrong-key-" + secrets.token_hex(12), "wrong-secret-" + secrets.token_hex(12)
    recorder = RecordingTransport()
    cryptomus = cryptomus_for(box, key=box.running.config.cryptomus_payout_key)
    pay3 = pay3_for(box, secret=box.running.config.pay3_api_secret, transport=recorder)
    errors: list[BaseException] = []

    async def expect_failure(call) -> None:
        try:
            await call
        except Exception as error:  # every failure is collected, whatever its class
            errors.append(error)
        else:
            raise AssertionError("this call was meant to fail")

    # Cryptomus: refusals, lost answers, unreadable answers, wrong credentials.
    await expect_failure(cryptomus.submit(replace(usdt_tron(), address=BAD_CHECKSUM_TRON), "red-1", {}))
    for kind in ("500", "drop", "malformed", "html", "commit-drop"):
        box.add_faults(f"cryptomus:create:{kind}", f"cryptomus:balance:{kind}")
        await expect_failure(cryptomus.submit(usdt_tron(), f"red-{kind}", {}))
        await expect_failure(cryptomus.balances())
        box.clear_faults()
    await expect_failure(cryptomus_for(box, key=wrong_key).balances())
    stranger = cryptomus_for(box, key=box.running.config.cryptomus_payout_key,
                             merchant="00000000-0000-4000-8000-000000000000")
    await expect_failure(stranger.submit(usdt_tron(), "red-m", {}))

    # Pay3: tokens issued, expired (401 → one renewal), faults, 7001, wrong secret.
    estimate = await pay3.estimate(btc_testnet(), "red-p1")
    box.advance(61)
    await expect_failure(pay3.estimate(btc_testnet(), "red-p1"))
    for kind in ("500", "drop", "malformed", "html"):
        box.add_faults(f"pay3:details:{kind}", f"pay3:token:{kind}")
        await expect_failure(pay3.fetch_states(["red-p1"]))
        box.clear_faults()
    box.add_faults("pay3:execute:commit-drop")
    await expect_failure(pay3.submit(btc_testnet(), "red-p1", estimate.execution_data))
    box.clear_faults()
    await expect_failure(pay3_for(box, secret=wrong_secret).verify_credentials())

    access_tokens = {r.headers["access-token"] for r in recorder.requests if "access-token" in r.headers}
    assert len(access_tokens) >= 2  # the expiry path was taken
    secrets_held = {box.running.config.cryptomus_payout_key, box.running.config.pay3_api_secret, wrong_key,
                    wrong_secret, *access_tokens}
    seen = [caplog.text, *(r.getMessage() for r in caplog.records), *(t for e in errors for t in texts_of(e))]
    assert len(errors) >= 15
    assert any(r.name.startswith("httpcore") for r in caplog.records)  # DEBUG logging really was on
    leaks = {secret for secret in secrets_held for text in seen if secret in text}
    assert leaks == set()


async def test_a_provider_that_echoes_our_secrets_back_in_its_errors_does_not_leak_them(caplog):
    """A careless provider quotes the request in its error message: the quote is redacted before anyone sees it."""
    caplog.set_level(logging.DEBUG)
    api_secret = "echoed-secret-" + secrets.token_hex(12)
    tokens: list[str] = []

    def careless_pay3(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("access-token"):
            if tokens:  # the second time, refuse and quote the whole request body (which holds the secret)
                message = f"Could not verify the client: {request.content.decode()}"
                return httpx.Response(400, json={"error": {"code": "400", "message": message}})
            tokens.append("echoed-token-" + secrets.token_hex(12))
            return httpx.Response(200, json={"accessToken": tokens[-1], "expiresIn": 3600})
        message = f"Client verification failed for token {request.headers['access-token']}"
        return httpx.Response(401, json={"error": {"code": "401", "message": message}})

    client = Pay3Provider(Pay3Profile(base_url="https://pay3.test", client_id="c"), api_secret,
                          transport=httpx.MockTransport(careless_pay3))
    try:
        with pytest.raises(AuthenticationError) as caught:
            await client.fetch_states(["echo-1"])
    finally:
        await client.aclose()
    assert "Could not verify the client" in str(caught.value) and MASK in str(caught.value)
    seen = [caplog.text, *texts_of(caught.value)]
    assert not [text for text in seen for secret in (api_secret, *tokens) if secret in text]
