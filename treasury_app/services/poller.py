"""The poller: follows every payout in flight until its provider says it is final, and tells whoever listens.

A round reads the open payouts (never asked first, then the most overdue), asks each provider about its own in
batches (`poll_round`), both providers at once, and hands every answer to `PayoutWorkflow.settle`, which decides
what it means. Each payout is asked again after a back-off that grows while it stays unchanged
(`poll_schedule`). It never sleeps on the event loop: its SQLite writes are batched, and long stretches of
settling give the loop a turn every few milliseconds, so a window driven by the same loop stays responsive.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from treasury_app.domain.payout_lifecycle import IN_FLIGHT_STATUSES, PayoutStatus
from treasury_app.ledger import Ledger, LedgerUnavailableError, PayoutFilter, PayoutRecord
from treasury_app.ledger.timestamps import utc_now
from treasury_app.providers.interface import PayoutProvider
from treasury_app.providers.kinds import PROVIDER_KINDS

from .payout_workflow import PayoutWorkflow
from .poll_round import PollContext, ProviderRound, RoundResult
from .poll_schedule import Backoff, PollerSettings

__all__ = ["Backoff", "PayoutChange", "Poller", "PollerSettings", "RefreshReport"]

log = logging.getLogger(__name__)

# `run` never sleeps less than this between rounds, whatever a clock says: no busy loop.
SHORTEST_SLEEP_SECONDS = 0.05
RECOVERED = (PayoutStatus.SUBMITTING, PayoutStatus.UNKNOWN)
OPEN = tuple(sorted(IN_FLIGHT_STATUSES))
# Records read from the ledger at a time in a full round: at most a few milliseconds of work, and not many more
# than the workers need soon (records kept waiting outlive several collections and make full ones come sooner),
# but no fewer than FEWEST_READ: a one-key provider's payouts read eight at a time cost a query per eight
# requests, about a third of the poller's own CPU in a cycle of 2,000 (cProfile of tests/benchmarks/polling.py).
READ_CHUNK = 200
FEWEST_READ = 50


@dataclass(frozen=True)
class PayoutChange:
    """A payout whose status or provider status changed: the status before, and the whole record after."""

    payout_id: int
    before: PayoutStatus
    after: PayoutRecord


@dataclass(frozen=True)
class RefreshReport:
    """What one round (or the start-up recovery) did.

    `requests` counts calls to the providers' `fetch_states` (one per batch of keys; a Cryptomus batch pages its
    payout list); recovery's reads are the workflow's own and are not counted. `problems` has one line per
    provider that could not be asked, and per payout whose answer could not be recorded.
    """

    polled: int
    requests: int
    changes: tuple[PayoutChange, ...]
    problems: tuple[str, ...]
    open_payouts: int  # still not final afterwards
    started_at: datetime
    finished_at: datetime
    polled_elsewhere: tuple[str, ...] = ()  # providers another desk of the team ledger polls (its lease)


Listener = Callable[[PayoutChange], None]


class Poller:
    """Follows the payouts in flight: `recover` once at start-up, then `run` (or single rounds with
    `refresh_once`); `subscribe` to hear of every change. One round at a time per poller."""

    def __init__(self, ledger: Ledger, providers: Mapping[str, PayoutProvider], workflow: PayoutWorkflow, *,
                 clock: Callable[[], datetime] = utc_now, settings: PollerSettings | None = None,
                 rng: random.Random | None = None) -> None:
        self._ledger = ledger
        self._providers = dict(providers)
        self._clock = clock
        self.settings = settings or PollerSettings()
        self._time_slice = self.settings.time_slice.total_seconds()
        self._listeners: list[Listener] = []
        self._report_listeners: list[Callable[[RefreshReport], None]] = []
        self._changes: list[PayoutChange] = []  # of the round under way
        self._slice_began: float | None = time.perf_counter()
        self._slice_fresh = True
        self._wake = asyncio.Event()
        self._context = PollContext(ledger, workflow, self.settings, clock, rng or random.Random(),
                                    self._breathe, self._on_settled)
        self._workflow = workflow

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """`listener` gets every change as it is recorded (on the poller's task); returns how to unsubscribe."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def subscribe_reports(self, listener: Callable[[RefreshReport], None]) -> Callable[[], None]:
        """`listener` gets the report of every round `run` makes (recovery's too): for a status line."""
        self._report_listeners.append(listener)
        return lambda: self._report_listeners.remove(listener) if listener in self._report_listeners else None

    def wake(self) -> None:
        """Start the next round of `run` now (e.g. after this window executed a payout)."""
        self._wake.set()

    async def recover(self) -> RefreshReport:
        """Start-up recovery (`PayoutWorkflow.recover`): every submitting and unknown payout read by its key and
        settled, before any round. A provider that could not be asked is named in `problems`."""
        started = self._clock()
        self._changes = []
        self._renew_slice()
        pending: dict[int, PayoutRecord] = {}
        for chunk in self._ledger.payouts.iter_batches(PayoutFilter(statuses=RECOVERED), batch_size=READ_CHUNK):
            pending.update((p.id, p) for p in chunk)
            await self._breathe()
        problems: list[str] = []
        if pending:
            settled = {after.id: after for after in await self._workflow.recover()}
            for payout_id, after in settled.items():
                if (before := pending.get(payout_id)) is not None:
                    self._on_settled(before, after)
            postponed = sorted({p.provider for p in pending.values() if p.id not in settled})
            problems = [f"{name}: could not be asked during recovery; its payouts are asked again in the next "
                        "round" for name in postponed]
        return self._report(started, len(pending), 0, problems)

    async def refresh_once(self, *, due_only: bool = False) -> RefreshReport:
        """One round over the open payouts, every provider at once.

        With `due_only` (what `run` does): only the payouts due, at most `most_per_round` per provider (the
        rest, most overdue first, come in the next round, which `run` starts at once).
        """
        started = self._clock()
        self._changes = []
        self._renew_slice()
        names = sorted({*PROVIDER_KINDS, *self._providers})
        # On a team ledger one desk at a time polls a provider; this desk hears the others' records live.
        elsewhere = tuple(name for name in names if not self._ledger.holds_poll_lease(name))
        rounds = [ProviderRound(self._context, name, self._providers.get(name))
                  .run(self._payouts_of(name, started if due_only else None), first_wait=due_only)
                  for name in names if name not in elsewhere]
        results: list[RoundResult] = await asyncio.gather(*rounds)
        problems = [r.problem for r in results if r.problem]
        problems += [line for r in results for _, line in sorted(r.payout_problems.items())]
        return self._report(started, sum(r.polled for r in results), sum(r.requests for r in results), problems,
                            elsewhere)

    async def run(self, *, until_all_final: bool = False, stop: asyncio.Event | None = None) -> None:
        """Recover, then rounds of the payouts due, sleeping until the next one is due (or `wake`/`stop`).

        Returns when `stop` is set (between rounds, never while an answer is being recorded), or with
        `until_all_final` when no payout is in flight. A round that fails (e.g. the ledger busy for too long)
        is logged and tried again later; the poller does not die of it.
        """
        stop = stop or asyncio.Event()
        while not stop.is_set():  # recovery first; a team ledger's server away meanwhile only delays it
            try:
                self._tell(await self.recover())
                break
            except LedgerUnavailableError as error:
                log.warning("start-up recovery waits for the team ledger: %s", error)
                await self._sleep(self.settings.longest_sleep.total_seconds(), stop)
        while not stop.is_set():
            try:
                report = await self.refresh_once(due_only=True)
                self._tell(report)
            except Exception as error:  # the poller must outlive one bad round
                if isinstance(error, LedgerUnavailableError):  # a condition, said in words: no traceback
                    log.warning("a polling round could not use the ledger (%s); trying again in %s", error,
                                self.settings.longest_sleep)
                else:
                    log.exception("a polling round failed; trying again in %s", self.settings.longest_sleep)
                await self._sleep(self.settings.longest_sleep.total_seconds(), stop)
                continue
            if until_all_final and report.open_payouts == 0:
                return
            await self._sleep(self._seconds_to_next_due(), stop)

    # --- inside ---------------------------------------------------------------------------------------------

    def _tell(self, report: RefreshReport) -> None:
        for listener in list(self._report_listeners):
            try:
                listener(report)
            except Exception:  # as for change listeners: a closed window must not stop the poller
                log.exception("a listener of polling rounds failed")

    def _payouts_of(self, provider: str, due_before: datetime | None) -> Iterator[list[PayoutRecord]]:
        """A provider's open payouts in chunks, each read when the round needs it (a read of thousands of
        records at once would hold the event loop for tens of milliseconds)."""
        if due_before is not None:
            yield self._ledger.payouts.open_payouts(provider=provider, due_before=due_before,
                                                    limit=self.settings.most_per_round)
            return
        soon = self.settings.fetch_size(provider) * self.settings.max_in_flight * 2
        yield from self._ledger.payouts.iter_batches(PayoutFilter(statuses=OPEN, provider=provider),
                                                     batch_size=min(READ_CHUNK, max(soon, FEWEST_READ)))

    def _on_settled(self, before: PayoutRecord, after: PayoutRecord) -> None:
        if after.status is before.status and after.provider_status == before.provider_status:
            return
        change = PayoutChange(before.id, before.status, after)
        self._changes.append(change)
        for listener in list(self._listeners):
            try:
                listener(change)
            except Exception:  # a faulty listener (a closed window) must not stop the poller
                log.exception("a listener of payout changes failed on payout %s", change.payout_id)

    async def _breathe(self) -> None:
        """Give the event loop a turn once the poller's tasks have held it for a time slice.

        The slice is shared by all of them and renewed only when the loop comes round again: a task resuming
        in the same pass as another one that just yielded yields at once, instead of taking a slice of its own
        (eight workers each taking 8 ms in one pass would stall a window for 64 ms).
        """
        while True:
            began = self._slice_began
            if began is not None and (self._slice_fresh or time.perf_counter() - began < self._time_slice):
                self._slice_fresh = False  # a new slice lets at least one unit of work through
                return
            if began is not None:
                self._slice_began = None
                asyncio.get_running_loop().call_soon(self._renew_slice)
            await asyncio.sleep(0)  # and look again: another task may have used the new slice already

    def _renew_slice(self) -> None:
        self._slice_began = time.perf_counter()
        self._slice_fresh = True

    def _report(self, started: datetime, polled: int, requests: int, problems: list[str],
                polled_elsewhere: tuple[str, ...] = ()) -> RefreshReport:
        still_open = self._ledger.payouts.count(PayoutFilter(statuses=OPEN))
        changes, self._changes = tuple(self._changes), []
        return RefreshReport(polled, requests, changes, tuple(dict.fromkeys(problems)), still_open, started,
                             self._clock(), polled_elsewhere)

    def _seconds_to_next_due(self) -> float:
        soonest = self._ledger.payouts.open_payouts(limit=1)
        longest = self.settings.longest_sleep.total_seconds()
        if not soonest:
            return longest
        due = soonest[0].next_poll_at
        if due is None:  # sent since the round began: its first turn comes after the fastest wait
            return max(SHORTEST_SLEEP_SECONDS, min(longest, self.settings.backoff.fastest.total_seconds()))
        return max(SHORTEST_SLEEP_SECONDS, min(longest, (due - self._clock()).total_seconds()))

    async def _sleep(self, seconds: float, stop: asyncio.Event) -> None:
        waiters = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())}
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
            self._wake.clear()
