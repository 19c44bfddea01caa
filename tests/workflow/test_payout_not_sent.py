"""A first send that could not connect to the provider at all goes back to where it was claimed from, audited,
and is simply executed again; a resend (an earlier request may have been acted on) that meets the same stays
unknown. Against the real sandbox, with the providers pointed at a loopback port nobody listens on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from desk_fixtures import TestDesk, password_of
from provider_fixtures import FAST, PAYOUT_FIELDS, PROVIDER_NAMES, closed_port_url

from treasury_app.domain.errors import IllegalTransitionError
from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.providers.cryptomus import CryptomusProfile, CryptomusProvider
from treasury_app.providers.pay3 import Pay3Profile, Pay3Provider
from treasury_app.sandbox import (
    DEFAULT_CRYPTOMUS_MERCHANT,
    DEFAULT_CRYPTOMUS_PAYOUT_KEY,
    DEFAULT_PAY3_API_SECRET,
    DEFAULT_PAY3_CLIENT_ID,
)
from treasury_app.security.audit_chain import verify
from treasury_app.services import audit
from treasury_app.services.approval_policies import ApprovalPolicies
from treasury_app.services.payout_workflow import PayoutNotSentError, PayoutWorkflow

FIELDS = PAYOUT_FIELDS
PROVIDERS = PROVIDER_NAMES
EXECUTE_ENDPOINT = {"cryptomus": "create", "pay3": "execute"}


@pytest.fixture
async def unreachable_providers() -> AsyncIterator[dict[str, Any]]:
    """The same clients as the workflow's, but where nothing listens: every call is refused at connect."""
    url = closed_port_url()
    clients: dict[str, Any] = {
        "cryptomus": CryptomusProvider(CryptomusProfile(merchant=DEFAULT_CRYPTOMUS_MERCHANT, base_url=url),
                                       DEFAULT_CRYPTOMUS_PAYOUT_KEY, settings=FAST),
        "pay3": Pay3Provider(Pay3Profile(base_url=url, client_id=DEFAULT_PAY3_CLIENT_ID), DEFAULT_PAY3_API_SECRET,
                             settings=FAST),
    }
    yield clients
    for client in clients.values():
        await client.aclose()


@pytest.fixture
def unreachable(ledger, unreachable_providers, clock) -> PayoutWorkflow:
    return PayoutWorkflow(ledger, unreachable_providers, clock)


async def estimated(workflow: PayoutWorkflow, desk: TestDesk, provider: str) -> Any:
    alice = desk.sign_in("alice")
    return await workflow.estimate(alice, workflow.compose(alice, **FIELDS[provider]).id)


def executed(sandbox: Any, provider: str) -> list[dict[str, Any]]:
    return [p for p in sandbox.payouts(provider) if p.get("executed", True)]


def audit_rows(desk: TestDesk, payout_id: int) -> list[Any]:
    return desk.ledger.audit.rows_about(f"payout:{payout_id}")


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_refused_connection_puts_the_payout_back_and_the_next_execute_sends_it_once(
        workflow, unreachable, desk, sandbox, provider):
    payout = await estimated(workflow, desk, provider)
    assert payout.status is PayoutStatus.ESTIMATED  # no approval needed: claimed straight from estimated
    with pytest.raises(PayoutNotSentError) as caught:
        await unreachable.execute(desk.sign_in("alice"), payout.id)
    back = caught.value.payout
    assert back.status is PayoutStatus.ESTIMATED
    assert back.submitted_at is None and back.failure_reason is None
    assert back.idempotency_key == payout.idempotency_key
    assert "could not connect" in str(caught.value) and "nothing was paid" in str(caught.value)

    *_, claim, returned = desk.ledger.payouts.events(payout.id)
    assert (claim.from_status, claim.to_status) == (PayoutStatus.ESTIMATED, PayoutStatus.SUBMITTING)
    assert (returned.from_status, returned.to_status) == (PayoutStatus.SUBMITTING, PayoutStatus.ESTIMATED)
    assert "could not connect" in returned.detail["reason"]
    row = audit_rows(desk, payout.id)[-1]
    assert row.action == "payout.not_sent"
    assert (row.detail["from"], row.detail["to"]) == ("submitting", "estimated")
    assert "could not connect" in row.detail["reason"]
    assert executed(sandbox, provider) == []

    sent = await workflow.execute(desk.sign_in("alice"), payout.id)
    assert sent.status is PayoutStatus.PROCESSING
    assert [p["idempotency_key"] for p in executed(sandbox, provider)] == [payout.idempotency_key]
    assert verify(desk.ledger).intact


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_an_approved_payout_goes_back_to_approved_and_its_approval_still_holds(
        workflow, unreachable, desk, sandbox, provider):
    ApprovalPolicies(desk.ledger, clock=desk.clock).set(FIELDS[provider]["currency"], acting=desk.sign_in("root"),
                                                        approval_threshold=FIELDS[provider]["amount"])
    payout = await estimated(workflow, desk, provider)
    approval = desk.approvals.approve(payout.id, approver="bob", password=password_of("bob"))
    with pytest.raises(PayoutNotSentError) as caught:
        await unreachable.execute(desk.sign_in("alice"), payout.id)
    assert caught.value.payout.status is PayoutStatus.APPROVED
    clearance = desk.approvals.ensure_executable(payout.id)
    assert clearance.approval_id == approval.id  # the same approval: nothing it binds to changed

    sent = await workflow.execute(desk.sign_in("alice"), payout.id)
    assert sent.status is PayoutStatus.PROCESSING
    assert len(executed(sandbox, provider)) == 1
    claims = [r for r in audit_rows(desk, payout.id) if r.action == "payout.submitting"]
    assert [r.detail["approval_id"] for r in claims] == [approval.id, approval.id]
    assert verify(desk.ledger).intact


async def test_a_pay3_payout_not_sent_can_still_take_a_fresh_estimate_and_key_when_it_went_stale(
        workflow, unreachable, desk, sandbox, clock):
    payout = await estimated(workflow, desk, "pay3")
    with pytest.raises(PayoutNotSentError):
        await unreachable.execute(desk.sign_in("alice"), payout.id)
    clock.advance(seconds=workflow.settings.estimate_max_age.total_seconds() + 60)
    # Pay3's fresh estimate needs a fresh requestId: allowed, because no request of this payout ever left.
    sent = await workflow.execute(desk.sign_in("alice"), payout.id)
    assert sent.status is PayoutStatus.PROCESSING
    assert sent.idempotency_key != payout.idempotency_key
    assert [p["idempotency_key"] for p in executed(sandbox, "pay3")] == [sent.idempotency_key]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_resend_of_an_unknown_payout_that_cannot_connect_stays_unknown(
        workflow, unreachable, desk, sandbox, provider):
    payout = await estimated(workflow, desk, provider)
    sandbox.add_faults(f"{provider}:{EXECUTE_ENDPOINT[provider]}:500")
    unknown = await workflow.execute(desk.sign_in("alice"), payout.id)
    assert unknown.status is PayoutStatus.UNKNOWN
    sandbox.clear_faults()

    # The provider was seen to hold nothing executed; the resend under the same key then cannot connect.
    still = await unreachable.settle(unknown, None)
    assert still.status is PayoutStatus.UNKNOWN, still.status
    assert "could not connect" in (still.failure_reason or "")
    assert [r.action for r in audit_rows(desk, payout.id)][-2:] == ["payout.resending", "payout.outcome_unknown"]

    reconciled = await workflow.reconcile(payout.id)
    assert reconciled.status is PayoutStatus.PROCESSING
    assert len(executed(sandbox, provider)) == 1
    assert verify(desk.ledger).intact


async def test_an_orphaned_claim_resent_without_a_connection_stays_unknown(unreachable, workflow, desk, sandbox,
                                                                             clock):
    payout = await estimated(workflow, desk, "cryptomus")
    audit.audited_transition(desk.ledger, payout.id, PayoutStatus.SUBMITTING, operator="alice",
                             action="payout.submitting", detail={"claimed_by": "elsewhere:1"}, clock=desk.clock)
    clock.advance(seconds=workflow.settings.claim_grace.total_seconds() + 1)
    still = await unreachable.settle(desk.ledger.payouts.get(payout.id), None)
    assert still.status is PayoutStatus.UNKNOWN  # the app that held the claim may have sent it
    assert executed(sandbox, "cryptomus") == []


async def test_the_ledger_never_puts_back_a_claim_taken_from_unknown(workflow, desk, sandbox):
    payout = await estimated(workflow, desk, "cryptomus")
    sandbox.add_faults("cryptomus:create:500")
    unknown = await workflow.execute(desk.sign_in("alice"), payout.id)
    resending = audit.audited_transition(desk.ledger, payout.id, PayoutStatus.SUBMITTING, operator="reconciler",
                                         action="payout.resending", expected_version=unknown.version,
                                         clock=desk.clock)
    with pytest.raises(IllegalTransitionError, match="claimed from 'unknown'"):
        desk.ledger.payouts.return_unsent(payout.id, actor="alice", expected_version=resending.version)
    assert desk.ledger.payouts.get(payout.id).status is PayoutStatus.SUBMITTING


async def test_the_ledger_puts_back_only_a_submitting_payout(workflow, desk):
    payout = await estimated(workflow, desk, "cryptomus")
    with pytest.raises(IllegalTransitionError):
        desk.ledger.payouts.return_unsent(payout.id, actor="alice", expected_version=payout.version)
    assert desk.ledger.payouts.get(payout.id).status is PayoutStatus.ESTIMATED

