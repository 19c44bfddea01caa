"""A real process whose provider cannot be connected to at all: nothing is sent, the payout is back where it
was (approved), recovery in another process leaves it alone, and the next execute sends it exactly once."""

from __future__ import annotations


import pytest
from provider_fixtures import closed_port_url
from reliability_fixtures import PROVIDERS, approved_payout, executed, only_executed

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.security.audit_chain import verify
from treasury_app.services.payout_workflow import PayoutWorkflow

BACKENDS = ("sqlite", "postgresql")


@pytest.mark.team_ledger_provider("pay3")
async def test_a_process_that_cannot_connect_sends_nothing_and_the_next_execute_sends_once(
        provider, tmp_path, sandbox, desk, providers, drivers, desk_hosts):
    payout = await approved_payout(PayoutWorkflow(desk.ledger, providers, desk.clock), desk, provider)
    refused = drivers(tmp_path / "unreachable", "execute", payout.id, sandbox_url=closed_port_url(),
                      retry_backoff=0.01, host=desk_hosts.a).result()
    assert (refused["outcome"], refused["error"]) == ("refused", "PayoutNotSentError"), refused
    assert refused["record"]["status"] == "approved"
    assert "could not connect" in refused["message"]
    assert executed(sandbox, provider) == []

    recovered = drivers(tmp_path / "recover", "recover", host=desk_hosts.b).result()
    assert recovered["recovered"] == [] and recovered["reconciled"] == []  # an approved payout is not in flight

    sent = drivers(tmp_path / "execute", "execute", payout.id, host=desk_hosts.b).result()
    assert sent["outcome"] == "sent" and sent["record"]["status"] == "processing", sent
    after = desk.ledger.payouts.get(payout.id)
    assert after.status is PayoutStatus.PROCESSING
    only_executed(sandbox, after)
    assert verify(desk.ledger).intact
