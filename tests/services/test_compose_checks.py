"""The compose form's checks: what the provider's capabilities refuse shows beside each field at once, and a
choice left open is no problem (the provider's default fills it)."""

from __future__ import annotations

from desk_fixtures import TRON_ADDRESS

from treasury_app.domain.payout_request import FeeMode
from treasury_app.providers.cryptomus import CRYPTOMUS_CAPABILITIES
from treasury_app.providers.kinds import PROVIDER_KINDS
from treasury_app.services.compose_checks import ComposeFields, check_fields

PAY3 = PROVIDER_KINDS["pay3"].capabilities
EVM_ADDRESS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def test_a_fee_mode_left_open_is_no_problem_for_either_provider():
    for provider, caps in (("pay3", PAY3), ("cryptomus", CRYPTOMUS_CAPABILITIES)):
        fields = ComposeFields(provider, "USDT", "TRON", TRON_ADDRESS, "15")
        assert check_fields(fields, None, caps).ok


def test_every_choice_the_provider_refuses_is_shown_beside_its_field_at_once():
    fields = ComposeFields("pay3", "USDT", "ETH", EVM_ADDRESS, "15", fee_mode=FeeMode.FROM_BALANCE, priority="high",
                           memo="4711")
    check = check_fields(fields, None, PAY3)
    assert set(check.problems) == {"fee_mode", "priority", "memo"}
    assert check.problems["fee_mode"] == "Pay3 always takes its fee from the amount (allowed: from_amount)"
    assert check.problems["priority"].startswith("Pay3 takes no priority")


def test_an_asset_the_provider_does_not_pay_names_the_networks_it_pays_the_currency_on():
    check = check_fields(ComposeFields("pay3", "USDT", "BSC", EVM_ADDRESS, "15"), None, PAY3)
    assert check.problems == {
        "network": "Pay3 pays USDT on Tron and Ethereum only, not on BNB Smart Chain (allowed: TRON, ETH)"}
