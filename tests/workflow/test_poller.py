"""The poller against the real sandbox over loopback: payouts followed through rounds to their final status,
back-off per payout, bounded requests per provider, batched Cryptomus reads, 429s and outages kept to their
provider, and change notifications that a failing listener cannot stop."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from commit_trace import commits_of
from desk_fixtures import START
from poll_fixtures import FIELDS, PAID, PROVIDERS, InFlightTransport, SandboxRequests, in_flight, of_provider
from provider_fixtures import FAST, Sandbox

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.ledger.timestamps import utc_now
from treasury_app.providers.cryptomus import CryptomusProfile, CryptomusProvider
from treasury_app.providers.http_transport import HttpSettings
from treasury_app.providers.pay3 import Pay3Profile, Pay3Provider
from treasury_app.sandbox import (
    DEFAULT_CRYPTOMUS_MERCHANT,
    DEFAULT_CRYPTOMUS_PAYOUT_KEY,
    DEFAULT_PAY3_API_SECRET,
    DEFAULT_PAY3_CLIENT_ID,
    ManualClock,
    SandboxConfig,
    start_in_background,
)
from treasury_app.services.poller import Backoff, PayoutChange, Poller, PollerSettings

# Where each provider's API lives at the sandbox (both on one port).
PATHS = {"cryptomus": "/v1/payout", "pay3": "/v1/client"}


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """The workflow tests' sandbox (its clock where the desk's starts), with its access log on: the tests count
    what it served."""
    clock = ManualClock(START.timestamp())
    running = start_in_background(SandboxConfig(port=0), clock=clock, access_log=True)
    box = Sandbox(running, clock, httpx.Client(base_url=running.base_url, timeout=10))
    yield box
    box.control.close()
    running.stop()


@pytest.fixture
def served() -> Iterator[SandboxRequests]:
    with SandboxRequests.attached() as counter:
        yield counter


@pytest.fixture
def poller(ledger, providers, workflow, clock) -> Poller:
    return Poller(ledger, providers, workflow, clock=clock, rng=random.Random(7))


def provider_paths(served: SandboxRequests, provider: str) -> int:
    return served.count(PATHS[provider])


async def test_each_providers_requests_are_told_apart_at_the_sandbox(ledger, providers, clock, served):
    """The counting below relies on it."""
    await in_flight(ledger, providers, "pay3", 1, clock())
    assert provider_paths(served, "cryptomus") == 0 and provider_paths(served, "pay3") >= 2


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_a_payout_is_followed_through_rounds_until_completed_and_then_left_alone(
        poller, ledger, providers, sandbox, clock, provider):
    (payout,) = await in_flight(ledger, providers, provider, 1, clock())
    sandbox.force_outcome(provider, payout.idempotency_key, PAID[provider])

    first = await poller.refresh_once()
    assert (first.polled, first.requests, first.problems, first.open_payouts) == (1, 1, (), 1)
    assert ledger.payouts.get(payout.id).status is PayoutStatus.PROCESSING

    sandbox.advance(3600)
    second = await poller.refresh_once()
    (change,) = second.changes
    assert (change.payout_id, change.before, change.after.status) == (payout.id, PayoutStatus.PROCESSING,
                                                                      PayoutStatus.COMPLETED)
    assert change.after.tx_hash and second.open_payouts == 0
    done = ledger.payouts.get(payout.id)
    assert done.status is PayoutStatus.COMPLETED and done.next_poll_at is None

    third = await poller.refresh_once()
    assert (third.polled, third.requests, third.changes) == (0, 0, ())


async def test_back_off_grows_while_a_payout_is_unchanged_jittered_within_bounds(poller, ledger, providers, clock,
                                                                                 sandbox):
    (payout,) = await in_flight(ledger, providers, "cryptomus", 1, clock())
    backoff = Backoff()
    gaps: list[timedelta] = []
    report = await poller.refresh_once()  # the first ask; then each round comes when the payout is due
    timeline = ledger.payouts.events(payout.id)  # with what the first answer added (the provider's payout id)
    for _ in range(12):
        assert report.polled == 1 and report.changes == ()
        stored = ledger.payouts.get(payout.id)
        asked_at = report.started_at
        nominal = min(max(asked_at - stored.updated_at, backoff.fastest), backoff.slowest)
        gap = stored.next_poll_at - asked_at
        slack = timedelta(milliseconds=20)  # the test clock moves a millisecond per reading
        assert nominal * 0.8 - slack <= gap <= nominal * 1.2 + slack, (nominal, gap)
        gaps.append(gap)
        clock.now = stored.next_poll_at
        report = await poller.refresh_once(due_only=True)
    assert gaps[0] < timedelta(seconds=6.1)
    assert gaps[5] > gaps[0] * 4  # roughly doubling
    assert gaps[-1] >= backoff.slowest * 0.8  # reached the slowest pace
    assert len({round(g.total_seconds(), 3) for g in gaps}) == len(gaps)  # jittered: no two alike
    # Asking again wrote nothing to the timeline (the provider said nothing new).
    assert ledger.payouts.events(payout.id) == timeline

    # A change (the provider moves to its "check" step) brings the fast pace back.
    sandbox.advance(30)
    clock.now = ledger.payouts.get(payout.id).next_poll_at
    changed = await poller.refresh_once(due_only=True)
    assert [c.after.provider_status for c in changed.changes] == ["check"]
    stored = ledger.payouts.get(payout.id)
    assert stored.next_poll_at - clock.now <= backoff.fastest * 1.2 + timedelta(milliseconds=5)


async def test_a_payout_not_due_is_not_asked_and_a_fresh_one_waits_its_first_turn(poller, ledger, providers, clock,
                                                                                  served):
    (payout,) = await in_flight(ledger, providers, "cryptomus", 1, clock())
    served.clear()
    report = await poller.refresh_once(due_only=True)
    assert (report.polled, report.requests) == (0, 0)
    assert provider_paths(served, "cryptomus") == 0
    first = ledger.payouts.get(payout.id).next_poll_at
    assert payout.updated_at + timedelta(seconds=4) <= first <= payout.updated_at + timedelta(seconds=6)
    assert (await poller.refresh_once(due_only=True)).polled == 0  # still not due
    clock.now = first
    assert (await poller.refresh_once(due_only=True)).polled == 1


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_requests_in_flight_per_provider_never_exceed_the_bound(ledger, workflow, sandbox, clock, provider):
    """The client would allow 16 reads at once; the poller's bound of 3 is what holds (one key per call here,
    so a call is a request)."""
    transport = InFlightTransport()
    wide = HttpSettings(**{**FAST.__dict__, "max_concurrent_reads": 16, "max_connections": 32})
    clients: dict[str, Any] = {
        "cryptomus": CryptomusProvider(CryptomusProfile(merchant=DEFAULT_CRYPTOMUS_MERCHANT,
                                                        base_url=sandbox.base_url),
                                       DEFAULT_CRYPTOMUS_PAYOUT_KEY, settings=wide, transport=transport),
        "pay3": Pay3Provider(Pay3Profile(base_url=sandbox.base_url, client_id=DEFAULT_PAY3_CLIENT_ID),
                             DEFAULT_PAY3_API_SECRET, settings=wide, transport=transport),
    }
    try:
        await in_flight(ledger, clients, provider, 20, clock())
        sandbox.add_faults(f"{provider}:any:latency=0.05")  # answers overlap for sure
        transport.peak = transport.sent = 0
        poller = Poller(ledger, clients, workflow, clock=clock,
                        settings=PollerSettings(max_in_flight=3, keys_per_fetch={}))
        report = await poller.refresh_once()
        assert report.polled == 20 and report.requests == 20 and report.problems == ()
        assert transport.sent >= 20
        assert transport.peak == 3
    finally:
        for client in clients.values():
            await client.aclose()


async def test_cryptomus_reads_are_batched_through_its_payout_list(poller, ledger, providers, clock, served):
    payouts = await in_flight(ledger, providers, "cryptomus", 30, clock())
    served.clear()
    report = await poller.refresh_once()
    assert report.polled == 30 and report.requests == 1 and report.problems == ()
    asked = provider_paths(served, "cryptomus")
    assert asked == served.count("/v1/payout/list") == 2  # 30 payouts, 15 per page: two pages, no single reads
    assert all(ledger.payouts.get(p.id).next_poll_at is not None for p in payouts)


async def test_a_round_whose_answers_change_nothing_commits_only_the_back_off(poller, ledger, providers, clock):
    for provider in PROVIDERS:
        await in_flight(ledger, providers, provider, 30, clock())
    await poller.refresh_once()  # records whatever the answers add to what was imported
    with commits_of(ledger) as commits:
        report = await poller.refresh_once()
    assert report.polled == 60 and report.changes == ()
    # One transaction of back-off rows per provider (30 rows each), and not one per payout answered.
    assert len(commits) == 2
    assert all(sql.startswith("UPDATE payouts SET next_poll_at") for _, statements in commits for sql in statements)


async def test_a_429_from_pay3_pauses_pay3_only(poller, ledger, providers, sandbox, clock, served):
    cryptomus = await in_flight(ledger, providers, "cryptomus", 3, clock())
    pay3 = await in_flight(ledger, providers, "pay3", 8, clock())
    sandbox.add_faults("pay3:details:429=120")
    sandbox.advance(3600)
    served.clear()

    report = await poller.refresh_once()
    started = report.started_at
    assert any(line.startswith("pay3: rate limited") for line in report.problems), report.problems
    assert not any(line.startswith("cryptomus") for line in report.problems)
    # Every Cryptomus payout was asked and is final; Pay3 got no more than the calls already in flight.
    assert all(ledger.payouts.get(p.id).status.is_final for p in cryptomus)
    assert provider_paths(served, "pay3") <= poller.settings.max_in_flight + 1  # + a token request
    for payout in pay3:
        stored = ledger.payouts.get(payout.id)
        assert stored.status is PayoutStatus.PROCESSING and stored.poll_failures == 0  # paused, not failed
        assert stored.next_poll_at >= started + timedelta(seconds=120)

    served.clear()
    again = await poller.refresh_once()
    assert provider_paths(served, "pay3") == 0  # still paused: not one request
    assert any("not asked until" in line for line in again.problems)

    sandbox.clear_faults()
    clock.advance(seconds=121)
    after = await poller.refresh_once()
    assert after.problems == () and after.open_payouts == 0
    assert all(ledger.payouts.get(p.id).status.is_final for p in pay3)


async def test_an_unreachable_provider_backs_off_its_payouts_and_leaves_the_other_polled(
        poller, ledger, providers, sandbox, clock, served):
    pay3 = await in_flight(ledger, providers, "pay3", 12, clock())
    cryptomus = await in_flight(ledger, providers, "cryptomus", 3, clock())
    sandbox.add_faults("pay3:details:500")
    sandbox.advance(3600)
    served.clear()

    report = await poller.refresh_once()
    assert any(line.startswith("pay3: unreachable") for line in report.problems), report.problems
    assert all(ledger.payouts.get(p.id).status.is_final for p in cryptomus)
    # Not asked again and again this round: the calls in flight when it failed, each tried three times.
    assert provider_paths(served, "pay3") <= poller.settings.max_in_flight * FAST.max_attempts
    now = report.finished_at
    first_waits = []
    for payout in pay3:
        stored = ledger.payouts.get(payout.id)
        assert stored.status is PayoutStatus.PROCESSING and stored.poll_failures == 1
        first_waits.append(stored.next_poll_at - now)
    assert all(timedelta(seconds=7) <= wait <= timedelta(seconds=12.1) for wait in first_waits)  # 10 s ± 20 %

    clock.advance(seconds=15)
    await poller.refresh_once(due_only=True)
    assert {ledger.payouts.get(p.id).poll_failures for p in pay3} == {2}

    sandbox.clear_faults()
    clock.advance(seconds=60)
    recovered = await poller.refresh_once(due_only=True)
    assert recovered.problems == () and recovered.open_payouts == 0
    assert {ledger.payouts.get(p.id).poll_failures for p in pay3} == {0}


async def test_listeners_get_every_change_and_a_raising_listener_is_survived(poller, ledger, providers, sandbox,
                                                                            clock, caplog):
    payouts = [*await in_flight(ledger, providers, "cryptomus", 2, clock()),
               *await in_flight(ledger, providers, "pay3", 2, clock())]
    heard: list[PayoutChange] = []

    def broken(change: PayoutChange) -> None:
        raise RuntimeError("a window that was closed")

    poller.subscribe(broken)
    unsubscribe = poller.subscribe(heard.append)
    sandbox.advance(3600)
    report = await poller.refresh_once()

    assert sorted(c.payout_id for c in heard) == sorted(p.id for p in payouts)
    assert tuple(heard) == report.changes
    assert all(c.before is PayoutStatus.PROCESSING and c.after.status.is_final for c in heard)
    assert report.open_payouts == 0
    assert "a listener of payout changes failed" in caplog.text

    unsubscribe()
    unsubscribe()  # twice is harmless
    more = await in_flight(ledger, providers, "pay3", 1, clock())
    sandbox.advance(3600)
    assert len((await poller.refresh_once()).changes) == 1
    assert len(heard) == 4 and more


async def test_run_until_all_final_returns_once_nothing_is_in_flight(poller, ledger, providers, sandbox, clock):
    an_hour_ago = clock() - timedelta(hours=1)  # sent before this start: due at once
    await in_flight(ledger, providers, "cryptomus", 2, an_hour_ago)
    await in_flight(ledger, providers, "pay3", 2, an_hour_ago)
    sandbox.advance(3600)
    await asyncio.wait_for(poller.run(until_all_final=True), timeout=20)
    assert all(p.status.is_final for provider in PROVIDERS for p in of_provider(ledger, provider))


async def test_run_follows_a_payout_round_after_round_until_told_to_stop(ledger, providers, workflow, clock,
                                                                          served):
    await in_flight(ledger, providers, "cryptomus", 1, clock() - timedelta(hours=1))
    fast = PollerSettings(backoff=Backoff(fastest=timedelta(milliseconds=20), slowest=timedelta(milliseconds=40)))
    # On real time: run() sleeps real time until the next payout is due, and the test clock would not move.
    poller = Poller(ledger, providers, workflow, clock=utc_now, settings=fast)
    stop = asyncio.Event()
    served.clear()
    running = asyncio.create_task(poller.run(stop=stop))
    await asyncio.sleep(0.5)
    assert not running.done()  # the payout is not final: it keeps following it
    assert provider_paths(served, "cryptomus") >= 3
    stop.set()
    await asyncio.wait_for(running, timeout=5)
    (payout,) = of_provider(ledger, "cryptomus")
    assert payout.status is PayoutStatus.PROCESSING


async def test_recovery_reports_what_it_settled(poller, workflow, desk, sandbox):
    alice = desk.sign_in("alice")
    payout = await workflow.estimate(alice, workflow.compose(alice, **FIELDS["cryptomus"]).id)
    sandbox.add_faults("cryptomus:create:commit-drop")
    unknown = await workflow.execute(alice, payout.id)
    assert unknown.status is PayoutStatus.UNKNOWN
    sandbox.clear_faults()
    report = await poller.recover()
    (change,) = report.changes
    assert (change.before, change.after.status) == (PayoutStatus.UNKNOWN, PayoutStatus.PROCESSING)
    assert report.polled == 1 and report.problems == ()
    assert len(sandbox.payouts("cryptomus")) == 1  # reconciled by its key, never paid twice


async def test_recovery_names_a_provider_it_could_not_ask(poller, workflow, desk, sandbox):
    alice = desk.sign_in("alice")
    payout = await workflow.estimate(alice, workflow.compose(alice, **FIELDS["cryptomus"]).id)
    sandbox.add_faults("cryptomus:create:commit-drop")
    await workflow.execute(alice, payout.id)
    sandbox.add_faults("cryptomus:any:500")
    report = await poller.recover()
    assert report.changes == ()
    assert [line.split(":")[0] for line in report.problems] == ["cryptomus"]


async def test_every_payout_is_settled_when_the_poller_gives_the_loop_a_turn_after_every_step(
        ledger, providers, workflow, sandbox, clock):
    """A time slice of zero: the workers interleave as much as they possibly can (reading, asking, settling,
    writing the back-off), and still each payout is asked once and settled once."""
    payouts = [*await in_flight(ledger, providers, "cryptomus", 12, clock()),
               *await in_flight(ledger, providers, "pay3", 12, clock())]
    sandbox.advance(3600)
    poller = Poller(ledger, providers, workflow, clock=clock,
                    settings=PollerSettings(time_slice=timedelta(0), keys_per_fetch={"cryptomus": 5}))
    report = await poller.refresh_once()
    assert (report.polled, report.problems, report.open_payouts) == (24, (), 0)
    assert sorted(c.payout_id for c in report.changes) == sorted(p.id for p in payouts)
