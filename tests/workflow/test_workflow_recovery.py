"""Start-up recovery and settling: every submitting and unknown payout is read by its key at the provider and
put in its true state; one that the provider holds nothing executed of is sent again under the same key —
exactly one provider payout per ledger payout. Against the real sandbox, for both providers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from typing import Any

import pytest
from desk_fixtures import TestDesk
from provider_fixtures import PAYOUT_FIELDS, PROVIDER_NAMES

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.security.audit_chain import verify
from treasury_app.services import audit
from treasury_app.services.payout_workflow import PayoutWorkflow
from treasury_app.services.workflow_settings import WorkflowSettings

FIELDS = PAYOUT_FIELDS
PROVIDERS = PROVIDER_NAMES


async def estimated(workflow: PayoutWorkflow, desk: TestDesk, provider: str) -> Any:
    alice = desk.sign_in("alice")
    return await workflow.estimate(alice, workflow.compose(alice, **FIELDS[provider]).id)


def executed(sandbox: Any, provider: str) -> list[dict[str, Any]]:
    return [p for p in sandbox.payouts(provider) if p.get("executed", True)]


def dead_process_id() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def claim_as(desk: TestDesk, payout: Any, holder: str) -> Any:
    """A claim committed by some process that then stopped (or still runs) before its request left."""
    return audit.audited_transition(desk.ledger, payout.id, PayoutStatus.SUBMITTING, operator="alice",
                                    action="payout.submitting", detail={"claimed_by": holder}, clock=desk.clock)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_claim_of_a_process_that_died_before_sending_is_sent_once(workflow, desk, sandbox, provider):
    payout = claim_as(desk, await estimated(workflow, desk, provider), f"{socket.gethostname()}:{dead_process_id()}")
    assert executed(sandbox, provider) == []
    (recovered,) = await workflow.recover()
    assert recovered.status is PayoutStatus.PROCESSING, recovered.failure_reason
    assert recovered.idempotency_key == payout.idempotency_key
    assert len(executed(sandbox, provider)) == 1
    actions = [row.action for row in desk.ledger.audit.rows_about(f"payout:{payout.id}")]
    assert actions[-3:] == ["payout.claim_orphaned", "payout.resending", "payout.submitted"]
    assert await workflow.recover() == []  # nothing left to recover
    assert len(executed(sandbox, provider)) == 1
    assert verify(desk.ledger).intact


async def test_a_claim_of_a_live_process_is_left_to_it_until_the_grace_period_ends(workflow, desk, sandbox, clock):
    payout = claim_as(desk, await estimated(workflow, desk, "cryptomus"), f"{socket.gethostname()}:{os.getppid()}")
    (left,) = await workflow.recover()
    assert left.status is PayoutStatus.SUBMITTING
    assert executed(sandbox, "cryptomus") == []
    clock.advance(seconds=WorkflowSettings().claim_grace.total_seconds() + 1)
    (recovered,) = await workflow.recover()
    assert recovered.status is PayoutStatus.PROCESSING
    assert len(executed(sandbox, "cryptomus")) == 1
    assert payout.idempotency_key == recovered.idempotency_key


async def test_a_claim_from_another_host_is_never_taken_over_by_its_pid_only_after_the_grace(workflow, desk,
                                                                                       sandbox, clock):
    """A team ledger's desks share claims: a pid means nothing on another computer (here the pid of a process
    that is gone), so the claim waits for the grace period as a live one does."""
    payout = claim_as(desk, await estimated(workflow, desk, "cryptomus"),
                      f"another-{socket.gethostname()}:{dead_process_id()}")
    (left,) = await workflow.recover()
    assert left.status is PayoutStatus.SUBMITTING and executed(sandbox, "cryptomus") == []
    clock.advance(seconds=WorkflowSettings().claim_grace.total_seconds() + 1)
    (recovered,) = await workflow.recover()
    assert recovered.status is PayoutStatus.PROCESSING and len(executed(sandbox, "cryptomus")) == 1
    assert payout.idempotency_key == recovered.idempotency_key


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_an_unknown_payout_the_provider_did_execute_is_followed_never_resent(workflow, desk, sandbox, provider):
    payout = await estimated(workflow, desk, provider)
    endpoint = "create" if provider == "cryptomus" else "execute"
    sandbox.add_faults(f"{provider}:{endpoint}:commit-drop")
    lost = await workflow.execute(desk.sign_in("alice"), payout.id)
    assert lost.status is PayoutStatus.UNKNOWN
    sandbox.clear_faults()
    (recovered,) = await workflow.recover()
    assert recovered.status is PayoutStatus.PROCESSING
    assert recovered.provider_payout_id
    assert len(executed(sandbox, provider)) == 1
    assert verify(desk.ledger).intact


async def test_recovery_of_an_unreachable_provider_waits_and_the_other_is_recovered(workflow, desk, sandbox):
    payouts = {}
    for provider in PROVIDERS:
        payouts[provider] = claim_as(desk, await estimated(workflow, desk, provider),
                                     f"{socket.gethostname()}:{dead_process_id()}")
    sandbox.add_faults("pay3:details:500")
    recovered = {p.provider: p for p in await workflow.recover()}
    assert recovered["cryptomus"].status is PayoutStatus.PROCESSING
    assert "pay3" not in recovered
    assert desk.ledger.payouts.get(payouts["pay3"].id).status is PayoutStatus.SUBMITTING
    assert executed(sandbox, "pay3") == []
    sandbox.clear_faults()
    (later,) = await workflow.recover()
    assert later.provider == "pay3" and later.status is PayoutStatus.PROCESSING
    assert len(executed(sandbox, "pay3")) == 1


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_settling_follows_a_payout_to_its_final_status(workflow, desk, sandbox, provider):
    payout = await estimated(workflow, desk, provider)
    sent = await workflow.execute(desk.sign_in("alice"), payout.id)
    sandbox.force_outcome(provider, sandbox.payouts(provider)[0]["idempotency_key"], "paid" if provider == "cryptomus"
                          else "COMPLETED")
    sandbox.advance(3600)
    done = await workflow.reconcile(sent.id)
    assert done.status is PayoutStatus.COMPLETED, (done.provider_status, done.failure_reason)
    assert done.finished_at is not None
    assert done.tx_hash
    again = await workflow.reconcile(sent.id)  # final: nothing more is asked or written
    assert again.version == done.version
    assert verify(desk.ledger).intact
