"""Approval decisions bound to a payout, and the audit log's append-only, linear chain as stored."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from treasury_app.domain.errors import InvalidFieldError
from treasury_app.domain.payout_lifecycle import PayoutStatus as S
from treasury_app.ledger import (
    ApprovalDecision,
    ApprovalNotFoundError,
    DuplicateRecordError,
    PayoutNotFoundError,
    StaleRecordError,
)

EXPIRY = datetime(2026, 3, 2, 9, tzinfo=UTC)

BACKENDS = ("sqlite", "postgresql")


def test_an_approval_is_recorded_for_its_payout(ledger, add_payout, clock):
    payout = add_payout()
    approval = ledger.approvals.add(payout.id, decision=ApprovalDecision.APPROVED, operator="bob",
                                    payout_digest="sha256:abc", expires_at=EXPIRY)
    assert (approval.payout_id, approval.decision, approval.operator) == (payout.id, ApprovalDecision.APPROVED, "bob")
    assert (approval.decided_at, approval.expires_at, approval.is_void) == (clock.now, EXPIRY, False)
    rejection = ledger.approvals.add(payout.id, decision="rejected", operator="carol", payout_digest="sha256:abc",
                                     reason="wrong supplier")
    assert [a.id for a in ledger.approvals.for_payout(payout.id)] == [approval.id, rejection.id]
    assert ledger.approvals.get(rejection.id).reason == "wrong supplier"
    assert ledger.approvals.for_payout(payout.id + 1) == []


def test_an_approval_for_a_payout_that_does_not_exist_is_refused(ledger):
    with pytest.raises(PayoutNotFoundError):
        ledger.approvals.add(77, decision=ApprovalDecision.APPROVED, operator="bob", payout_digest="d")


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"decision": "maybe", "operator": "bob", "payout_digest": "d"}, ValueError),
        ({"decision": "approved", "operator": "", "payout_digest": "d"}, InvalidFieldError),
        ({"decision": "approved", "operator": "bob", "payout_digest": ""}, ValueError),
    ],
)
def test_an_incomplete_decision_is_refused(ledger, add_payout, fields, error):
    payout = add_payout()
    with pytest.raises(error):
        ledger.approvals.add(payout.id, **fields)
    assert ledger.approvals.for_payout(payout.id) == []


def test_voiding_keeps_the_decision_in_the_history(ledger, add_payout):
    payout = add_payout()
    approval = ledger.approvals.add(payout.id, decision=ApprovalDecision.APPROVED, operator="bob", payout_digest="d")
    voided = ledger.approvals.void(approval.id, reason="amount changed")
    assert voided.is_void and voided.void_reason == "amount changed"
    with pytest.raises(StaleRecordError, match="already voided"):
        ledger.approvals.void(approval.id, reason="again")
    with pytest.raises(ApprovalNotFoundError):
        ledger.approvals.void(999, reason="x")
    with pytest.raises(ApprovalNotFoundError, match="999"):
        ledger.approvals.get(999)
    with pytest.raises(InvalidFieldError):
        ledger.approvals.void(approval.id, reason=" ")


def test_voiding_all_of_a_payouts_live_decisions(ledger, add_payout):
    payout, other = add_payout(), add_payout()
    for operator in ("bob", "carol"):
        ledger.approvals.add(payout.id, decision=ApprovalDecision.APPROVED, operator=operator, payout_digest="d")
    ledger.approvals.add(other.id, decision=ApprovalDecision.APPROVED, operator="bob", payout_digest="d")
    assert ledger.approvals.void_all(payout.id, reason="address changed") == 2
    assert ledger.approvals.void_all(payout.id, reason="again") == 0
    assert all(a.is_void for a in ledger.approvals.for_payout(payout.id))
    assert not ledger.approvals.for_payout(other.id)[0].is_void


def append(ledger, n: int, prev: str, **overrides):
    fields = dict(at=datetime(2026, 3, 1, tzinfo=UTC) + timedelta(minutes=n), operator="alice", action="compose",
                  subject=f"payout:{n}", detail_json=json.dumps({"n": n, "amount": "1.50"}), prev_hash=prev,
                  hash=f"{n:064x}")
    fields.update(overrides)
    return ledger.audit.append(**fields)


def test_audit_rows_are_stored_exactly_as_hashed_and_read_back_in_order(ledger):
    assert ledger.audit.last() is None
    prev = "0" * 64
    for n in range(1, 2504):  # more than two internal read batches
        prev = append(ledger, n, prev).hash
    rows = list(ledger.audit.rows())
    assert [r.seq for r in rows] == list(range(1, 2504))
    assert rows[0].detail_json == json.dumps({"n": 1, "amount": "1.50"})  # byte for byte, not re-serialised
    assert rows[0].detail == {"n": 1, "amount": "1.50"}
    assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:], strict=False))
    assert ledger.audit.last() == rows[-1]
    since = datetime(2026, 3, 1, tzinfo=UTC) + timedelta(minutes=2500)
    assert [r.seq for r in ledger.audit.rows(since=since)] == [2500, 2501, 2502, 2503]


def test_an_append_that_does_not_continue_the_chain_is_refused(ledger):
    first = append(ledger, 1, "0" * 64)
    append(ledger, 2, first.hash)
    with pytest.raises(StaleRecordError, match="moved on"):
        append(ledger, 3, first.hash)  # computed before row 2 was written: would fork the chain
    assert ledger.audit.last().seq == 2


def test_an_audit_row_with_a_hash_already_in_the_log_is_refused(ledger):
    first = append(ledger, 1, "0" * 64)
    with pytest.raises(DuplicateRecordError):
        append(ledger, 2, first.hash, hash=first.hash)


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"detail_json": "{not json"}, ValueError),
        ({"action": ""}, InvalidFieldError),
        ({"hash": ""}, InvalidFieldError),
        ({"at": datetime(2026, 3, 1)}, ValueError),
    ],
)
def test_a_malformed_audit_row_is_refused(ledger, overrides, error):
    with pytest.raises(error):
        append(ledger, 1, "0" * 64, **overrides)
    assert ledger.audit.last() is None


def test_a_status_change_and_its_audit_row_commit_together(ledger, add_payout):
    payout = add_payout()
    with pytest.raises(StaleRecordError), ledger.transaction():
        ledger.payouts.transition(payout.id, S.ESTIMATED, actor="alice")
        append(ledger, 1, "0" * 64)
        append(ledger, 2, "wrong-previous-hash")
    assert ledger.payouts.get(payout.id).status is S.DRAFT
    assert ledger.audit.last() is None
    with ledger.transaction():
        ledger.payouts.transition(payout.id, S.ESTIMATED, actor="alice")
        append(ledger, 1, "0" * 64)
    assert ledger.payouts.get(payout.id).status is S.ESTIMATED and ledger.audit.last().seq == 1


@pytest.mark.backends("sqlite")
def test_the_audit_log_is_stored_where_an_auditor_can_read_it_with_any_sqlite_tool(ledger):
    append(ledger, 1, "0" * 64)
    plain = sqlite3.connect(ledger.path)
    try:
        assert plain.execute("SELECT action, subject FROM audit_log").fetchall() == [("compose", "payout:1")]
    finally:
        plain.close()
