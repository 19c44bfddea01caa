"""Two-person approval, enforced: the policy's decision for a payout, approving and rejecting it, and
`ensure_executable`, which execution calls last and which lets nothing through that needs an approval it
does not validly have.

The approver types their password in the same call that approves (no earlier sign-in counts), is an active
operator with the approver role, and is never the payout's initiator. The approval binds to a digest of the
payout's exact fields and expires; the payout and its approvals are checked against the audit trail, so a
record edited in the database is refused here, not only found later by `audit verify`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from treasury_app.domain.approval_binding import ApprovalVerdict, check_approval, payout_digest, same_operator
from treasury_app.domain.approval_policy import (
    PayoutFacts,
    PolicyDecision,
    PolicyRefusedError,
    decide,
    policy_day,
)
from treasury_app.domain.errors import InvalidFieldError, TreasuryError
from treasury_app.domain.payout_lifecycle import PayoutStatus, can_transition
from treasury_app.domain.payout_request import PayoutRequest
from treasury_app.domain.roles import Permission
from treasury_app.ledger import ApprovalDecision, ApprovalRecord, Ledger, PayoutFilter, PayoutRecord
from treasury_app.ledger.timestamps import utc_now
from treasury_app.security.audit_chain import payout_subject
from treasury_app.security.errors import PermissionDeniedError

from . import audit
from .approval_policies import ApprovalPolicies
from .audit import AuditAction, audited_transition, ensure_untampered, untampered_payout
from .operator_accounts import OperatorAccounts, SignedIn, require_permission

Clock = Callable[[], datetime]

# Payouts that never moved money, and never will, do not use up a daily limit.
NOT_COUNTED = frozenset({PayoutStatus.CANCELLED, PayoutStatus.REJECTED, PayoutStatus.FAILED, PayoutStatus.EXPIRED})
COUNTED_STATUSES = tuple(status for status in PayoutStatus if status not in NOT_COUNTED)
MAX_REASON_LENGTH = 500


class NotAwaitingApprovalError(TreasuryError):
    def __init__(self, payout: PayoutRecord) -> None:
        self.payout = payout.id
        super().__init__(f"payout {payout.id} is '{payout.status}', not awaiting approval; nothing was recorded")


class SelfApprovalError(PermissionDeniedError):
    def __init__(self, operator: str, payout: PayoutRecord) -> None:
        self.payout = payout.id
        super().__init__(operator, f"operator '{operator}' initiated payout {payout.id} and cannot approve or reject "
                                   "it; ask another approver")


class NotExecutableError(TreasuryError):
    def __init__(self, payout: PayoutRecord) -> None:
        self.payout = payout.id
        sent = "; it may have been sent already and is followed by 'treasury-app refresh', never executed twice" \
            if payout.status.may_have_reached_provider else ""
        super().__init__(f"payout {payout.id} is '{payout.status}' and cannot be executed{sent}")


class ApprovalRequiredError(TreasuryError):
    """The payout needs a valid approval and has none: execution must not start."""

    def __init__(self, payout: PayoutRecord, decision: PolicyDecision, verdicts: tuple[ApprovalVerdict, ...]) -> None:
        self.payout = payout.id
        self.decision = decision
        self.verdicts = verdicts
        why = decision.explain() if decision.reasons else "it was sent for approval"
        found = "; ".join(p for v in verdicts for p in v.problems) or "nobody has approved it yet"
        super().__init__(
            f"payout {payout.id} needs a valid approval before it can be executed ({why}); {found}. An approver "
            f"other than {payout.created_by} must approve it: treasury-app payout approve {payout.id} --as NAME"
        )


@dataclass(frozen=True)
class DailyVolumes:
    operator: Decimal
    desk: Decimal


@dataclass(frozen=True)
class ExecutionClearance:
    """What `ensure_executable` checked; claim the payout with `expected_version=payout_version` so that nothing
    can change between this check and the claim."""

    payout_id: int
    payout_version: int
    approval_id: int | None
    decision: PolicyDecision


class Approvals:
    def __init__(self, ledger: Ledger, *, clock: Clock = utc_now) -> None:
        self._ledger = ledger
        self._clock = clock
        self._accounts = OperatorAccounts(ledger, clock=clock)
        self._policies = ApprovalPolicies(ledger, clock=clock)

    # --- what the policy says --------------------------------------------------------------------------------

    def daily_volumes(self, currency: str, operator: str, *, day_of: datetime,
                      before: datetime | None = None) -> DailyVolumes:
        """Today's (UTC day of `day_of`) totals in a currency, of payouts created before `before` if given."""
        start, end = policy_day(day_of)
        upto = end if before is None else min(before, end)
        if upto <= start:
            return DailyVolumes(Decimal(0), Decimal(0))
        desk = PayoutFilter(statuses=COUNTED_STATUSES, currency=currency, created_from=start, created_to=upto)
        return DailyVolumes(
            operator=self._ledger.payouts.total_amount(replace(desk, created_by=operator)),
            desk=self._ledger.payouts.total_amount(desk),
        )

    def policy_decision(self, payout: PayoutRecord) -> PolicyDecision:
        """The decision for a stored payout, counting only payouts created before it (so it never changes
        because of later ones)."""
        with self._ledger.snapshot():
            volumes = self.daily_volumes(payout.currency, payout.created_by, day_of=payout.created_at,
                                         before=payout.created_at)
            return self.decision_with_volumes(payout, volumes)

    def decision_with_volumes(self, payout: PayoutRecord, volumes: DailyVolumes) -> PolicyDecision:
        """The decision for a stored payout, its day's earlier totals given (services/queue_decisions.py works
        them out for many payouts at once)."""
        return decide(self._policies.get(payout.currency), self._facts(
            payout.currency, payout.network, payout.address, payout.amount, payout.created_by, volumes))

    def decision_for_request(self, request: PayoutRequest, *, initiator: str) -> PolicyDecision:
        """The decision for a payout about to be composed now (to show before it is saved)."""
        currency = request.asset.currency
        with self._ledger.snapshot():
            volumes = self.daily_volumes(currency, initiator, day_of=self._clock())
            return decide(self._policies.get(currency), self._facts(
                currency, request.asset.network.code, request.address, request.amount, initiator, volumes))

    def _facts(self, currency: str, network: str, address: str, amount: Decimal, initiator: str,
               volumes: DailyVolumes) -> PayoutFacts:
        return PayoutFacts(
            currency=currency, amount=amount, initiator=initiator, address=address,
            operator_volume_today=volumes.operator, desk_volume_today=volumes.desk,
            destination_paid_before=self._ledger.payouts.has_completed_payout_to(network, address),
            destination_in_address_book=self._ledger.address_book.find(network, address) is not None,
        )

    # --- deciding -------------------------------------------------------------------------------------------

    def request_approval(self, payout_id: int, *, acting: SignedIn) -> PayoutRecord:
        """estimated → awaiting_approval, with the policy's reasons in the audit row."""
        with self._ledger.transaction():
            initiator = require_permission(self._ledger, acting, Permission.COMPOSE, "send payouts for approval")
            payout = self._ledger.payouts.get(payout_id)
            ensure_untampered(self._ledger, payout)
            decision = self.policy_decision(payout)
            if decision.is_refused:
                raise PolicyRefusedError(decision, payout.id)
            return audited_transition(
                self._ledger, payout.id, PayoutStatus.AWAITING_APPROVAL, operator=initiator.name,
                action=AuditAction.APPROVAL_REQUESTED, expected_version=payout.version,
                detail={"reasons": [r.message for r in decision.reasons]}, clock=self._clock)

    def approve(self, payout_id: int, *, approver: str, password: str) -> ApprovalRecord:
        """Approve as `approver`, who authenticates with `password` in this very call."""
        return self._decide(payout_id, approver, password, ApprovalDecision.APPROVED, None)

    def reject(self, payout_id: int, *, approver: str, password: str, reason: str) -> ApprovalRecord:
        """Reject with a reason (required: the initiator must learn what to fix)."""
        return self._decide(payout_id, approver, password, ApprovalDecision.REJECTED, _reason(reason))

    def _decide(self, payout_id: int, approver: str, password: str, decision: ApprovalDecision,
                reason: str | None) -> ApprovalRecord:
        # Refuse what no password could fix before asking for one, so a typo'd id costs no sign-in attempt.
        self._awaiting(self._ledger.payouts.get(payout_id))
        signed = self._accounts.authenticate(approver, password)  # commits on its own: failures must count
        return self._record_decision(payout_id, signed, decision, reason)

    def _record_decision(self, payout_id: int, signed: SignedIn, decision: ApprovalDecision,
                         reason: str | None) -> ApprovalRecord:
        """The decision of an approver who has just authenticated for this very act (`_decide`), or of the
        demo's invented history (`demo_data`); every other rule is checked here."""
        with self._ledger.transaction():
            payout = self._awaiting(self._ledger.payouts.get(payout_id))
            who = require_permission(self._ledger, signed, Permission.APPROVE, "approve or reject payouts")
            if same_operator(who.name, payout.created_by):
                raise SelfApprovalError(who.name, payout)
            ensure_untampered(self._ledger, payout, self._ledger.approvals.for_payout(payout.id))
            expires_at = None
            if decision is ApprovalDecision.APPROVED:
                policy = self.policy_decision(payout)
                if policy.is_refused:  # no approval overrides a refusal
                    raise PolicyRefusedError(policy, payout.id)
                expires_at = self._clock() + self._policies.approval_expiry()
            approval = self._ledger.approvals.add(payout.id, decision=decision, operator=who.name,
                                                  payout_digest=payout_digest(payout), reason=reason,
                                                  expires_at=expires_at)
            approved = decision is ApprovalDecision.APPROVED
            audited_transition(
                self._ledger, payout.id, PayoutStatus.APPROVED if approved else PayoutStatus.REJECTED,
                operator=who.name, action=AuditAction.PAYOUT_APPROVED if approved else AuditAction.PAYOUT_REJECTED,
                expected_status=PayoutStatus.AWAITING_APPROVAL, expected_version=payout.version,
                detail=_without_none({"approval_id": approval.id, "expires_at": expires_at, "reason": reason}),
                approvals=[approval], clock=self._clock)
        return approval

    def void_approvals(self, payout_id: int, *, actor: str, reason: str) -> int:
        """Void every live decision on a payout (its estimate or details changed); each one audited."""
        why = _reason(reason)
        with self._ledger.transaction():
            payout = self._ledger.payouts.get(payout_id)
            live = [a for a in self._ledger.approvals.for_payout(payout_id) if not a.is_void]
            voided = [self._ledger.approvals.void(a.id, reason=why) for a in live]
            if voided:
                audit.record(self._ledger, actor, AuditAction.APPROVALS_VOIDED, payout_subject(payout.id),
                             {"approval_ids": [a.id for a in voided], "reason": why}, approvals=voided,
                             clock=self._clock)
        return len(voided)

    # --- the gate execution passes ---------------------------------------------------------------------------

    def ensure_executable(self, payout: PayoutRecord | int) -> ExecutionClearance:
        """Raise unless this payout may be executed now: untampered, not refused by policy, and either needing
        no approval or holding a valid one. The payout is re-read: a caller's copy may be out of date."""
        # One snapshot for every read below: another process committing a transition between two of them
        # would otherwise make this payout look forged, or the policy judge a state that never existed.
        with self._ledger.snapshot():
            return self._clearance(payout if isinstance(payout, int) else payout.id)

    def _clearance(self, payout_id: int) -> ExecutionClearance:
        current, approvals = untampered_payout(self._ledger, payout_id)
        # A payout awaiting approval is reported below as needing one, which tells the person what to do.
        awaiting = current.status is PayoutStatus.AWAITING_APPROVAL
        # An `unknown` payout may go back to submitting, but only by reconciliation, never by an execute.
        if not awaiting and (current.status.may_have_reached_provider
                             or not can_transition(current.status, PayoutStatus.SUBMITTING)):
            raise NotExecutableError(current)
        decision = self.policy_decision(current)
        if decision.is_refused:
            raise PolicyRefusedError(decision, current.id)
        # Once sent for approval, a payout needs one even if the policy was relaxed since.
        routed = current.status in (PayoutStatus.AWAITING_APPROVAL, PayoutStatus.APPROVED) or any(
            not a.is_void for a in approvals)
        if not decision.needs_approval and not routed:
            return ExecutionClearance(current.id, current.version, None, decision)
        digest, now = payout_digest(current), self._clock()
        verdicts = tuple(check_approval(a, payout_id=current.id, current_digest=digest, initiator=current.created_by,
                                        now=now) for a in reversed(approvals))
        valid = next((v for v in verdicts if v.valid), None)
        if valid is None or awaiting:
            raise ApprovalRequiredError(current, decision, verdicts)
        return ExecutionClearance(current.id, current.version, valid.approval_id, decision)

    def _awaiting(self, payout: PayoutRecord) -> PayoutRecord:
        if payout.status is not PayoutStatus.AWAITING_APPROVAL:
            raise NotAwaitingApprovalError(payout)
        return payout


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def _reason(reason: str | None) -> str:
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise InvalidFieldError("reason", "is empty; say why, so the initiator knows what to fix")
    if len(text) > MAX_REASON_LENGTH:
        raise InvalidFieldError("reason", f"is {len(text)} characters long; at most {MAX_REASON_LENGTH} are allowed")
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Zl", "Zp"} for ch in text):
        raise InvalidFieldError("reason", "contains a control character or a line break; write one line")
    return text
