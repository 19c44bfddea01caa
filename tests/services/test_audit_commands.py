"""`treasury-app audit verify|show` and `payout approve|reject` in real processes, on a ledger prepared by the
services and then tampered with behind the app's back: through a plain sqlite3 connection to a desk's file, and
by the superuser of a team ledger on PostgreSQL (the process then finds it through TREASURY_LEDGER_URL)."""

from __future__ import annotations

import json

import pytest
from desk_fixtures import OTHER_TRON_ADDRESS, edit_ledger_file, password_of, run_app

from treasury_app.domain.payout_lifecycle import PayoutStatus as S
from treasury_app.services.approval_policies import ApprovalPolicies
from treasury_app.services.ledger_choice import TEAM_LEDGER_ENV

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture
def data_dir(ledger_file, tmp_path, monkeypatch):
    if isinstance(ledger_file, str):  # a team ledger: the desk's processes are pointed at it
        monkeypatch.setenv(TEAM_LEDGER_ENV, ledger_file)
        return tmp_path / "desk"
    return ledger_file.parent


@pytest.fixture
def waiting(desk):
    ApprovalPolicies(desk.ledger, clock=desk.clock).set("USDT", acting=desk.sign_in("root"), approval_threshold="1000")
    return desk.awaiting("carol", amount="2500")


def test_verify_passes_on_an_intact_ledger_with_a_summary(desk, waiting, data_dir):
    result = run_app(data_dir, "audit", "verify")
    assert result.returncode == 0, result.stderr
    rows = desk.ledger.audit.last().seq
    assert result.stdout.splitlines()[0] == f"audit trail intact: {rows} rows, 1 payouts, 0 approvals checked"
    assert f"head: row {rows}, hash {desk.ledger.audit.last().hash}" in result.stdout


def test_verify_on_a_fresh_data_folder_passes(tmp_path):
    result = run_app(tmp_path, "audit", "verify")
    assert result.returncode == 0 and "intact: 0 rows" in result.stdout


@pytest.mark.parametrize(("sql", "expected"), [
    ("UPDATE payouts SET amount = '25000'", "differs from what audit row"),
    ("UPDATE payouts SET address = '" + OTHER_TRON_ADDRESS + "'", OTHER_TRON_ADDRESS),
    ("DELETE FROM audit_log WHERE seq = 4", "row 4 missing before row 5"),
    ("UPDATE audit_log SET detail = '{}' WHERE seq = 2", "row 2 (operator.signed_in operator:root) no longer matches"),
    (("INSERT INTO approvals (payout_id, decision, operator, payout_digest, decided_at, expires_at) VALUES "
     "(1, 'approved', 'bob', 'x', '2026-03-01T10:00:00.000000Z', '2026-03-02T10:00:00.000000Z')"),
     "approved decision 1 on payout 1 by bob has no audit record"),
])
def test_verify_exits_1_and_prints_the_first_broken_row(desk, waiting, data_dir, ledger_file, sql, expected):
    edit_ledger_file(ledger_file, sql)
    result = run_app(data_dir, "audit", "verify")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stdout.startswith("AUDIT TRAIL BROKEN")
    first = next(line for line in result.stdout.splitlines() if line.startswith("first broken: "))
    assert expected in first
    assert result.stderr.startswith("Error: the audit trail is broken: ")


def test_verify_shows_the_stored_row_that_broke(desk, waiting, data_dir, ledger_file):
    edit_ledger_file(ledger_file, "UPDATE audit_log SET operator = 'mallory' WHERE seq = 3")
    result = run_app(data_dir, "audit", "verify")
    assert "  the row as stored: #3  " in result.stdout and "mallory" in result.stdout


def test_show_lists_rows_in_order_and_since_a_date(desk, waiting, data_dir):
    everything = run_app(data_dir, "audit", "show", "--json").stdout.splitlines()
    assert [json.loads(line)["seq"] for line in everything] == list(range(1, len(everything) + 1))
    assert json.loads(everything[0])["action"] == "operator.added"
    text = run_app(data_dir, "audit", "show").stdout.splitlines()
    assert text[0].startswith("#1  2026-03-01 09:00:00  root  operator.added  operator:root")
    # Rows the processes below write carry today's real date; the prepared ones are from 2026-03-01.
    run_app(data_dir, "payout", "approve", str(waiting.id), "--as", "bob", password=password_of("bob"))
    later = run_app(data_dir, "audit", "show", "--since", "2026-03-02").stdout.splitlines()
    assert [line.split("  ")[3] for line in later] == ["operator.signed_in", "payout.approved"]
    bad = run_app(data_dir, "audit", "show", "--since", "yesterday")
    assert bad.returncode == 2


def test_payout_approve_from_the_command_line(desk, waiting, data_dir):
    own = run_app(data_dir, "payout", "approve", str(waiting.id), "--as", "carol", password=password_of("carol"))
    assert own.returncode == 1 and "carol' initiated payout" in own.stderr
    viewer = run_app(data_dir, "payout", "approve", str(waiting.id), "--as", "vic", password=password_of("vic"))
    assert viewer.returncode == 1 and "approver role" in viewer.stderr
    ok = run_app(data_dir, "payout", "approve", str(waiting.id), "--as", "bob", password=password_of("bob"))
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith(f"payout {waiting.id} approved by bob; it expires at ")
    assert desk.ledger.payouts.get(waiting.id).status is S.APPROVED
    desk.approvals.ensure_executable(waiting.id)
    assert run_app(data_dir, "audit", "verify").returncode == 0


def test_payout_reject_needs_a_reason(desk, waiting, data_dir):
    missing = run_app(data_dir, "payout", "reject", str(waiting.id), "--as", "bob", password=password_of("bob"))
    assert missing.returncode == 2
    blank = run_app(data_dir, "payout", "reject", str(waiting.id), "--reason", "  ", "--as", "bob",
                    password=password_of("bob"))
    assert blank.returncode == 1 and "reason: is empty" in blank.stderr
    done = run_app(data_dir, "payout", "reject", str(waiting.id), "--reason", "wrong supplier", "--as", "bob",
                   password=password_of("bob"))
    assert done.returncode == 0, done.stderr
    assert desk.ledger.payouts.get(waiting.id).status is S.REJECTED
    assert desk.ledger.approvals.for_payout(waiting.id)[-1].reason == "wrong supplier"
