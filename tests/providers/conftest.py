"""Fixtures: sandboxes on free loopback ports with manual clocks, provider clients for them, test keyrings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import keyring
import pytest
from provider_fixtures import FAST, Sandbox
from provider_test_keyrings import MemoryKeyring

from treasury_app.providers.cryptomus import CryptomusProfile, CryptomusProvider
from treasury_app.providers.http_transport import HttpSettings
from treasury_app.providers.pay3 import Pay3Profile, Pay3Provider
from treasury_app.sandbox import (
    DEFAULT_CRYPTOMUS_MERCHANT,
    DEFAULT_CRYPTOMUS_PAYOUT_KEY,
    DEFAULT_PAY3_API_SECRET,
    DEFAULT_PAY3_CLIENT_ID,
)


@pytest.fixture
def start_sandbox() -> Iterator[Any]:
    """Start sandboxes with config overrides, each on a free port with its own manual clock; stops them all."""
    started: list[Sandbox] = []

    def start(**overrides: Any) -> Sandbox:
        box = Sandbox.start(**overrides)
        started.append(box)
        return box

    yield start
    for box in started:
        box.stop()


@pytest.fixture
def sandbox(start_sandbox: Any) -> Sandbox:
    return start_sandbox()


@pytest.fixture
async def open_clients() -> AsyncIterator[list[Any]]:
    clients: list[Any] = []
    yield clients
    for client in clients:
        await client.aclose()


@pytest.fixture
def cryptomus_for(open_clients: list[Any]) -> Any:
    """A Cryptomus client for a sandbox (default credentials unless told otherwise)."""

    def make(box: Sandbox, *, key: str = DEFAULT_CRYPTOMUS_PAYOUT_KEY, merchant: str = DEFAULT_CRYPTOMUS_MERCHANT,
             settings: HttpSettings = FAST, transport: httpx.AsyncBaseTransport | None = None,
             **profile: Any) -> CryptomusProvider:
        client = CryptomusProvider(CryptomusProfile(merchant=merchant, base_url=box.base_url, **profile), key,
                                   settings=settings, transport=transport)
        open_clients.append(client)
        return client

    return make


@pytest.fixture
def pay3_for(open_clients: list[Any]) -> Any:
    """A Pay3 client for a sandbox (default credentials unless told otherwise)."""

    def make(box: Sandbox, *, secret: str = DEFAULT_PAY3_API_SECRET, client_id: str = DEFAULT_PAY3_CLIENT_ID,
             settings: HttpSettings = FAST, transport: httpx.AsyncBaseTransport | None = None,
             **options: Any) -> Pay3Provider:
        profile_fields = {k: options.pop(k) for k in ("currencies", "decisions", "payer_email") if k in options}
        client = Pay3Provider(Pay3Profile(base_url=box.base_url, client_id=client_id, **profile_fields), secret,
                              settings=settings, transport=transport, **options)
        open_clients.append(client)
        return client

    return make


@pytest.fixture
def cryptomus(sandbox: Sandbox, cryptomus_for: Any) -> CryptomusProvider:
    return cryptomus_for(sandbox)


@pytest.fixture
def pay3(sandbox: Sandbox, pay3_for: Any) -> Pay3Provider:
    return pay3_for(sandbox)


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    """Every test starts with an empty in-memory keyring, so none can touch this computer's real one."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)
