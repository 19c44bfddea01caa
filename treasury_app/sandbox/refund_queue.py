"""Refunds that fall due when a payout's failure becomes final, taken in time order by both providers' books."""

from __future__ import annotations

import heapq
from collections.abc import Iterator


class RefundQueue:
    """Entries carry the payout's plan version: a payout re-planned since (a forced outcome) skips its old one."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, str, int]] = []

    def schedule(self, at: float, seq: int, key: str, plan_version: int) -> None:
        # `seq` breaks ties between refunds due at the same moment, in the order the payouts were made.
        heapq.heappush(self._heap, (at, seq, key, plan_version))

    def due(self, now: float) -> Iterator[tuple[str, int]]:
        """(key, plan version) of every refund due by `now`, each taken off the queue as it is yielded."""
        while self._heap and self._heap[0][0] <= now:
            _, _, key, version = heapq.heappop(self._heap)
            yield key, version
