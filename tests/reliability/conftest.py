"""Fixtures of the reliability tests: one sandbox per module (reset before each test), real provider clients,
and a ledger file prepared with operators, shared with the driver processes the tests start and kill."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# The helper modules of the provider and service tests are reused, not copied.
_TESTS = Path(__file__).resolve().parents[1]
for _folder in ("providers", "services", "reliability"):
    if str(_TESTS / _folder) not in sys.path:
        sys.path.insert(0, str(_TESTS / _folder))

from desk_fixtures import TestDesk, build_desk
from provider_fixtures import FAST, Sandbox
from reliability_fixtures import Driver, WallClock, build_providers, start_driver

from treasury_app.ledger import Ledger, open_ledger
from treasury_app.security.passwords import TEST_HASHING_ENV


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TEST_HASHING_ENV, "1")


@pytest.fixture(scope="module")
def running_sandbox() -> Iterator[Sandbox]:
    box = Sandbox.start()
    yield box
    box.stop()


@pytest.fixture
def sandbox(running_sandbox: Sandbox) -> Sandbox:
    """The module's sandbox as new: no payouts, no faults, initial balances (its clock keeps its time)."""
    assert running_sandbox.control.post("/_sandbox/reset").status_code == 200
    running_sandbox.clear_faults()
    return running_sandbox


@pytest.fixture
def clock() -> WallClock:
    # Real time: the driver processes stamp the same ledger with it, and claims are judged by it.
    return WallClock()


@pytest.fixture
def ledger_path(tmp_path: Path) -> Path:
    return tmp_path / "desk" / "ledger.sqlite3"


@pytest.fixture
def ledger(ledger_path: Path, clock: WallClock) -> Iterator[Ledger]:
    with open_ledger(ledger_path, clock=clock) as opened:
        yield opened


@pytest.fixture
def desk(ledger: Ledger, clock: WallClock) -> TestDesk:
    return build_desk(ledger, clock)  # type: ignore[arg-type]  # a wall clock in place of the test clock


@pytest.fixture
async def providers(sandbox: Sandbox) -> AsyncIterator[dict[str, Any]]:
    clients = build_providers(sandbox.base_url, FAST)
    yield clients
    for client in clients.values():
        await client.aclose()


@pytest.fixture
def drivers(ledger_path: Path, sandbox: Sandbox) -> Iterator[Callable[..., Driver]]:
    """Starts driver processes on this test's ledger and sandbox; any still running at the end is killed."""
    started: list[Driver] = []

    def start(markers: Path, action: str, *ids: int, **options: Any) -> Driver:
        driver = start_driver(markers, ledger_path, sandbox, action, *ids, **options)
        started.append(driver)
        return driver

    yield start
    for driver in started:
        driver.stop()
