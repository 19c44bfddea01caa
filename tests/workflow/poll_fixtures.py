"""Helpers of the poller tests: payouts that really exist at the sandbox with their ledger rows in flight, the
requests the sandbox served (its own access log), and a transport that measures requests in flight."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import httpx
from provider_fixtures import PAYOUT_FIELDS, PROVIDER_NAMES

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.domain.payout_request import PayoutRequest, compose_payout, new_idempotency_key
from treasury_app.ledger import ImportedPayout, Ledger, PayoutFilter, PayoutRecord
from treasury_app.providers.interface import PayoutProvider

FIELDS = PAYOUT_FIELDS
PROVIDERS = PROVIDER_NAMES
# Each provider's final status when the payout is paid, as the sandbox's outcome switch names it.
PAID = {"cryptomus": "paid", "pay3": "COMPLETED"}


def request_for(provider: str) -> PayoutRequest:
    return compose_payout(**FIELDS[provider])


async def sent_at_provider(provider: PayoutProvider, request: PayoutRequest, key: str) -> str:
    """Send a payout through the real client (estimate first where the provider needs it); its raw status."""
    execution: dict[str, Any] = {}
    if provider.estimate_registers_order:
        execution = dict((await provider.estimate(request, key)).execution_data)
    return (await provider.submit(request, key, execution)).provider_status


async def in_flight(ledger: Ledger, providers: dict[str, PayoutProvider], provider: str, count: int,
                    now: datetime) -> list[PayoutRecord]:
    """`count` payouts sent to the sandbox through the real client, and in the ledger as `processing` under the
    same keys (imported, as payouts made elsewhere are: quicker than the whole workflow, and just as real)."""
    request = request_for(provider)
    keys = [new_idempotency_key() for _ in range(count)]
    statuses = await asyncio.gather(*(sent_at_provider(providers[provider], request, key) for key in keys))
    ledger.payouts.import_payouts(
        [ImportedPayout(request=request, idempotency_key=key, status=PayoutStatus.PROCESSING, created_at=now,
                        created_by="alice", provider_status=status) for key, status in zip(keys, statuses)],
        actor="alice")
    return [ledger.payouts.find_by_key(key) for key in keys]  # type: ignore[misc]


def of_provider(ledger: Ledger, provider: str) -> list[PayoutRecord]:
    return ledger.payouts.page(PayoutFilter(provider=provider), limit=10_000)


class SandboxRequests:
    """What the sandbox itself served, read from its access log: e.g. `count("/v1/payout/")`."""

    LOGGER = "treasury_app.sandbox.access"

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._lock = threading.Lock()
        self._handler = logging.Handler()
        self._handler.emit = self._note  # type: ignore[method-assign]

    def _note(self, record: logging.LogRecord) -> None:
        with self._lock:
            self.lines.append(record.getMessage())

    @classmethod
    @contextmanager
    def attached(cls) -> Iterator[SandboxRequests]:
        counter = cls()
        logger = logging.getLogger(cls.LOGGER)
        level = logger.level
        logger.addHandler(counter._handler)
        logger.setLevel(logging.INFO)
        try:
            yield counter
        finally:
            logger.removeHandler(counter._handler)
            logger.setLevel(level)

    def paths(self) -> Counter[str]:
        with self._lock:
            # An access-log line holds the request line: '… "POST /v1/payout/list HTTP/1.1" 200 …'.
            return Counter(line.split('"')[1].split()[1].split("?")[0] for line in self.lines if '"' in line)

    def count(self, prefix: str) -> int:
        return sum(n for path, n in self.paths().items() if path.startswith(prefix))

    def clear(self) -> None:
        with self._lock:
            self.lines.clear()


class InFlightTransport(httpx.AsyncBaseTransport):
    """The real HTTP transport, measuring how many requests are in flight at once: from sending the request
    until its answer's body is read and closed."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.now = 0
        self.peak = 0
        self.sent = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.now += 1
        self.sent += 1
        self.peak = max(self.peak, self.now)
        try:
            response = await self.inner.handle_async_request(request)
        except BaseException:
            self.now -= 1
            raise
        return httpx.Response(response.status_code, headers=response.headers,
                              stream=_Counted(response.stream, self), extensions=response.extensions)

    async def aclose(self) -> None:
        await self.inner.aclose()


class _Counted(httpx.AsyncByteStream):
    def __init__(self, inner: Any, transport: InFlightTransport) -> None:
        self._inner = inner
        self._transport = transport
        self._closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            self._transport.now -= 1
        await self._inner.aclose()
