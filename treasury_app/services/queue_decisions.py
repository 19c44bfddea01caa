"""The policy's decision for many waiting payouts at once, as `Approvals.policy_decision` gives it for one.

One payout's decision sums its UTC day's earlier payouts twice (the desk's and its initiator's); the approvals
queue of a big desk has thousands waiting, so that was thousands of reads of whole days. Here each (currency,
UTC day) is read once, oldest first, and each waiting payout takes the running totals at its own creation time:
the same sums, as the tests check against `policy_decision` itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, Inexact, localcontext

from treasury_app.domain.approval_policy import PolicyDecision, policy_day
from treasury_app.ledger import Ledger, PayoutFilter, PayoutRecord

from .approvals import COUNTED_STATUSES, Approvals, DailyVolumes

# Exact sums: a rounding would be a limit checked against a wrong total (as `PayoutRepository.total_amount`).
_SUM_PRECISION = 80


def queue_decisions(ledger: Ledger, approvals: Approvals,
                    payouts: Iterable[PayoutRecord]) -> dict[int, PolicyDecision]:
    """Each payout's decision by id, from one snapshot of the ledger."""
    by_day: dict[tuple[str, tuple[datetime, datetime]], list[PayoutRecord]] = defaultdict(list)
    for payout in payouts:
        by_day[(payout.currency, policy_day(payout.created_at))].append(payout)
    decisions: dict[int, PolicyDecision] = {}
    with ledger.snapshot():
        for (currency, (start, end)), waiting in by_day.items():
            day = ledger.payouts.amounts_in_order(PayoutFilter(statuses=COUNTED_STATUSES, currency=currency,
                                                               created_from=start, created_to=end))
            for payout, volumes in _running_volumes(day, waiting):
                decisions[payout.id] = approvals.decision_with_volumes(payout, volumes)
    return decisions


def _running_volumes(day: list[tuple[datetime, str, Decimal]],
                     waiting: list[PayoutRecord]) -> Iterable[tuple[PayoutRecord, DailyVolumes]]:
    """For each waiting payout, the day's totals of the payouts created strictly before it."""
    desk = Decimal(0)
    by_initiator: dict[str, Decimal] = defaultdict(Decimal)
    position = 0
    with localcontext(prec=_SUM_PRECISION) as context:
        context.traps[Inexact] = True
        for payout in sorted(waiting, key=lambda p: p.created_at):
            while position < len(day) and day[position][0] < payout.created_at:
                _, initiator, amount = day[position]
                desk += amount
                by_initiator[initiator] += amount
                position += 1
            yield payout, DailyVolumes(operator=by_initiator[payout.created_by], desk=desk)
