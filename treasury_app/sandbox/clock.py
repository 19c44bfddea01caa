"""The sandbox's sense of time, injectable so that tests move it forward instead of sleeping.

Every time the sandbox reads (payout statuses, token expiry, `updatedTs`, `created_at`) comes from one clock.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch."""
        ...

    def advance(self, seconds: float) -> None:
        """Move time forward (never back)."""
        ...


class SystemClock:
    """The real time, plus whatever has been skipped with `advance`."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        _check_forward(seconds)
        with self._lock:
            self._offset += seconds


# 2025-01-01 00:00:00 UTC: a fixed start makes a seeded run produce the same timestamps every time.
MANUAL_CLOCK_START = datetime(2025, 1, 1, tzinfo=UTC).timestamp()


class ManualClock:
    """Time that stands still until `advance` is called: the deterministic clock for tests."""

    def __init__(self, start: float = MANUAL_CLOCK_START) -> None:
        self._now = float(start)
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        _check_forward(seconds)
        with self._lock:
            self._now += seconds


def _check_forward(seconds: float) -> None:
    if not seconds >= 0:
        raise ValueError(f"time only moves forward; cannot advance by {seconds}")
