"""Opening a team ledger: connect, refuse a database that is not ours, migrate, and hand out the repositories."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ..opening import Ledger
from .connection import PostgresConnection
from .migrations import migrate


def open_team_ledger(url: str, clock: Callable[[], datetime]) -> Ledger:
    link = PostgresConnection.open(url)
    try:
        migrate(link)
    except BaseException:
        link.close()
        raise
    return Ledger(link, clock)  # type: ignore[arg-type]  # the same methods as LedgerConnection
