"""The approvals queue as each operator sees it, and the window's count of what waits for them: the count is a
grouped query (no policy worked out per payout), so it must agree with the queue for every kind of operator."""

from __future__ import annotations

import pytest

from treasury_app.services.approval_policies import ApprovalPolicies
from treasury_app.services.approval_queue import approval_queue, count_waiting_for, waiting_ids_for


@pytest.fixture(autouse=True)
def usdt_threshold(desk):
    ApprovalPolicies(desk.ledger, clock=desk.clock).set("USDT", acting=desk.sign_in("root"), approval_threshold="1000")


def test_the_count_waiting_for_each_operator_is_the_length_of_their_queue(desk):
    desk.awaiting("alice")
    desk.awaiting("alice")
    desk.awaiting("carol")
    desk.compose("alice", amount="10")  # under the threshold: never waits
    desk.approved("carol", "bob")  # decided: no longer waits
    expected = {"bob": 3, "dave": 3, "carol": 2, "alice": 0, "vic": 0, "root": 0}
    for name, count in expected.items():
        acting = desk.sign_in(name)
        queue = approval_queue(desk.ledger, desk.approvals, acting)
        assert (count_waiting_for(desk.ledger, acting), len(queue.for_me)) == (count, count), name
        assert len(queue.for_me) + len(queue.for_others) == 3


def test_an_approver_who_is_disabled_has_nothing_waiting(desk):
    desk.awaiting("alice")
    bob = desk.sign_in("bob")
    assert count_waiting_for(desk.ledger, bob) == 1
    desk.accounts.disable("bob", acting=desk.sign_in("root"))
    assert count_waiting_for(desk.ledger, bob) == 0 == len(approval_queue(desk.ledger, desk.approvals, bob).for_me)


def test_the_waiting_ids_for_each_operator_are_those_of_their_queue(desk):
    desk.awaiting("alice")
    desk.awaiting("carol")
    desk.approved("carol", "bob")
    for name in ("bob", "dave", "carol", "alice", "vic", "root"):
        acting = desk.sign_in(name)
        queue = approval_queue(desk.ledger, desk.approvals, acting)
        assert waiting_ids_for(desk.ledger, acting) == {entry.payout.id for entry in queue.for_me}, name
