"""Opening a team ledger: connect, refuse a database that is not ours, migrate, and hand out the repositories."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ..location import LedgerLocation
from ..opening import Ledger
from .connection import PostgresConnection
from .migrations import migrate


def open_team_ledger(location: LedgerLocation, clock: Callable[[], datetime]) -> Ledger:
    link = PostgresConnection.open(location.url)
    try:
        migrate(link)
    except BaseException:
        link.close()
        raise
    return Ledger(link, clock, location)  # type: ignore[arg-type]  # the same methods as LedgerConnection
