"""A stale estimate is asked again before executing; a move against us beyond the tolerance stops execution
for a fresh confirmation (and approval). Against the real sandbox, for both providers."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from desk_fixtures import TestDesk
from provider_fixtures import PAYOUT_FIELDS, PROVIDER_NAMES

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.ledger import PayoutChanges
from treasury_app.security.audit_chain import verify
from treasury_app.services.approval_policies import ApprovalPolicies
from treasury_app.services.approvals import ApprovalRequiredError
from treasury_app.services.payout_workflow import EstimateMovedError, PayoutWorkflow
from treasury_app.services.workflow_settings import WorkflowSettings

FIELDS = PAYOUT_FIELDS
PROVIDERS = PROVIDER_NAMES
STALE = WorkflowSettings().estimate_max_age + timedelta(seconds=1)


async def estimated(workflow: PayoutWorkflow, desk: TestDesk, provider: str) -> Any:
    alice = desk.sign_in("alice")
    return await workflow.estimate(alice, workflow.compose(alice, **FIELDS[provider]).id)


def audit_actions(desk: TestDesk, payout_id: int) -> list[str]:
    return [row.action for row in desk.ledger.audit.rows_about(f"payout:{payout_id}")]


def executed_at_sandbox(sandbox: Any, provider: str) -> list[dict[str, Any]]:
    return [p for p in sandbox.payouts(provider) if p.get("executed", True)]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_fresh_estimate_is_used_as_it_is(workflow, desk, sandbox, provider):
    payout = await estimated(workflow, desk, provider)
    done = await workflow.execute(desk.sign_in("alice"), payout.id)
    assert done.status is PayoutStatus.PROCESSING
    assert "payout.estimate_refreshed" not in audit_actions(desk, payout.id)
    assert done.idempotency_key == payout.idempotency_key


async def test_a_stale_cryptomus_estimate_is_refreshed_under_the_same_key(workflow, desk, sandbox, clock):
    payout = await estimated(workflow, desk, "cryptomus")
    clock.advance(seconds=STALE.total_seconds())
    done = await workflow.execute(desk.sign_in("alice"), payout.id)
    assert done.status is PayoutStatus.PROCESSING, done.failure_reason
    assert done.idempotency_key == payout.idempotency_key
    assert done.estimated_at is not None and done.estimated_at > payout.estimated_at
    assert "payout.estimate_refreshed" in audit_actions(desk, payout.id)
    assert len(executed_at_sandbox(sandbox, "cryptomus")) == 1
    assert verify(desk.ledger).intact


async def test_a_stale_pay3_estimate_is_refreshed_under_a_fresh_key_and_the_old_order_never_runs(
        workflow, desk, sandbox, clock):
    payout = await estimated(workflow, desk, "pay3")
    clock.advance(seconds=STALE.total_seconds())
    done = await workflow.execute(desk.sign_in("alice"), payout.id)
    assert done.status is PayoutStatus.PROCESSING, done.failure_reason
    # Pay3 registers the order at estimate time and refuses a second estimate for a requestId (7001).
    assert done.idempotency_key != payout.idempotency_key
    orders = {p["idempotency_key"].replace("-", ""): p["executed"] for p in sandbox.payouts("pay3")}
    assert orders == {payout.idempotency_key: False, done.idempotency_key: True}
    assert verify(desk.ledger).intact


async def test_estimating_a_pay3_payout_again_uses_a_fresh_key(workflow, desk, sandbox):
    payout = await estimated(workflow, desk, "pay3")
    again = await workflow.estimate(desk.sign_in("alice"), payout.id)
    assert again.status is PayoutStatus.ESTIMATED
    assert again.idempotency_key != payout.idempotency_key
    assert len(sandbox.payouts("pay3")) == 2 and executed_at_sandbox(sandbox, "pay3") == []


def confirm_lower_fee(desk: TestDesk, payout: Any, factor: str) -> Any:
    """As if the person had confirmed an estimate whose fee was lower than what the provider asks now."""
    fee = payout.estimated_fee * Decimal(factor)
    return desk.ledger.payouts.record_provider_update(
        payout.id, PayoutChanges(estimated_fee=fee, estimated_total=payout.amount + fee), actor="test")


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_fee_that_moved_within_the_tolerance_does_not_stop_the_payout(workflow, desk, sandbox, clock,
                                                                              provider):
    payout = confirm_lower_fee(desk, await estimated(workflow, desk, provider), "0.97")
    clock.advance(seconds=STALE.total_seconds())
    done = await workflow.execute(desk.sign_in("alice"), payout.id)
    assert done.status is PayoutStatus.PROCESSING, done.failure_reason
    assert done.estimated_fee > payout.estimated_fee


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_fee_that_moved_beyond_the_tolerance_stops_and_asks_for_a_new_approval(workflow, desk, sandbox,
                                                                                       clock, provider):
    ApprovalPolicies(desk.ledger, clock=desk.clock).set(FIELDS[provider]["currency"], acting=desk.sign_in("root"),
                                                        approval_threshold=FIELDS[provider]["amount"])
    payout = await estimated(workflow, desk, provider)
    desk.approvals.approve(payout.id, approver="bob", password="bob password long")
    confirmed = confirm_lower_fee(desk, desk.ledger.payouts.get(payout.id), "0.5")
    clock.advance(seconds=STALE.total_seconds())
    with pytest.raises(EstimateMovedError, match="fee rose") as stopped:
        await workflow.execute(desk.sign_in("alice"), payout.id)
    assert stopped.value.payout.status is PayoutStatus.AWAITING_APPROVAL
    assert executed_at_sandbox(sandbox, provider) == []
    assert all(a.is_void for a in desk.ledger.approvals.for_payout(payout.id))
    with pytest.raises(ApprovalRequiredError):  # the old approval no longer counts
        await workflow.execute(desk.sign_in("alice"), payout.id)
    desk.approvals.approve(payout.id, approver="bob", password="bob password long")
    done = await workflow.execute(desk.sign_in("alice"), payout.id)
    assert done.status is PayoutStatus.PROCESSING
    assert done.estimated_fee > confirmed.estimated_fee
    assert len(executed_at_sandbox(sandbox, provider)) == 1
    assert verify(desk.ledger).intact


async def test_the_limits_come_from_the_ledgers_settings(ledger, providers, clock):
    ledger.settings.set("workflow.estimate_max_age_seconds", 30)
    ledger.settings.set("workflow.fee_tolerance", "0.2")
    settings = PayoutWorkflow(ledger, providers, clock).settings
    assert settings.estimate_max_age == timedelta(seconds=30)
    assert settings.fee_tolerance == Decimal("0.2")
