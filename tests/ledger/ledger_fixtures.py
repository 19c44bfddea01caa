"""Shared helpers of the ledger tests: payout requests as the domain makes them, a stepping clock, child envs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from treasury_app.domain.assets import find_asset
from treasury_app.domain.payout_request import FeeMode, PayoutRequest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TRON_ADDRESS = "TXguLRFtrAFrEDA17WuPfrxB84jVzJcNNV"
EVM_ADDRESS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
BTC_ADDRESS = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"


class SteppingClock:
    """A clock that moves one second per reading, so that every stamp the ledger writes is distinct."""

    def __init__(self, start: datetime = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def make_request(**overrides: Any) -> PayoutRequest:
    """A payout as the domain composes it (fields already validated), USDT on Tron by default."""
    currency = overrides.pop("currency", "USDT")
    network = overrides.pop("network", "TRON")
    fields: dict[str, Any] = dict(
        provider="cryptomus",
        asset=find_asset(currency, network),
        address=TRON_ADDRESS,
        amount=Decimal("150.25"),
        fee_mode=FeeMode.FROM_BALANCE,
        priority=None,
        memo=None,
        reference="INV-2026-0001",
        note="March bonus",
    )
    fields.update(overrides)
    return PayoutRequest(**fields)


def subprocess_env() -> dict[str, str]:
    """The environment for a child Python that must import this checkout of treasury_app."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH")) if p)
    return env




def is_team_ledger(location: Path | str) -> bool:
    return str(location).startswith(("postgresql://", "postgres://"))


@contextmanager
def raw_connection(location: Path | str, *, by_name: bool = False) -> Iterator[Any]:
    """The ledger past the app's code, committing each statement: a plain sqlite3 connection to the file, or a
    plain psycopg one to the team ledger. SQL with `?` placeholders either way; rows by name with `by_name`."""
    if is_team_ledger(location):
        import psycopg
        from psycopg.rows import dict_row

        with psycopg.connect(str(location), autocommit=True, row_factory=dict_row if by_name else None) as plain:
            yield _PsycopgWithQuestionMarks(plain)
        return
    import sqlite3

    plain = sqlite3.connect(location, isolation_level=None)
    if by_name:
        plain.row_factory = sqlite3.Row
    try:
        yield plain
    finally:
        plain.close()


class _PsycopgWithQuestionMarks:
    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def execute(self, sql: str, params: Any = ()) -> Any:
        return self._conn.execute(sql.replace("?", "%s"), params or None)

    def executemany(self, sql: str, rows: Any) -> None:
        with self._conn.cursor() as cursor:
            cursor.executemany(sql.replace("?", "%s"), list(rows))


def raw_rows(location: Path | str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """What is stored, read past the app's code."""
    with raw_connection(location) as plain:
        return [tuple(found) for found in plain.execute(sql, params).fetchall()]


def raw_execute(location: Path | str, sql: str, params: tuple[Any, ...] = ()) -> None:
    """One statement run past the app's code and committed (a saboteur's change to the ledger)."""
    with raw_connection(location) as plain:
        plain.execute(sql, params)
