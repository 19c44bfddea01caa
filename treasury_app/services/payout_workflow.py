"""The payout workflow shared by the window and the command line: compose, estimate, execute, settle.

Every status change goes through `audit.audited_transition`, so each step is a lifecycle transition with its
event row and its audit row, committed together. The guarantees that make this safe with money:

- **Execute exactly once.** The payout is claimed by an atomic compare-and-set (`submitting`, expected at the
  version `ensure_executable` checked). The claim, which carries the idempotency key written at compose time,
  is committed before the request leaves: a second window, a second process or a second click loses the claim
  and sends nothing.
- **Never lost, never guessed.** When the request may have reached the provider but no usable answer came
  back, the payout becomes `unknown` with the reason, never `failed`. Only a first send that certainly never
  left this machine (no connection could be made) goes back to where it was claimed from, to be executed
  again; a resend that meets the same stays `unknown`, because an earlier request may have been acted on. `settle` (the poller's and recovery's
  entry) reads the provider's state by the idempotency key first; only when the provider holds nothing executed
  under it is the request sent again, under the same key, so the provider itself refuses a second order.
- **No surprise fees.** An estimate older than its limit is asked again before executing; when the fee or the
  net amount moved against us beyond the tolerance, execution stops and the payout goes back for a fresh
  confirmation (and approval, when the policy asks for one).

`execute` refuses to run inside a caller's ledger transaction: the claim has to be committed (visible to other
processes) before the request leaves, which a surrounding transaction would postpone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from treasury_app.domain.errors import TreasuryError
from treasury_app.domain.estimate_drift import EstimateFigures, estimate_drift
from treasury_app.domain.payout_lifecycle import (
    IN_FLIGHT_STATUSES,
    PayoutStatus,
    can_transition,
)
from treasury_app.domain.payout_request import (
    PayoutRequest,
    compose_payout,
    new_idempotency_key,
)
from treasury_app.domain.provider_capabilities import ProviderCapabilities
from treasury_app.domain.roles import Permission
from treasury_app.ledger import Ledger, PayoutChanges, PayoutFilter, PayoutRecord, StaleRecordError
from treasury_app.ledger.timestamps import utc_now
from treasury_app.providers.errors import OrderAlreadyExistsError, ProviderError, RequestNotSentError
from treasury_app.providers.interface import (
    Estimate,
    PayoutProvider,
    ProviderPayoutState,
)
from treasury_app.security.audit_chain import payout_subject

from . import audit
from .approvals import Approvals
from .operator_accounts import SignedIn, require_permission
from .payout_outcomes import (
    CLAIM_HOLDER_KEY,
    DEFINITE_REFUSALS,
    WorkflowAction,
    claim_holder,
    claim_is_orphaned,
    follow,
    mark_not_sent,
    mark_refused,
    mark_unknown,
    record_provider_facts,
)
from .workflow_settings import WorkflowSettings

__all__ = ["DEFINITE_REFUSALS", "AlreadySentError", "EstimateMovedError", "NotEstimableError", "PayoutNotSentError",
           "PayoutWorkflow", "UnknownProviderError", "WorkflowAction", "request_of"]

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# A test hook: called with the step's name ("claimed", "answered") and the payout, between the commits.
Checkpoint = Callable[[str, PayoutRecord], None]

# Statuses from which a payout may be (re-)estimated here.
ESTIMABLE = frozenset({PayoutStatus.DRAFT, PayoutStatus.ESTIMATED, PayoutStatus.EXPIRED})
# Provider states meaning "an order under this key was executed": the payout follows them. Anything else
# (nothing under the key, or Pay3's order registered by the estimate but never executed) means nothing moved.
EXECUTED_STATES = frozenset({PayoutStatus.PROCESSING, PayoutStatus.COMPLETED, PayoutStatus.FAILED,
                             PayoutStatus.CANCELLED})
STATE_BATCH = 100
# What start-up recovery settles: a request may have left, and nobody has recorded an answer.
RECOVERABLE = (PayoutStatus.SUBMITTING, PayoutStatus.UNKNOWN)


class NotEstimableError(TreasuryError):
    def __init__(self, payout: PayoutRecord) -> None:
        self.payout = payout.id
        super().__init__(f"payout {payout.id} is '{payout.status}' and cannot be estimated now")


class UnknownProviderError(TreasuryError):
    def __init__(self, provider: str) -> None:
        self.provider = provider
        super().__init__(f"no client is configured for provider '{provider}'; set it up under providers first")


class AlreadySentError(TreasuryError):
    """Execute on a payout whose request may already have left: only reconciliation may send it again."""

    def __init__(self, payout: PayoutRecord) -> None:
        self.payout = payout.id
        super().__init__(f"payout {payout.id} is '{payout.status}': it was already sent; it is followed by "
                         "'treasury-app refresh', never executed twice")


class EstimateMovedError(TreasuryError):
    """A refreshed estimate moved beyond the tolerance: nothing was sent, the payout needs a new confirmation."""

    def __init__(self, payout: PayoutRecord, moves: tuple[str, ...]) -> None:
        self.payout = payout
        self.moves = moves
        again = " and approval" if payout.status is PayoutStatus.AWAITING_APPROVAL else ""
        super().__init__(f"payout {payout.id} was not sent: its estimate was stale and, asked again, "
                         f"{'; '.join(moves)}. Review the new figures and confirm{again} again")


class PayoutNotSentError(TreasuryError):
    """Execute could not reach the provider at all: nothing was sent, and the payout is back where it was
    (`payout`: approved, or estimated when it needed no approval), ready to be executed again."""

    def __init__(self, payout: PayoutRecord, cause: RequestNotSentError) -> None:
        self.payout = payout
        self.cause = cause
        super().__init__(f"payout {payout.id} was not sent (nothing left this computer, nothing was paid) and is "
                         f"{payout.status.value} again, to be executed again: {cause}")


class PayoutWorkflow:
    """The steps of a payout's life, each checked against the acting operator's permissions and audited."""

    def __init__(self, ledger: Ledger, providers: Mapping[str, PayoutProvider], clock: Clock = utc_now, *,
                 settings: WorkflowSettings | None = None, checkpoint: Checkpoint | None = None) -> None:
        self._ledger = ledger
        self._providers = dict(providers)
        self._clock = clock
        self._settings = settings
        self._checkpoint = checkpoint or (lambda step, payout: None)
        self._approvals = Approvals(ledger, clock=clock)

    @property
    def settings(self) -> WorkflowSettings:
        # Read when used, so that a change made in another window applies without a restart.
        return self._settings or WorkflowSettings.from_ledger(self._ledger)

    # --- compose --------------------------------------------------------------------------------------------

    def capabilities(self, provider: str) -> ProviderCapabilities:
        """What the provider accepts for a payout's choices: its open client's, else its kind's defaults."""
        client = self._providers.get((provider or "").strip().lower())
        if client is not None:
            return client.capabilities
        from treasury_app.providers.kinds import provider_kind  # the clients' modules (httpx, jwt) load on use

        return provider_kind(provider).capabilities

    def compose(self, acting: SignedIn, **fields: Any) -> PayoutRecord:
        """A new draft payout from what a person typed (validated by the domain), with a fresh idempotency key.

        Every later request for this payout (estimate, execute, reconcile) carries the key, so the provider can
        never hold two payouts for it.
        """
        # The first bad field raises InvalidFieldError, naming it; a choice left out takes the provider's default.
        request = compose_payout(**fields, capabilities=self.capabilities(str(fields.get("provider", ""))))
        with self._ledger.transaction():
            who = require_permission(self._ledger, acting, Permission.COMPOSE, "compose payouts")
            payout = self._ledger.payouts.add(request, idempotency_key=new_idempotency_key(), actor=who.name)
            audit.record(self._ledger, who.name, WorkflowAction.COMPOSED, payout_subject(payout.id),
                         {"provider": payout.provider, "amount": payout.amount, "currency": payout.currency,
                          "address": payout.address}, payout=payout, clock=self._clock)
        return payout

    # --- estimate -------------------------------------------------------------------------------------------

    async def estimate(self, acting: SignedIn, payout_id: int, *, route_for_approval: bool = True) -> PayoutRecord:
        """Ask the provider's fee and net amount, store them (→ estimated), and send the payout for approval
        when the policy asks for one (→ awaiting_approval). A policy refusal raises `PolicyRefusedError`
        after the estimate is stored.

        `route_for_approval=False` stops at estimated: the window shows the figures first and sends the payout
        for approval when the person says so (`Approvals.request_approval`)."""
        who = require_permission(self._ledger, acting, Permission.COMPOSE, "estimate payouts")
        payout = self._ledger.payouts.get(payout_id)
        if payout.status not in ESTIMABLE:
            raise NotEstimableError(payout)
        # No ledger lock is held while the provider answers: a slow provider must not block other windows.
        # The version check when storing refuses the estimate if the payout changed meanwhile.
        key, estimate = await self._ask_estimate(payout)
        with self._ledger.transaction():
            if key != payout.idempotency_key:
                payout = self._ledger.payouts.replace_idempotency_key(
                    payout.id, key, actor=who.name, expected_version=payout.version,
                    detail={"reason": "a fresh estimate registers the order under a fresh key"})
            estimated = audit.audited_transition(
                self._ledger, payout.id, PayoutStatus.ESTIMATED, operator=who.name, action=WorkflowAction.ESTIMATED,
                expected_version=payout.version, changes=_estimate_changes(estimate, self._clock()),
                detail=_estimate_detail(estimate), clock=self._clock)
        return self._route_for_approval(estimated, acting) if route_for_approval else estimated

    # --- execute --------------------------------------------------------------------------------------------

    async def execute(self, acting: SignedIn, payout_id: int) -> PayoutRecord:
        """Send the payout to its provider, at most once, and record what is known of the outcome.

        Raises `ApprovalRequiredError`, `NotExecutableError`, `PolicyRefusedError`, `AlreadySentError` or
        `EstimateMovedError` before anything is claimed, `StaleRecordError` when another window or process
        claimed the payout first, and `PayoutNotSentError` (after putting the claimed payout back) when no
        connection to the provider could be made; in all these cases nothing is sent.
        """
        if self._ledger.in_transaction:
            # Inside a caller's transaction the claim would not be committed before the request leaves.
            raise RuntimeError("execute must not run inside a ledger transaction")
        who = require_permission(self._ledger, acting, Permission.EXECUTE, "execute payouts")
        payout = self._ledger.payouts.get(payout_id)
        if payout.status.may_have_reached_provider:
            raise AlreadySentError(payout)
        provider = self._provider(payout.provider)
        if self._is_stale(payout):
            self._approvals.ensure_executable(payout.id)  # the clear refusals first, before asking the provider
            payout = await self._refresh_estimate(acting, who.name, payout)
        clearance = self._approvals.ensure_executable(payout.id)
        # The claim: a compare-and-set at the version ensure_executable checked, committed before the request
        # leaves. Whoever loses it gets StaleRecordError here and sends nothing.
        claimed = audit.audited_transition(
            self._ledger, payout_id, PayoutStatus.SUBMITTING, operator=who.name, action=WorkflowAction.SUBMITTING,
            expected_version=clearance.payout_version,
            detail={"idempotency_key": payout.idempotency_key, "approval_id": clearance.approval_id,
                    CLAIM_HOLDER_KEY: claim_holder()},
            clock=self._clock)
        return await self._send(claimed, who.name, provider, first_send=True)

    # --- following a sent payout ----------------------------------------------------------------------------

    async def settle(self, payout: PayoutRecord, state: ProviderPayoutState | None, *,
                     actor: str = "poller") -> PayoutRecord:
        """Record what the provider says of an in-flight payout; `state` None: it holds nothing under the key.

        An `unknown` payout, or a `submitting` one whose claim was orphaned by a crash, that the provider holds
        nothing executed of, is sent again under the same key. Another process recording first is not an error:
        the re-read record is returned.
        """
        if payout.status not in IN_FLIGHT_STATUSES:
            return payout
        try:
            if state is not None and state.status in EXECUTED_STATES:
                if state.status is payout.status:
                    return record_provider_facts(self._ledger, payout, state, actor)
                if not can_transition(payout.status, state.status):
                    log.warning("payout %s: provider says %s, which cannot follow %s", payout.id, state.status,
                                payout.status)
                    return payout
                action = WorkflowAction.PROVIDER_UPDATE if payout.status is PayoutStatus.PROCESSING \
                    else WorkflowAction.RECONCILED
                return follow(self._ledger, payout, state, actor, action, self._clock)
            seen = "nothing" if state is None else f"an order in status '{state.provider_status}', never executed"
            if payout.status is PayoutStatus.PROCESSING:
                # It was executed (we saw it processing); a provider that now shows nothing is wrong or lagging.
                log.warning("payout %s: the provider now holds %s under its key; still following it",
                            payout.id, seen)
                return payout
            if payout.status is PayoutStatus.SUBMITTING:
                if not claim_is_orphaned(self._ledger, payout, self.settings.claim_grace, self._clock()):
                    return payout  # a live process is sending it and will record the answer
                # At the version the orphan check read: a claim taken over by another process meanwhile wins.
                payout = mark_unknown(self._ledger, payout, actor, None, self._clock,
                                      reason="the app stopped while sending this payout",
                                      action=WorkflowAction.CLAIM_ORPHANED, expected_version=payout.version)
            return await self._resend(payout, actor, seen)
        except StaleRecordError:
            return self._ledger.payouts.get(payout.id)

    async def reconcile(self, payout_id: int, *, actor: str = "reconciler") -> PayoutRecord:
        """Read one in-flight payout's state from its provider by its idempotency key, and settle it."""
        payout = self._ledger.payouts.get(payout_id)
        if payout.status not in IN_FLIGHT_STATUSES:
            return payout
        states = await self._provider(payout.provider).fetch_states([payout.idempotency_key])
        return await self.settle(payout, states.get(payout.idempotency_key), actor=actor)

    async def recover(self, *, actor: str = "recovery") -> list[PayoutRecord]:
        """At start-up, before anything else: every `submitting` and `unknown` payout, read by key and settled.

        A provider that cannot be asked leaves its payouts as they are (the poller keeps trying); it does not
        stop the others' recovery.
        """
        pending = [p for batch in self._ledger.payouts.iter_batches(PayoutFilter(statuses=RECOVERABLE))
                   for p in batch]
        settled: list[PayoutRecord] = []
        for provider_name in sorted({p.provider for p in pending}):
            mine = [p for p in pending if p.provider == provider_name]
            try:
                provider = self._provider(provider_name)
                for batch in _batches(mine, STATE_BATCH):
                    states = await provider.fetch_states([p.idempotency_key for p in batch],
                                                         sent_since=earliest_send(batch))
                    for payout in batch:
                        settled.append(await self.settle(payout, states.get(payout.idempotency_key), actor=actor))
            except (ProviderError, UnknownProviderError) as error:
                log.warning("recovery of %s payouts postponed: %s", provider_name, error)
        return settled

    # --- inside ---------------------------------------------------------------------------------------------

    def _provider(self, name: str) -> PayoutProvider:
        try:
            return self._providers[name]
        except KeyError:
            raise UnknownProviderError(name) from None

    async def _ask_estimate(self, payout: PayoutRecord) -> tuple[str, Estimate]:
        """The provider's estimate, and the key it was asked under: a fresh one where the provider registers
        the order at estimate time and this payout was estimated before (the old key cannot be estimated
        again; its registered order is left unexecuted and the provider abandons it)."""
        provider = self._provider(payout.provider)
        key = payout.idempotency_key
        if provider.estimate_registers_order and payout.estimated_at is not None:
            key = new_idempotency_key()
        try:
            return key, await provider.estimate(request_of(payout), key)
        except OrderAlreadyExistsError as error:
            # An earlier estimate registered the order but its answer was lost. Never executed (the payout was
            # never claimed, and the provider shows nothing executed): estimate under a fresh key instead.
            executed = error.state is not None and error.state.status in EXECUTED_STATES
            if not provider.estimate_registers_order or executed:
                raise
            key = new_idempotency_key()
            return key, await provider.estimate(request_of(payout), key)

    def _is_stale(self, payout: PayoutRecord) -> bool:
        return payout.estimated_at is None or self._clock() - payout.estimated_at > self.settings.estimate_max_age

    async def _refresh_estimate(self, acting: SignedIn, actor: str, payout: PayoutRecord) -> PayoutRecord:
        """Ask a stale estimate again; keep going when it moved within the tolerance, else stop for a new
        confirmation (raises `EstimateMovedError` with the payout back in estimated or awaiting_approval)."""
        key, estimate = await self._ask_estimate(payout)
        confirmed = EstimateFigures(payout.estimated_fee or Decimal(0), payout.estimated_net or Decimal(0)) \
            if payout.estimated_at is not None else None
        fresh = EstimateFigures(estimate.fee, estimate.net_amount)
        moves = estimate_drift(confirmed, fresh, self.settings.fee_tolerance, payout.currency) if confirmed else ()
        detail = {**_estimate_detail(estimate), "previous_fee": payout.estimated_fee,
                  "previous_net": payout.estimated_net, "moved": list(moves)}
        with self._ledger.transaction():
            if key != payout.idempotency_key:
                updated = self._ledger.payouts.replace_idempotency_key(
                    payout.id, key, actor=actor, expected_version=payout.version, changes=_estimate_changes(estimate, self._clock()),
                    detail={"reason": "the estimate was stale; the fresh one registers the order under a fresh key"})
            else:
                updated = self._ledger.payouts.record_provider_update(
                    payout.id, _estimate_changes(estimate, self._clock()), actor=actor, expected_version=payout.version,
                    detail={"reason": "the estimate was stale"})
            audit.record(self._ledger, actor, WorkflowAction.ESTIMATE_REFRESHED, payout_subject(payout.id), detail,
                         payout=updated, clock=self._clock)
            if not moves:
                return updated
            self._approvals.void_approvals(payout.id, actor=actor, reason="the refreshed estimate moved: "
                                                                          + "; ".join(moves))
            if updated.status is not PayoutStatus.ESTIMATED:
                updated = audit.audited_transition(
                    self._ledger, payout.id, PayoutStatus.ESTIMATED, operator=actor,
                    action=WorkflowAction.ESTIMATE_MOVED, expected_version=updated.version,
                    detail={"moved": list(moves)}, clock=self._clock)
        raise EstimateMovedError(self._route_for_approval(updated, acting), moves)

    def _route_for_approval(self, estimated: PayoutRecord, acting: SignedIn) -> PayoutRecord:
        decision = self._approvals.policy_decision(estimated)
        if decision.needs_approval or decision.is_refused:
            # request_approval re-checks the policy and raises PolicyRefusedError on a refusal.
            return self._approvals.request_approval(estimated.id, acting=acting)
        return estimated

    async def _send(self, claimed: PayoutRecord, actor: str, provider: PayoutProvider, *,
                    first_send: bool) -> PayoutRecord:
        """The one place a payout request leaves, always from a committed `submitting` claim.

        `first_send`: claimed from a status in which nothing was ever sent (approved or estimated), so a
        request that certainly never left puts it back there; a resend's earlier request may have been acted
        on, so it stays `unknown` whatever this one met.
        """
        self._checkpoint("claimed", claimed)
        try:
            state = await provider.submit(request_of(claimed), claimed.idempotency_key, claimed.estimate_data)
        except RequestNotSentError as error:
            if not first_send:
                return mark_unknown(self._ledger, claimed, actor, error, self._clock)
            raise PayoutNotSentError(mark_not_sent(self._ledger, claimed, actor, error, self._clock), error) \
                from error
        except OrderAlreadyExistsError as error:
            # The provider holds an order under our key already: follow what it says of it, if it says.
            self._checkpoint("answered", claimed)
            if error.state is not None and error.state.status in EXECUTED_STATES:
                return follow(self._ledger, claimed, error.state, actor, WorkflowAction.SUBMITTED, self._clock)
            return mark_unknown(self._ledger, claimed, actor, error, self._clock)
        except DEFINITE_REFUSALS as error:
            self._checkpoint("answered", claimed)
            return mark_refused(self._ledger, claimed, actor, error, self._clock)
        except Exception as error:  # noqa: BLE001 — whatever went wrong, the request may have left
            return mark_unknown(self._ledger, claimed, actor, error, self._clock)
        self._checkpoint("answered", claimed)
        if not can_transition(PayoutStatus.SUBMITTING, state.status):
            return mark_unknown(self._ledger, claimed, actor, None, self._clock,
                                reason=f"the provider answered status '{state.provider_status}', which says "
                                       "neither sent nor refused")
        return follow(self._ledger, claimed, state, actor, WorkflowAction.SUBMITTED, self._clock)

    async def _resend(self, payout: PayoutRecord, actor: str, seen: str) -> PayoutRecord:
        """Send an `unknown` payout again under its own key, once the provider was seen to hold nothing
        executed under it. Its approval was checked when it was first claimed; its records must be untampered."""
        current, _ = audit.untampered_payout(self._ledger, payout.id)
        if current.version != payout.version:
            raise StaleRecordError(f"payout {payout.id} changed while it was being reconciled; read it again")
        provider = self._provider(payout.provider)
        claimed = audit.audited_transition(
            self._ledger, payout.id, PayoutStatus.SUBMITTING, operator=actor, action=WorkflowAction.RESENDING,
            expected_version=payout.version, changes=PayoutChanges(failure_reason=None),
            detail={"idempotency_key": payout.idempotency_key, "provider_held": seen,
                    CLAIM_HOLDER_KEY: claim_holder()},
            clock=self._clock)
        return await self._send(claimed, actor, provider, first_send=False)


def request_of(payout: PayoutRecord) -> PayoutRequest:
    """The domain request of a stored payout (re-validated: a stored row is not trusted blindly)."""
    return compose_payout(provider=payout.provider, currency=payout.currency, network=payout.network,
                          address=payout.address, amount=str(payout.amount), fee_mode=payout.fee_mode,
                          priority=payout.priority, memo=payout.memo, reference=payout.reference, note=payout.note)


def _estimate_changes(estimate: Estimate, now: datetime) -> PayoutChanges:
    # The age that matters is on this desk's clock (the one staleness is judged by), not the provider's.
    return PayoutChanges(estimated_fee=estimate.fee, estimated_net=estimate.net_amount,
                         estimated_total=estimate.total_debited, estimate_warnings=estimate.warnings,
                         estimate_data=dict(estimate.execution_data), estimated_at=now)


def _estimate_detail(estimate: Estimate) -> dict[str, Any]:
    return {"fee": estimate.fee, "net": estimate.net_amount, "total": estimate.total_debited,
            "warnings": list(estimate.warnings)}


def _batches(items: list[PayoutRecord], size: int) -> Iterable[list[PayoutRecord]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def earliest_send(payouts: Iterable[PayoutRecord]) -> datetime:
    """The earliest moment any of `payouts` can have reached its provider: when it was first claimed for sending
    (written before the request leaves), or when it was made, for one imported without that. A provider with a
    history reads no further back than this (less its margin for clocks)."""
    return min(payout.submitted_at or payout.created_at for payout in payouts)
