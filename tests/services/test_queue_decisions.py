"""The approvals queue works out the policy for many waiting payouts from one read of each day: each decision
must be exactly the one `Approvals.policy_decision` gives for that payout alone, limits and all."""

from __future__ import annotations

from desk_fixtures import OTHER_TRON_ADDRESS

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.services.approval_policies import ApprovalPolicies
from treasury_app.services.approval_queue import approval_queue
from treasury_app.services.queue_decisions import queue_decisions


def test_each_decision_is_the_one_worked_out_for_the_payout_alone(desk):
    root = desk.sign_in("root")
    policies = ApprovalPolicies(desk.ledger, clock=desk.clock)
    policies.set("USDT", acting=root, approval_threshold="1000", operator_daily_limit="2500",
                 desk_daily_limit="4000")
    policies.set("USDC", acting=root, approval_threshold="50")
    made = []
    for day in range(3):
        for initiator, amount in (("alice", "1200"), ("carol", "900"), ("alice", "700"), ("carol", "1500"),
                                  ("alice", "1100")):
            made.append(desk.awaiting(initiator, amount=amount))
            desk.clock.advance(minutes=20)
        made.append(desk.awaiting("alice", amount="60", currency="USDC", network="ETH",
                                  address="0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"))
        rejected = desk.awaiting("carol", amount="3000", address=OTHER_TRON_ADDRESS)
        desk.approvals.reject(rejected.id, approver="bob", password="bob password long", reason="no")  # uncounted
        desk.clock.advance(hours=20)  # the next UTC day
    waiting = [desk.ledger.payouts.get(p.id) for p in made]
    decisions = queue_decisions(desk.ledger, desk.approvals, waiting)
    alone = {p.id: desk.approvals.policy_decision(p) for p in waiting}
    assert decisions == alone
    reasons = {reason.code for decision in alone.values() for reason in decision.reasons}
    assert len(reasons) >= 3, reasons  # the threshold and both daily limits were at work, not just one rule
    queue = approval_queue(desk.ledger, desk.approvals, desk.sign_in("bob"))
    assert {w.payout.id: w.policy for w in queue.for_me} == alone
    assert all(p.status is PayoutStatus.AWAITING_APPROVAL for p in waiting)
