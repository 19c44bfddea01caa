"""The payout workflow against the real sandbox over loopback, for both providers: compose, estimate,
execute once and only once, unknown (never failed) when the answer is lost, approval before execution."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from commit_trace import commits_of
from desk_fixtures import TestDesk
from provider_fixtures import PAYOUT_FIELDS, PROVIDER_NAMES

from treasury_app.domain.errors import InvalidFieldError
from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.domain.payout_request import FeeMode
from treasury_app.domain.provider_capabilities import UnsupportedChoiceError
from treasury_app.ledger import StaleRecordError
from treasury_app.security.audit_chain import verify
from treasury_app.services.approval_policies import ApprovalPolicies
from treasury_app.services.approvals import ApprovalRequiredError, NotExecutableError
from treasury_app.services.payout_workflow import (
    AlreadySentError,
    PayoutWorkflow,
    request_of,
)

FIELDS = PAYOUT_FIELDS
PROVIDERS = PROVIDER_NAMES


async def estimated(workflow: PayoutWorkflow, desk: TestDesk, provider: str, **overrides: Any) -> Any:
    alice = desk.sign_in("alice")
    payout = workflow.compose(alice, **{**FIELDS[provider], **overrides})
    return await workflow.estimate(alice, payout.id)


def assert_audit_chain_intact(desk: TestDesk) -> None:
    report = verify(desk.ledger)
    assert report.intact, report.problems


async def test_compose_validates_and_records_a_draft_with_a_key(workflow, desk):
    alice = desk.sign_in("alice")
    payout = workflow.compose(alice, **FIELDS["cryptomus"])
    assert payout.status is PayoutStatus.DRAFT
    assert len(payout.idempotency_key) == 32
    assert payout.created_by == "alice"
    with pytest.raises(InvalidFieldError, match="address"):
        workflow.compose(alice, **{**FIELDS["cryptomus"], "address": "not-an-address"})


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_estimate_stores_the_providers_figures(workflow, desk, provider):
    payout = await estimated(workflow, desk, provider)
    assert payout.status is PayoutStatus.ESTIMATED
    assert payout.estimated_fee is not None and payout.estimated_net is not None
    assert payout.estimated_total is not None and payout.estimated_at is not None


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_happy_path_reaches_processing_and_a_second_execute_sends_nothing(workflow, desk, sandbox, provider):
    payout = await estimated(workflow, desk, provider)
    alice = desk.sign_in("alice")
    done = await workflow.execute(alice, payout.id)
    assert done.status is PayoutStatus.PROCESSING, done.failure_reason
    assert done.provider_status and done.submitted_at is not None
    assert len(sandbox.payouts(provider)) == 1
    with pytest.raises(AlreadySentError):
        await workflow.execute(alice, payout.id)
    assert len(sandbox.payouts(provider)) == 1
    assert_audit_chain_intact(desk)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_two_executes_at_the_same_moment_send_one_request(workflow, desk, sandbox, provider):
    payout = await estimated(workflow, desk, provider)
    alice = desk.sign_in("alice")
    results = await asyncio.gather(workflow.execute(alice, payout.id), workflow.execute(alice, payout.id),
                                   return_exceptions=True)
    refused = [r for r in results if isinstance(r, (AlreadySentError, NotExecutableError, StaleRecordError))]
    done = [r for r in results if not isinstance(r, BaseException)]
    assert len(refused) == 1 and len(done) == 1, results
    assert done[0].status is PayoutStatus.PROCESSING
    assert len(sandbox.payouts(provider)) == 1


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_lost_claim_sends_nothing(workflow, desk, sandbox, provider, monkeypatch):
    """Another window claims the payout between the check and the claim: the compare-and-set refuses."""
    payout = await estimated(workflow, desk, provider)
    approvals = workflow._approvals
    real_check = approvals.ensure_executable

    def check_then_lose_the_race(payout_id: int) -> Any:
        clearance = real_check(payout_id)
        desk.finish(desk.ledger.payouts.get(payout_id), PayoutStatus.SUBMITTING)  # the other window's claim
        return clearance

    monkeypatch.setattr(approvals, "ensure_executable", check_then_lose_the_race)
    with pytest.raises(StaleRecordError):
        await workflow.execute(desk.sign_in("alice"), payout.id)
    assert len([p for p in sandbox.payouts(provider) if p.get("executed", True)]) == 0


async def test_commit_then_drop_on_cryptomus_create_is_unknown_with_one_payout(workflow, desk, sandbox):
    payout = await estimated(workflow, desk, "cryptomus")
    sandbox.add_faults("cryptomus:create:commit-drop")
    done = await workflow.execute(desk.sign_in("alice"), payout.id)
    assert done.status is PayoutStatus.UNKNOWN
    assert done.failure_reason
    assert len(sandbox.payouts("cryptomus")) == 1
    sandbox.clear_faults()
    reconciled = await workflow.reconcile(payout.id)
    assert reconciled.status is PayoutStatus.PROCESSING
    assert len(sandbox.payouts("cryptomus")) == 1
    assert_audit_chain_intact(desk)


async def test_commit_then_drop_on_pay3_execute_is_unknown_and_reconciled(workflow, desk, sandbox):
    payout = await estimated(workflow, desk, "pay3")
    sandbox.add_faults("pay3:execute:commit-drop")
    done = await workflow.execute(desk.sign_in("alice"), payout.id)
    assert done.status is PayoutStatus.UNKNOWN
    assert [p["executed"] for p in sandbox.payouts("pay3")] == [True]
    sandbox.clear_faults()
    assert (await workflow.reconcile(payout.id)).status is PayoutStatus.PROCESSING
    assert_audit_chain_intact(desk)


async def test_a_500_on_pay3_execute_is_unknown_never_failed_and_resent_once_reconciled(workflow, desk, sandbox):
    payout = await estimated(workflow, desk, "pay3")
    sandbox.add_faults("pay3:execute:500")
    done = await workflow.execute(desk.sign_in("alice"), payout.id)
    assert done.status is PayoutStatus.UNKNOWN  # a 500 may follow a request that was acted on
    assert done.failure_reason
    assert [p["executed"] for p in sandbox.payouts("pay3")] == [False]
    sandbox.clear_faults()
    # Reconciliation reads the order first: registered, never executed. Only then is it sent again, same key.
    after = await workflow.reconcile(payout.id)
    assert after.status is PayoutStatus.PROCESSING, after.failure_reason
    assert after.idempotency_key == payout.idempotency_key
    assert [p["executed"] for p in sandbox.payouts("pay3")] == [True]
    actions = [row.action for row in desk.ledger.audit.rows_about(f"payout:{payout.id}")]
    assert actions[-3:] == ["payout.outcome_unknown", "payout.resending", "payout.submitted"]
    assert_audit_chain_intact(desk)


async def test_a_definite_refusal_is_failed(workflow, desk, sandbox):
    """Pay3 refuses a second execute of an order already executed: nothing new is created."""
    payout = await estimated(workflow, desk, "pay3")
    alice = desk.sign_in("alice")
    # Execute the order at the provider behind the ledger's back, so our execute meets a refusal.
    provider = workflow._providers["pay3"]
    await provider.submit(request_of(payout), payout.idempotency_key, payout.estimate_data)
    done = await workflow.execute(alice, payout.id)
    assert done.status is PayoutStatus.FAILED
    assert "already executed" in (done.failure_reason or "")
    assert len(sandbox.payouts("pay3")) == 1


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_payout_needing_approval_cannot_be_executed_without_one(workflow, desk, sandbox, provider):
    currency = FIELDS[provider]["currency"]
    ApprovalPolicies(desk.ledger, clock=desk.clock).set(currency, acting=desk.sign_in("root"),
                                                        approval_threshold=FIELDS[provider]["amount"])
    payout = await estimated(workflow, desk, provider)
    assert payout.status is PayoutStatus.AWAITING_APPROVAL
    with pytest.raises(ApprovalRequiredError):
        await workflow.execute(desk.sign_in("alice"), payout.id)
    assert [p for p in sandbox.payouts(provider) if p.get("executed", True)] == []
    desk.approvals.approve(payout.id, approver="bob", password="bob password long")
    done = await workflow.execute(desk.sign_in("alice"), payout.id)
    assert done.status is PayoutStatus.PROCESSING
    assert len(sandbox.payouts(provider)) == 1
    assert_audit_chain_intact(desk)


async def test_execute_inside_a_ledger_transaction_is_refused_and_sends_nothing(workflow, desk, sandbox):
    payout = await estimated(workflow, desk, "cryptomus")
    with desk.ledger.transaction():
        with pytest.raises(RuntimeError, match="inside a ledger transaction"):
            await workflow.execute(desk.sign_in("alice"), payout.id)
    assert sandbox.payouts("cryptomus") == []
    assert desk.ledger.payouts.get(payout.id).status is PayoutStatus.ESTIMATED


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_the_claim_is_fsynced_and_the_providers_answer_is_not(workflow, desk, sandbox, provider):
    payout = await estimated(workflow, desk, provider)
    with commits_of(desk.ledger) as commits:
        await workflow.execute(desk.sign_in("alice"), payout.id)

    def commits_recording(action: str) -> list[str]:
        return [level for level, sql in commits if any("INSERT INTO audit_log" in s and f"'{action}'" in s
                                                        for s in sql)]

    claims, answers = commits_recording("payout.submitting"), commits_recording("payout.submitted")
    assert claims == ["FULL"]  # the key is on disk before the request leaves
    assert answers == ["NORMAL"]  # what the provider said can be asked again by the key


async def test_an_unknown_payout_is_never_cleared_for_execution_only_reconciled(workflow, desk, sandbox):
    payout = await estimated(workflow, desk, "pay3")
    sandbox.add_faults("pay3:execute:500")
    unknown = await workflow.execute(desk.sign_in("alice"), payout.id)
    assert unknown.status is PayoutStatus.UNKNOWN
    # Even read at the last moment (as execute's final check does), unknown is refused: another window's
    # execute that lost its answer between our first read and that check cannot be resent blind.
    with pytest.raises(NotExecutableError, match="may have been sent already"):
        desk.approvals.ensure_executable(payout.id)
    assert [p["executed"] for p in sandbox.payouts("pay3")] == [False]


async def test_a_pay3_payout_composed_without_a_fee_mode_takes_pay3_s_and_is_estimated(workflow, desk, sandbox):
    payout = await estimated(workflow, desk, "pay3", fee_mode=None)  # as a form or command leaves it out
    assert (payout.status, payout.fee_mode) == (PayoutStatus.ESTIMATED, FeeMode.FROM_AMOUNT)
    assert payout.estimated_total == payout.amount  # the fee came out of the amount


async def test_a_choice_the_provider_refuses_is_refused_at_compose_and_nothing_is_recorded(workflow, desk):
    with pytest.raises(UnsupportedChoiceError) as refused:
        workflow.compose(desk.sign_in("alice"), **{**FIELDS["pay3"], "fee_mode": "from_balance"})
    assert (refused.value.field, refused.value.allowed) == ("fee_mode", ("from_amount",))
    assert desk.ledger.payouts.count() == 0
