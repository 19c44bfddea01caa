"""`treasury-app payout new|execute|show|list` run in-process against the sandbox over loopback: what they print,
what they record, what reaches the provider, and the exit codes that tell refused (1), failed (3) and unknown (4)
apart. No provider profile is set up: the commands use the sandbox at TREASURY_SANDBOX_URL."""

from __future__ import annotations

from typing import Any

from click.testing import Result
from desk_fixtures import TRON_ADDRESS
from payout_cli_runner import CommandLine
from provider_fixtures import Sandbox, closed_port_url

from treasury_app.ledger import open_ledger


def new_payout(cli: CommandLine, *extra: str, amount: str = "150", provider: str = "cryptomus",
               initiator: str = "alice") -> tuple[Any, Result]:
    return cli.json("payout", "new", "--provider", provider, "--currency", "USDT", "--network", "TRON",
                    "--address", TRON_ADDRESS, "--amount", amount, *extra, "--as", initiator)


def set_threshold(cli: CommandLine, *extra: str, amount: str = "1000") -> None:
    result = cli("policy", "set", "--currency", "USDT", "--approval-threshold", amount, *extra, "--as", "root")
    assert result.exit_code == 0, result.output


def status_of(cli: CommandLine, payout_id: int) -> str:
    shown, result = cli.json("payout", "show", str(payout_id))
    assert result.exit_code == 0, result.output
    return shown["payout"]["status"]


def sent_under(sandbox: Sandbox, key: str) -> list[dict[str, Any]]:
    return [p for p in sandbox.payouts() if p["idempotency_key"] == key and p["executed"]]


# --- payout new ---------------------------------------------------------------------------------------------


def test_new_prints_the_id_the_estimate_and_why_approval_is_needed(cli):
    set_threshold(cli)
    result = cli("payout", "new", "--provider", "cryptomus", "--currency", "USDT", "--network", "TRON",
                 "--address", TRON_ADDRESS, "--amount", "1500", "--as", "alice")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("payout 1: awaiting_approval")
    assert "SANDBOX" in out
    assert "1.000000 USDT" in out and "1501.000000 USDT" in out  # fee and total debited, exactly
    # Every amount to the asset's places (USDT on TRON: 6), so that amount, fee, net and total line up.
    assert "amount           1500.000000 USDT" in out and "to recipient     1500.000000 USDT" in out
    assert "1500 USDT is at or above the approval threshold of 1000 USDT" in out
    assert "treasury-app payout approve 1" in out


def test_new_as_json_carries_exact_decimal_strings(cli):
    created, result = new_payout(cli, amount="1234.567891")
    assert result.exit_code == 0, result.output
    payout = created["payout"]
    assert (payout["status"], payout["amount"]) == ("estimated", "1234.567891")
    assert (payout["estimated_fee"], payout["estimated_net"], payout["estimated_total"]) == (
        "1.000000", "1234.567891", "1235.567891")
    assert created["approval"] == {"outcome": "free", "needs_approval": False, "refused": False, "reasons": []}
    assert created["provider"]["sandbox"] is True and created["provider"]["from_profile"] is False
    assert "estimate_data" not in payout


def test_a_mistyped_field_is_refused_before_any_password_is_asked(cli, data_dir):
    result = cli("payout", "new", "--provider", "cryptomus", "--currency", "USDT", "--network", "TRON",
                 "--address", TRON_ADDRESS[:-3], "--amount", "150", "--as", "alice")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: address:")
    with open_ledger(data_dir / "ledger.sqlite3") as ledger:
        assert ledger.payouts.count() == 0
        assert not [row for row in ledger.audit.rows() if row.operator == "alice"]  # alice never signed in


def test_an_estimate_that_cannot_be_had_keeps_the_draft_which_can_be_estimated_later(cli, data_dir):
    sandbox_down = CommandLine(data_dir, closed_port_url())
    created, result = new_payout(sandbox_down)
    assert result.exit_code == 1
    assert created["payout"]["status"] == "draft" and created["payout"]["id"] == 1
    assert "payout 1 stays draft" in result.stderr
    assert "start it in another terminal with 'treasury-app sandbox'" in result.stderr
    assert "treasury-app payout estimate 1" in result.stderr
    assert status_of(cli, 1) == "draft"
    estimated, result = cli.json("payout", "estimate", "1", "--as", "alice")
    assert result.exit_code == 0, result.output
    assert (estimated["payout"]["status"], estimated["payout"]["estimated_total"]) == ("estimated", "151.000000")


def test_the_provider_refusing_the_estimate_exits_3_and_keeps_the_draft(cli):
    # Under Cryptomus' minimum for USDT on TRON (0.5 USDT): its services list refuses it.
    created, result = new_payout(cli, amount="0.1")
    assert result.exit_code == 3, result.output
    assert "Minimum amount 0.5 USDT" in result.stderr
    assert created["payout"]["status"] == "draft" and status_of(cli, 1) == "draft"


def test_pay3_with_the_fee_from_the_amount_is_estimated(cli):
    created, result = new_payout(cli, "--fee-from-amount", provider="pay3", amount="15")
    assert result.exit_code == 0, result.output
    assert (created["payout"]["estimated_fee"], created["payout"]["estimated_net"]) == ("1.5", "13.5")


def test_a_policy_refusal_exits_1_at_new_and_at_execute_and_nothing_is_sent(cli, sandbox):
    result = cli("policy", "set", "--currency", "USDT", "--daily-limit", "100", "--over-limit", "refuse",
                 "--as", "root")
    assert result.exit_code == 0, result.output
    created, result = new_payout(cli, amount="500")
    assert result.exit_code == 1
    assert "refused by policy" in result.stderr
    assert created["approval"]["refused"] is True
    result = cli("payout", "execute", "1", "--yes", "--as", "alice")
    assert result.exit_code == 1
    assert "refused by policy" in result.stderr
    assert sandbox.payouts() == []


# --- payout execute -----------------------------------------------------------------------------------------


def test_execute_without_the_approval_it_needs_exits_1_and_sends_nothing(cli, sandbox):
    set_threshold(cli)
    new_payout(cli, amount="1500")
    result = cli("payout", "execute", "1", "--yes", "--as", "alice")
    assert result.exit_code == 1
    assert "needs a valid approval" in result.stderr
    assert sandbox.payouts() == []
    assert status_of(cli, 1) == "awaiting_approval"


def test_execute_shows_what_will_happen_and_no_sends_nothing(cli, sandbox):
    new_payout(cli)
    result = cli("payout", "execute", "1", "--as", "alice", input="n\n")
    assert result.exit_code == 1
    shown = result.stderr
    assert "About to send payout 1" in shown and "SANDBOX" in shown and TRON_ADDRESS in shown
    assert "150.000000 USDT" in shown and "1.000000 USDT" in shown and "151.000000 USDT" in shown
    assert "payout 1 was not sent" in shown
    assert sandbox.payouts() == []
    assert status_of(cli, 1) == "estimated"


def test_an_approved_payout_is_sent_once_with_exit_0_and_never_again(cli, sandbox):
    set_threshold(cli)
    created, _ = new_payout(cli, amount="1500")
    approved = cli("payout", "approve", "1", "--as", "bob")
    assert approved.exit_code == 0, approved.output
    sent, result = cli.json("payout", "execute", "1", "--yes", "--as", "alice")
    assert result.exit_code == 0, result.output
    assert sent["payout"]["status"] == "processing" and sent["exit_code"] == 0
    assert "approved by bob" in result.stderr
    again = cli("payout", "execute", "1", "--yes", "--as", "alice")
    assert again.exit_code == 1
    assert len(sent_under(sandbox, created["payout"]["idempotency_key"])) == 1


def test_an_execute_that_cannot_reach_the_provider_exits_1_says_how_to_retry_and_the_retry_sends_once(
        cli, sandbox, data_dir):
    set_threshold(cli)
    created, _ = new_payout(cli, amount="1500")
    assert cli("payout", "approve", "1", "--as", "bob").exit_code == 0
    sandbox_down = CommandLine(data_dir, closed_port_url())
    result = sandbox_down("payout", "execute", "1", "--yes", "--as", "alice")
    assert result.exit_code == 1, result.output
    assert "payout 1: NOT SENT" in result.stdout
    assert "could not connect" in result.stderr and "nothing was paid" in result.stderr
    assert "treasury-app payout execute 1 --as alice" in result.stderr
    assert "'treasury-app sandbox'" in result.stderr  # the sandbox is not running: how to start it
    assert status_of(cli, 1) == "approved"
    assert "payout.not_sent" in cli("payout", "show", "1").stdout

    as_json, result = sandbox_down.json("payout", "execute", "1", "--yes", "--as", "alice")
    assert result.exit_code == 1 and as_json["exit_code"] == 1
    assert as_json["payout"]["status"] == "approved" and "could not connect" in as_json["error"]

    sent, result = cli.json("payout", "execute", "1", "--yes", "--as", "alice")
    assert result.exit_code == 0, result.output
    assert sent["payout"]["status"] == "processing"
    assert len(sent_under(sandbox, created["payout"]["idempotency_key"])) == 1


def test_the_provider_refusing_the_payout_exits_3(cli, sandbox):
    new_payout(cli)
    sandbox.switch(cryptomus_forbidden=True)
    sent, result = cli.json("payout", "execute", "1", "--yes", "--as", "alice")
    assert result.exit_code == 3, result.output
    assert sent["payout"]["status"] == "failed" and sent["payout"]["failure_reason"]
    assert sandbox.payouts() == []


def test_an_answer_lost_after_the_provider_committed_exits_4(cli, sandbox):
    created, _ = new_payout(cli)
    sandbox.add_faults("cryptomus:create:commit-drop")
    sent, result = cli.json("payout", "execute", "1", "--yes", "--as", "alice")
    assert result.exit_code == 4, result.output
    assert sent["payout"]["status"] == "unknown"
    assert "UNKNOWN" in cli("payout", "show", "1").stdout.upper()
    assert len(sent_under(sandbox, created["payout"]["idempotency_key"])) == 1


# --- payout show and list -----------------------------------------------------------------------------------


def test_show_gives_every_field_the_timeline_the_approvals_and_the_audit_rows(cli):
    set_threshold(cli)
    new_payout(cli, "--reference", "INV-7", "--note", "March bonus", amount="1500")
    cli("payout", "approve", "1", "--as", "bob")
    text = cli("payout", "show", "1")
    assert text.exit_code == 0, text.output
    for expected in ("Payout 1: approved (cryptomus)", "INV-7", "March bonus", "approved by bob",
                     "awaiting_approval → approved", "payout.composed", "idempotency key"):
        assert expected in text.stdout
    shown, _ = cli.json("payout", "show", "1")
    assert [step["to_status"] for step in shown["timeline"]] == ["draft", "estimated", "awaiting_approval",
                                                                  "approved"]
    assert shown["approvals"][0]["operator"] == "bob"
    assert [row["action"] for row in shown["audit"]] == ["payout.composed", "payout.estimated",
                                                          "payout.approval_requested", "payout.approved"]
    assert shown["payout"]["reference"] == "INV-7" and shown["payout"]["amount"] == "1500"


def test_show_of_a_payout_that_does_not_exist_exits_1(cli):
    result = cli("payout", "show", "42")
    assert result.exit_code == 1
    assert "no payout with id 42" in result.stderr


def test_list_filters_by_status_provider_and_currency(cli):
    new_payout(cli, amount="150.25")
    new_payout(cli, provider="pay3", amount="15")
    new_payout(cli, amount="0.1")  # under the minimum: the estimate is refused, it stays a draft
    drafts, result = cli.json("payout", "list", "--status", "draft")
    assert result.exit_code == 0, result.output
    assert [(row["id"], row["provider"], row["amount"]) for row in drafts] == [(3, "cryptomus", "0.1")]
    everything, _ = cli.json("payout", "list", "--currency", "usdt")
    assert [row["id"] for row in everything] == [3, 2, 1]
    through_pay3, _ = cli.json("payout", "list", "--provider", "pay3")
    assert [row["id"] for row in through_pay3] == [2]
    table = cli("payout", "list", "--provider", "cryptomus")
    assert "150.25" in table.stdout and "pay3" not in table.stdout
    assert cli("payout", "list", "--status", "nonsense").exit_code == 2


def test_the_payout_group_offers_every_step_and_execute_documents_its_exit_codes(cli):
    group = cli("payout", "--help").stdout
    for command in ("new", "estimate", "approve", "reject", "execute", "show", "list"):
        assert f"  {command} " in group
    execute = cli("payout", "execute", "--help").stdout
    assert "3 failed" in execute and "4 unknown (sent, outcome not known yet" in execute
