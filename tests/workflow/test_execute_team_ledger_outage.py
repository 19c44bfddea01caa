"""A payout executed on a team ledger whose server goes away (stopped with pg_ctl, postgres_outage.py) before
the execution, or half-way (`PayoutWorkflow`'s `checkpoint`: right after the claim committed, right after the
provider answered). Before the claim, nothing is sent and the payout can be executed again once the server is
back. After it, the request leaves once, its answer is not recorded, the payout stays `submitting` (executing it
again is refused), and recovery asks the provider by the payout's key and follows what it holds. Never a second
request."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from desk_fixtures import TestDesk
from postgres_cluster import postgres_cluster, postgres_database, postgres_ledgers_database  # noqa: F401
from postgres_outage import server_stopped
from provider_fixtures import PAYOUT_FIELDS

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.ledger import Ledger, LedgerUnavailableError, open_ledger
from treasury_app.services.payout_workflow import AlreadySentError, PayoutWorkflow


@pytest.fixture
def ledger(postgres_database, clock) -> Iterator[Ledger]:  # the conftest's desk and workflow, on the team ledger
    with open_ledger(postgres_database, clock=clock) as opened:
        yield opened


def executed(sandbox, provider: str) -> list[dict]:
    return [p for p in sandbox.payouts(provider) if p.get("executed", True)]


@pytest.mark.parametrize("step", ["before", "claimed", "answered"])
async def test_a_server_lost_during_an_execution_never_makes_a_second_request(
        step, ledger, desk: TestDesk, providers, sandbox, clock, postgres_cluster):
    outage = server_stopped(postgres_cluster)

    def checkpoint(reached: str, _payout) -> None:
        if reached == step:
            outage.__enter__()  # the server goes away right there

    workflow = PayoutWorkflow(ledger, providers, clock, checkpoint=checkpoint)
    alice = desk.sign_in("alice")
    payout = await workflow.estimate(alice, workflow.compose(alice, **PAYOUT_FIELDS["cryptomus"]).id)
    if step == "before":
        outage.__enter__()
    try:
        with pytest.raises(LedgerUnavailableError) as raised:
            await workflow.execute(alice, payout.id)
        assert "Nothing was saved" in str(raised.value)  # the step that failed wrote nothing
    finally:
        outage.__exit__(None, None, None)
    left = ledger.payouts.get(payout.id)  # the same desk, connected again by itself
    if step == "before":  # the claim could not be made: nothing left, and the payout can be executed again
        assert left.status is PayoutStatus.ESTIMATED and executed(sandbox, "cryptomus") == []
        again = await workflow.execute(alice, payout.id)
        assert again.status is PayoutStatus.PROCESSING and len(executed(sandbox, "cryptomus")) == 1
        return
    # The claim was saved before the server went, so the request left, once; its answer was not recorded.
    assert left.status is PayoutStatus.SUBMITTING and len(executed(sandbox, "cryptomus")) == 1
    with pytest.raises(AlreadySentError):  # executing it again is refused: it may have reached the provider
        await workflow.execute(alice, payout.id)
    # Recovery asks the provider by the payout's key and follows the order it holds; it sends nothing.
    (recovered,) = await workflow.recover()
    assert recovered.status is PayoutStatus.PROCESSING, recovered.failure_reason
    assert recovered.idempotency_key == payout.idempotency_key and recovered.provider_payout_id
    assert len(executed(sandbox, "cryptomus")) == 1
    assert await workflow.recover() == [] and len(executed(sandbox, "cryptomus")) == 1
