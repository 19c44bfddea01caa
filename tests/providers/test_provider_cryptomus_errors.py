"""Every way a Cryptomus call can go wrong, each ending in the typed error a person or the workflow can act on."""

import asyncio
from dataclasses import replace
from decimal import Decimal

import pytest
from provider_fixtures import DOGE_ADDRESS, EVM_ADDRESS, IMPATIENT, RecordingTransport, usdt_tron

from treasury_app.domain.payout_request import compose_payout
from treasury_app.providers.cryptomus_answers import form_field_errors
from treasury_app.providers.errors import (
    AmountLimitError,
    AuthenticationError,
    ForbiddenError,
    InsufficientFundsError,
    NotFoundError,
    OrderAlreadyExistsError,
    OutcomeUnknownError,
    ProviderUnavailableError,
    ProviderValidationError,
    RateLimitedError,
    UnexpectedAnswerError,
)
from treasury_app.sandbox.config import CryptomusService

BAD_CHECKSUM_TRON = "TXguLRFtrAFrEDA17WuPfrxB84jVzJcNNV"  # the signing vectors' address: fails base58check


# --- refusals the provider documents ----------------------------------------------------------------------


async def test_a_refused_field_is_reported_under_the_form_s_field_name(cryptomus, sandbox):
    request = replace(usdt_tron(), address=BAD_CHECKSUM_TRON)  # past the form's own check, as a stale entry
    with pytest.raises(ProviderValidationError) as caught:
        await cryptomus.submit(request, "bad-address", {})
    assert caught.value.fields == {"address": ("is not a valid address for this network",)}
    assert sandbox.payouts() == []


def test_cryptomus_field_names_map_onto_the_form_s():
    fields = form_field_errors({"is_subtract": ["validation.boolean"], "order_id": ["validation.max.string"],
                                "to_currency": ["validation.required"], "odd": ["validation.something"]})
    assert fields == {"fee_mode": ("must be true or false",), "idempotency_key": ("is too long",),
                      "currency": ("is required",), "odd": ("validation.something",)}


async def test_not_enough_funds_is_insufficient_funds(cryptomus, sandbox):
    with pytest.raises(InsufficientFundsError, match="Not enough funds"):
        await cryptomus.submit(usdt_tron("30000"), "too-much", {})
    assert sandbox.payouts() == []


@pytest.mark.parametrize(("amount", "bound", "limit"), [("0.1", "minimum", Decimal("0.5")),
                                                        ("20000000", "maximum", Decimal("10000000"))])
async def test_the_provider_s_amount_limits_carry_the_limit(cryptomus, amount, bound, limit):
    with pytest.raises(AmountLimitError) as caught:
        await cryptomus.submit(usdt_tron(amount), f"limit-{bound}", {})
    assert (caught.value.bound, caught.value.limit) == (bound, limit)
    assert "amount" in str(caught.value) and "USDT" in str(caught.value)


@pytest.mark.parametrize(("amount", "bound"), [("0.1", "minimum"), ("20000000", "maximum")])
async def test_the_estimate_checks_the_limits_before_anything_is_sent(cryptomus, amount, bound):
    with pytest.raises(AmountLimitError) as caught:
        await cryptomus.estimate(usdt_tron(amount), "est-limit")
    assert caught.value.bound == bound


async def test_an_estimate_whose_fee_takes_the_whole_amount_is_refused(cryptomus):
    request = compose_payout(provider="cryptomus", currency="TRX", network="TRON", address=usdt_tron().address,
                             amount="1", fee_mode="from_amount")
    with pytest.raises(AmountLimitError, match="takes the whole amount"):
        await cryptomus.estimate(request, "est-fee")


async def test_forbidden_account_is_forbidden(cryptomus, sandbox):
    sandbox.switch(cryptomus_forbidden=True)
    with pytest.raises(ForbiddenError, match="You are forbidden"):
        await cryptomus.submit(usdt_tron(), "forbidden-1", {})


async def test_terminal_not_found_is_a_temporary_refusal_and_certain(sandbox, cryptomus_for):
    sandbox.switch(cryptomus_terminal_not_found=True)
    recorder = RecordingTransport()
    client = cryptomus_for(sandbox, transport=recorder)
    with pytest.raises(ProviderUnavailableError, match="terminal was not found") as caught:
        await client.submit(usdt_tron(), "maintenance-1", {})
    assert not isinstance(caught.value, OutcomeUnknownError)
    assert len(recorder.requests) == 1  # a refusal is not repeated


async def test_a_service_that_is_switched_off_is_not_found(cryptomus):
    request = compose_payout(provider="cryptomus", currency="USDC", network="BSC", address=EVM_ADDRESS, amount="5")
    with pytest.raises(NotFoundError, match="service was not found"):
        await cryptomus.submit(request, "off-1", {})


async def test_a_currency_without_a_merchant_wallet_is_not_found(cryptomus):
    request = compose_payout(provider="cryptomus", currency="DOGE", network="DOGE", address=DOGE_ADDRESS,
                             amount="20")
    with pytest.raises(NotFoundError, match="Wallet not found"):
        await cryptomus.submit(request, "doge-1", {})


async def test_a_currency_the_provider_does_not_have_is_not_found(start_sandbox, cryptomus_for):
    box = start_sandbox(cryptomus_services=(CryptomusService("USDT", "TRON", Decimal("0.5"), Decimal("100"),
                                                             Decimal("1")),))
    request = compose_payout(provider="cryptomus", currency="USDC", network="POLYGON", address=EVM_ADDRESS,
                             amount="5")
    with pytest.raises(NotFoundError, match="currency was not found"):
        await cryptomus_for(box).submit(request, "nocur-1", {})


@pytest.mark.parametrize(("currency", "network", "address", "why"), [
    ("USDC", "BSC", EVM_ADDRESS, "paused"),
    ("USDC", "SOL", "4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T", "does not pay out"),
])
async def test_the_estimate_names_the_network_when_the_provider_cannot_pay_it(cryptomus, currency, network,
                                                                              address, why):
    request = compose_payout(provider="cryptomus", currency=currency, network=network, address=address, amount="5")
    with pytest.raises(ProviderValidationError, match=why) as caught:
        await cryptomus.estimate(request, "est-net")
    assert list(caught.value.fields) == ["network"]


async def test_a_key_already_used_for_another_payout_is_not_taken_for_this_one(cryptomus, sandbox):
    await cryptomus.submit(usdt_tron("10"), "reused-1", {})
    with pytest.raises(OrderAlreadyExistsError) as caught:
        await cryptomus.submit(usdt_tron("12"), "reused-1", {})
    assert caught.value.state.raw["amount"] == "10.00000000"
    assert len(sandbox.payouts()) == 1


# --- credentials ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("call", ["balances", "payout_options", "submit"])
async def test_a_wrong_payout_key_is_an_authentication_error(sandbox, cryptomus_for, call):
    client = cryptomus_for(sandbox, key="not-the-payout-key-at-all")
    with pytest.raises(AuthenticationError, match="Invalid Sign"):
        if call == "submit":
            await client.submit(usdt_tron(), "auth-1", {})
        else:
            await getattr(client, call)()
    assert sandbox.payouts() == []


async def test_a_wrong_merchant_is_an_authentication_error(sandbox, cryptomus_for):
    client = cryptomus_for(sandbox, merchant="00000000-0000-4000-8000-000000000000")
    with pytest.raises(AuthenticationError, match="Merchant not found"):
        await client.verify_credentials()


# --- faults: a create may have happened; a read simply failed ---------------------------------------------


@pytest.mark.parametrize("kind", ["500", "drop", "malformed", "html", "commit-drop"])
async def test_a_create_that_never_gets_a_usable_answer_is_outcome_unknown(sandbox, cryptomus_for, kind):
    sandbox.add_faults(f"cryptomus:create:{kind}")
    recorder = RecordingTransport()
    client = cryptomus_for(sandbox, transport=recorder)
    with pytest.raises(OutcomeUnknownError, match="reconcile by the idempotency key"):
        await client.submit(usdt_tron(), f"lost-{kind}", {})
    assert len(recorder.requests) == 3  # repeated under the same order_id, which cannot pay twice
    assert len(sandbox.payouts()) == (1 if kind == "commit-drop" else 0)


@pytest.mark.parametrize("kind", ["500", "drop", "malformed", "html", "commit-drop"])
async def test_a_create_whose_answer_is_lost_once_is_repeated_and_pays_once(sandbox, cryptomus, kind):
    sandbox.add_faults(f"cryptomus:create:{kind}:1")
    state = await cryptomus.submit(usdt_tron(), f"once-{kind}", {})
    assert state.idempotency_key == f"once-{kind}"
    assert len(sandbox.payouts()) == 1


async def test_a_create_without_an_answer_in_time_is_outcome_unknown_and_reconciled_by_key(sandbox, cryptomus_for):
    cryptomus = cryptomus_for(sandbox, settings=IMPATIENT)
    sandbox.add_faults("cryptomus:create:latency=1.5")
    with pytest.raises(OutcomeUnknownError, match="no answer within"):
        await cryptomus.submit(usdt_tron(), "slow-1", {})
    sandbox.clear_faults()
    await asyncio.sleep(1.6)  # the abandoned attempts finish at the provider meanwhile, as in real life
    states = await cryptomus.fetch_states(["slow-1"])
    assert len(sandbox.payouts()) <= 1
    assert (states["slow-1"] is None) == (sandbox.payouts() == [])


async def test_a_rate_limited_create_is_repeated_after_the_wait_asked_for(sandbox, cryptomus):
    sandbox.add_faults("cryptomus:create:429=0:1")
    await cryptomus.submit(usdt_tron(), "busy-1", {})
    assert len(sandbox.payouts()) == 1


async def test_a_create_refused_with_429_throughout_did_nothing_and_says_when_to_retry(sandbox, cryptomus_for):
    sandbox.add_faults("cryptomus:create:429=5")
    recorder = RecordingTransport()
    client = cryptomus_for(sandbox, transport=recorder)
    with pytest.raises(RateLimitedError) as caught:
        await client.submit(usdt_tron(), "busy-2", {})
    assert caught.value.retry_after_seconds == 5
    assert len(recorder.requests) == 1  # 5 s is more than the client waits on its own
    assert sandbox.payouts() == []


@pytest.mark.parametrize("endpoint", ["info", "list", "services", "balance"])
@pytest.mark.parametrize(("kind", "error"), [("500", ProviderUnavailableError), ("drop", ProviderUnavailableError),
                                             ("html", ProviderUnavailableError), ("malformed", UnexpectedAnswerError),
                                             ("429=0", RateLimitedError)])
async def test_a_failing_read_is_repeated_then_reported_as_its_kind(sandbox, cryptomus_for, endpoint, kind, error):
    sandbox.add_faults(f"cryptomus:{endpoint}:{kind}")
    recorder = RecordingTransport()
    client = cryptomus_for(sandbox, transport=recorder)
    call = {"info": lambda: client.payout_info("any-key"), "list": client.list_payouts,
            "services": client.payout_options, "balance": client.balances}[endpoint]
    with pytest.raises(error) as caught:
        await call()
    assert not isinstance(caught.value, OutcomeUnknownError)
    assert len(recorder.requests) == 3


async def test_a_read_that_fails_once_succeeds_on_the_repeat(sandbox, cryptomus):
    sandbox.add_faults("cryptomus:balance:drop:1", "cryptomus:services:500:1")
    assert await cryptomus.balances()
    assert await cryptomus.payout_options()


async def test_a_slow_read_is_unavailable(sandbox, cryptomus_for):
    cryptomus = cryptomus_for(sandbox, settings=IMPATIENT)
    sandbox.add_faults("cryptomus:balance:latency=1.5")
    with pytest.raises(ProviderUnavailableError, match="no answer within"):
        await cryptomus.balances()
