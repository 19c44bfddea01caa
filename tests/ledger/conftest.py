"""Fixtures for the ledger tests: a real ledger file per test under tmp_path, and a way to add payouts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ledger_fixtures import SteppingClock, make_request

from treasury_app.ledger import Ledger, PayoutRecord, open_ledger


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    return tmp_path / "desk" / "ledger.sqlite3"


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()


@pytest.fixture
def ledger(ledger_path: Path, clock: SteppingClock) -> Iterator[Ledger]:
    with open_ledger(ledger_path, clock=clock) as opened:
        yield opened


@pytest.fixture
def add_payout(ledger: Ledger) -> Callable[..., PayoutRecord]:
    counter = iter(range(1, 1_000_000))

    def add(key: str | None = None, actor: str = "alice", **overrides: Any) -> PayoutRecord:
        return ledger.payouts.add(make_request(**overrides), idempotency_key=key or f"key-{next(counter)}",
                                  actor=actor)

    return add
