"""How long an account stays locked after wrong passwords in a row: long enough to make guessing useless,
short enough that a person who mistyped is not shut out for the day.

Five tries are free (typos happen); the fifth wrong one locks for a minute, and every further wrong one
(each allowed only after the lock has run out) doubles the time, up to an hour. At most about thirty guesses
a day then reach an account, against passwords of twelve characters or more.
"""

from __future__ import annotations

from datetime import timedelta

LOCK_AFTER_FAILURES = 5
FIRST_LOCK = timedelta(minutes=1)
LONGEST_LOCK = timedelta(hours=1)


def lock_duration(consecutive_failures: int) -> timedelta | None:
    """How long to lock after this many wrong passwords in a row; None while still under the threshold."""
    if consecutive_failures < LOCK_AFTER_FAILURES:
        return None
    doublings = consecutive_failures - LOCK_AFTER_FAILURES
    if doublings >= 12:  # 2**12 minutes is far past the cap; stop before the number grows without need
        return LONGEST_LOCK
    return min(FIRST_LOCK * (1 << doublings), LONGEST_LOCK)
