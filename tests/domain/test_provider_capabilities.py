"""A provider's capabilities give every choice left out its default and refuse the choices the provider does not
take, naming the field and what it allows. Two made-up providers stand for the two shapes that exist: one that
lets a person choose (both fee modes, priority on fee-market chains, memo on TON) and one with nothing to choose
(a fixed list of assets, the fee always from the amount)."""

from decimal import Decimal

import pytest

from treasury_app.domain.assets import find_asset
from treasury_app.domain.errors import InvalidFieldError
from treasury_app.domain.payout_request import FeeMode, Priority, compose_payout
from treasury_app.domain.provider_capabilities import ProviderCapabilities, UnsupportedChoiceError

TRON_ADDRESS = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
EVM_ADDRESS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
BTC_TESTNET_ADDRESS = "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"
BTC_ADDRESS = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
TON_ADDRESS = "EQD4FPq-PRDieyQKkizFTRtSDyucUIqrj0v_zXJmqaDp6_0t"

CHOOSING = ProviderCapabilities(
    provider="cryptomus", title="Chooser", fee_modes=(FeeMode.FROM_BALANCE, FeeMode.FROM_AMOUNT),
    networks=frozenset({"BTC", "ETH", "TRON", "TON"}), priorities=(Priority.ECONOMY, Priority.HIGH),
    priority_networks=frozenset({"BTC", "ETH"}), default_priority=Priority.ECONOMY, memo_networks=frozenset({"TON"}),
    publishes_limits=True)
FIXED = ProviderCapabilities(
    provider="pay3", title="Fixed", fee_modes=(FeeMode.FROM_AMOUNT,), networks=frozenset({"BTC_TESTNET", "TRON", "ETH"}),
    assets=frozenset({"BTC-BTC_TESTNET", "USDT-TRON", "USDT-ETH"}))


def compose(capabilities, **overrides):
    fields = dict(provider=capabilities.provider, currency="USDT", network="TRON", address=TRON_ADDRESS,
                  amount="150")
    fields.update(overrides)
    return compose_payout(**fields, capabilities=capabilities)


def refusal(call) -> UnsupportedChoiceError:
    with pytest.raises(UnsupportedChoiceError) as caught:
        call()
    return caught.value


def test_a_fee_mode_left_out_takes_each_provider_s_own_default():
    assert compose(CHOOSING).fee_mode is FeeMode.FROM_BALANCE
    assert compose(FIXED).fee_mode is FeeMode.FROM_AMOUNT
    assert compose(CHOOSING, fee_mode="from_amount").fee_mode is FeeMode.FROM_AMOUNT


def test_a_fee_mode_the_provider_never_takes_is_refused_naming_what_it_allows():
    refused = refusal(lambda: compose(FIXED, fee_mode="from_balance"))
    assert (refused.field, refused.requested, refused.allowed) == ("fee_mode", "from_balance", ("from_amount",))
    assert refused.reason == "Fixed always takes its fee from the amount"
    assert str(refused) == "fee_mode: Fixed always takes its fee from the amount (allowed: from_amount)"
    assert isinstance(refused, InvalidFieldError)  # every face that handles a bad field handles this one


def test_a_network_left_out_is_the_only_one_the_provider_pays_the_currency_on():
    # The catalogue has BTC on Bitcoin and on its testnet: each provider's own list makes the choice.
    assert compose(FIXED, currency="BTC", network=None, address=BTC_TESTNET_ADDRESS,
                   amount="0.001").asset.code == "BTC-BTC_TESTNET"
    assert CHOOSING.asset_for("btc", None).code == "BTC-BTC"
    assert CHOOSING.asset_for("TRX", "") == find_asset("TRX", "TRON")


def test_a_currency_paid_on_several_networks_needs_the_network_and_hears_the_provider_s_own():
    with pytest.raises(InvalidFieldError) as caught:
        compose(FIXED, network=None)
    assert (caught.value.field, caught.value.message) == (
        "network", "Fixed pays USDT on several networks; choose one of TRON, ETH")


def test_a_network_the_provider_does_not_pay_the_currency_on_names_the_ones_it_does():
    refused = refusal(lambda: compose(FIXED, currency="BTC", network="BTC", address=BTC_ADDRESS, amount="0.001"))
    assert (refused.field, refused.requested, refused.allowed) == ("network", "BTC", ("BTC_TESTNET",))
    assert refused.reason == "Fixed pays BTC on Bitcoin testnet only, not on Bitcoin"


def test_a_currency_the_provider_does_not_pay_at_all_names_the_currencies_it_pays():
    refused = refusal(lambda: FIXED.asset_for("TRX", None))
    assert (refused.field, refused.allowed) == ("currency", ("BTC", "USDT"))
    with pytest.raises(InvalidFieldError, match="not a currency this app knows"):
        FIXED.asset_for("XYZ", None)


def test_a_priority_is_taken_only_where_the_provider_takes_one_and_its_default_fills_it_there():
    eth = find_asset("USDT", "ETH")
    assert CHOOSING.priority_for(None, eth) is Priority.ECONOMY
    assert CHOOSING.priority_for(None, find_asset("USDT", "TRON")) is None
    assert compose(CHOOSING, network="ETH", address=EVM_ADDRESS, priority="HIGH").priority is Priority.HIGH

    on_tron = refusal(lambda: compose(CHOOSING, priority="high"))
    assert (on_tron.field, on_tron.allowed) == ("priority", ())
    assert on_tron.reason == "Chooser takes a priority on Bitcoin and Ethereum only, not on Tron"
    not_offered = refusal(lambda: CHOOSING.priority_for(Priority.HIGHEST, eth))
    assert not_offered.allowed == ("economy", "high")
    assert refusal(lambda: compose(FIXED, network="ETH", address=EVM_ADDRESS,
                                   priority="high")).reason == "Fixed takes no priority"


def test_a_memo_is_refused_where_the_provider_carries_none():
    on_tron = refusal(lambda: compose(CHOOSING, memo="123"))
    assert (on_tron.field, on_tron.reason) == ("memo", "Chooser takes a memo on TON only, not on Tron")
    assert refusal(lambda: compose(FIXED, memo="123")).reason == "Fixed takes no memo"
    assert compose(CHOOSING, currency="TON", network="TON", address=TON_ADDRESS, memo="123").memo == "123"


def test_every_refused_choice_is_listed_at_once_for_the_compose_form():
    problems = FIXED.choice_problems(find_asset("USDT", "BSC"), FeeMode.FROM_BALANCE, Priority.HIGH, "tag")
    assert [problem.field for problem in problems] == ["network", "fee_mode", "priority", "memo"]
    assert FIXED.choice_problems(find_asset("USDT", "TRON"), None, None, None) == []


def test_the_assets_a_provider_pays_follow_its_networks_or_its_fixed_list():
    assert [asset.code for asset in FIXED.paid_assets] == ["BTC-BTC_TESTNET", "USDT-TRON", "USDT-ETH"]
    assert {asset.network.code for asset in CHOOSING.paid_assets} == {"BTC", "ETH", "TRON", "TON"}
    assert [asset.code for asset in CHOOSING.assets_of("usdt")] == ["USDT-TRON", "USDT-ETH", "USDT-TON"]


def test_another_provider_s_capabilities_are_a_programming_error():
    with pytest.raises(ValueError, match="pay3's capabilities were given for a cryptomus payout"):
        compose_payout(provider="cryptomus", currency="USDT", network="TRON", address=TRON_ADDRESS, amount="1",
                       capabilities=FIXED)


def test_capabilities_that_contradict_themselves_are_refused_when_stated():
    with pytest.raises(ValueError, match="at least one way"):
        ProviderCapabilities(provider="pay3", title="None", fee_modes=(), networks=frozenset())
    with pytest.raises(ValueError, match="default priority"):
        ProviderCapabilities(provider="pay3", title="Odd", fee_modes=(FeeMode.FROM_AMOUNT,), networks=frozenset(),
                             default_priority=Priority.HIGH)


def test_without_capabilities_a_stored_payout_is_re_read_with_its_own_choices():
    request = compose_payout(provider="pay3", currency="USDT", network="TRON", address=TRON_ADDRESS, amount="1.5",
                             fee_mode=FeeMode.FROM_AMOUNT)
    assert (request.fee_mode, request.amount) == (FeeMode.FROM_AMOUNT, Decimal("1.5"))
