"""`treasury-app payout new` takes every choice left out from the provider's capabilities and refuses a choice the
provider never takes with one line naming the option and what that provider allows (exit 2, nothing written),
against the sandbox over loopback; `--help` says per provider what it allows, generated from the same values."""

from __future__ import annotations

import pytest
from desk_fixtures import TRON_ADDRESS
from payout_cli_runner import CommandLine
from provider_fixtures import BTC_ADDRESS, BTC_TESTNET_ADDRESS, EVM_ADDRESS, Sandbox

from treasury_app.commands.provider_choice_words import choices_help
from treasury_app.domain.payout_request import FeeMode, Priority
from treasury_app.domain.provider_capabilities import ProviderCapabilities
from treasury_app.ledger import open_ledger


def new_payout(cli: CommandLine, provider: str, *options: str, currency: str = "USDT", amount: str = "15"):
    return cli.json("payout", "new", "--provider", provider, "--currency", currency, *options, "--amount", amount,
                    "--as", "alice")


def test_pay3_with_no_fee_option_is_estimated_with_its_fee_from_the_amount(cli, sandbox):
    created, result = new_payout(cli, "pay3", "--network", "TRON", "--address", TRON_ADDRESS)
    assert result.exit_code == 0, result.output
    payout = created["payout"]
    assert (payout["status"], payout["fee_mode"]) == ("estimated", "from_amount")
    assert (payout["estimated_fee"], payout["estimated_net"], payout["estimated_total"]) == ("1.5", "13.5", "15")
    assert [p["idempotency_key"] for p in sandbox.payouts("pay3")] == [payout["idempotency_key"]]


def test_cryptomus_with_no_fee_option_takes_the_fee_from_the_balance(cli):
    created, result = new_payout(cli, "cryptomus", "--network", "TRON", "--address", TRON_ADDRESS)
    assert result.exit_code == 0, result.output
    payout = created["payout"]
    assert (payout["fee_mode"], payout["estimated_net"], payout["estimated_total"]) == (
        "from_balance", "15", "16.000000")


@pytest.mark.parametrize(("provider", "address", "network"), [("pay3", BTC_TESTNET_ADDRESS, "BTC_TESTNET"),
                                                              ("cryptomus", BTC_ADDRESS, "BTC")])
def test_a_network_left_out_is_the_only_one_the_provider_pays_the_currency_on(cli, provider, address, network):
    created, result = new_payout(cli, provider, "--address", address, currency="BTC", amount="0.001")
    assert result.exit_code == 0, result.output
    assert (created["payout"]["network"], created["payout"]["status"]) == (network, "estimated")


def test_a_currency_the_provider_pays_on_several_networks_asks_for_one_of_its_own(cli):
    result = cli("payout", "new", "--provider", "pay3", "--currency", "USDT", "--address", TRON_ADDRESS,
                 "--amount", "15", "--as", "alice")
    assert result.exit_code == 1
    assert result.stderr == "Error: network: Pay3 pays USDT on several networks; choose one of TRON, ETH\n"


REFUSALS = {
    "pay3 fee from the balance": (
        ("pay3", "--network", "TRON", "--address", TRON_ADDRESS, "--fee-from-balance"),
        "Error: --fee-from-balance: Pay3 always takes its fee from the amount; Pay3 allows --fee-from-amount"),
    "pay3 priority": (
        ("pay3", "--network", "ETH", "--address", EVM_ADDRESS, "--priority", "high"),
        "Error: --priority: Pay3 takes no priority; leave --priority out"),
    "cryptomus priority on a network that takes none": (
        ("cryptomus", "--network", "TRON", "--address", TRON_ADDRESS, "--priority", "high"),
        "Error: --priority: Cryptomus takes a priority on Bitcoin, Ethereum, BNB Smart Chain and Polygon only, "
        "not on Tron; leave --priority out"),
    "cryptomus memo where none is carried": (
        ("cryptomus", "--network", "TRON", "--address", TRON_ADDRESS, "--memo", "4711"),
        "Error: --memo: Cryptomus takes a memo on TON only, not on Tron; leave --memo out"),
    "pay3 network it does not pay the currency on": (
        ("pay3", "--network", "BSC", "--address", EVM_ADDRESS),
        "Error: --network: Pay3 pays USDT on Tron and Ethereum only, not on BNB Smart Chain; Pay3 allows TRON or ETH"),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_a_choice_the_provider_never_takes_is_refused_in_one_line_with_exit_2_and_nothing_written(
        cli, sandbox: Sandbox, data_dir, case):
    words, expected = REFUSALS[case]
    result = cli("payout", "new", "--provider", words[0], "--currency", "USDT", *words[1:], "--amount", "15",
                 "--as", "alice")
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [expected] and result.stdout == ""
    with open_ledger(data_dir / "ledger.sqlite3") as ledger:
        assert ledger.payouts.count() == 0
        assert not [row for row in ledger.audit.rows() if row.operator == "alice"]  # asked before any sign-in
    assert sandbox.payouts() == []


def test_help_says_per_provider_what_it_allows_and_what_it_defaults_to(cli):
    shown = cli("payout", "new", "--help")
    assert shown.exit_code == 0
    lines = [line.strip() for line in shown.stdout.splitlines()]
    assert "cryptomus  fee       --fee-from-balance (default) or --fee-from-amount" in lines
    assert "pay3       fee       --fee-from-amount only (the default)" in lines
    assert "assets    BTC on BTC_TESTNET, ETH on ETH, USDT on TRON or ETH" in lines
    assert "priority  recommended, economy, high or highest on BTC, ETH, BSC and POLYGON;" in lines
    assert "left out: none is sent and Cryptomus chooses" in lines
    assert "amount    no published minimum or maximum: its estimate says" in lines


def test_the_help_words_come_from_the_capabilities_themselves():
    # A provider unlike either of ours: the help follows whatever its capabilities say.
    other = ProviderCapabilities(provider="pay3", title="Other", fee_modes=(FeeMode.FROM_AMOUNT, FeeMode.FROM_BALANCE),
                                 networks=frozenset({"TON", "ETH"}), priorities=(Priority.HIGH,),
                                 priority_networks=frozenset({"ETH"}), default_priority=Priority.HIGH,
                                 memo_networks=frozenset({"TON"}))
    lines = [line.strip() for line in choices_help([other]).splitlines()]
    assert "pay3       fee       --fee-from-amount (default) or --fee-from-balance" in lines
    assert "networks  ETH, TON" in lines and "priority  high on ETH;" in lines and "left out: high" in lines
    assert "memo      on TON" in lines


def test_provider_assets_without_a_profile_lists_the_sandbox_s_as_the_payout_commands_use_it(cli):
    result = cli("provider", "assets", "cryptomus")
    assert result.exit_code == 0, result.output
    assert "SANDBOX" in result.stdout.splitlines()[0]
    assert "USDT-TRON" in result.stdout and "1 USDT + 0 %" in result.stdout
