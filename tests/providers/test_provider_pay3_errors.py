"""Every way a Pay3 call can go wrong, each ending in the typed error a person or the workflow can act on."""

from dataclasses import replace
from decimal import Decimal

import pytest
from provider_fixtures import EVM_ADDRESS, IMPATIENT, RecordingTransport, btc_testnet, usdt_tron

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.domain.payout_request import compose_payout
from treasury_app.providers.errors import (
    AmountLimitError,
    EstimateExpiredError,
    OrderAlreadyExistsError,
    OutcomeUnknownError,
    ProviderUnavailableError,
    ProviderValidationError,
    RateLimitedError,
    RequestRefusedError,
    UnexpectedAnswerError,
)
from treasury_app.providers.pay3 import Pay3Currency

EXECUTE_PATH = "/v1/client/crypto-payout/execute"
CREATE_PATH = "/v1/client/crypto-payout/create-order"


# --- 7001: the order is read instead ----------------------------------------------------------------------


async def test_a_second_estimate_under_a_used_key_reads_the_order_instead_of_failing(pay3):
    await pay3.estimate(btc_testnet(), "twice-1")
    with pytest.raises(OrderAlreadyExistsError) as caught:
        await pay3.estimate(btc_testnet(), "twice-1")
    state = caught.value.state
    assert (state.idempotency_key, state.provider_status, state.status) == ("twice-1", "CREATED",
                                                                            PayoutStatus.ESTIMATED)


async def test_7001_on_an_executed_order_shows_it_is_being_paid(pay3):
    estimate = await pay3.estimate(btc_testnet(), "twice-2")
    await pay3.submit(btc_testnet(), "twice-2", estimate.execution_data)
    with pytest.raises(OrderAlreadyExistsError) as caught:
        await pay3.estimate(btc_testnet(), "twice-2")
    assert caught.value.state.status is PayoutStatus.PROCESSING


async def test_7001_is_still_reported_as_an_existing_order_when_the_order_cannot_be_read(pay3, sandbox):
    await pay3.estimate(btc_testnet(), "twice-4")
    sandbox.add_faults("pay3:details:500")
    with pytest.raises(OrderAlreadyExistsError, match="could not be read") as caught:
        await pay3.estimate(btc_testnet(), "twice-4")
    assert caught.value.state is None


async def test_7001_is_recognised_when_the_code_is_a_number(start_sandbox, pay3_for):
    client = pay3_for(start_sandbox(pay3_numeric_error_codes=True))
    await client.estimate(btc_testnet(), "twice-3")
    with pytest.raises(OrderAlreadyExistsError):
        await client.estimate(btc_testnet(), "twice-3")


# --- refusals ---------------------------------------------------------------------------------------------


async def test_fee_from_balance_is_refused_before_anything_is_sent(sandbox, pay3_for):
    recorder = RecordingTransport()
    client = pay3_for(sandbox, transport=recorder)
    with pytest.raises(ProviderValidationError) as caught:
        await client.estimate(btc_testnet(fee_mode="from_balance"), "feemode-1")
    assert list(caught.value.fields) == ["fee_mode"]
    assert recorder.requests == []


async def test_an_asset_outside_the_profile_is_refused_under_currency(pay3):
    with pytest.raises(ProviderValidationError) as caught:
        await pay3.estimate(replace(usdt_tron(fee_mode="from_amount"), provider="pay3",
                                    asset=replace(usdt_tron().asset, currency="USDC")), "cur-1")
    assert list(caught.value.fields) == ["currency"]


async def test_a_currency_pay3_has_not_enabled_is_refused_under_currency(sandbox, pay3_for):
    client = pay3_for(sandbox, currencies=(Pay3Currency.parse("USDT-BSC=USDT:BSC"),))
    request = compose_payout(provider="pay3", currency="USDT", network="BSC", address=EVM_ADDRESS, amount="10",
                             fee_mode="from_amount")
    with pytest.raises(ProviderValidationError, match="not enabled") as caught:
        await client.estimate(request, "cur-2")
    assert list(caught.value.fields) == ["currency"]


async def test_a_refused_address_is_reported_under_address(pay3, sandbox):
    with pytest.raises(ProviderValidationError) as caught:
        await pay3.estimate(replace(btc_testnet(), address="tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsy"), "addr-1")
    assert list(caught.value.fields) == ["address"]
    assert sandbox.payouts() == []


async def test_an_amount_not_above_the_fee_is_an_amount_limit_with_the_fee(pay3):
    with pytest.raises(AmountLimitError) as caught:
        await pay3.estimate(btc_testnet("0.00005"), "small-1")
    assert (caught.value.bound, caught.value.limit) == ("minimum", Decimal("0.000066"))


async def test_executing_an_estimate_that_timed_out_asks_for_a_new_estimate(pay3, sandbox):
    estimate = await pay3.estimate(btc_testnet(), "late-1")
    sandbox.advance(901)
    with pytest.raises(EstimateExpiredError, match="estimate again"):
        await pay3.submit(btc_testnet(), "late-1", estimate.execution_data)


async def test_executing_with_a_wrong_token_is_refused(pay3):
    estimate = await pay3.estimate(btc_testnet(), "badtoken-1")
    with pytest.raises(RequestRefusedError, match="Invalid token"):
        await pay3.submit(btc_testnet(), "badtoken-1", {**estimate.execution_data, "token": "not-it"})


async def test_executing_without_an_estimate_is_refused_before_anything_is_sent(sandbox, pay3_for):
    recorder = RecordingTransport()
    client = pay3_for(sandbox, transport=recorder)
    with pytest.raises(ProviderValidationError) as caught:
        await client.submit(btc_testnet(), "noest-1", {})
    assert list(caught.value.fields) == ["estimate"]
    assert recorder.requests == []


async def test_executing_twice_is_refused_and_pays_once(pay3, sandbox):
    estimate = await pay3.estimate(btc_testnet(), "again-1")
    await pay3.submit(btc_testnet(), "again-1", estimate.execution_data)
    with pytest.raises(RequestRefusedError, match="already executed"):
        await pay3.submit(btc_testnet(), "again-1", estimate.execution_data)
    assert [p["debited"] for p in sandbox.payouts("pay3")] == ["0.001"]


# --- faults: writes are never repeated and end in outcome unknown -----------------------------------------


@pytest.mark.parametrize("kind", ["500", "drop", "malformed", "html", "commit-drop"])
async def test_an_execute_without_a_usable_answer_is_outcome_unknown_and_not_repeated(sandbox, pay3_for, kind):
    recorder = RecordingTransport()
    client = pay3_for(sandbox, transport=recorder)
    estimate = await client.estimate(btc_testnet(), f"lost-{kind}")
    sandbox.add_faults(f"pay3:execute:{kind}")
    with pytest.raises(OutcomeUnknownError, match="never resend blindly"):
        await client.submit(btc_testnet(), f"lost-{kind}", estimate.execution_data)
    assert recorder.paths().count(EXECUTE_PATH) == 1
    sandbox.clear_faults()
    state = (await client.fetch_states([f"lost-{kind}"]))[f"lost-{kind}"]
    executed = kind == "commit-drop"
    assert [p["executed"] for p in sandbox.payouts("pay3")] == [executed]
    assert state.status is (PayoutStatus.PROCESSING if executed else PayoutStatus.ESTIMATED)


@pytest.mark.parametrize("kind", ["500", "drop", "malformed", "html", "commit-drop"])
async def test_an_estimate_without_a_usable_answer_is_outcome_unknown_and_not_repeated(sandbox, pay3_for, kind):
    recorder = RecordingTransport()
    client = pay3_for(sandbox, transport=recorder)
    sandbox.add_faults(f"pay3:create:{kind}")
    with pytest.raises(OutcomeUnknownError):
        await client.estimate(btc_testnet(), f"est-lost-{kind}")
    assert recorder.paths().count(CREATE_PATH) == 1


async def test_an_execute_refused_with_429_did_nothing(sandbox, pay3):
    estimate = await pay3.estimate(btc_testnet(), "busy-1")
    sandbox.add_faults("pay3:execute:429=3")
    with pytest.raises(RateLimitedError) as caught:
        await pay3.submit(btc_testnet(), "busy-1", estimate.execution_data)
    assert caught.value.retry_after_seconds == 3
    assert [p["executed"] for p in sandbox.payouts("pay3")] == [False]


async def test_an_execute_without_an_answer_in_time_is_outcome_unknown(sandbox, pay3_for):
    pay3 = pay3_for(sandbox, settings=IMPATIENT)
    estimate = await pay3.estimate(btc_testnet(), "slow-1")
    sandbox.add_faults("pay3:execute:latency=1.5")
    with pytest.raises(OutcomeUnknownError, match="no answer within"):
        await pay3.submit(btc_testnet(), "slow-1", estimate.execution_data)


@pytest.mark.parametrize(("kind", "error"), [("500", ProviderUnavailableError), ("drop", ProviderUnavailableError),
                                             ("html", ProviderUnavailableError), ("malformed", UnexpectedAnswerError),
                                             ("429=0", RateLimitedError)])
@pytest.mark.parametrize("endpoint", ["details", "token"])
async def test_failing_reads_are_repeated_then_reported_as_their_kind(sandbox, pay3_for, endpoint, kind, error):
    recorder = RecordingTransport()
    client = pay3_for(sandbox, transport=recorder)
    if endpoint == "details":
        await client.verify_credentials()  # a token first, so the fault meets the details call
    sandbox.add_faults(f"pay3:{endpoint}:{kind}")
    with pytest.raises(error) as caught:
        await client.fetch_states(["read-1"])
    assert not isinstance(caught.value, OutcomeUnknownError)
    path = "/v1/client/crypto-orders" if endpoint == "details" else "/v1/client/access-token"
    assert recorder.paths().count(path) == 3


async def test_a_details_read_that_fails_once_succeeds_on_the_repeat(sandbox, pay3):
    sandbox.add_faults("pay3:details:drop:1", "pay3:token:500:1")
    assert await pay3.fetch_states(["once-1"]) == {"once-1": None}
