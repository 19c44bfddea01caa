"""The audit chain's building blocks: canonical content, the chained hash, protected-field digests; and the
lockout durations."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.domain.payout_request import FeeMode
from treasury_app.ledger import ApprovalDecision, ApprovalRecord, AuditRow, PayoutRecord
from treasury_app.security.audit_chain import (
    GENESIS_HASH,
    PAYOUT_PROTECTED_FIELDS,
    approval_fields_digest,
    canonical_content,
    chain_hash,
    payout_fields_digest,
    row_hash,
)
from treasury_app.security.lockout import LOCK_AFTER_FAILURES, LONGEST_LOCK, lock_duration

AT = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)


def test_the_canonical_content_is_exact_text_with_sorted_keys_and_no_spaces():
    content = canonical_content(seq=7, at_text="2026-03-01T09:30:15.123456Z", operator="bob",
                                action="payout.approved", subject="payout:3", detail_json='{"a":"é"}')
    assert content == ('{"action":"payout.approved","at":"2026-03-01T09:30:15.123456Z","detail":"{\\"a\\":\\"é\\"}",'
                       '"operator":"bob","seq":7,"subject":"payout:3"}')


def test_a_rows_hash_is_sha256_of_the_previous_hash_and_its_content():
    content = canonical_content(seq=1, at_text="x", operator=None, action="a", subject=None, detail_json=None)
    assert chain_hash(GENESIS_HASH, content) == hashlib.sha256((GENESIS_HASH + content).encode()).hexdigest()
    assert GENESIS_HASH == "0" * 64


def row(**changes):
    fields = {"seq": 1, "at": AT, "operator": "alice", "action": "operator.added", "subject": "operator:bob",
                  "detail_json": '{"roles":["approver"]}', "prev_hash": GENESIS_HASH, "hash": ""}
    fields.update(changes)
    return AuditRow(**fields)


@pytest.mark.parametrize("change", [
    {"seq": 2}, {"at": AT + timedelta(microseconds=1)}, {"operator": "Alice"}, {"operator": None},
    {"action": "operator.added "}, {"subject": "operator:bob2"}, {"detail_json": '{"roles": ["approver"]}'},
    {"detail_json": None}, {"prev_hash": "1" * 64},
])
def test_any_change_to_a_row_changes_its_hash(change):
    assert row_hash(row(**change)) != row_hash(row())


def payout(**changes) -> PayoutRecord:
    fields = {
        "id": 3, "idempotency_key": "k" * 32, "provider": "cryptomus", "currency": "USDT", "network": "TRON",
        "address": "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "amount": Decimal("1500.50"), "fee_mode": FeeMode.FROM_BALANCE,
        "priority": None, "memo": None, "reference": "INV-1", "note": "note", "status": PayoutStatus.APPROVED, "provider_status": None,
        "provider_payout_id": None, "tx_hash": None, "estimated_fee": Decimal(1), "estimated_net": None, "estimated_total": None,
        "estimate_warnings": (), "estimate_data": {}, "estimated_at": None, "actual_fee": None, "actual_amount": None,
        "failure_reason": None, "created_by": "alice", "created_at": AT, "updated_at": AT, "submitted_at": None, "finished_at": None,
        "next_poll_at": None, "poll_failures": 0, "version": 4,
    }
    fields.update(changes)
    return PayoutRecord(**fields)


@pytest.mark.parametrize("change", [
    {"id": 4}, {"idempotency_key": "j" * 32}, {"provider": "pay3"}, {"currency": "USDC"}, {"network": "ETH"},
    {"address": "TJRabPrwbZy45sbavfcjinPJC18kjpRTv8"}, {"amount": Decimal("1500.500001")},
    {"fee_mode": FeeMode.FROM_AMOUNT}, {"memo": "x"}, {"created_by": "bob"}, {"created_at": AT + timedelta(days=1)},
    {"status": PayoutStatus.SUBMITTING},
])
def test_a_change_to_a_protected_payout_field_changes_its_digest(change):
    assert set(change) <= set(PAYOUT_PROTECTED_FIELDS) | {"memo"}
    assert payout_fields_digest(payout(**change)) != payout_fields_digest(payout())


@pytest.mark.parametrize("change", [
    {"amount": Decimal("1500.500")}, {"note": "edited note"}, {"tx_hash": "abc"}, {"estimated_fee": Decimal(2)},
    {"version": 9}, {"provider_status": "process"},
])
def test_fields_that_change_in_the_normal_course_of_things_are_not_protected(change):
    assert payout_fields_digest(payout(**change)) == payout_fields_digest(payout())


def test_a_change_to_any_field_of_an_approval_changes_its_digest():
    approval = ApprovalRecord(id=1, payout_id=3, decision=ApprovalDecision.APPROVED, operator="bob",
                              payout_digest="d" * 64, reason=None, decided_at=AT, expires_at=AT + timedelta(days=1),
                              voided_at=None, void_reason=None)
    for change in ({"operator": "carol"}, {"expires_at": AT + timedelta(days=2)}, {"voided_at": AT},
                   {"payout_id": 4}, {"decision": ApprovalDecision.REJECTED}, {"payout_digest": "e" * 64}):
        assert approval_fields_digest(dataclasses.replace(approval, **change)) != approval_fields_digest(approval)


def test_the_lock_starts_at_the_fifth_failure_doubles_and_is_capped():
    assert [lock_duration(n) for n in range(LOCK_AFTER_FAILURES)] == [None] * LOCK_AFTER_FAILURES
    assert [lock_duration(n) for n in range(5, 12)] == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32, 60)]
    assert lock_duration(10_000) == LONGEST_LOCK
