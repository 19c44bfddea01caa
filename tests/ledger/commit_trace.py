"""The commits a ledger connection really makes, read through its trace callback: each with the
`synchronous` level it ran under (FULL: fsynced; NORMAL: not) and the statements it held."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from treasury_app.ledger import Ledger


@contextmanager
def commits_of(ledger: Ledger) -> Iterator[list[tuple[str, list[str]]]]:
    """Each commit the block makes: the synchronous level it ran under, and the statements it held."""
    found: list[tuple[str, list[str]]] = []
    level, current = "FULL", None

    def trace(sql: str) -> None:
        nonlocal level, current
        text = sql.strip()
        if text.upper().startswith("PRAGMA SYNCHRONOUS ="):
            level = text.split("=")[1].strip().upper()
        elif text == "BEGIN IMMEDIATE":
            current = []
        elif text == "COMMIT" and current is not None:
            found.append((level, current))
            current = None
        elif current is not None:
            current.append(text)

    ledger._link.conn.set_trace_callback(trace)
    try:
        yield found
    finally:
        ledger._link.conn.set_trace_callback(None)
