"""The provider-independent interface services use, and the frozen values it returns.

In the spirit of ccxt's unified methods: each provider module turns its own protocol into these shapes, so the
workflow never sees a wire format. Amounts are `Decimal`; each result keeps the provider's raw answer for the
ledger.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from treasury_app.domain.assets import Asset
from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.domain.payout_request import PayoutRequest
from treasury_app.domain.provider_capabilities import ProviderCapabilities


@dataclass(frozen=True)
class PayoutOption:
    """Something that can be paid out: an asset, its limits, the fee rule, and whether it is open now."""

    asset: Asset
    wire_code: str
    is_available: bool
    min_amount: Decimal | None
    max_amount: Decimal | None
    fee_fixed: Decimal | None
    fee_percent: Decimal | None


@dataclass(frozen=True)
class Estimate:
    """The provider's fee and net amount before anything moves, and what execution will need."""

    fee: Decimal
    net_amount: Decimal  # what the recipient receives
    total_debited: Decimal  # what leaves our balance
    warnings: tuple[str, ...]
    # What execution needs and may go stale (Pay3's order token); stored with the payout.
    execution_data: Mapping[str, Any]
    estimated_at: datetime
    # Pay3's estimate registers the order under the key at the provider; Cryptomus' preview does not.
    registers_order: bool
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderPayoutState:
    """What the provider says about one payout, mapped onto our lifecycle with the raw status beside it."""

    idempotency_key: str
    status: PayoutStatus
    provider_status: str
    is_final: bool
    provider_payout_id: str | None
    tx_hash: str | None
    paid_amount: Decimal | None
    failure_reason: str | None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Balance:
    """Money held at the provider in one currency (the wallet payouts are paid from)."""

    currency: str
    amount: Decimal
    raw: Mapping[str, Any] = field(default_factory=dict)


class PayoutProvider(Protocol):
    """What every provider client offers. Methods raise `providers.errors.ProviderError` subclasses only."""

    name: str
    # Why `balances()` may be incomplete or empty (Pay3 has no balance endpoint for crypto); None when complete.
    balances_note: str | None
    # Whether `estimate` registers the order under the key at the provider (then a fresh estimate needs a fresh
    # key, and the old one must never be executed).
    estimate_registers_order: bool
    # What it accepts for the payout's choices and its defaults (fee mode, priority, memo, assets).
    capabilities: ProviderCapabilities

    async def verify_credentials(self) -> None:
        """One cheap authenticated call: returns when the provider accepts the credentials."""
        ...

    async def payout_options(self) -> Sequence[PayoutOption]: ...

    async def estimate(self, request: PayoutRequest, idempotency_key: str) -> Estimate: ...

    async def submit(
        self, request: PayoutRequest, idempotency_key: str, execution_data: Mapping[str, Any]
    ) -> ProviderPayoutState: ...

    async def fetch_states(self, idempotency_keys: Sequence[str], *,
                           sent_since: datetime | None = None) -> Mapping[str, ProviderPayoutState | None]:
        """Current state per key; None where the provider has nothing under that key.

        `sent_since`, when given, is a moment (by the desk's clock) before which none of these payouts was sent:
        a provider with a history endpoint reads no further back than that (less its own margin for clocks).
        """
        ...

    async def balances(self) -> Sequence[Balance]: ...

    async def aclose(self) -> None: ...
