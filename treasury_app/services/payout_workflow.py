"""The payout workflow shared by the window and the command line: compose, estimate, execute, reconcile.

Every status change goes through `audit.audited_transition`, so each step is a lifecycle transition with its
event row and its audit row, committed together. The guarantees that make this safe with money:

- **Execute exactly once.** The payout is claimed by an atomic compare-and-set (`submitting`, expected at the
  version `ensure_executable` checked). The claim, which carries the idempotency key written at compose time,
  is committed before the request leaves: a second window, a second process or a second click loses the claim
  and sends nothing.
- **Never lost, never guessed.** When the request may have reached the provider but no usable answer came
  back, the payout becomes `unknown` with the reason, never `failed`; `reconcile` reads the provider's state by
  the idempotency key before anything could be sent again.

`execute` refuses to run inside a caller's ledger transaction: the claim has to be committed (visible to other
processes) before the request leaves, which a surrounding transaction would postpone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from treasury_app.domain.errors import TreasuryError
from treasury_app.domain.payout_lifecycle import PayoutStatus, can_transition
from treasury_app.domain.payout_request import (
    PayoutRequest,
    compose_payout,
    new_idempotency_key,
)
from treasury_app.domain.roles import Permission
from treasury_app.ledger import Ledger, PayoutChanges, PayoutRecord
from treasury_app.ledger.timestamps import utc_now
from treasury_app.providers.errors import (
    AmountLimitError,
    AuthenticationError,
    EstimateExpiredError,
    ForbiddenError,
    InsufficientFundsError,
    OrderAlreadyExistsError,
    ProviderValidationError,
    RequestRefusedError,
)
from treasury_app.providers.interface import PayoutProvider, ProviderPayoutState
from treasury_app.security.audit_chain import payout_subject

from . import audit
from .approvals import Approvals
from .operator_accounts import SignedIn, require_permission

Clock = Callable[[], datetime]

# Answers by which the provider definitely refused to act: nothing was created, so `failed` is the truth.
# Everything else raised by `submit` (outcome unknown, 5xx, timeouts, dropped connections, 429, unreadable
# answers, even a bug of ours) may have followed a request that reached the provider: `unknown`, never failed.
DEFINITE_REFUSALS: tuple[type[Exception], ...] = (
    ProviderValidationError,
    InsufficientFundsError,
    AmountLimitError,
    ForbiddenError,
    AuthenticationError,
    RequestRefusedError,
    EstimateExpiredError,
)
# Statuses from which a payout may be (re-)estimated here. A payout awaiting approval or approved keeps its
# estimate in this first version: re-estimating it must also void and re-request approvals (not done yet).
ESTIMABLE = frozenset({PayoutStatus.DRAFT, PayoutStatus.ESTIMATED, PayoutStatus.EXPIRED})
# Reasons are stored and shown, not archived: a provider's message is cut to a readable length.
MAX_REASON = 500


class WorkflowAction(StrEnum):
    """The audit actions of the workflow (the audit module lists the ones of earlier services)."""

    COMPOSED = "payout.composed"
    ESTIMATED = "payout.estimated"
    SUBMITTING = "payout.submitting"
    SUBMITTED = "payout.submitted"
    SUBMIT_REFUSED = "payout.submit_refused"
    OUTCOME_UNKNOWN = "payout.outcome_unknown"
    RECONCILED = "payout.reconciled"


class NotEstimableError(TreasuryError):
    def __init__(self, payout: PayoutRecord) -> None:
        self.payout = payout.id
        super().__init__(f"payout {payout.id} is '{payout.status}' and cannot be estimated now")


class UnknownProviderError(TreasuryError):
    def __init__(self, provider: str) -> None:
        self.provider = provider
        super().__init__(f"no client is configured for provider '{provider}'; set it up under providers first")


class PayoutWorkflow:
    """The steps of a payout's life, each checked against the acting operator's permissions and audited."""

    def __init__(self, ledger: Ledger, providers: Mapping[str, PayoutProvider], clock: Clock = utc_now) -> None:
        self._ledger = ledger
        self._providers = dict(providers)
        self._clock = clock
        self._approvals = Approvals(ledger, clock=clock)

    # --- compose --------------------------------------------------------------------------------------------

    def compose(self, acting: SignedIn, **fields: Any) -> PayoutRecord:
        """A new draft payout from what a person typed (validated by the domain), with a fresh idempotency key.

        The key is made here, once: every later request for this payout (estimate, execute, reconcile) carries
        it, so the provider can never hold two payouts for it.
        """
        request = compose_payout(**fields)  # the first bad field raises InvalidFieldError, naming it
        with self._ledger.transaction():
            who = require_permission(self._ledger, acting, Permission.COMPOSE, "compose payouts")
            payout = self._ledger.payouts.add(request, idempotency_key=new_idempotency_key(), actor=who.name)
            audit.record(self._ledger, who.name, WorkflowAction.COMPOSED, payout_subject(payout.id),
                         {"provider": payout.provider, "amount": payout.amount, "currency": payout.currency,
                          "address": payout.address}, payout=payout, clock=self._clock)
        return payout

    # --- estimate -------------------------------------------------------------------------------------------

    async def estimate(self, acting: SignedIn, payout_id: int) -> PayoutRecord:
        """Ask the provider's fee and net amount, store them (→ estimated), and send the payout for approval
        when the policy asks for one (→ awaiting_approval). A policy refusal raises `PolicyRefusedError`
        after the estimate is stored."""
        who = require_permission(self._ledger, acting, Permission.COMPOSE, "estimate payouts")
        payout = self._ledger.payouts.get(payout_id)
        if payout.status not in ESTIMABLE:
            raise NotEstimableError(payout)
        provider = self._provider(payout.provider)
        # No ledger lock is held while the provider answers: a slow provider must not block other windows.
        # The version check below refuses to store the estimate if the payout changed meanwhile.
        estimate = await provider.estimate(request_of(payout), payout.idempotency_key)
        estimated = audit.audited_transition(
            self._ledger, payout.id, PayoutStatus.ESTIMATED, operator=who.name, action=WorkflowAction.ESTIMATED,
            expected_version=payout.version,
            changes=PayoutChanges(estimated_fee=estimate.fee, estimated_net=estimate.net_amount,
                                  estimated_total=estimate.total_debited, estimate_warnings=estimate.warnings,
                                  estimate_data=dict(estimate.execution_data), estimated_at=estimate.estimated_at),
            detail={"fee": estimate.fee, "net": estimate.net_amount, "total": estimate.total_debited,
                    "warnings": list(estimate.warnings)},
            clock=self._clock)
        decision = self._approvals.policy_decision(estimated)
        if decision.needs_approval or decision.is_refused:
            # request_approval re-checks the policy and raises PolicyRefusedError on a refusal.
            return self._approvals.request_approval(estimated.id, acting=acting)
        return estimated

    # --- execute --------------------------------------------------------------------------------------------

    async def execute(self, acting: SignedIn, payout_id: int) -> PayoutRecord:
        """Send the payout to its provider, at most once, and record what is known of the outcome.

        Raises `ApprovalRequiredError`, `NotExecutableError` or `PolicyRefusedError` before anything is
        claimed, and `StaleRecordError` when another window or process claimed the payout first; in all these
        cases nothing is sent.
        """
        if self._ledger.in_transaction:
            # Inside a caller's transaction the claim would not be committed before the request leaves.
            raise RuntimeError("execute must not run inside a ledger transaction")
        who = require_permission(self._ledger, acting, Permission.EXECUTE, "execute payouts")
        clearance = self._approvals.ensure_executable(payout_id)
        payout = self._ledger.payouts.get(payout_id)
        provider = self._provider(payout.provider)
        # The claim: a compare-and-set at the version ensure_executable checked, committed before the request
        # leaves. Whoever loses it gets StaleRecordError here and sends nothing.
        claimed = audit.audited_transition(
            self._ledger, payout_id, PayoutStatus.SUBMITTING, operator=who.name, action=WorkflowAction.SUBMITTING,
            expected_version=clearance.payout_version,
            detail={"idempotency_key": payout.idempotency_key, "approval_id": clearance.approval_id},
            clock=self._clock)
        try:
            state = await provider.submit(request_of(claimed), claimed.idempotency_key, claimed.estimate_data)
        except OrderAlreadyExistsError as error:
            # The provider holds an order under our key already: follow what it says of it, if it says.
            if error.state is not None and can_transition(PayoutStatus.SUBMITTING, error.state.status):
                return self._follow(claimed, error.state, who.name, WorkflowAction.SUBMITTED)
            return self._unknown(claimed, who.name, error)
        except DEFINITE_REFUSALS as error:
            return audit.audited_transition(
                self._ledger, claimed.id, PayoutStatus.FAILED, operator=who.name,
                action=WorkflowAction.SUBMIT_REFUSED, expected_status=PayoutStatus.SUBMITTING,
                changes=PayoutChanges(failure_reason=_reason(error)),
                detail={"reason": _reason(error), "error": type(error).__name__}, clock=self._clock)
        except Exception as error:  # noqa: BLE001 — whatever went wrong, the request may have left
            return self._unknown(claimed, who.name, error)
        if not can_transition(PayoutStatus.SUBMITTING, state.status):
            return self._unknown(claimed, who.name, None,
                                 reason=f"the provider answered status '{state.provider_status}', which says "
                                        "neither sent nor refused")
        return self._follow(claimed, state, who.name, WorkflowAction.SUBMITTED)

    # --- reconcile ------------------------------------------------------------------------------------------

    async def reconcile(self, payout_id: int, *, actor: str = "reconciler") -> PayoutRecord:
        """Read an `unknown` payout's fate from its provider by its idempotency key and record it.

        When the provider holds nothing executed under the key, the payout stays `unknown` (with that fact in
        its failure reason): sending it again is a separate, deliberate decision, never taken here.
        """
        payout = self._ledger.payouts.get(payout_id)
        if payout.status is not PayoutStatus.UNKNOWN:
            return payout
        provider = self._provider(payout.provider)
        states = await provider.fetch_states([payout.idempotency_key])
        state = states.get(payout.idempotency_key)
        if state is None or not can_transition(PayoutStatus.UNKNOWN, state.status) \
                or state.status is PayoutStatus.SUBMITTING:
            seen = "nothing" if state is None else f"an order in status '{state.provider_status}'"
            return self._ledger.payouts.record_provider_update(
                payout.id, PayoutChanges(failure_reason=f"reconciled: the provider holds {seen} under this key; "
                                                         "nothing was paid"),
                actor=actor, expected_version=payout.version)
        return self._follow(payout, state, actor, WorkflowAction.RECONCILED)

    # --- helpers --------------------------------------------------------------------------------------------

    def _provider(self, name: str) -> PayoutProvider:
        try:
            return self._providers[name]
        except KeyError:
            raise UnknownProviderError(name) from None

    def _follow(self, payout: PayoutRecord, state: ProviderPayoutState, actor: str,
                action: WorkflowAction) -> PayoutRecord:
        """Move the payout to the status the provider's answer maps to, with the provider's ids beside it."""
        changes = PayoutChanges(provider_status=state.provider_status, provider_payout_id=state.provider_payout_id,
                                tx_hash=state.tx_hash, actual_amount=state.paid_amount,
                                failure_reason=state.failure_reason)
        return audit.audited_transition(
            self._ledger, payout.id, state.status, operator=actor, action=action, expected_status=payout.status,
            changes=changes, detail={"provider_status": state.provider_status,
                                     "provider_payout_id": state.provider_payout_id},
            clock=self._clock)

    def _unknown(self, payout: PayoutRecord, actor: str, error: BaseException | None, *,
                 reason: str | None = None) -> PayoutRecord:
        why = reason or _reason(error)
        detail: dict[str, Any] = {"reason": why}
        if error is not None:
            detail["error"] = type(error).__name__
        return audit.audited_transition(
            self._ledger, payout.id, PayoutStatus.UNKNOWN, operator=actor, action=WorkflowAction.OUTCOME_UNKNOWN,
            expected_status=PayoutStatus.SUBMITTING, changes=PayoutChanges(failure_reason=why), detail=detail,
            clock=self._clock)


def request_of(payout: PayoutRecord) -> PayoutRequest:
    """The domain request of a stored payout (re-validated: a stored row is not trusted blindly)."""
    return compose_payout(provider=payout.provider, currency=payout.currency, network=payout.network,
                          address=payout.address, amount=str(payout.amount), fee_mode=payout.fee_mode,
                          priority=payout.priority, memo=payout.memo, reference=payout.reference, note=payout.note)


def _reason(error: BaseException | None) -> str:
    text = str(error) if error is not None else ""
    text = text or (type(error).__name__ if error is not None else "no reason given")
    return text if len(text) <= MAX_REASON else text[:MAX_REASON] + "…"
