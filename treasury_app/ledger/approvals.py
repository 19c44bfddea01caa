"""Approval and rejection decisions on payouts, each bound to a digest of the payout's exact fields."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from treasury_app.domain.errors import InvalidFieldError

from .connection import LedgerConnection
from .errors import ApprovalNotFoundError, ConstraintViolation, PayoutNotFoundError, StaleRecordError
from .records import ApprovalDecision, ApprovalRecord
from .timestamps import format_optional_timestamp, format_timestamp


class ApprovalRepository:
    def __init__(self, link: LedgerConnection, clock: Callable[[], datetime]) -> None:
        self._link = link
        self._clock = clock

    def add(self, payout_id: int, *, decision: ApprovalDecision, operator: str, payout_digest: str,
            reason: str | None = None, expires_at: datetime | None = None) -> ApprovalRecord:
        """Record a decision, timed now; who may decide is for `security/` and the services to check first."""
        if not isinstance(operator, str) or not operator.strip():
            raise InvalidFieldError("operator", "must name who decided")
        if not payout_digest:
            raise ValueError("an approval must carry the digest of the payout it approves")
        row = (payout_id, ApprovalDecision(decision).value, operator, payout_digest, reason,
               format_timestamp(self._clock()), format_optional_timestamp(expires_at))
        with self._link.transaction():
            try:
                new_id = self._link.insert(
                    "INSERT INTO approvals (payout_id, decision, operator, payout_digest, reason, decided_at, "
                    "expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    row,
                )
            except ConstraintViolation as error:
                if "FOREIGN KEY" not in str(error):
                    raise
                raise PayoutNotFoundError(payout_id) from None
            return self.get(new_id)

    def get(self, approval_id: int) -> ApprovalRecord:
        row = self._link.row("SELECT * FROM approvals WHERE id = ?", (approval_id,))
        if row is None:
            raise ApprovalNotFoundError(approval_id)
        return ApprovalRecord.from_row(row)

    def for_payout(self, payout_id: int) -> list[ApprovalRecord]:
        """Every decision on the payout, oldest first, voided ones included (the history keeps them)."""
        rows = self._link.rows("SELECT * FROM approvals WHERE payout_id = ? ORDER BY id", (payout_id,))
        return [ApprovalRecord.from_row(row) for row in rows]

    def iter_all(self, batch_size: int = 1000) -> Iterator[ApprovalRecord]:
        """Every decision in id order, read in batches (the audit verification walks them all)."""
        after = 0
        while True:
            batch = self._link.rows("SELECT * FROM approvals WHERE id > ? ORDER BY id LIMIT ?", (after, batch_size))
            yield from (ApprovalRecord.from_row(row) for row in batch)
            if len(batch) < batch_size:
                return
            after = batch[-1]["id"]

    def void(self, approval_id: int, *, reason: str) -> ApprovalRecord:
        """Mark one decision void (it stays in the history); voiding twice is refused."""
        why = _reason(reason)
        stamp = format_timestamp(self._clock())
        with self._link.transaction():
            current = self.get(approval_id)
            if current.is_void:
                raise StaleRecordError(f"approval {approval_id} was already voided ({current.void_reason})")
            self._link.execute(
                "UPDATE approvals SET voided_at = ?, void_reason = ? WHERE id = ? AND voided_at IS NULL",
                (stamp, why, approval_id),
            )
            return self.get(approval_id)

    def void_all(self, payout_id: int, *, reason: str) -> int:
        """Void every live decision on a payout (it changed, so they no longer apply); returns how many."""
        values = (format_timestamp(self._clock()), _reason(reason), payout_id)
        with self._link.transaction():
            return self._link.execute(
                "UPDATE approvals SET voided_at = ?, void_reason = ? WHERE payout_id = ? AND voided_at IS NULL", values
            ).rowcount


def _reason(reason: str) -> str:
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidFieldError("reason", "is empty; say why the approval no longer applies")
    return reason.strip()
