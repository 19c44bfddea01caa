"""Writing the audit trail: one hash-chained row per action, appended inside the caller's transaction, and the
check that a payout (and its approvals) still match what the trail last recorded of them.

Every service that acts appends through `record`; a status change goes through `audited_transition`, so the
change and its row commit together or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.ledger import ApprovalRecord, AuditRow, Ledger, PayoutChanges, PayoutRecord
from treasury_app.ledger.column_codecs import encode_json
from treasury_app.ledger.timestamps import format_timestamp, utc_now
from treasury_app.security.audit_chain import (
    APPROVAL_DIGESTS_KEY,
    GENESIS_HASH,
    PAYOUT_DIGEST_KEY,
    RESERVED_DETAIL_KEYS,
    approval_fields_digest,
    audited_state,
    canonical_content,
    chain_hash,
    payout_fields_digest,
    payout_subject,
    row_hash,
)
from treasury_app.security.errors import TamperedRecordError

Clock = Callable[[], datetime]
# Free text from a person (a typed name, a reason) is cut here: an audit row is a record, not a document.
MAX_TEXT_IN_DETAIL = 500


class AuditAction(StrEnum):
    """The actions this version writes; later services add theirs (compose, estimate, execute, export…)."""

    OPERATOR_ADDED = "operator.added"
    OPERATOR_SIGNED_IN = "operator.signed_in"
    OPERATOR_SIGN_IN_FAILED = "operator.sign_in_failed"
    OPERATOR_PASSWORD_CHANGED = "operator.password_changed"
    OPERATOR_DISABLED = "operator.disabled"
    OPERATOR_ROLES_CHANGED = "operator.roles_changed"
    OPERATOR_UNLOCKED = "operator.unlocked"
    POLICY_SET = "policy.set"
    SETTING_CHANGED = "settings.changed"
    APPROVAL_REQUESTED = "payout.approval_requested"
    PAYOUT_APPROVED = "payout.approved"
    PAYOUT_REJECTED = "payout.rejected"
    APPROVALS_VOIDED = "payout.approvals_voided"
    PROVIDER_SET = "provider.set"
    PROVIDER_REMOVED = "provider.removed"
    ADDRESS_BOOK_ADDED = "address_book.added"
    ADDRESS_BOOK_REMOVED = "address_book.removed"


def record(ledger: Ledger, operator: str | None, action: str, subject: str | None,
           detail: Mapping[str, Any] | None = None, *, payout: PayoutRecord | None = None,
           approvals: Iterable[ApprovalRecord] = (), clock: Clock = utc_now) -> AuditRow:
    """Append one row to the chain, inside the caller's transaction if there is one.

    `payout` (its state *after* the action) and `approvals` put their protected-field digests in the row, so
    that a later edit of them in the database is detected. A row with `payout` must have its subject.
    """
    full = dict(detail or {})
    if RESERVED_DETAIL_KEYS & full.keys():
        raise ValueError(f"the detail keys {sorted(RESERVED_DETAIL_KEYS)} are the audit chain's own")
    if payout is not None:
        if subject != payout_subject(payout.id):
            raise ValueError(f"a row recording payout {payout.id} must have the subject '{payout_subject(payout.id)}'")
        full[PAYOUT_DIGEST_KEY] = payout_fields_digest(payout)
    approvals = list(approvals)
    if approvals:
        foreign = [a.id for a in approvals if subject != payout_subject(a.payout_id)]
        if foreign:
            raise ValueError(f"approvals {foreign} belong to another payout than the row's subject '{subject}'")
        full[APPROVAL_DIGESTS_KEY] = {str(a.id): approval_fields_digest(a) for a in approvals}
    detail_json = encode_json(full) if full else None
    with ledger.transaction():
        # Inside the write transaction nobody can append between this read and our insert, so the next seq
        # and the previous hash are certain and the append cannot lose a race.
        last = ledger.audit.last()
        seq = 1 if last is None else last.seq + 1
        prev_hash = GENESIS_HASH if last is None else last.hash
        at = clock()
        content = canonical_content(seq=seq, at_text=format_timestamp(at), operator=operator, action=str(action),
                                    subject=subject, detail_json=detail_json)
        row = ledger.audit.append(at=at, operator=operator, action=str(action), subject=subject,
                                  detail_json=detail_json, prev_hash=prev_hash, hash=chain_hash(prev_hash, content))
        if row.seq != seq:
            raise RuntimeError(f"audit row stored as {row.seq}, hashed as {seq}; the transaction is rolled back")
    return row


def audited_transition(ledger: Ledger, payout_id: int, target: PayoutStatus, *, operator: str, action: str,
                       detail: Mapping[str, Any] | None = None, expected_status: PayoutStatus | None = None,
                       expected_version: int | None = None, changes: PayoutChanges | None = None,
                       approvals: Iterable[ApprovalRecord] = (), clock: Clock = utc_now) -> PayoutRecord:
    """A lifecycle transition and its audit row (with the payout's new digest) in one commit."""
    with ledger.transaction():
        before = ledger.payouts.get(payout_id)
        after = ledger.payouts.transition(payout_id, target, actor=operator, expected_status=expected_status,
                                          expected_version=expected_version, changes=changes, detail=detail)
        row_detail = {"from": before.status.value, "to": after.status.value, **(detail or {})}
        record(ledger, operator, action, payout_subject(payout_id), row_detail, payout=after, approvals=approvals,
               clock=clock)
    return after


def untampered_payout(ledger: Ledger, payout_id: int) -> tuple[PayoutRecord, list[ApprovalRecord]]:
    """The payout and its approvals, read from one snapshot and checked against the audit trail."""
    with ledger.snapshot():
        payout = ledger.payouts.get(payout_id)
        approvals = ledger.approvals.for_payout(payout_id)
        ensure_untampered(ledger, payout, approvals)
    return payout, approvals


def ensure_untampered(ledger: Ledger, payout: PayoutRecord, approvals: Iterable[ApprovalRecord] = ()) -> None:
    """Raise `TamperedRecordError` unless the payout and these approvals match their last audited digests.

    A quick check on the rows about this payout (their own hashes included); `security.audit_chain.verify` is
    the full walk of the chain. The payout, the approvals and the rows must come from one state of the ledger
    (a snapshot or a write transaction, in which the caller also read `payout` and `approvals`): a status change
    committed by another process between two separate reads would look exactly like a forged record.
    """
    if not ledger.reads_consistently:
        raise RuntimeError("ensure_untampered must read inside ledger.snapshot() or ledger.transaction(), "
                           "together with the payout and approvals it is given")
    subject = payout_subject(payout.id)
    rows = ledger.audit.rows_about(subject)
    for row in rows:
        if row_hash(row) != row.hash:
            raise TamperedRecordError(subject, f"audit row {row.seq} about payout {payout.id} was edited")
    state = audited_state(rows)
    if state.payout_digest is None:
        raise TamperedRecordError(subject, f"payout {payout.id} has no audit record")
    if state.payout_digest != payout_fields_digest(payout):
        raise TamperedRecordError(
            subject, f"payout {payout.id} ({payout.amount} {payout.currency} to {payout.address}) differs from what "
                     f"audit row {state.payout_seq} recorded")
    for approval in approvals:
        recorded = state.approval_digests.get(approval.id)
        if recorded is None:
            raise TamperedRecordError(subject, f"{approval.decision} decision {approval.id} on payout {payout.id} "
                                               f"(by {approval.operator}) has no audit record")
        if recorded != approval_fields_digest(approval):
            raise TamperedRecordError(subject, f"{approval.decision} decision {approval.id} on payout {payout.id} "
                                               "differs from what the audit trail recorded")


def short_text(text: str) -> str:
    """Free text as it may enter an audit row's detail: bounded in length."""
    return text if len(text) <= MAX_TEXT_IN_DETAIL else text[:MAX_TEXT_IN_DETAIL] + "…"


def detail_for_people(row: AuditRow) -> dict[str, Any]:
    """An audit row's detail as a person reads it: without the chain's own digests (an unreadable detail,
    which `audit verify` reports, is shown as it is stored)."""
    if not row.detail_json:
        return {}
    try:
        detail = json.loads(row.detail_json)
    except ValueError:
        return {"stored": row.detail_json}
    if not isinstance(detail, dict):
        return {"stored": detail}
    return {key: value for key, value in detail.items() if key not in RESERVED_DETAIL_KEYS}
