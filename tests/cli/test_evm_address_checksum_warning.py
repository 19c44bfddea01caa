"""`treasury-app payout new|estimate|execute` against the sandbox with an EVM address typed in one case: it is
accepted, as wallets do, but the estimate and the confirmation say it carries no checksum and show the
checksummed spelling to compare; a checksummed address gets no such line; a wrong mixed-case checksum is
refused, naming the address."""

from __future__ import annotations

from typing import Any

from click.testing import Result
from payout_cli_runner import CommandLine

from treasury_app.ledger import open_ledger

CHECKSUMMED = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"  # an EIP-55 test vector
LOWER = CHECKSUMMED.lower()
WARNING = f"this address carries no checksum; compare it with its checksummed form {CHECKSUMMED}"


def new_evm_payout(cli: CommandLine, address: str, *extra: str) -> Result:
    return cli("payout", "new", "--provider", "cryptomus", "--currency", "USDT", "--network", "ETH",
               "--address", address, "--amount", "150", "--as", "alice", *extra)


def new_evm_payout_json(cli: CommandLine, address: str) -> tuple[Any, Result]:
    return cli.json("payout", "new", "--provider", "cryptomus", "--currency", "USDT", "--network", "ETH",
                    "--address", address, "--amount", "150", "--as", "alice")


def test_new_with_a_lower_case_address_estimates_it_and_warns_with_the_checksummed_form(cli):
    result = new_evm_payout(cli, LOWER)
    assert result.exit_code == 0, result.output
    assert f"  address          {LOWER}\n  address warning  {WARNING}\n" in result.stdout
    assert "payout 1: estimated" in result.stdout


def test_new_and_estimate_as_json_carry_the_warning_and_keep_the_address_as_typed(cli):
    created, result = new_evm_payout_json(cli, LOWER)
    assert result.exit_code == 0, result.output
    assert created["payout"]["address"] == LOWER
    assert (created["address_warning"], created["address_checksummed"]) == (WARNING, CHECKSUMMED)
    again, result = cli.json("payout", "estimate", "1", "--as", "alice")
    assert result.exit_code == 0, result.output
    assert (again["address_warning"], again["address_checksummed"]) == (WARNING, CHECKSUMMED)


def test_an_upper_case_address_is_warned_about_too(cli):
    upper = "0x" + CHECKSUMMED[2:].upper()
    created, result = new_evm_payout_json(cli, upper)
    assert result.exit_code == 0, result.output
    assert created["payout"]["address"] == upper and created["address_checksummed"] == CHECKSUMMED


def test_the_execute_confirmation_warns_before_the_question_and_the_result_carries_it(cli, sandbox):
    new_evm_payout(cli, LOWER)
    declined = cli("payout", "execute", "1", "--as", "alice", input="n\n")
    assert declined.exit_code == 1
    question = declined.stderr.index("Send payout 1 now?")
    assert 0 <= declined.stderr.index(f"  address warning  {WARNING}") < question
    assert sandbox.payouts() == []
    sent, result = cli.json("payout", "execute", "1", "--yes", "--as", "alice")
    assert result.exit_code == 0, result.output
    assert WARNING in result.stderr
    assert (sent["address_warning"], sent["address_checksummed"]) == (WARNING, CHECKSUMMED)
    assert [p["address"] for p in sandbox.payouts()] == [LOWER]  # sent as typed: the provider takes either


def test_a_checksummed_address_gets_no_warning_anywhere(cli):
    created, result = new_evm_payout_json(cli, CHECKSUMMED)
    assert result.exit_code == 0, result.output
    assert (created["address_warning"], created["address_checksummed"]) == (None, None)
    shown = cli("payout", "show", "1").stdout
    declined = cli("payout", "execute", "1", "--as", "alice", input="n\n")
    assert "checksum" not in shown and "checksum" not in declined.stderr
    assert CHECKSUMMED in declined.stderr


def test_show_warns_about_a_lower_case_address_in_text_and_json(cli):
    new_evm_payout(cli, LOWER)
    assert f"address warning  {WARNING}" in cli("payout", "show", "1").stdout
    shown, _ = cli.json("payout", "show", "1")
    assert shown["address_checksummed"] == CHECKSUMMED


def test_a_wrong_mixed_case_checksum_is_refused_naming_the_address_and_nothing_is_composed(cli, data_dir):
    wrong = CHECKSUMMED[:3] + CHECKSUMMED[3].swapcase() + CHECKSUMMED[4:]
    result = new_evm_payout(cli, wrong)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: address: mixed-case EVM address fails its EIP-55 checksum")
    with open_ledger(data_dir / "ledger.sqlite3") as ledger:
        assert ledger.payouts.count() == 0
