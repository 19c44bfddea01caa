"""Fixtures of the service tests: a real ledger file per test, a movable clock, operators of every role."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from desk_fixtures import TestClock, TestDesk, build_desk

from treasury_app.ledger import Ledger, open_ledger
from treasury_app.security.passwords import TEST_HASHING_ENV


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    # Hundreds of sign-ins at production cost would take minutes; the parameters have their own test.
    monkeypatch.setenv(TEST_HASHING_ENV, "1")


@pytest.fixture
def ledger_file(tmp_path: Path) -> Path:
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
