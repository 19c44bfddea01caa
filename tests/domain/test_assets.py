"""The catalogue knows every currency + network pair the providers use, with decimals and address format."""

import pytest

from treasury_app.domain.assets import ASSETS, AddressFormat, currencies, decimals_of, find_asset
from treasury_app.domain.errors import InvalidFieldError

REQUIRED = [
    ("BTC", "BTC"), ("BTC", "BTC_TESTNET"), ("LTC", "LTC"), ("DOGE", "DOGE"), ("ETH", "ETH"),
    ("USDT", "TRON"), ("USDT", "ETH"), ("USDT", "BSC"), ("USDT", "POLYGON"), ("USDC", "ETH"),
    ("TRX", "TRON"), ("TON", "TON"), ("SOL", "SOL"), ("BNB", "BSC"),
]


@pytest.mark.parametrize(("currency", "network"), REQUIRED)
def test_required_pairs_are_in_the_catalogue(currency, network):
    asset = find_asset(currency, network)
    assert (asset.currency, asset.network.code) == (currency, network)
    assert 0 < asset.decimals <= 18


@pytest.mark.parametrize(
    ("currency", "network", "decimals", "address_format"),
    [
        ("BTC", "BTC", 8, AddressFormat.BITCOIN),
        ("USDT", "TRON", 6, AddressFormat.TRON),
        ("USDT", "BSC", 18, AddressFormat.EVM),  # BEP-20 USDT has 18 decimals, unlike TRC-20's 6
        ("ETH", "ETH", 18, AddressFormat.EVM),
        ("TON", "TON", 9, AddressFormat.TON),
        ("SOL", "SOL", 9, AddressFormat.SOLANA),
        ("DOGE", "DOGE", 8, AddressFormat.DOGECOIN),
    ],
)
def test_assets_carry_their_chain_decimals_and_address_format(currency, network, decimals, address_format):
    asset = find_asset(currency, network)
    assert asset.decimals == decimals
    assert asset.network.address_format is address_format


def test_lookup_ignores_case_and_surrounding_space():
    assert find_asset(" usdt ", "tron") is ASSETS[("USDT", "TRON")]


def test_network_may_be_left_out_only_for_a_single_network_currency():
    assert find_asset("TRX", None).network.code == "TRON"
    with pytest.raises(InvalidFieldError) as caught:
        find_asset("USDT", None)
    assert caught.value.field == "network"
    assert "TRON" in caught.value.message and "ETH" in caught.value.message


@pytest.mark.parametrize(("currency", "network", "field"), [("XYZ", "ETH", "currency"), ("", "ETH", "currency"),
                                                            ("USDT", "LTC", "network"), ("BTC", "ETH", "network")])
def test_unknown_pairs_name_the_wrong_field(currency, network, field):
    with pytest.raises(InvalidFieldError) as caught:
        find_asset(currency, network)
    assert caught.value.field == field


def test_only_ton_takes_a_memo_and_only_fee_market_chains_take_a_priority():
    memo_networks = {a.network.code for a in ASSETS.values() if a.network.supports_memo}
    priority_networks = {a.network.code for a in ASSETS.values() if a.network.supports_priority}
    assert memo_networks == {"TON"}
    assert priority_networks == {"BTC", "BTC_TESTNET", "ETH", "POLYGON", "BSC"}


def test_explorer_link_puts_the_hash_in_place():
    assert find_asset("USDT", "TRON").network.explorer_link("abc") == "https://tronscan.org/#/transaction/abc"


def test_currency_list_and_widest_decimals():
    assert "USDT" in currencies() and currencies() == sorted(currencies())
    assert decimals_of("usdt") == 18
    with pytest.raises(InvalidFieldError):
        decimals_of("XYZ")
