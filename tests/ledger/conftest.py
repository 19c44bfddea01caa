"""Fixtures for the ledger tests: a real ledger per test, and a way to add payouts.

A test module that sets `BACKENDS = ("sqlite", "postgresql")` runs each of its tests on both: a SQLite file under
tmp_path, and a database of its own on the throwaway PostgreSQL server (postgres_cluster.py). `ledger_path` is
then the file's path or the database's URL; `open_ledger` takes either.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from ledger_fixtures import SteppingClock, make_request
from postgres_cluster import postgres_cluster, postgres_database, postgres_ledgers_database  # noqa: F401 — fixtures

from treasury_app.ledger import Ledger, PayoutRecord, open_ledger


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "ledger_backend" in metafunc.fixturenames:
        backends = getattr(metafunc.module, "BACKENDS", ("sqlite",))
        only = metafunc.definition.get_closest_marker("backends")  # a test about one backend's own storage
        metafunc.parametrize("ledger_backend", only.args if only else backends)


@pytest.fixture
def ledger_path(tmp_path: Path, ledger_backend: str, request: pytest.FixtureRequest) -> Path | str:
    if ledger_backend == "postgresql":
        return request.getfixturevalue("postgres_database")
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
