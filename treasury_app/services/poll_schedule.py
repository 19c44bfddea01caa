"""When the poller asks about a payout again (back-off arithmetic with jitter, no I/O), and its settings.

The back-off needs no counter of its own. A payout is asked again after about as long as it has stayed unchanged
(its `updated_at`, which poll bookkeeping never moves), so the gaps double by themselves — 5 s, 5 s, 10 s, 20 s …
up to the slowest — and fall back to the fastest as soon as anything about it changes. Failed asks back off by
their count in a row (`poll_failures`). Jitter spreads payouts sent together, so that they do not come due in
one burst forever after.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType

LONGEST_RATE_LIMIT_PAUSE = timedelta(hours=1)
# Beyond this many doublings every delay is at the slowest anyway; the bound keeps 2**n small.
_MAX_DOUBLINGS = 30
# Providers whose client reads many payouts per request: all of a round's payouts in one call. Cryptomus walks
# its payout list newest first, every call from the top: 1,000 open payouts in four calls of 250 would read the
# newest pages up to four times, and the call with the oldest 250 would have to pass all 1,000 to reach them
# (it gives up sooner and asks them one by one). One call reads each page once.
# The others get one key per call (Pay3 has one GET per payout anyway), so that one payout's failure or a 429
# touches only that call, and the number of calls in flight is the number of requests in flight.
BATCHED_READS: Mapping[str, int] = MappingProxyType({"cryptomus": 5_000})


@dataclass(frozen=True)
class Backoff:
    """How fast and how slow a payout in flight is followed; `jitter` is a fraction (0.2: ±20 %)."""

    fastest: timedelta = timedelta(seconds=5)
    slowest: timedelta = timedelta(minutes=10)
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if not timedelta(0) < self.fastest <= self.slowest:
            raise ValueError("the back-off needs 0 < fastest <= slowest")
        if not 0 <= self.jitter < 1:
            raise ValueError("jitter must be a fraction from 0 up to (not including) 1")

    def after_answer(self, unchanged_for: timedelta, rng: random.Random) -> timedelta:
        """The wait after the provider answered: as long as the payout has been unchanged, within the bounds."""
        return self._jittered(self._bounded(unchanged_for), rng)

    def after_failure(self, failures: int, unchanged_for: timedelta, rng: random.Random) -> timedelta:
        """The wait after `failures` asks in a row failed: doubling per failure, and never sooner than an answer
        would have brought (a payout left alone for an hour is not asked every 10 s because its provider is down)."""
        doubled = self.fastest * 2 ** min(max(failures, 0), _MAX_DOUBLINGS)
        return self._jittered(self._bounded(max(doubled, unchanged_for)), rng)

    def first_wait(self, rng: random.Random) -> timedelta:
        """The wait between a payout's last change (e.g. its submission) and the first ask."""
        return self._jittered(self.fastest, rng)

    def spread(self, rng: random.Random) -> timedelta:
        """A small random offset (up to `jitter` of the fastest wait), to spread payouts released together."""
        return self.fastest * rng.uniform(0, self.jitter)

    def _bounded(self, wait: timedelta) -> timedelta:
        return min(max(wait, self.fastest), self.slowest)

    def _jittered(self, wait: timedelta, rng: random.Random) -> timedelta:
        return wait * rng.uniform(1 - self.jitter, 1 + self.jitter)


def rate_limit_pause(retry_after_seconds: float | None, default: timedelta) -> timedelta:
    """How long a provider that answered 429 is left alone: what it asked (an hour at most: a provider's typo
    must not stop the following for days), else the default."""
    if retry_after_seconds is None or math.isnan(retry_after_seconds) or retry_after_seconds < 0:
        return default
    return timedelta(seconds=min(retry_after_seconds, LONGEST_RATE_LIMIT_PAUSE.total_seconds()))


@dataclass(frozen=True)
class PollerSettings:
    """How much the poller asks at once, and how patiently.

    `max_in_flight` bounds the `fetch_states` calls in flight per provider. A one-key call is one request; a
    batched call (Cryptomus) reads its list pages one after another and any single-payout look-ups within the
    client's own read slots (`HttpSettings.max_concurrent_reads`, also 4 by default).
    """

    max_in_flight: int = 4
    keys_per_fetch: Mapping[str, int] = field(default_factory=lambda: BATCHED_READS, hash=False)
    backoff: Backoff = field(default_factory=Backoff)
    # A 429 without a usable Retry-After pauses its provider this long.
    rate_limit_pause: timedelta = timedelta(seconds=30)
    # `run` looks at the ledger at least this often, for payouts sent by another window or process.
    longest_sleep: timedelta = timedelta(seconds=30)
    # A round of `run` takes at most this many due payouts per provider; the rest come in the next round.
    most_per_round: int = 500
    # How long the poller holds the event loop before giving it a turn (a window repaints every ~16 ms).
    time_slice: timedelta = timedelta(milliseconds=5)

    def __post_init__(self) -> None:
        if min(self.max_in_flight, self.most_per_round, *self.keys_per_fetch.values()) < 1:
            raise ValueError("max_in_flight, most_per_round and every keys_per_fetch must be at least 1")
        if self.rate_limit_pause <= timedelta(0) or self.longest_sleep <= timedelta(0):
            raise ValueError("rate_limit_pause and longest_sleep must be positive")
        if self.time_slice < timedelta(0):
            raise ValueError("time_slice must not be negative")

    def fetch_size(self, provider: str) -> int:
        return self.keys_per_fetch.get(provider, 1)
