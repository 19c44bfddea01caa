"""Two-person approval, attacked from every side: each way around the rule must fail, and the one legitimate
path (another approver, authenticated at that moment, on the exact payout, in time) must work."""

from __future__ import annotations

from datetime import timedelta

import pytest
from desk_fixtures import OTHER_TRON_ADDRESS, edit_ledger_file, password_of

from treasury_app.domain.approval_binding import payout_digest
from treasury_app.domain.approval_policy import PolicyRefusedError
from treasury_app.domain.errors import InvalidFieldError
from treasury_app.domain.payout_lifecycle import PayoutStatus as S
from treasury_app.ledger import ApprovalDecision
from treasury_app.security.errors import (
    AccountDisabledError,
    AccountLockedError,
    AuthenticationError,
    PermissionDeniedError,
    TamperedRecordError,
)
from treasury_app.services.approval_policies import ApprovalPolicies
from treasury_app.services.approvals import (
    ApprovalRequiredError,
    NotAwaitingApprovalError,
    NotExecutableError,
    SelfApprovalError,
)


@pytest.fixture(autouse=True)
def usdt_threshold(desk):
    ApprovalPolicies(desk.ledger, clock=desk.clock).set("USDT", acting=desk.sign_in("root"), approval_threshold="1000")


def approve(desk, payout, name, password=None):
    return desk.approvals.approve(payout.id, approver=name, password=password or password_of(name))


def assert_nothing_approved(desk, payout):
    assert desk.ledger.payouts.get(payout.id).status is S.AWAITING_APPROVAL
    assert desk.ledger.approvals.for_payout(payout.id) == []
    with pytest.raises(ApprovalRequiredError):
        desk.approvals.ensure_executable(payout.id)


# --- the legitimate path -----------------------------------------------------------------------------------

def test_another_approver_approves_and_the_payout_becomes_executable(desk):
    payout = desk.awaiting("alice")
    approval = approve(desk, payout, "bob")
    assert (approval.decision, approval.operator, approval.payout_digest) == (
        ApprovalDecision.APPROVED, "bob", payout_digest(payout))
    assert timedelta(hours=23, minutes=59) < approval.expires_at - approval.decided_at <= timedelta(hours=24)
    stored = desk.ledger.payouts.get(payout.id)
    assert stored.status is S.APPROVED
    clearance = desk.approvals.ensure_executable(stored)
    assert (clearance.payout_id, clearance.approval_id, clearance.payout_version) == (
        payout.id, approval.id, stored.version)


def test_the_approval_the_status_change_and_the_audit_row_are_written_together(desk):
    payout = desk.awaiting("alice")
    approval = approve(desk, payout, "bob")
    last = desk.ledger.audit.last()
    assert (last.action, last.operator, last.subject) == ("payout.approved", "bob", f"payout:{payout.id}")
    assert last.detail["approval_id"] == approval.id
    assert str(approval.id) in last.detail["approval_fields_digests"]
    events = desk.ledger.payouts.events(payout.id)
    assert (events[-1].from_status, events[-1].to_status, events[-1].actor) == (S.AWAITING_APPROVAL, S.APPROVED, "bob")


def test_a_payout_below_the_threshold_needs_no_approval(desk):
    payout = desk.compose("alice", amount="999.999999")
    clearance = desk.approvals.ensure_executable(payout)
    assert clearance.approval_id is None and clearance.decision.is_free


# --- who may approve -------------------------------------------------------------------------------------

def test_the_initiator_cannot_approve_their_own_payout(desk):
    payout = desk.awaiting("carol")  # carol is initiator and approver
    with pytest.raises(SelfApprovalError, match="carol initiated|'carol' initiated"):
        approve(desk, payout, "carol")
    assert_nothing_approved(desk, payout)


def test_the_initiator_cannot_approve_by_typing_their_name_in_another_case(desk):
    payout = desk.awaiting("carol")
    with pytest.raises(SelfApprovalError):
        approve(desk, payout, "CAROL", password_of("carol"))
    assert_nothing_approved(desk, payout)


@pytest.mark.parametrize("name", ["vic", "alice", "root"], ids=["viewer", "initiator-only", "admin"])
def test_an_operator_without_the_approver_role_cannot_approve(desk, name):
    payout = desk.awaiting("carol")
    with pytest.raises(PermissionDeniedError, match="approver role"):
        approve(desk, payout, name)
    assert_nothing_approved(desk, payout)


def test_a_disabled_operator_cannot_approve_even_with_the_right_password(desk):
    payout = desk.awaiting("alice")
    desk.accounts.disable("dave", acting=desk.sign_in("root"))
    with pytest.raises(AccountDisabledError):
        approve(desk, payout, "dave")
    assert_nothing_approved(desk, payout)


def test_a_wrong_password_approves_nothing_and_counts_as_a_failed_sign_in(desk):
    payout = desk.awaiting("alice")
    with pytest.raises(AuthenticationError, match="^operator name or password is wrong$"):
        approve(desk, payout, "bob", "bob's wrong password")
    assert_nothing_approved(desk, payout)
    assert desk.ledger.operators.get("bob").failed_attempts == 1


def test_an_unknown_operator_gets_the_same_answer_as_a_wrong_password(desk):
    payout = desk.awaiting("alice")
    with pytest.raises(AuthenticationError) as unknown:
        approve(desk, payout, "mallory", "mallory password long")
    with pytest.raises(AuthenticationError) as wrong:
        approve(desk, payout, "bob", "mallory password long")
    assert str(unknown.value) == str(wrong.value)
    assert_nothing_approved(desk, payout)


def test_a_locked_account_cannot_approve_even_with_the_right_password(desk):
    payout = desk.awaiting("alice")
    for _ in range(5):
        with pytest.raises((AuthenticationError, AccountLockedError)):
            approve(desk, payout, "bob", "guessing the password")
    with pytest.raises(AccountLockedError, match="locked until"):
        approve(desk, payout, "bob")
    assert_nothing_approved(desk, payout)


# --- what may be approved, and when ----------------------------------------------------------------------

@pytest.mark.parametrize("state", ["estimated", "approved", "rejected"])
def test_only_a_payout_awaiting_approval_can_be_approved(desk, state):
    if state == "estimated":
        payout = desk.compose("alice")
    elif state == "approved":
        payout = desk.approved("alice", "bob")
    else:
        payout = desk.awaiting("alice")
        desk.approvals.reject(payout.id, approver="bob", password=password_of("bob"), reason="wrong supplier")
    before = desk.ledger.approvals.for_payout(payout.id)
    with pytest.raises(NotAwaitingApprovalError, match=f"payout {payout.id} is '{state}'"):
        approve(desk, payout, "dave")
    assert desk.ledger.approvals.for_payout(payout.id) == before
    assert desk.ledger.operators.get("dave").failed_attempts == 0


def test_executing_a_payout_that_needs_approval_without_one_is_refused(desk):
    payout = desk.compose("alice", amount="1000")  # at the threshold
    with pytest.raises(ApprovalRequiredError, match="at or above the approval threshold") as refused:
        desk.approvals.ensure_executable(payout)
    assert "nobody has approved it yet" in str(refused.value)
    assert f"payout approve {payout.id}" in str(refused.value)


def test_a_payout_awaiting_approval_is_not_executable(desk):
    payout = desk.awaiting("alice")
    with pytest.raises(ApprovalRequiredError):
        desk.approvals.ensure_executable(payout)


def test_an_expired_approval_does_not_allow_execution(desk):
    payout = desk.approved("alice", "bob")
    approval = desk.ledger.approvals.for_payout(payout.id)[-1]
    desk.clock.now = approval.expires_at - timedelta(seconds=1)  # a moment before: still valid
    desk.approvals.ensure_executable(payout)
    desk.clock.now = approval.expires_at - timedelta(milliseconds=1)  # the next reading is the expiry itself
    with pytest.raises(ApprovalRequiredError, match="expired"):
        desk.approvals.ensure_executable(payout)


def test_how_long_approvals_last_is_a_setting(desk):
    policies = ApprovalPolicies(desk.ledger, clock=desk.clock)
    policies.set_approval_expiry(2, acting=desk.sign_in("root"))
    payout = desk.approved("alice", "bob")
    approval = desk.ledger.approvals.for_payout(payout.id)[-1]
    assert timedelta(hours=1, minutes=59) < approval.expires_at - approval.decided_at <= timedelta(hours=2)
    desk.clock.advance(hours=2)
    with pytest.raises(ApprovalRequiredError, match="expired"):
        desk.approvals.ensure_executable(payout)
    with pytest.raises(PermissionDeniedError):
        policies.set_approval_expiry(48, acting=desk.sign_in("bob"))
    with pytest.raises(InvalidFieldError):
        policies.set_approval_expiry(0, acting=desk.sign_in("root"))


def test_a_voided_approval_no_longer_counts(desk):
    payout = desk.approved("alice", "bob")
    assert desk.approvals.void_approvals(payout.id, actor="alice", reason="fee moved") == 1
    with pytest.raises(ApprovalRequiredError, match="voided"):
        desk.approvals.ensure_executable(payout)


def test_once_sent_for_approval_a_payout_needs_one_even_if_the_policy_is_relaxed(desk):
    payout = desk.awaiting("alice")
    ApprovalPolicies(desk.ledger, clock=desk.clock).set("USDT", acting=desk.sign_in("root"), approval_threshold=None)
    with pytest.raises(ApprovalRequiredError):
        desk.approvals.ensure_executable(payout)


def test_an_approval_cannot_override_a_policy_refusal(desk):
    ApprovalPolicies(desk.ledger, clock=desk.clock).set("USDT", acting=desk.sign_in("root"), desk_daily_limit="2000",
                                                         over_limit="refuse")
    desk.compose("alice", amount="1500")
    second = desk.compose("alice", amount="600")
    with pytest.raises(PolicyRefusedError, match="over the desk daily limit of 2000 USDT"):
        desk.approvals.request_approval(second.id, acting=desk.sign_in("alice"))
    with pytest.raises(PolicyRefusedError):
        desk.approvals.ensure_executable(second)


# --- rejections ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_rejection_needs_a_reason(desk, reason):
    payout = desk.awaiting("alice")
    with pytest.raises(InvalidFieldError, match="reason"):
        desk.approvals.reject(payout.id, approver="bob", password=password_of("bob"), reason=reason)
    assert_nothing_approved(desk, payout)
    assert desk.ledger.operators.get("bob").failed_attempts == 0  # refused before any password was checked


def test_a_rejected_payout_records_the_reason_and_can_never_be_executed(desk):
    payout = desk.awaiting("alice")
    rejection = desk.approvals.reject(payout.id, approver="bob", password=password_of("bob"), reason="wrong IBAN")
    assert (rejection.decision, rejection.reason) == (ApprovalDecision.REJECTED, "wrong IBAN")
    assert desk.ledger.payouts.get(payout.id).status is S.REJECTED
    assert desk.ledger.audit.last().detail["reason"] == "wrong IBAN"
    with pytest.raises(NotExecutableError):
        desk.approvals.ensure_executable(payout)


def test_the_initiator_cannot_reject_their_own_payout_either(desk):
    payout = desk.awaiting("carol")
    with pytest.raises(SelfApprovalError):
        desk.approvals.reject(payout.id, approver="carol", password=password_of("carol"), reason="changed my mind")


# --- changing what was approved --------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("amount", "1500.000001"),
        ("amount", "15000"),
        ("address", OTHER_TRON_ADDRESS),
        ("fee_mode", "from_amount"),
        ("provider", "pay3"),
        ("created_by", "dave"),  # so that bob could approve "someone else's" payout
    ],
)
def test_a_payout_edited_in_the_database_after_approval_is_refused(desk, ledger_file, column, value):
    payout = desk.approved("alice", "bob")
    edit_ledger_file(ledger_file, f"UPDATE payouts SET {column} = ? WHERE id = ?", (value, payout.id))
    edited = desk.ledger.payouts.get(payout.id)
    with pytest.raises(TamperedRecordError, match=f"payout {payout.id}"):
        desk.approvals.ensure_executable(payout)
    if column not in {"created_by"}:
        # Even without the audit trail, the approval's binding no longer matches the payout.
        assert payout_digest(edited) != desk.ledger.approvals.for_payout(payout.id)[-1].payout_digest


def test_a_payout_whose_amount_was_edited_before_approval_cannot_be_approved(desk, ledger_file):
    payout = desk.awaiting("alice")
    edit_ledger_file(ledger_file, "UPDATE payouts SET amount = '999' WHERE id = ?", (payout.id,))
    with pytest.raises(TamperedRecordError):
        approve(desk, payout, "bob")
    assert desk.ledger.approvals.for_payout(payout.id) == []


def test_a_status_set_to_approved_by_hand_allows_nothing(desk, ledger_file):
    payout = desk.awaiting("alice")
    edit_ledger_file(ledger_file, "UPDATE payouts SET status = 'approved' WHERE id = ?", (payout.id,))
    with pytest.raises(TamperedRecordError):
        desk.approvals.ensure_executable(payout)


def test_an_approval_inserted_by_hand_does_not_allow_execution(desk, ledger_file):
    payout = desk.awaiting("alice")
    # A perfect forgery of the row: right digest, a real approver's name, valid for a day.
    edit_ledger_file(
        ledger_file,
        "INSERT INTO approvals (payout_id, decision, operator, payout_digest, decided_at, expires_at) "
        "VALUES (?, 'approved', 'bob', ?, '2026-03-01T10:00:00.000000Z', '2026-03-02T10:00:00.000000Z')",
        (payout.id, payout_digest(payout)),
    )
    with pytest.raises(TamperedRecordError, match="approved decision 1 on payout 1 \\(by bob\\) has no audit record"):
        desk.approvals.ensure_executable(payout)
    # Nor can it be used to approve the payout "again" in the proper way around it.
    with pytest.raises(TamperedRecordError):
        approve(desk, payout, "dave")


def test_an_approval_whose_expiry_was_extended_by_hand_is_refused(desk, ledger_file):
    payout = desk.approved("alice", "bob")
    approval = desk.ledger.approvals.for_payout(payout.id)[-1]
    edit_ledger_file(ledger_file, "UPDATE approvals SET expires_at = '2099-01-01T00:00:00.000000Z' WHERE id = ?",
                     (approval.id,))
    desk.clock.advance(days=2)
    with pytest.raises(TamperedRecordError, match=f"decision {approval.id}"):
        desk.approvals.ensure_executable(payout)


def test_an_approval_moved_to_another_payout_by_hand_is_refused(desk, ledger_file):
    approved = desk.approved("alice", "bob")
    waiting = desk.awaiting("alice")
    edit_ledger_file(ledger_file, "UPDATE approvals SET payout_id = ? WHERE payout_id = ?", (waiting.id, approved.id))
    edit_ledger_file(ledger_file, "UPDATE payouts SET status = 'approved' WHERE id = ?", (waiting.id,))
    with pytest.raises(TamperedRecordError):
        desk.approvals.ensure_executable(waiting)


def test_the_callers_copy_of_a_payout_is_not_trusted(desk):
    import dataclasses

    payout = desk.compose("alice", amount="5000")
    looks_small = dataclasses.replace(payout, amount=payout.amount / 10)
    with pytest.raises(ApprovalRequiredError):
        desk.approvals.ensure_executable(looks_small)
