"""Amounts as a person reads them: grouped, the asset's usual places, and never a digit lost or invented."""

from decimal import Decimal

import pytest

from treasury_app.domain.assets import find_asset
from treasury_app.domain.money import display_amount


@pytest.mark.parametrize(("amount", "places", "shown"), [
    ("1500", 2, "1,500.00"),
    ("1500.5", 2, "1,500.50"),
    ("1.000000", 2, "1.00"),  # a provider's padded fee reads like the amount beside it
    ("0.123456789012345678", 6, "0.123456789012345678"),  # every digit it has, beyond the usual places
    ("1234567890123456789012345.5", 2, "1,234,567,890,123,456,789,012,345.50"),  # no float, no exponent
    ("1E+3", 2, "1,000.00"),
    ("0", 0, "0"),
    ("-2500.10", 2, "-2,500.10"),
])
def test_display_amount_groups_thousands_and_keeps_every_digit(amount, places, shown):
    assert display_amount(Decimal(amount), places) == shown


@pytest.mark.parametrize(("currency", "network", "places"), [
    ("USDT", "TRON", 2),  # cents for stablecoins
    ("BTC", "BTC", 8),  # satoshis
    ("ETH", "ETH", 6),  # six of an 18-decimal coin's places
])
def test_each_asset_is_shown_with_its_usual_places(currency, network, places):
    assert find_asset(currency, network).display_places == places
