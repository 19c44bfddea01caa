"""The audit trail's hash chain: the canonical content of a row, its hash, the digests of the payouts and
approvals rows speak of, and `verify`, which walks the whole chain and checks the ledger's records against it.

A row's hash is SHA-256(previous row's hash + canonical content), so editing, deleting or reordering rows
breaks the chain from that row on. Rows about a payout carry a digest of its protected fields (and of any
approval they record), so a payout's amount or address, or an approval, edited directly in the database no
longer matches its last audited digest. What the chain cannot show on its own: the removal of the newest rows
(nothing follows them) or a chain rebuilt from scratch by someone running this code. Against both, write down
the head (row number and hash) that `verify` reports, and compare it later.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from treasury_app.domain.approval_binding import canonical_amount
from treasury_app.ledger import ApprovalRecord, AuditRow, Ledger, PayoutRecord
from treasury_app.ledger.audit_trail_reads import AuditFilter
from treasury_app.ledger.timestamps import format_optional_timestamp, format_timestamp

# The first row's "previous hash": a fixed constant, so a chain can only start in one way.
GENESIS_HASH = "0" * 64
# Detail keys the chain reserves: rows about payout N (subject "payout:N") carry these.
PAYOUT_DIGEST_KEY = "payout_fields_digest"
APPROVAL_DIGESTS_KEY = "approval_fields_digests"
RESERVED_DETAIL_KEYS = frozenset({PAYOUT_DIGEST_KEY, APPROVAL_DIGESTS_KEY})

# A payout's identity, money, destination, initiator, day and status: what decides whether and what is paid,
# and who may approve it. Estimates, provider replies and notes change in the normal course of things and are
# not covered; every status change is audited, so the status is.
PAYOUT_PROTECTED_FIELDS = ("id", "idempotency_key", "provider", "currency", "network", "address", "amount",
                           "fee_mode", "priority", "memo", "created_by", "created_at", "status")
APPROVAL_PROTECTED_FIELDS = ("id", "payout_id", "decision", "operator", "payout_digest", "reason", "decided_at",
                             "expires_at", "voided_at", "void_reason")
_PROTECTED_NAMES = ", ".join(PAYOUT_PROTECTED_FIELDS)
_DIGEST_VERSION = 1
# A ledger in a bad way could produce millions of findings; the first ones say what happened.
MAX_PROBLEMS_KEPT = 1000


class ChainRow(Protocol):
    """What the chain hashes: an `AuditRow`, or the values of a row about to be appended."""

    @property
    def seq(self) -> int: ...
    @property
    def prev_hash(self) -> str: ...


def canonical_json(value: Mapping[str, Any]) -> str:
    """Sorted keys, no spaces, UTF-8 text as is: equal values are equal text on every machine."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_content(*, seq: int, at_text: str, operator: str | None, action: str, subject: str | None,
                      detail_json: str | None) -> str:
    """What a row's hash covers. The detail is embedded as the exact text stored, so not one byte can change."""
    return canonical_json({"seq": seq, "at": at_text, "operator": operator, "action": action, "subject": subject,
                           "detail": detail_json})


def chain_hash(prev_hash: str, content: str) -> str:
    return hashlib.sha256((prev_hash + content).encode("utf-8")).hexdigest()


def row_hash(row: AuditRow) -> str:
    """The hash a stored row must have, recomputed from its columns and its stored previous hash."""
    content = canonical_content(seq=row.seq, at_text=format_timestamp(row.at), operator=row.operator,
                                action=row.action, subject=row.subject, detail_json=row.detail_json)
    return chain_hash(row.prev_hash, content)


def payout_fields_digest(payout: PayoutRecord) -> str:
    values = {name: getattr(payout, name) for name in PAYOUT_PROTECTED_FIELDS}
    values["amount"] = canonical_amount(payout.amount)
    values["created_at"] = format_timestamp(payout.created_at)
    return _digest("payout", values)


def approval_fields_digest(approval: ApprovalRecord) -> str:
    values = {name: getattr(approval, name) for name in APPROVAL_PROTECTED_FIELDS}
    for name in ("decided_at", "expires_at", "voided_at"):
        values[name] = format_optional_timestamp(values[name])
    return _digest("approval", values)


def _digest(kind: str, values: dict[str, Any]) -> str:
    plain = {name: (value.value if isinstance(value, StrEnum) else value) for name, value in values.items()}
    return hashlib.sha256(canonical_json({"kind": kind, "v": _DIGEST_VERSION, **plain}).encode()).hexdigest()


def payout_subject(payout_id: int) -> str:
    return f"payout:{payout_id}"


def payout_id_of(subject: str | None) -> int | None:
    if subject is None or not subject.startswith("payout:"):
        return None
    number = subject.removeprefix("payout:")
    return int(number) if number.isdigit() else None


@dataclass(frozen=True)
class AuditedState:
    """The last digests the audit trail recorded for one payout and its approvals (None: never recorded)."""

    payout_digest: str | None
    payout_seq: int | None
    approval_digests: Mapping[int, str]


def audited_state(rows: Iterable[AuditRow]) -> AuditedState:
    """Fold a payout's audit rows (oldest first) into the last digest of it and of each approval."""
    payout_digest: str | None = None
    payout_seq: int | None = None
    approvals: dict[int, str] = {}
    for row in rows:
        detail = _detail_or_none(row)
        if detail is None:
            continue
        if isinstance(detail.get(PAYOUT_DIGEST_KEY), str):
            payout_digest, payout_seq = detail[PAYOUT_DIGEST_KEY], row.seq
        for key, digest in _approval_digests(detail).items():
            approvals[key] = digest
    return AuditedState(payout_digest, payout_seq, approvals)


class ProblemKind(StrEnum):
    MISSING_ROWS = "missing_rows"
    BROKEN_LINK = "broken_link"
    EDITED_ROW = "edited_row"
    PAYOUT_CHANGED = "payout_changed"
    PAYOUT_NOT_AUDITED = "payout_not_audited"
    PAYOUT_DELETED = "payout_deleted"
    APPROVAL_CHANGED = "approval_changed"
    APPROVAL_NOT_AUDITED = "approval_not_audited"
    APPROVAL_DELETED = "approval_deleted"


@dataclass(frozen=True)
class AuditProblem:
    kind: ProblemKind
    message: str
    seq: int | None = None  # the audit row concerned, when there is one


@dataclass(frozen=True)
class VerifyReport:
    rows_checked: int
    payouts_checked: int
    approvals_checked: int
    head_seq: int | None
    head_hash: str | None
    problems: tuple[AuditProblem, ...]
    problem_count: int  # may exceed len(problems): only the first MAX_PROBLEMS_KEPT are kept
    first_broken_row: AuditRow | None = None  # the first row the chain walk found wrong, as stored

    @property
    def intact(self) -> bool:
        return self.problem_count == 0

    @property
    def first_problem(self) -> AuditProblem | None:
        return self.problems[0] if self.problems else None


class _Findings:
    def __init__(self) -> None:
        self.kept: list[AuditProblem] = []
        self.count = 0

    def add(self, kind: ProblemKind, message: str, seq: int | None = None) -> None:
        self.count += 1
        if len(self.kept) < MAX_PROBLEMS_KEPT:
            self.kept.append(AuditProblem(kind, message, seq))


# How often the walk says how far it got: often enough for a progress bar, rarely enough to cost nothing.
PROGRESS_EVERY_ROWS = 2000
Progress = Callable[[int, int], None]


def verify(ledger: Ledger, progress: Progress | None = None) -> VerifyReport:
    """Walk the chain in order, then check every payout and approval against its last audited digest.

    `progress(rows_walked, rows_in_chain)` is called now and then during the walk (on the caller's thread), and
    once more at the end; it changes nothing in the report.

    All from one snapshot of the ledger: the walk reads the chain, the payouts and the approvals by many
    statements, and a transition committed by another process between them would otherwise show as a payout
    that differs from its last audited row.
    """
    with ledger.snapshot():
        return _verify(ledger, progress)


def _verify(ledger: Ledger, progress: Progress | None) -> VerifyReport:
    findings = _Findings()
    # Last audited digest (as bytes, to keep a large ledger's walk small) and the row that recorded it.
    payouts: dict[int, tuple[int, bytes]] = {}
    approvals: dict[int, tuple[int, bytes]] = {}
    prev_hash, expected_seq, count, head = GENESIS_HASH, 1, 0, None
    first_broken: AuditRow | None = None
    # Counted inside the same snapshot as the walk, so the total is the walk's own (asked only for a progress bar).
    total = ledger.audit_trail.count(AuditFilter()) if progress is not None else 0
    if progress is not None:
        progress(0, total)
    for row in ledger.audit.rows():
        count += 1
        if progress is not None and count % PROGRESS_EVERY_ROWS == 0:
            progress(count, max(total, count))
        if not _check_link(row, prev_hash, expected_seq, findings) and first_broken is None:
            first_broken = row
        prev_hash, expected_seq, head = row.hash, row.seq + 1, row
        detail = _detail_or_none(row)
        payout_id = payout_id_of(row.subject)
        if detail is None or payout_id is None:
            continue
        if isinstance(detail.get(PAYOUT_DIGEST_KEY), str):
            payouts[payout_id] = (row.seq, _bytes(detail[PAYOUT_DIGEST_KEY]))
        for approval_id, digest in _approval_digests(detail).items():
            approvals[approval_id] = (row.seq, _bytes(digest))
    payouts_checked = _check_payouts(ledger, payouts, findings)
    approvals_checked = _check_approvals(ledger, approvals, findings)
    if progress is not None:
        progress(count, count)
    return VerifyReport(count, payouts_checked, approvals_checked, head.seq if head else None,
                        head.hash if head else None, tuple(findings.kept), findings.count, first_broken)


def _check_link(row: AuditRow, prev_hash: str, expected_seq: int, findings: _Findings) -> bool:
    """Whether the row is where it belongs and as it was written; each finding is recorded."""
    found_before = findings.count
    if row.seq != expected_seq:
        missing = f"row {expected_seq}" if row.seq == expected_seq + 1 else f"rows {expected_seq} to {row.seq - 1}"
        findings.add(ProblemKind.MISSING_ROWS, f"{missing} missing before row {row.seq}: deleted", row.seq)
    if row.prev_hash != prev_hash:
        after = "the start of the chain" if expected_seq == 1 else f"row {expected_seq - 1}"
        findings.add(ProblemKind.BROKEN_LINK,
                     f"row {row.seq} does not follow {after} (its previous-row hash is {row.prev_hash[:12]}…, "
                     f"expected {prev_hash[:12]}…): rows were deleted, inserted or reordered", row.seq)
    if row_hash(row) != row.hash:
        findings.add(ProblemKind.EDITED_ROW,
                     f"row {row.seq} ({row.action} {row.subject or ''}) no longer matches its hash: it was edited "
                     "or moved", row.seq)
    return findings.count == found_before


def _check_payouts(ledger: Ledger, audited: dict[int, tuple[int, bytes]], findings: _Findings) -> int:
    checked = 0
    for batch in ledger.payouts.iter_batches():
        for payout in batch:
            checked += 1
            recorded = audited.pop(payout.id, None)
            described = (f"payout {payout.id} ({canonical_amount(payout.amount)} {payout.currency} to "
                         f"{payout.address}, {payout.status})")
            if recorded is None:
                findings.add(ProblemKind.PAYOUT_NOT_AUDITED,
                             f"{described} has no audit record: it was written outside Treasury Desk")
            elif _bytes(payout_fields_digest(payout)) != recorded[1]:
                findings.add(ProblemKind.PAYOUT_CHANGED,
                             f"{described} differs from what audit row {recorded[0]} recorded: one of "
                             f"{_PROTECTED_NAMES} was changed outside Treasury Desk", recorded[0])
    for payout_id, (seq, _) in sorted(audited.items()):
        findings.add(ProblemKind.PAYOUT_DELETED,
                     f"payout {payout_id} is in the audit trail (row {seq}) but not in the ledger: it was deleted", seq)
    return checked


def _check_approvals(ledger: Ledger, audited: dict[int, tuple[int, bytes]], findings: _Findings) -> int:
    checked = 0
    for approval in ledger.approvals.iter_all():
        checked += 1
        recorded = audited.pop(approval.id, None)
        described = f"{approval.decision} decision {approval.id} on payout {approval.payout_id} by {approval.operator}"
        if recorded is None:
            findings.add(ProblemKind.APPROVAL_NOT_AUDITED,
                         f"{described} has no audit record: it was inserted outside Treasury Desk")
        elif _bytes(approval_fields_digest(approval)) != recorded[1]:
            findings.add(ProblemKind.APPROVAL_CHANGED,
                         f"{described} differs from what audit row {recorded[0]} recorded: it was edited outside "
                         "Treasury Desk", recorded[0])
    for approval_id, (seq, _) in sorted(audited.items()):
        findings.add(ProblemKind.APPROVAL_DELETED,
                     f"approval {approval_id} is in the audit trail (row {seq}) but not in the ledger: it was deleted",
                     seq)
    return checked


def _detail_or_none(row: AuditRow) -> dict[str, Any] | None:
    if row.detail_json is None:
        return None
    try:
        detail = json.loads(row.detail_json)
    except ValueError:
        return None  # an edited row; its hash check already reports it
    return detail if isinstance(detail, dict) else None


def _approval_digests(detail: Mapping[str, Any]) -> dict[int, str]:
    found = detail.get(APPROVAL_DIGESTS_KEY)
    if not isinstance(found, dict):
        return {}
    return {int(key): value for key, value in found.items() if key.isdigit() and isinstance(value, str)}


def _bytes(hex_digest: str) -> bytes:
    try:
        return bytes.fromhex(hex_digest)
    except ValueError:
        return hex_digest.encode()  # not a digest we wrote; compares unequal to any real one
