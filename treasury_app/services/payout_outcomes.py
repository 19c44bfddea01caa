"""Recording what became of a payout's request: the provider's answer, its refusal, or the lack of an answer.

Shared by execution, resending and reconciliation in `payout_workflow`, so that a payout's outcome is written
the same way whichever of them learned it. Every write here is a lifecycle transition with its audit row.
"""

from __future__ import annotations

import os
import socket
import sys
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.ledger import Ledger, PayoutChanges, PayoutRecord
from treasury_app.providers.errors import (
    AmountLimitError,
    AuthenticationError,
    EstimateExpiredError,
    ForbiddenError,
    InsufficientFundsError,
    ProviderValidationError,
    RequestRefusedError,
)
from treasury_app.providers.interface import ProviderPayoutState
from treasury_app.security.audit_chain import payout_subject

from . import audit

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
# Reasons are stored and shown, not archived: a provider's message is cut to a readable length.
MAX_REASON = 500
# The claim's event names the process that holds it, so that recovery can tell a crashed one from a live one.
CLAIM_HOLDER_KEY = "claimed_by"


class WorkflowAction(StrEnum):
    """The audit actions of the workflow (the audit module lists the ones of earlier services)."""

    COMPOSED = "payout.composed"
    ESTIMATED = "payout.estimated"
    ESTIMATE_REFRESHED = "payout.estimate_refreshed"
    ESTIMATE_MOVED = "payout.estimate_moved"
    SUBMITTING = "payout.submitting"
    SUBMITTED = "payout.submitted"
    SUBMIT_REFUSED = "payout.submit_refused"
    OUTCOME_UNKNOWN = "payout.outcome_unknown"
    NOT_SENT = "payout.not_sent"
    CLAIM_ORPHANED = "payout.claim_orphaned"
    RESENDING = "payout.resending"
    RECONCILED = "payout.reconciled"
    PROVIDER_UPDATE = "payout.provider_update"


def follow(ledger: Ledger, payout: PayoutRecord, state: ProviderPayoutState, actor: str, action: WorkflowAction,
           clock: audit.Clock) -> PayoutRecord:
    """Move the payout to the status the provider's answer maps to, with the provider's ids beside it."""
    changes = PayoutChanges(provider_status=state.provider_status, provider_payout_id=state.provider_payout_id,
                            tx_hash=state.tx_hash, actual_amount=state.paid_amount,
                            failure_reason=state.failure_reason)
    # Compared on the status, not the version: the poller's bookkeeping may bump the version meanwhile.
    # Not durable (no fsync on the event loop's thread): what the provider said can always be asked again by
    # the key, and a lost record leaves the payout in flight, where the poller or recovery reads it anew.
    with ledger.transaction(durable=False):
        return audit.audited_transition(
            ledger, payout.id, state.status, operator=actor, action=action, expected_status=payout.status,
            changes=changes, detail={"provider_status": state.provider_status,
                                     "provider_payout_id": state.provider_payout_id},
            clock=clock)


def record_provider_facts(ledger: Ledger, payout: PayoutRecord, state: ProviderPayoutState,
                          actor: str) -> PayoutRecord:
    """A provider answer that keeps the local status (a new raw status, a tx hash): an event, no audit row."""
    changes = PayoutChanges(
        provider_status=state.provider_status,
        provider_payout_id=state.provider_payout_id or payout.provider_payout_id,
        tx_hash=state.tx_hash or payout.tx_hash,
        failure_reason=state.failure_reason)
    if all(getattr(payout, name) == value for name, value in changes.given().items()):
        # What the record already says (the poller's usual answer): nothing to write, so no transaction. A row
        # changed meanwhile by another desk is read afresh by the next round.
        return payout
    with ledger.transaction(durable=False):  # as in `follow`: the provider can be asked again
        return ledger.payouts.record_provider_update(payout.id, changes, actor=actor,
                                                     expected_version=payout.version)


def mark_refused(ledger: Ledger, payout: PayoutRecord, actor: str, error: BaseException,
                 clock: audit.Clock) -> PayoutRecord:
    return audit.audited_transition(
        ledger, payout.id, PayoutStatus.FAILED, operator=actor, action=WorkflowAction.SUBMIT_REFUSED,
        expected_status=payout.status, changes=PayoutChanges(failure_reason=reason_of(error)),
        detail={"reason": reason_of(error), "error": type(error).__name__}, clock=clock)


def mark_unknown(ledger: Ledger, payout: PayoutRecord, actor: str, error: BaseException | None, clock: audit.Clock,
                 *, reason: str | None = None, action: WorkflowAction = WorkflowAction.OUTCOME_UNKNOWN,
                 expected_version: int | None = None) -> PayoutRecord:
    why = reason or reason_of(error)
    detail: dict[str, Any] = {"reason": why}
    if error is not None:
        detail["error"] = type(error).__name__
    return audit.audited_transition(
        ledger, payout.id, PayoutStatus.UNKNOWN, operator=actor, action=action, expected_status=payout.status,
        expected_version=expected_version, changes=PayoutChanges(failure_reason=why), detail=detail, clock=clock)


def mark_not_sent(ledger: Ledger, payout: PayoutRecord, actor: str, error: BaseException,
                  clock: audit.Clock) -> PayoutRecord:
    """A first send that certainly never left: back to the status it was claimed from, with the reason.

    Its approvals stay valid (nothing they bind to changed), so `execute` can simply be tried again.
    """
    why = reason_of(error)
    detail = {"reason": why, "error": type(error).__name__}
    with ledger.transaction():
        back = ledger.payouts.return_unsent(payout.id, actor=actor, expected_version=payout.version, detail=detail)
        audit.record(ledger, actor, WorkflowAction.NOT_SENT, payout_subject(payout.id),
                     {"from": payout.status.value, "to": back.status.value, **detail}, payout=back, clock=clock)
    return back


def reason_of(error: BaseException | None) -> str:
    text = str(error) if error is not None else ""
    text = text or (type(error).__name__ if error is not None else "no reason given")
    return text if len(text) <= MAX_REASON else text[:MAX_REASON] + "…"


# --- who holds a submitting claim ------------------------------------------------------------------------------


def claim_holder() -> str:
    """This process, as recorded in the claim's event: "host:pid"."""
    return f"{socket.gethostname()}:{os.getpid()}"


def claim_is_orphaned(ledger: Ledger, payout: PayoutRecord, grace: timedelta, now: datetime) -> bool:
    """Whether a `submitting` payout's claim can be taken over: its process is gone, or it is older than grace.

    A claim by a live process (another window, mid-request) must be left to it: it will record the answer.
    Taking it over anyway would still not pay twice (the resend carries the same key), but it would race.
    """
    with ledger.snapshot():  # the payout and its events as one state: a claim made meanwhile is not missed
        current = ledger.payouts.get(payout.id)
        events = ledger.payouts.events(payout.id)
    if current.version != payout.version:
        return False  # it moved since the caller read it (a new claim, an answer): nothing to take over
    claim = next((e for e in reversed(events) if e.to_status is PayoutStatus.SUBMITTING), None)
    if claim is None:
        return True
    if now - claim.at >= grace:
        return True
    holder = str(claim.detail.get(CLAIM_HOLDER_KEY, ""))
    host, _, pid = holder.rpartition(":")
    return host == socket.gethostname() and pid.isdigit() and not _process_alive(int(pid))


def _process_alive(pid: int) -> bool:
    if pid == os.getpid() or sys.platform == "win32":
        # On Windows os.kill(pid, 0) would terminate the process: there the grace period alone decides.
        return True
    try:
        os.kill(pid, 0)  # signal 0 only checks that the process exists
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists but not ours, or we cannot tell: assume alive and let the grace decide
    return True
