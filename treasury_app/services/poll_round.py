"""One provider's share of a polling round: its payouts asked in batches, each answer settled, the back-off
written 200 rows a transaction.

What a provider's trouble does here, and why:
- a 429 (`RateLimitedError`) pauses the provider until the time it asks: nothing more is sent to it this round
  or later until then, and its payouts are simply moved to that time (no failure counted: nothing failed);
- an unreachable provider, or one refusing our credentials, is not asked again this round (a thousand requests
  that would fail the same way help nobody); its payouts back off by their failures in a row;
- anything else wrong with one call backs off that call's payouts only.
None of it reaches the other provider's round, which runs beside this one.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from treasury_app.domain.payout_lifecycle import IN_FLIGHT_STATUSES
from treasury_app.ledger import Ledger, PayoutRecord
from treasury_app.providers.errors import (
    AuthenticationError,
    ForbiddenError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitedError,
)
from treasury_app.providers.interface import PayoutProvider, ProviderPayoutState

from .payout_workflow import PayoutWorkflow, earliest_send
from .poll_schedule import PollerSettings, rate_limit_pause

log = logging.getLogger(__name__)

# Errors after which asking the same provider again in this round would only fail the same way.
PROVIDER_WIDE = (ProviderUnavailableError, AuthenticationError, ForbiddenError)
# Back-off rows written per transaction: large enough that commits are rare, small enough to stay brief.
FLUSH_ROWS = 200
Schedule = tuple[int, datetime | None, int]  # payout id, when to ask next, failed asks in a row


@dataclass(frozen=True)
class PollContext:
    """What every round of one poller shares."""

    ledger: Ledger
    workflow: PayoutWorkflow
    settings: PollerSettings
    clock: Callable[[], datetime]
    rng: random.Random
    # Gives the event loop a turn when this task has held it for a while.
    breathe: Callable[[], Awaitable[None]]
    # Called with the record before and after each settle.
    on_settled: Callable[[PayoutRecord, PayoutRecord], None]
    # Provider name → the time until which it asked to be left alone (shared across rounds).
    pauses: MutableMapping[str, datetime] = field(default_factory=dict)
    actor: str = "poller"


@dataclass
class RoundResult:
    polled: int = 0
    requests: int = 0
    problem: str | None = None  # the first thing that kept this provider from being asked
    payout_problems: dict[int, str] = field(default_factory=dict)


class ProviderRound:
    """Asks one provider about its payouts (`run`), with at most `max_in_flight` calls at once.

    The payouts come as an iterator of chunks read from the ledger when the workers need more, so that no
    single read builds thousands of records while the event loop waits.
    """

    def __init__(self, context: PollContext, name: str, provider: PayoutProvider | None) -> None:
        self._context = context
        self._name = name
        self._provider = provider
        self._result = RoundResult()
        self._pending: list[Schedule] = []
        self._halt: tuple[str, datetime | None] | None = None  # ("paused", until) or ("down", None)
        self._chunks: Iterator[list[PayoutRecord]] | None = None
        self._waiting: deque[PayoutRecord] = deque()
        self._first_wait = False

    async def run(self, chunks: Iterator[list[PayoutRecord]], *, first_wait: bool) -> RoundResult:
        """Ask about the payouts of `chunks`; with `first_wait`, one never asked that changed moments ago (just
        sent) waits its first turn instead."""
        context, now = self._context, self._context.clock()
        paused_until = context.pauses.get(self._name)
        if self._provider is None:
            self._halt = ("down", None)
        elif paused_until is not None and paused_until > now:
            self._halt = ("paused", paused_until)
        else:
            context.pauses.pop(self._name, None)
        self._chunks, self._first_wait = chunks, first_wait
        await asyncio.gather(*(self._work() for _ in range(context.settings.max_in_flight)))
        await self._write_back_offs(at_least=1)
        return self._result

    async def _work(self) -> None:
        while (batch := await self._next_batch()) is not None:
            if self._halt is not None:
                self._not_asked(batch)
            else:
                await self._ask(batch)
            await self._write_back_offs()

    async def _next_batch(self) -> list[PayoutRecord] | None:
        size = self._context.settings.fetch_size(self._name)
        while len(self._waiting) < size and self._chunks is not None:
            await self._context.breathe()  # before each unit of work, a worker back from I/O included
            if self._chunks is None or len(self._waiting) >= size:
                break  # another worker read meanwhile
            chunk = next(self._chunks, None)
            if chunk is None:
                self._chunks = None
                break
            now = self._context.clock()
            self._waiting.extend(payout for payout in chunk if not self._waits_first_turn(payout, now))
        if not self._waiting:
            return None
        return [self._waiting.popleft() for _ in range(min(size, len(self._waiting)))]

    def _waits_first_turn(self, payout: PayoutRecord, now: datetime) -> bool:
        if not self._first_wait or payout.next_poll_at is not None or payout.poll_failures:
            return False
        first = payout.updated_at + self._context.settings.backoff.first_wait(self._context.rng)
        if first <= now:
            return False
        self._pending.append((payout.id, first, 0))
        return True

    async def _ask(self, batch: list[PayoutRecord]) -> None:
        assert self._provider is not None
        self._result.requests += 1
        self._result.polled += len(batch)
        try:
            states = await self._provider.fetch_states([payout.idempotency_key for payout in batch],
                                                       sent_since=earliest_send(batch))
        except RateLimitedError as error:
            until = self._context.clock() + rate_limit_pause(error.retry_after_seconds,
                                                             self._context.settings.rate_limit_pause)
            self._context.pauses[self._name] = until
            self._halt = ("paused", until)
            self._note(f"{self._name}: rate limited (HTTP 429); paused until {until:%H:%M:%S} UTC")
            self._not_asked(batch)
        except PROVIDER_WIDE as error:
            self._halt = self._halt or ("down", None)
            kind = "unreachable" if isinstance(error, ProviderUnavailableError) else "refused"
            self._note(f"{self._name}: {kind}: {error.message}")
            self._failed(batch)
        except ProviderError as error:
            self._note(f"{self._name}: {error.message}")
            self._failed(batch)
        except Exception as error:  # a bug in reading one answer must not stop the poller
            log.exception("%s: a batch of %d payout states could not be read", self._name, len(batch))
            self._note(f"{self._name}: an answer could not be handled ({type(error).__name__}); see the log")
            self._failed(batch)
        else:
            await self._settle(batch, states)

    async def _settle(self, batch: list[PayoutRecord], states: Mapping[str, ProviderPayoutState | None]) -> None:
        context = self._context
        now = context.clock()
        backoff = context.settings.backoff
        for payout in batch:
            await context.breathe()
            if payout.idempotency_key not in states:
                # Never read as "the provider holds nothing": for an unknown payout that would mean a resend.
                self._result.payout_problems[payout.id] = (f"payout {payout.id}: {self._name} answered without it; "
                                                           "asked again later")
                self._failed([payout], now)
                continue
            try:
                after = await context.workflow.settle(payout, states[payout.idempotency_key], actor=context.actor)
            except Exception as error:  # e.g. a tampered record refused a resend: report, go on
                log.warning("payout %s: its provider's answer could not be recorded: %s", payout.id, error,
                            exc_info=not isinstance(error, ProviderError))
                self._result.payout_problems[payout.id] = f"payout {payout.id}: {error}"
                self._failed([payout], now)
            else:
                context.on_settled(payout, after)
                if after.status in IN_FLIGHT_STATUSES:
                    wait = backoff.after_answer(max(now - after.updated_at, timedelta(0)), context.rng)
                    self._pending.append((after.id, now + wait, 0))
                else:
                    self._pending.append((after.id, None, 0))  # final: no longer followed
            await self._write_back_offs()  # a batch of thousands (Cryptomus) is written as it is settled

    def _failed(self, batch: list[PayoutRecord], now: datetime | None = None) -> None:
        context = self._context
        now = now or context.clock()
        for payout in batch:
            failures = payout.poll_failures + 1
            unchanged_for = max(now - payout.updated_at, timedelta(0))
            wait = context.settings.backoff.after_failure(failures, unchanged_for, context.rng)
            self._pending.append((payout.id, now + wait, failures))

    def _not_asked(self, batch: list[PayoutRecord]) -> None:
        assert self._halt is not None
        reason, until = self._halt
        if self._provider is None:
            self._note(f"{self._name}: no client is configured for this provider; set it up under providers")
        elif until is not None:
            self._note(f"{self._name}: rate limited; not asked until {until:%H:%M:%S} UTC")
        if reason == "down":
            self._failed(batch)
            return
        assert until is not None
        backoff, rng = self._context.settings.backoff, self._context.rng
        self._pending.extend((payout.id, until + backoff.spread(rng), payout.poll_failures) for payout in batch)

    def _note(self, problem: str) -> None:
        if self._result.problem is None:  # once per round: the window shows it, the log keeps it
            self._result.problem = problem
            log.warning("polling: %s", problem)

    async def _write_back_offs(self, at_least: int = FLUSH_ROWS) -> None:
        """Write the back-off rows gathered, `FLUSH_ROWS` a transaction, once there are `at_least`; the loop gets
        a turn before each (a thousand rows in one transaction would hold it for tens of milliseconds)."""
        while len(self._pending) >= at_least:
            await self._context.breathe()
            rows, self._pending = self._pending[:FLUSH_ROWS], self._pending[FLUSH_ROWS:]
            if rows:
                self._context.ledger.payouts.schedule_polls(rows)
