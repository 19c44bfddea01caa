"""Fixtures of the reliability tests: one sandbox per module (reset before each test), real provider clients,
and a ledger prepared with operators, shared with the driver processes the tests start and kill.

A module that sets `BACKENDS = ("sqlite", "postgresql")` runs each test on both: a SQLite file that the processes
share on one computer, and a team ledger on the throwaway PostgreSQL server (tests/ledger/postgres_cluster.py)
that two desks share, each driver process then on a host of its own (`desk_hosts`)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# The helper modules of the provider and service tests are reused, not copied.
_TESTS = Path(__file__).resolve().parents[1]
for _folder in ("providers", "services", "ledger", "reliability"):
    if str(_TESTS / _folder) not in sys.path:
        sys.path.insert(0, str(_TESTS / _folder))

from desk_fixtures import TestDesk, build_desk
from postgres_cluster import postgres_cluster, postgres_database, postgres_ledgers_database  # noqa: F401 — fixtures
from provider_fixtures import FAST, Sandbox
from reliability_fixtures import (
    PROVIDERS,
    DeskHosts,
    Driver,
    WallClock,
    build_providers,
    check_hosts_can_differ,
    start_driver,
)

from treasury_app.ledger import Ledger, open_ledger
from treasury_app.security.passwords import TEST_HASHING_ENV


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    backends = getattr(metafunc.module, "BACKENDS", None)
    if not backends or "ledger_backend" not in metafunc.fixturenames:
        return
    only = metafunc.definition.get_closest_marker("backends")  # a test about one backend's own case
    backends = only.args if only else backends
    team = metafunc.definition.get_closest_marker("team_ledger_provider")
    if team is None:
        metafunc.parametrize("ledger_backend", backends)
        return
    # Each provider on a ledger file; on a team ledger the one named. What the team ledger adds to such a test
    # (two hosts, the claim grace, the server's locks) is the same for both providers, whose own protocols the
    # file's runs cover; the tests name one or the other so that both are run on PostgreSQL across the module.
    metafunc.parametrize(("ledger_backend", "provider"),
                         [(backend, provider) for backend in backends for provider in PROVIDERS
                          if backend != "postgresql" or provider == team.args[0]])


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
def ledger_backend() -> str:
    """The modules that do not set BACKENDS: SQLite only."""
    return "sqlite"


@pytest.fixture
def ledger_path(tmp_path: Path, ledger_backend: str, request: pytest.FixtureRequest) -> Path | str:
    """The ledger file, or the team ledger's URL (its password in it, as TREASURY_LEDGER_URL would carry it)."""
    if ledger_backend == "postgresql":
        return request.getfixturevalue("postgres_database")
    return tmp_path / "desk" / "ledger.sqlite3"


@pytest.fixture
def desk_hosts(ledger_backend: str) -> DeskHosts:
    """Where desk A and desk B run: one computer for a ledger file; two hosts for a team ledger, so that a claim
    made at one desk is judged at the other as another host's (its process id means nothing there)."""
    if ledger_backend == "postgresql":
        check_hosts_can_differ()
        return DeskHosts("desk-a", "desk-b")
    return DeskHosts(None, None)


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
def drivers(ledger_path: Path | str, sandbox: Sandbox) -> Iterator[Callable[..., Driver]]:
    """Starts driver processes on this test's ledger and sandbox; any still running at the end is killed."""
    started: list[Driver] = []

    def start(markers: Path, action: str, *ids: int, **options: Any) -> Driver:
        driver = start_driver(markers, ledger_path, sandbox, action, *ids, **options)
        started.append(driver)
        return driver

    yield start
    for driver in started:
        driver.stop()
