"""Fixtures of the service tests: a real ledger file per test, a movable clock, operators of every role.

A test module that sets `BACKENDS = ("sqlite", "postgresql")` runs each of its tests on both, as in tests/ledger:
`ledger_file` is then a SQLite file or a database of its own on the throwaway PostgreSQL server.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

_LEDGER_TESTS = Path(__file__).resolve().parents[1] / "ledger"
if str(_LEDGER_TESTS) not in sys.path:  # the PostgreSQL fixtures are the ledger tests', reused
    sys.path.insert(0, str(_LEDGER_TESTS))

from desk_fixtures import TestClock, TestDesk, build_desk  # noqa: E402
from postgres_cluster import postgres_cluster, postgres_database, postgres_ledgers_database  # noqa: E402,F401

from treasury_app.ledger import Ledger, open_ledger  # noqa: E402
from treasury_app.security.passwords import TEST_HASHING_ENV  # noqa: E402


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "ledger_backend" in metafunc.fixturenames:
        metafunc.parametrize("ledger_backend", getattr(metafunc.module, "BACKENDS", ("sqlite",)))


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    # Hundreds of sign-ins at production cost would take minutes; the parameters have their own test.
    monkeypatch.setenv(TEST_HASHING_ENV, "1")


@pytest.fixture
def ledger_file(tmp_path: Path, ledger_backend: str, request: pytest.FixtureRequest) -> Path | str:
    if ledger_backend == "postgresql":
        return request.getfixturevalue("postgres_database")
    return tmp_path / "desk" / "ledger.sqlite3"


@pytest.fixture
def clock() -> TestClock:
    return TestClock()


@pytest.fixture
def ledger(ledger_file: Path, clock: TestClock) -> Iterator[Ledger]:
    with open_ledger(ledger_file, clock=clock) as opened:
        yield opened


@pytest.fixture
def desk(ledger: Ledger, clock: TestClock) -> TestDesk:
    return build_desk(ledger, clock)
