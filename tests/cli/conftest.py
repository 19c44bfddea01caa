"""Fixtures of the command-line tests: a data folder with operators of every role, a sandbox over loopback
whose payouts succeed unless a test says otherwise, and the app's command line run in-process (CliRunner)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

# The helper modules of the provider and service tests are reused, not copied.
_TESTS = Path(__file__).resolve().parents[1]
for _folder in ("providers", "services", "ledger"):
    if str(_TESTS / _folder) not in sys.path:
        sys.path.insert(0, str(_TESTS / _folder))

from desk_fixtures import TestClock, build_desk
from payout_cli_runner import CommandLine
from provider_fixtures import Sandbox

from treasury_app.app_paths import ledger_path
from treasury_app.ledger import open_ledger
from treasury_app.sandbox import ManualClock, SandboxConfig, start_in_background
from treasury_app.security.passwords import TEST_HASHING_ENV


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TEST_HASHING_ENV, "1")


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    sandbox_clock = ManualClock()
    running = start_in_background(SandboxConfig(port=0), clock=sandbox_clock)
    box = Sandbox(running, sandbox_clock, httpx.Client(base_url=running.base_url, timeout=10))
    yield box
    box.control.close()
    running.stop()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data folder whose ledger has the operators of `desk_fixtures.OPERATORS` (root is the admin)."""
    folder = tmp_path / "desk"
    clock = TestClock(datetime.now(UTC) - timedelta(hours=1))
    with open_ledger(ledger_path(folder), clock=clock) as ledger:
        build_desk(ledger, clock)
    return folder


@pytest.fixture
def cli(data_dir: Path, sandbox: Sandbox) -> CommandLine:
    return CommandLine(data_dir, sandbox.base_url)
