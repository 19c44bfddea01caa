"""`verify` on a real ledger: it passes on an intact one and finds every edit, deletion, reordering and forgery
made behind the app's back — with a plain sqlite3 connection to a desk's file, and on a team ledger by the
PostgreSQL superuser, who can switch off the trigger that keeps the trail append-only (`edit_ledger_file`)."""

from __future__ import annotations

import pytest
from desk_fixtures import OTHER_TRON_ADDRESS, edit_ledger_file, password_of

from treasury_app.domain.approval_binding import payout_digest
from treasury_app.ledger import open_ledger
from treasury_app.security.audit_chain import ProblemKind, canonical_content, chain_hash, verify
from treasury_app.services.approval_policies import ApprovalPolicies

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture
def busy_desk(desk):
    """A day's work: a policy, an approved payout, a rejected one, one under the threshold."""
    ApprovalPolicies(desk.ledger, clock=desk.clock).set("USDT", acting=desk.sign_in("root"), approval_threshold="1000")
    approved = desk.approved("alice", "bob", amount="2500")
    rejected = desk.awaiting("carol", amount="4000", address=OTHER_TRON_ADDRESS)
    desk.approvals.reject(rejected.id, approver="dave", password=password_of("dave"), reason="duplicate invoice")
    small = desk.compose("alice", amount="10")
    desk.ids = {"approved": approved.id, "rejected": rejected.id, "small": small.id}
    return desk


def report_of(ledger_file, clock):
    with open_ledger(ledger_file, clock=clock) as ledger:
        return verify(ledger)


def kinds(report):
    return [p.kind for p in report.problems]


def test_an_intact_ledger_verifies(busy_desk, ledger_file, clock):
    report = report_of(ledger_file, clock)
    assert report.intact, report.problems
    assert (report.payouts_checked, report.approvals_checked) == (3, 2)
    assert report.rows_checked == report.head_seq > 10
    assert report.head_hash == busy_desk.ledger.audit.last().hash


def test_an_empty_ledger_verifies(ledger, clock):
    report = verify(ledger)
    assert report.intact and report.rows_checked == 0 and report.head_seq is None


def test_an_edited_amount_is_found(busy_desk, ledger_file, clock):
    payout_id = busy_desk.ids["approved"]
    edit_ledger_file(ledger_file, "UPDATE payouts SET amount = '25000' WHERE id = ?", (payout_id,))
    report = report_of(ledger_file, clock)
    assert kinds(report) == [ProblemKind.PAYOUT_CHANGED]
    assert f"payout {payout_id} (25000 USDT" in report.first_problem.message


def test_an_edited_address_is_found(busy_desk, ledger_file, clock):
    payout_id = busy_desk.ids["small"]
    edit_ledger_file(ledger_file, "UPDATE payouts SET address = ? WHERE id = ?", (OTHER_TRON_ADDRESS, payout_id))
    report = report_of(ledger_file, clock)
    assert kinds(report) == [ProblemKind.PAYOUT_CHANGED]
    assert OTHER_TRON_ADDRESS in report.first_problem.message


def test_an_edited_status_or_initiator_is_found(busy_desk, ledger_file, clock):
    edit_ledger_file(ledger_file, "UPDATE payouts SET status = 'approved' WHERE id = ?", (busy_desk.ids["rejected"],))
    edit_ledger_file(ledger_file, "UPDATE payouts SET created_by = 'dave' WHERE id = ?", (busy_desk.ids["small"],))
    assert kinds(report_of(ledger_file, clock)) == [ProblemKind.PAYOUT_CHANGED] * 2


def test_a_deleted_row_is_found(busy_desk, ledger_file, clock):
    edit_ledger_file(ledger_file, "DELETE FROM audit_log WHERE seq = 5")
    report = report_of(ledger_file, clock)
    assert kinds(report)[:2] == [ProblemKind.MISSING_ROWS, ProblemKind.BROKEN_LINK]
    assert report.first_problem.seq == 6
    assert "row 5 missing before row 6" in report.first_problem.message
    assert report.first_broken_row.seq == 6


def test_the_deleted_newest_row_shows_through_the_payout_it_recorded(busy_desk, ledger_file, clock):
    # Nothing follows the newest row, so only the record it spoke of can show that it is gone.
    last = busy_desk.ledger.audit.last()
    assert last.subject == f"payout:{busy_desk.ids['small']}"
    edit_ledger_file(ledger_file, "DELETE FROM audit_log WHERE seq = ?", (last.seq,))
    assert kinds(report_of(ledger_file, clock)) == [ProblemKind.PAYOUT_CHANGED]


def test_reordered_rows_are_found(busy_desk, ledger_file, clock):
    for sql in ("UPDATE audit_log SET seq = -1 WHERE seq = 7", "UPDATE audit_log SET seq = 7 WHERE seq = 8",
                "UPDATE audit_log SET seq = 8 WHERE seq = -1"):
        edit_ledger_file(ledger_file, sql)
    report = report_of(ledger_file, clock)
    assert report.first_problem.seq == 7
    assert {ProblemKind.BROKEN_LINK, ProblemKind.EDITED_ROW} <= set(kinds(report))
    assert all(p.seq in (7, 8, 9) for p in report.problems)


def test_an_edited_row_is_found(busy_desk, ledger_file, clock):
    edit_ledger_file(ledger_file, "UPDATE audit_log SET operator = 'mallory' WHERE seq = 3")
    report = report_of(ledger_file, clock)
    assert kinds(report) == [ProblemKind.EDITED_ROW]
    assert report.first_problem.seq == 3 and report.first_broken_row.operator == "mallory"


def test_a_row_rewritten_with_a_fresh_hash_breaks_the_next_link(busy_desk, ledger_file, clock):
    # Someone who knows how rows are hashed can fix up the row they edited, but not its successor.
    row = list(busy_desk.ledger.audit.rows())[3]
    content = canonical_content(seq=row.seq, at_text=row.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), operator="mallory",
                                action=row.action, subject=row.subject, detail_json=row.detail_json)
    edit_ledger_file(ledger_file, "UPDATE audit_log SET operator = 'mallory', hash = ? WHERE seq = ?",
                     (chain_hash(row.prev_hash, content), row.seq))
    report = report_of(ledger_file, clock)
    assert kinds(report) == [ProblemKind.BROKEN_LINK]
    assert report.first_problem.seq == row.seq + 1


def test_an_approval_inserted_by_hand_is_found(busy_desk, ledger_file, clock):
    small = busy_desk.ledger.payouts.get(busy_desk.ids["small"])
    edit_ledger_file(
        ledger_file,
        "INSERT INTO approvals (payout_id, decision, operator, payout_digest, decided_at, expires_at) "
        "VALUES (?, 'approved', 'bob', ?, '2026-03-01T10:00:00.000000Z', '2026-03-02T10:00:00.000000Z')",
        (small.id, payout_digest(small)),
    )
    report = report_of(ledger_file, clock)
    assert kinds(report) == [ProblemKind.APPROVAL_NOT_AUDITED]
    assert f"payout {small.id} by bob has no audit record" in report.first_problem.message


def test_an_edited_approval_is_found(busy_desk, ledger_file, clock):
    edit_ledger_file(ledger_file, "UPDATE approvals SET operator = 'carol' WHERE payout_id = ?",
                     (busy_desk.ids["approved"],))
    assert kinds(report_of(ledger_file, clock)) == [ProblemKind.APPROVAL_CHANGED]


def test_a_deleted_approval_is_found(busy_desk, ledger_file, clock):
    edit_ledger_file(ledger_file, "DELETE FROM approvals WHERE payout_id = ?", (busy_desk.ids["rejected"],))
    assert kinds(report_of(ledger_file, clock)) == [ProblemKind.APPROVAL_DELETED]


def test_a_payout_inserted_or_deleted_by_hand_is_found(busy_desk, ledger_file, clock):
    gone = busy_desk.ids["small"]
    edit_ledger_file(ledger_file, "DELETE FROM payout_events WHERE payout_id = ?", (gone,))
    edit_ledger_file(ledger_file, "DELETE FROM payouts WHERE id = ?", (gone,))
    edit_ledger_file(
        ledger_file,
        "INSERT INTO payouts (id, idempotency_key, provider, currency, network, address, amount, amount_key, "
        "fee_mode, status, created_by, created_at, updated_at) SELECT 1000, 'forged', provider, currency, network, "
        "address, '9999', amount_key, fee_mode, 'approved', 'alice', created_at, updated_at FROM payouts LIMIT 1",
    )
    assert sorted(kinds(report_of(ledger_file, clock))) == sorted(
        [ProblemKind.PAYOUT_NOT_AUDITED, ProblemKind.PAYOUT_DELETED])


def test_every_break_is_counted_and_the_first_is_reported_first(busy_desk, ledger_file, clock):
    edit_ledger_file(ledger_file, "UPDATE payouts SET amount = '1' WHERE id = ?", (busy_desk.ids["approved"],))
    edit_ledger_file(ledger_file, "UPDATE audit_log SET action = 'nothing' WHERE seq = 9")
    edit_ledger_file(ledger_file, "UPDATE audit_log SET action = 'nothing' WHERE seq = 4")
    report = report_of(ledger_file, clock)
    assert report.problem_count == 3 and not report.intact
    assert [p.seq for p in report.problems[:2]] == [4, 9]
