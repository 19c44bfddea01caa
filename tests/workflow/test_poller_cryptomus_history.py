"""The poller reads Cryptomus payouts through one walk of its payout list per round, back to when the round's
payouts were sent; a payout the walk does not reach is asked by itself and settled all the same."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
from poll_fixtures import in_flight, request_for, sent_at_provider
from provider_fixtures import FAST, RecordingTransport

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.domain.payout_request import new_idempotency_key
from treasury_app.ledger import ImportedPayout
from treasury_app.providers.cryptomus import CryptomusProfile, CryptomusProvider
from treasury_app.sandbox import DEFAULT_CRYPTOMUS_MERCHANT, DEFAULT_CRYPTOMUS_PAYOUT_KEY
from treasury_app.services.poller import Poller

LIST, INFO = "/v1/payout/list", "/v1/payout/info"


@pytest.fixture
def recorder() -> RecordingTransport:
    return RecordingTransport()


@pytest.fixture
async def providers(sandbox, recorder) -> AsyncIterator[dict[str, Any]]:
    """Only Cryptomus, its requests recorded."""
    client = CryptomusProvider(CryptomusProfile(merchant=DEFAULT_CRYPTOMUS_MERCHANT, base_url=sandbox.base_url),
                               DEFAULT_CRYPTOMUS_PAYOUT_KEY, settings=FAST, transport=recorder)
    yield {"cryptomus": client}
    await client.aclose()


@pytest.fixture
def poller(ledger, providers, workflow, clock) -> Poller:
    return Poller(ledger, providers, workflow, clock=clock, rng=random.Random(11))


async def test_a_round_reads_all_open_cryptomus_payouts_in_one_walk_of_the_history(poller, ledger, providers,
                                                                                   clock, recorder):
    payouts = await in_flight(ledger, providers, "cryptomus", 300, clock())
    recorder.requests.clear()

    report = await poller.refresh_once()

    assert (report.polled, report.requests, report.problems) == (300, 1, ())
    assert recorder.paths() == [LIST] * 20  # 300 payouts, 15 a page; none asked by itself
    assert all(ledger.payouts.get(p.id).next_poll_at is not None for p in payouts)


async def test_the_walk_goes_back_to_the_rounds_earliest_send_less_six_hours(poller, ledger, providers, clock,
                                                                            recorder):
    (first,) = await in_flight(ledger, providers, "cryptomus", 1, clock())
    clock.advance(minutes=30)
    await in_flight(ledger, providers, "cryptomus", 5, clock())
    recorder.requests.clear()

    await poller.refresh_once()

    # The first was sent at 09:00 UTC on 1 March 2026: the list from 03:00 UTC, which is 06:00 in Moscow.
    assert f"{first.submitted_at:%Y-%m-%d %H:%M}" == "2026-03-01 09:00"
    assert [json.loads(r.content) for r in recorder.requests] == [{"date_from": "2026-03-01 06:00:00"}]


async def test_a_payout_below_the_pages_the_walk_reads_is_asked_by_itself_and_settled(
        poller, ledger, providers, sandbox, clock, recorder):
    cryptomus = providers["cryptomus"]
    (deep,) = await in_flight(ledger, providers, "cryptomus", 1, clock())
    for _ in range(40):  # another desk's payouts, which this ledger does not follow
        await sent_at_provider(cryptomus, request_for("cryptomus"), new_idempotency_key())
    recent = await in_flight(ledger, providers, "cryptomus", 8, clock())
    sandbox.force_outcome("cryptomus", deep.idempotency_key, "paid")
    sandbox.advance(3600)
    recorder.requests.clear()

    report = await poller.refresh_once()

    # 9 payouts fill one page, and two spare: three pages of 15, and "deep" is on the fourth.
    assert recorder.paths() == [LIST] * 3 + [INFO]
    assert json.loads(recorder.requests[-1].content) == {"order_id": deep.idempotency_key}
    assert (report.polled, report.requests, report.problems) == (9, 1, ())
    assert ledger.payouts.get(deep.id).status is PayoutStatus.COMPLETED
    assert all(ledger.payouts.get(p.id).status.is_final for p in recent)


async def test_recovery_reads_the_history_back_to_when_its_unknown_payouts_were_sent(poller, ledger, providers,
                                                                                   clock, recorder):
    request, keys = request_for("cryptomus"), [new_idempotency_key() for _ in range(5)]
    for key in keys:
        await sent_at_provider(providers["cryptomus"], request, key)
    ledger.payouts.import_payouts([ImportedPayout(request=request, idempotency_key=key, status=PayoutStatus.UNKNOWN,
                                                  created_at=clock(), created_by="alice") for key in keys],
                                  actor="alice")
    recorder.requests.clear()

    report = await poller.recover()

    assert report.polled == 5 and {c.after.status for c in report.changes} == {PayoutStatus.PROCESSING}
    assert [json.loads(r.content) for r in recorder.requests] == [{"date_from": "2026-03-01 06:00:00"}]
