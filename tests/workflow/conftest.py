"""Fixtures of the workflow tests: a real ledger with operators of every role, and real provider clients
speaking to a sandbox over loopback (the providers are never mocked)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

# The helper modules of the provider and service tests are reused, not copied.
_TESTS = Path(__file__).resolve().parents[1]
for _folder in ("providers", "services", "ledger"):
    if str(_TESTS / _folder) not in sys.path:
        sys.path.insert(0, str(_TESTS / _folder))

from desk_fixtures import START, TestClock, TestDesk, build_desk
from provider_fixtures import FAST, Sandbox

from treasury_app.ledger import Ledger, open_ledger
from treasury_app.providers.cryptomus import CryptomusProfile, CryptomusProvider
from treasury_app.providers.pay3 import Pay3Profile, Pay3Provider
from treasury_app.sandbox import (
    DEFAULT_CRYPTOMUS_MERCHANT,
    DEFAULT_CRYPTOMUS_PAYOUT_KEY,
    DEFAULT_PAY3_API_SECRET,
    DEFAULT_PAY3_CLIENT_ID,
)
from treasury_app.security.passwords import TEST_HASHING_ENV
from treasury_app.services.payout_workflow import PayoutWorkflow


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TEST_HASHING_ENV, "1")


@pytest.fixture
def clock() -> TestClock:
    return TestClock()


@pytest.fixture
def ledger(tmp_path: Path, clock: TestClock) -> Iterator[Ledger]:
    with open_ledger(tmp_path / "desk" / "ledger.sqlite3", clock=clock) as opened:
        yield opened


@pytest.fixture
def desk(ledger: Ledger, clock: TestClock) -> TestDesk:
    return build_desk(ledger, clock)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """Its clock starts where the desk's does, as a real provider's reads about the desk's time: the poller
    reads Cryptomus's history back to when its payouts were sent, by the desk's clock."""
    box = Sandbox.start(clock_start=START.timestamp())
    yield box
    box.stop()


@pytest.fixture
async def providers(sandbox: Sandbox) -> AsyncIterator[dict[str, Any]]:
    clients: dict[str, Any] = {
        "cryptomus": CryptomusProvider(CryptomusProfile(merchant=DEFAULT_CRYPTOMUS_MERCHANT,
                                                        base_url=sandbox.base_url),
                                       DEFAULT_CRYPTOMUS_PAYOUT_KEY, settings=FAST),
        "pay3": Pay3Provider(Pay3Profile(base_url=sandbox.base_url, client_id=DEFAULT_PAY3_CLIENT_ID),
                             DEFAULT_PAY3_API_SECRET, settings=FAST),
    }
    yield clients
    for client in clients.values():
        await client.aclose()


@pytest.fixture
def workflow(ledger: Ledger, providers: dict[str, Any], clock: TestClock) -> PayoutWorkflow:
    return PayoutWorkflow(ledger, providers, clock)
