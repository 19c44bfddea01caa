"""Times in the ledger: UTC, tz-aware in Python, fixed-width text in SQLite (`2026-11-21T22:17:03.123456Z`).

Fixed width matters: the indexes on `created_at` sort text, and text sorts like time only when every value has
the same shape.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_timestamp(moment: datetime) -> str:
    """The ledger's text for a moment; a naive datetime is refused (its time zone would be a guess)."""
    if not isinstance(moment, datetime):
        raise TypeError(f"expected a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment!r} has no time zone; the ledger stores UTC and will not guess")
    # isoformat always writes four year digits and, with timespec, six fraction digits: fixed width.
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def parse_timestamp(text: str) -> datetime:
    """The moment a ledger timestamp stands for, as a tz-aware UTC datetime."""
    if not isinstance(text, str) or not _TIMESTAMP.fullmatch(text):
        raise ValueError(f"{text!r} is not a ledger timestamp (expected e.g. 2026-11-21T22:17:03.123456Z)")
    return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)


def parse_optional_timestamp(text: str | None) -> datetime | None:
    return None if text is None else parse_timestamp(text)


def format_optional_timestamp(moment: datetime | None) -> str | None:
    return None if moment is None else format_timestamp(moment)
