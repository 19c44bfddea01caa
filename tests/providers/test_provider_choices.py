"""Each provider states what it takes for a payout's choices (its capabilities), as its reference documents it,
and its client refuses a request carrying a choice it cannot carry before anything leaves: a priority or memo is
never silently dropped on the way to a provider that has no field for it."""

from __future__ import annotations

from dataclasses import replace

import pytest
from provider_fixtures import EVM_ADDRESS, TRON_ADDRESS, RecordingTransport

from treasury_app.domain.assets import find_asset
from treasury_app.domain.payout_request import FeeMode, Priority, compose_payout
from treasury_app.providers.cryptomus import CRYPTOMUS_CAPABILITIES
from treasury_app.providers.errors import ProviderValidationError
from treasury_app.providers.kinds import PROVIDER_KINDS
from treasury_app.providers.pay3 import Pay3Currency, Pay3Profile, default_currencies
from treasury_app.sandbox.config import DEFAULT_PAY3_CURRENCIES


def test_cryptomus_takes_both_fee_modes_from_the_balance_by_default_and_priority_and_memo_where_documented():
    # cryptomus.md: is_subtract true or false; priority only on BTC, ETH, POLYGON, BSC; memo on TON.
    caps = CRYPTOMUS_CAPABILITIES
    assert caps.fee_modes == (FeeMode.FROM_BALANCE, FeeMode.FROM_AMOUNT)
    assert caps.priority_networks == {"BTC", "ETH", "POLYGON", "BSC"} and caps.priorities == tuple(Priority)
    assert caps.default_priority is None  # nothing sent: Cryptomus chooses
    assert caps.memo_networks == {"TON"} and caps.publishes_limits
    assert "BTC_TESTNET" not in caps.networks
    assert caps.asset_for("BTC", None) == find_asset("BTC", "BTC")


def test_pay3_takes_its_fee_from_the_amount_only_and_pays_its_profile_s_currencies():
    profile = Pay3Profile(base_url="https://desk.pay3.app", client_id="c-1",
                          currencies=(Pay3Currency("USDT-TRON", find_asset("USDT", "TRON")),))
    caps = profile.capabilities
    assert caps.fee_modes == (FeeMode.FROM_AMOUNT,)
    assert (caps.priorities, caps.memo_networks, caps.publishes_limits) == ((), frozenset(), False)
    assert [asset.code for asset in caps.paid_assets] == ["USDT-TRON"]
    assert caps.asset_for("USDT", None) == find_asset("USDT", "TRON")  # its only USDT: no network needed


def test_the_pay3_kind_s_default_choices_are_the_sandbox_s_currencies():
    # `payout new --help` and a desk without a Pay3 profile (on the sandbox) read the kind's capabilities.
    kind_assets = {asset.code for asset in PROVIDER_KINDS["pay3"].capabilities.paid_assets}
    assert kind_assets == {find_asset(c.currency, c.network).code for c in DEFAULT_PAY3_CURRENCIES}
    assert {c.code for c in default_currencies()} == {c.code for c in DEFAULT_PAY3_CURRENCIES}
    assert PROVIDER_KINDS["cryptomus"].capabilities is CRYPTOMUS_CAPABILITIES


def stored(provider: str, **fields: object):
    """A request as re-read from the ledger (not composed against the provider's capabilities)."""
    values = dict(provider=provider, currency="USDT", network="ETH", address=EVM_ADDRESS, amount="20",
                  fee_mode="from_amount")
    values.update(fields)
    return compose_payout(**values)


@pytest.mark.parametrize(("fields", "field"), [({"priority": "high"}, "priority"),
                                                ({"fee_mode": "from_balance"}, "fee_mode")])
async def test_pay3_refuses_a_choice_it_cannot_carry_before_anything_is_sent(sandbox, pay3_for, fields, field):
    recorder = RecordingTransport()
    pay3 = pay3_for(sandbox, transport=recorder)
    with pytest.raises(ProviderValidationError) as caught:
        await pay3.estimate(stored("pay3", **fields), "choice-1")
    assert list(caught.value.fields) == [field]
    assert "Pay3" in caught.value.fields[field][0]
    assert recorder.requests == [] and sandbox.payouts() == []


async def test_cryptomus_refuses_a_priority_where_it_takes_none_before_anything_is_sent(sandbox, cryptomus_for):
    recorder = RecordingTransport()
    cryptomus = cryptomus_for(sandbox, transport=recorder)
    request = stored("cryptomus", network="TRON", address=TRON_ADDRESS)
    request = replace(request, priority=Priority.HIGH)  # a row edited by hand
    with pytest.raises(ProviderValidationError) as caught:
        await cryptomus.submit(request, "choice-2", {})
    assert caught.value.fields == {"priority": (
        "Cryptomus takes a priority on Bitcoin, Ethereum, BNB Smart Chain and Polygon only, not on Tron "
        "(allowed: none)",)}
    assert recorder.requests == [] and sandbox.payouts() == []
