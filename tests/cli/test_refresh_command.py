"""`treasury-app refresh [--watch] [--json]` in-process against the sandbox: no sign-in, recovery first, each
change printed, exact amounts in JSON, and a provider that cannot be asked reported with exit 1."""

from __future__ import annotations

import json

from desk_fixtures import TRON_ADDRESS
from payout_cli_runner import CommandLine
from provider_fixtures import Sandbox, closed_port_url


def sent_payout(cli: CommandLine, amount: str = "150") -> dict:
    created, result = cli.json("payout", "new", "--provider", "cryptomus", "--currency", "USDT", "--network", "TRON",
                               "--address", TRON_ADDRESS, "--amount", amount, "--as", "alice")
    assert result.exit_code == 0, result.output
    sent = cli("payout", "execute", str(created["payout"]["id"]), "--yes", "--as", "alice")
    assert sent.exit_code in (0, 4), sent.output
    return created["payout"]


def shown(cli: CommandLine, payout_id: int) -> dict:
    payout, result = cli.json("payout", "show", str(payout_id))
    assert result.exit_code == 0, result.output
    return payout["payout"]


def held_by_sandbox(sandbox: Sandbox, key: str) -> list[dict]:
    return [p for p in sandbox.payouts() if p["idempotency_key"] == key]


def test_refresh_needs_no_sign_in_and_records_the_final_status(cli, sandbox):
    payout = sent_payout(cli)
    sandbox.advance(3600)
    result = cli("refresh")  # no --as, no password
    assert result.exit_code == 0, result.output
    assert "payout 1: processing → completed" in result.stdout
    assert "0 still in flight" in result.stdout
    after = shown(cli, 1)
    assert after["status"] == "completed" and after["tx_hash"]
    assert len(held_by_sandbox(sandbox, payout["idempotency_key"])) == 1


def test_the_readme_s_test_amounts_end_failed_and_cancelled_and_any_other_completed(cli, sandbox):
    for amount in ("1500.13", "10.14", "1500"):
        sent_payout(cli, amount=amount)
    sandbox.advance(3600)
    result = cli("refresh")
    assert result.exit_code == 0, result.output
    assert [shown(cli, n)["status"] for n in (1, 2, 3)] == ["failed", "cancelled", "completed"]
    assert "Cryptomus reports 'fail'" in shown(cli, 1)["failure_reason"]


def test_refresh_reconciles_an_unknown_payout_by_its_key_without_paying_twice(cli, sandbox):
    sandbox.add_faults("cryptomus:create:commit-drop")
    payout = sent_payout(cli)
    assert shown(cli, 1)["status"] == "unknown"
    sandbox.clear_faults()
    report, result = cli.json("refresh")
    assert result.exit_code == 0, result.output
    changes = [*report["recovery"]["changes"], *report["refresh"]["changes"]]
    assert [(c["payout_id"], c["before"]) for c in changes][:1] == [(1, "unknown")]
    assert shown(cli, 1)["status"] in ("processing", "completed")
    assert len(held_by_sandbox(sandbox, payout["idempotency_key"])) == 1


def test_refresh_watch_prints_each_change_as_a_json_line_until_every_payout_is_final(cli, sandbox):
    sent_payout(cli, amount="150.5")
    sandbox.advance(3600)
    result = cli("refresh", "--watch", "--json")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line, parse_float=_no_float) for line in result.stdout.splitlines()]
    assert lines[-1] == {"event": "all_final", "open_payouts": 0}
    changes = [line for line in lines if line["event"] == "change"]
    assert changes and changes[-1]["after"] == "completed"
    assert changes[-1]["payout"]["amount"] == "150.5"


def test_refresh_watch_with_nothing_in_flight_returns_at_once(cli):
    result = cli("refresh", "--watch")
    assert result.exit_code == 0, result.output
    assert "every payout is final" in result.stdout


def test_a_provider_that_cannot_be_asked_is_reported_with_exit_1(cli, data_dir):
    sent_payout(cli)
    result = CommandLine(data_dir, closed_port_url())("refresh")
    assert result.exit_code == 1
    assert "problem: cryptomus:" in result.stderr and "'treasury-app sandbox'" in result.stderr
    assert shown(cli, 1)["status"] == "processing"


def _no_float(text: str) -> None:
    raise AssertionError(f"float {text} in JSON output")
