"""Helpers of the provider tests: a sandbox handle with its control endpoints, addresses, payout requests."""

from __future__ import annotations

import socket
from dataclasses import dataclass, replace
from typing import Any

import httpx

from treasury_app.domain.payout_request import PayoutRequest, compose_payout
from treasury_app.providers.http_transport import HttpSettings
from treasury_app.sandbox import (
    ManualClock,
    RunningSandbox,
    SandboxConfig,
    start_in_background,
)
from treasury_app.sandbox.clock import MANUAL_CLOCK_START

TRON_ADDRESS = "TDD97yguPESTpcrJMqU6h2ozZbibv4Vaqm"
TRON_ADDRESS_2 = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
EVM_ADDRESS = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
BTC_ADDRESS = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
BTC_TESTNET_ADDRESS = "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"
DOGE_ADDRESS = "DH5yaieqoZN36fDVciNyRueRGvGLR3mr7L"
TON_ADDRESS = "EQD4FPq-PRDieyQKkizFTRtSDyucUIqrj0v_zXJmqaDp6_0t"

# One small payout per provider, as the workflow's compose takes it: the workflow, poller and reliability tests
# all pay these.
PAYOUT_FIELDS: dict[str, dict[str, Any]] = {
    "cryptomus": {"provider": "cryptomus", "currency": "USDT", "network": "TRON", "address": TRON_ADDRESS,
                  "amount": "10.5"},
    "pay3": {"provider": "pay3", "currency": "BTC", "network": "BTC_TESTNET", "address": BTC_TESTNET_ADDRESS,
             "amount": "0.001", "fee_mode": "from_amount"},
}
PROVIDER_NAMES = sorted(PAYOUT_FIELDS)

# Short back-offs: a fault is met in a fraction of a second, not after the production delays. The timeouts stay
# generous (a loaded CI machine must not turn a slow answer into a false failure); IMPATIENT is for the tests
# that inject latency on purpose.
FAST = HttpSettings(connect_timeout=5, read_timeout=5, write_timeout=5, pool_timeout=5, max_attempts=3,
                    retry_backoff_seconds=0.01, max_retry_after_seconds=1)
IMPATIENT = HttpSettings(connect_timeout=5, read_timeout=0.5, write_timeout=5, pool_timeout=5, max_attempts=3,
                         retry_backoff_seconds=0.01, max_retry_after_seconds=1)


# The sockets behind closed_port_url, bound and never listening, kept for the test process's life.
_HELD_PORTS: list[socket.socket] = []


def closed_port_url() -> str:
    """A loopback URL where nothing listens (a sandbox that is not running): every connection is refused.

    The port stays bound by a socket that never listens (Linux answers a connection to it with a reset). A port
    merely found free and let go was taken, now and then, by a server another test started meanwhile (a sandbox,
    a PostgreSQL cluster), and the "unreachable" provider then answered."""
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    _HELD_PORTS.append(holder)
    return f"http://127.0.0.1:{holder.getsockname()[1]}"


@dataclass
class Sandbox:
    """A running sandbox and its control endpoints, spoken to over loopback HTTP."""

    running: RunningSandbox
    clock: ManualClock
    control: httpx.Client

    @classmethod
    def start(cls, *, clock_start: float = MANUAL_CLOCK_START, **overrides: Any) -> Sandbox:
        """A sandbox on a free loopback port with its own manual clock, standing at `clock_start` (seconds since
        the epoch) until told to move; `overrides` change its config."""
        clock = ManualClock(clock_start)
        running = start_in_background(replace(SandboxConfig(port=0), **overrides), clock=clock)
        return cls(running, clock, httpx.Client(base_url=running.base_url, timeout=10))

    def stop(self) -> None:
        self.control.close()
        self.running.stop()

    @property
    def base_url(self) -> str:
        return self.running.base_url

    def add_faults(self, *specs: str) -> None:
        response = self.control.post("/_sandbox/faults", json={"faults": list(specs)})
        assert response.status_code == 200, response.text

    def clear_faults(self) -> None:
        assert self.control.delete("/_sandbox/faults").status_code == 200

    def switch(self, **switches: bool) -> None:
        assert self.control.post("/_sandbox/switches", json=switches).status_code == 200

    def force_outcome(self, provider: str, key: str, outcome: str) -> None:
        response = self.control.post("/_sandbox/outcomes", json={"provider": provider, "id": key, "outcome": outcome})
        assert response.status_code == 200, response.text

    def advance(self, seconds: float) -> None:
        response = self.control.post("/_sandbox/advance", json={"seconds": seconds})
        assert response.status_code == 200, response.text

    def payouts(self, provider: str | None = None) -> list[dict[str, Any]]:
        params = {"provider": provider} if provider else None
        return self.control.get("/_sandbox/payouts", params=params).json()["payouts"]


class RecordingTransport(httpx.AsyncBaseTransport):
    """The real HTTP transport, noting every request that goes through it (the provider is not mocked)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def paths(self) -> list[str]:
        return [request.url.path for request in self.requests]


def usdt_tron(amount: str = "10.5", **fields: Any) -> PayoutRequest:
    return compose_payout(provider="cryptomus", currency="USDT", network="TRON", address=TRON_ADDRESS,
                          amount=amount, **fields)


def btc_testnet(amount: str = "0.001", **fields: Any) -> PayoutRequest:
    fields.setdefault("fee_mode", "from_amount")
    return compose_payout(provider="pay3", currency="BTC", network="BTC_TESTNET", address=BTC_TESTNET_ADDRESS,
                          amount=amount, **fields)
