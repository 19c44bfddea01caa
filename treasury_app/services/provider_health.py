"""Whether each provider answers, learnt from every call the desk makes to it (estimates, sends, polls,
checks): when it was last asked, when it last answered, and what went wrong if it did not.

A refusal is an answer (the provider is there and said no); only an unreachable provider, a timeout, a 5xx or
an unreadable answer counts against it, and a 429 says it is there but busy.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from types import MappingProxyType
from typing import Any, TypeVar

from treasury_app.domain.payout_request import PayoutRequest
from treasury_app.ledger.timestamps import utc_now
from treasury_app.providers.errors import (
    OutcomeUnknownError,
    ProviderError,
    ProviderUnavailableError,
    RateLimitedError,
    UnexpectedAnswerError,
)
from treasury_app.providers.interface import Balance, Estimate, PayoutOption, PayoutProvider, ProviderPayoutState

from .provider_status import ProviderStatus, Reachability

T = TypeVar("T")
log = logging.getLogger(__name__)


Listener = Callable[[ProviderStatus], None]


class ProviderHealth:
    """The status of every provider the desk talks to; `subscribe` to hear of each change."""

    def __init__(self, names: Sequence[str], clock: Callable[[], datetime] = utc_now) -> None:
        self._clock = clock
        self._statuses = {name: ProviderStatus(name) for name in names}
        self._listeners: list[Listener] = []

    @property
    def statuses(self) -> Mapping[str, ProviderStatus]:
        return MappingProxyType(self._statuses)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def record(self, name: str, error: BaseException | None) -> None:
        now = self._clock()
        before = self._statuses.get(name, ProviderStatus(name))
        if error is None or (isinstance(error, ProviderError) and not _counts_against(error)):
            after = replace(before, reachability=Reachability.ANSWERING, last_asked_at=now, last_answer_at=now,
                            problem=None)
        elif isinstance(error, RateLimitedError):
            after = replace(before, reachability=Reachability.BUSY, last_asked_at=now, last_answer_at=now,
                            problem=str(error))
        else:
            after = replace(before, reachability=Reachability.UNREACHABLE, last_asked_at=now, problem=str(error))
        self._statuses[name] = after
        if after != before:
            for listener in list(self._listeners):
                try:
                    listener(after)
                except Exception:  # a closed window's listener must not break a provider call
                    log.exception("a listener of provider status failed")

    def watched(self, client: PayoutProvider) -> PayoutProvider:
        """`client`, with every call's outcome recorded here."""
        return HealthRecordingClient(client, self)


def _counts_against(error: ProviderError) -> bool:
    return isinstance(error, ProviderUnavailableError | OutcomeUnknownError | UnexpectedAnswerError)


class HealthRecordingClient:
    """A provider client whose calls report to `ProviderHealth`; everything else passes through."""

    def __init__(self, inner: PayoutProvider, health: ProviderHealth) -> None:
        self._inner = inner
        self._health = health
        self.name = inner.name
        self.balances_note = inner.balances_note
        self.estimate_registers_order = inner.estimate_registers_order

    def __getattr__(self, attribute: str) -> Any:
        if attribute == "_inner":
            raise AttributeError(attribute)
        return getattr(self._inner, attribute)

    async def verify_credentials(self) -> None:
        await self._recorded(self._inner.verify_credentials())

    async def payout_options(self) -> Sequence[PayoutOption]:
        return await self._recorded(self._inner.payout_options())

    async def estimate(self, request: PayoutRequest, idempotency_key: str) -> Estimate:
        return await self._recorded(self._inner.estimate(request, idempotency_key))

    async def submit(self, request: PayoutRequest, idempotency_key: str,
                     execution_data: Mapping[str, Any]) -> ProviderPayoutState:
        return await self._recorded(self._inner.submit(request, idempotency_key, execution_data))

    async def fetch_states(self, idempotency_keys: Sequence[str], *,
                           sent_since: datetime | None = None) -> Mapping[str, ProviderPayoutState | None]:
        return await self._recorded(self._inner.fetch_states(idempotency_keys, sent_since=sent_since))

    async def balances(self) -> Sequence[Balance]:
        return await self._recorded(self._inner.balances())

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def _recorded(self, call: Awaitable[T]) -> T:
        try:
            result = await call
        except Exception as error:
            self._health.record(self.name, error)
            raise
        self._health.record(self.name, None)
        return result
