"""The local, provider-independent lifecycle of a payout: its statuses and the transitions allowed between them.

The ledger asks this module before it writes a status, so no face of the app (window, command line, poller)
can move a payout in a way the lifecycle forbids.
"""

from __future__ import annotations

from enum import StrEnum

from .errors import IllegalTransitionError


class PayoutStatus(StrEnum):
    DRAFT = "draft"
    ESTIMATED = "estimated"
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    SUBMITTING = "submitting"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"
    UNKNOWN = "unknown"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES

    @property
    def is_in_flight(self) -> bool:
        """Sent (or maybe sent) to the provider and not final: the poller follows these."""
        return self in IN_FLIGHT_STATUSES

    @property
    def may_have_reached_provider(self) -> bool:
        """Whether a request for this payout may have left: then it is never sent blindly again."""
        return self in IN_FLIGHT_STATUSES or self in {PayoutStatus.COMPLETED, PayoutStatus.FAILED}


S = PayoutStatus

FINAL_STATUSES = frozenset({S.COMPLETED, S.FAILED, S.CANCELLED, S.REJECTED})
IN_FLIGHT_STATUSES = frozenset({S.SUBMITTING, S.PROCESSING, S.UNKNOWN})

ALLOWED_TRANSITIONS: dict[PayoutStatus, frozenset[PayoutStatus]] = {
    S.DRAFT: frozenset({S.ESTIMATED, S.CANCELLED}),
    # Without a need for approval an estimated payout goes straight to submitting.
    S.ESTIMATED: frozenset({S.ESTIMATED, S.AWAITING_APPROVAL, S.SUBMITTING, S.EXPIRED, S.CANCELLED}),
    # Back to estimated when a fresh estimate moved the fee: the approval request starts over.
    S.AWAITING_APPROVAL: frozenset({S.APPROVED, S.REJECTED, S.EXPIRED, S.CANCELLED, S.ESTIMATED}),
    S.APPROVED: frozenset({S.SUBMITTING, S.EXPIRED, S.CANCELLED, S.ESTIMATED}),
    # An expired estimate or approval can be refreshed; nothing was sent.
    S.EXPIRED: frozenset({S.ESTIMATED, S.CANCELLED}),
    # Failed here means the provider refused the request outright: nothing was created.
    S.SUBMITTING: frozenset({S.PROCESSING, S.COMPLETED, S.FAILED, S.CANCELLED, S.UNKNOWN}),
    S.PROCESSING: frozenset({S.COMPLETED, S.FAILED, S.CANCELLED, S.UNKNOWN}),
    # Reconciliation by idempotency key decides; back to submitting only once the provider is known to have
    # nothing under that key (the resend then carries the same key, so it cannot pay twice).
    S.UNKNOWN: frozenset({S.SUBMITTING, S.PROCESSING, S.COMPLETED, S.FAILED, S.CANCELLED}),
    S.COMPLETED: frozenset(),
    S.FAILED: frozenset(),
    S.CANCELLED: frozenset(),
    S.REJECTED: frozenset(),
}

# The one way back from `submitting`, kept out of the table above so that no ordinary transition can take it:
# a claimed payout whose request certainly never left this machine (no connection to the provider could be
# made) returns to the status it was claimed from, so that it can simply be executed again. A claim taken
# from `unknown` (a resend) never goes back: an earlier request of that payout may have been acted on.
UNSENT_RETURN_STATUSES = frozenset({S.ESTIMATED, S.APPROVED})


def unsent_return_status(current: PayoutStatus, claimed_from: PayoutStatus | None,
                         subject: str = "payout") -> PayoutStatus:
    """Where a claimed payout whose request was certainly not sent goes back to: the status it was claimed from.

    `claimed_from` is the status its current claim (the last move to `submitting`) came from. Raises
    `IllegalTransitionError` unless the payout is `submitting` and that status is one from which nothing can
    have been sent before (`UNSENT_RETURN_STATUSES`).
    """
    if current is S.SUBMITTING and claimed_from is not None and claimed_from in UNSENT_RETURN_STATUSES:
        return claimed_from
    claimed = claimed_from.value if claimed_from is not None else "no claim"
    raise IllegalTransitionError(current.value, claimed, f"{subject} (not sent, claimed from '{claimed}')")


def parse_status(text: str) -> PayoutStatus:
    try:
        return PayoutStatus(text.strip().lower())
    except ValueError:
        names = ", ".join(s.value for s in PayoutStatus)
        raise ValueError(f"'{text}' is not a payout status; use one of {names}") from None


def can_transition(current: PayoutStatus, target: PayoutStatus) -> bool:
    return target in ALLOWED_TRANSITIONS[current]


def check_transition(current: PayoutStatus, target: PayoutStatus, subject: str = "payout") -> None:
    """Raise `IllegalTransitionError` unless the lifecycle allows `current → target`."""
    if not can_transition(current, target):
        raise IllegalTransitionError(current.value, target.value, subject)
