"""The approvals queue as one operator sees it: payouts waiting for their decision, and payouts waiting for
someone else's (their own, which they may never approve, or all of them when they are no approver)."""

from __future__ import annotations

from dataclasses import dataclass

from treasury_app.domain.approval_binding import same_operator
from treasury_app.domain.approval_policy import PolicyDecision
from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.domain.roles import Permission, may
from treasury_app.ledger import Ledger, PayoutFilter, PayoutRecord, PayoutSort

from .approvals import Approvals
from .operator_accounts import SignedIn
from .queue_decisions import queue_decisions


@dataclass(frozen=True)
class WaitingPayout:
    payout: PayoutRecord
    policy: PolicyDecision  # why it needs an approval


@dataclass(frozen=True)
class ApprovalQueue:
    for_me: tuple[WaitingPayout, ...]
    for_others: tuple[WaitingPayout, ...]

    @property
    def count_for_me(self) -> int:
        return len(self.for_me)


def count_waiting_for(ledger: Ledger, acting: SignedIn) -> int:
    """How many payouts wait for `acting`'s decision: the length of `approval_queue(...).for_me`, without the
    policy's reasons for each (a payout is in the queue by its status, whatever the reasons). The window's
    count after a sign-in: working out the reasons of 15,000 waiting payouts (two sums of the day's amounts
    each) kept a million-payout desk busy for minutes, and its window from closing."""
    with ledger.snapshot():
        record = ledger.operators.find(acting.name)
        if record is None or not record.active or not may(record.roles, Permission.APPROVE):
            return 0
        initiators = ledger.payouts.counts_by_initiator(PayoutFilter(statuses=(PayoutStatus.AWAITING_APPROVAL,)))
    return sum(count for initiator, count in initiators.items() if not same_operator(acting.name, initiator))


def waiting_ids_for(ledger: Ledger, acting: SignedIn) -> frozenset[int]:
    """The ids of the payouts waiting for `acting`'s decision (those `count_waiting_for` counts), for telling
    them of one that starts waiting: one read of the status index, some thousands of rows on a big desk."""
    with ledger.snapshot():
        record = ledger.operators.find(acting.name)
        if record is None or not record.active or not may(record.roles, Permission.APPROVE):
            return frozenset()
        waiting = ledger.payouts.initiators_of(PayoutFilter(statuses=(PayoutStatus.AWAITING_APPROVAL,)))
    return frozenset(payout_id for payout_id, initiator in waiting if not same_operator(acting.name, initiator))


def approval_queue(ledger: Ledger, approvals: Approvals, acting: SignedIn) -> ApprovalQueue:
    """Every payout awaiting approval, oldest first, split by whether `acting` may decide it."""
    with ledger.snapshot():
        record = ledger.operators.find(acting.name)
        approver = record is not None and record.active and may(record.roles, Permission.APPROVE)
        mine: list[WaitingPayout] = []
        others: list[WaitingPayout] = []
        waiting_filter = PayoutFilter(statuses=(PayoutStatus.AWAITING_APPROVAL,))
        waiting = [p for batch in ledger.payouts.iter_batches(waiting_filter, sort=PayoutSort.OLDEST) for p in batch]
        decisions = queue_decisions(ledger, approvals, waiting)  # each day read once, not twice per payout
        for payout in waiting:
            decidable = approver and not same_operator(acting.name, payout.created_by)
            (mine if decidable else others).append(WaitingPayout(payout, decisions[payout.id]))
    return ApprovalQueue(tuple(mine), tuple(others))
