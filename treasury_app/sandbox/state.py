"""Everything one sandbox run holds in memory: both providers' books, the faults in force, the clock.

Handlers run on the server's event loop; a test reads the same object from its own thread, which is why the
books lock their own data.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from aiohttp import web

from treasury_app.domain.money import format_amount

from .clock import Clock, SystemClock
from .config import SandboxConfig
from .cryptomus_book import CryptomusBook, CryptomusPayout, CryptomusSwitches
from .faults import FaultBoard
from .pay3_auth import AccessTokens
from .pay3_book import Pay3Book, Pay3Order


class SandboxState:
    def __init__(self, config: SandboxConfig, clock: Clock | None = None) -> None:
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.switches = CryptomusSwitches(config.cryptomus_forbidden, config.cryptomus_terminal_not_found)
        self.faults = FaultBoard(config.faults)
        self.cryptomus = CryptomusBook(config, self.clock, self.switches)
        self.pay3 = Pay3Book(config, self.clock)
        self.pay3_tokens = AccessTokens(self.clock, config.pay3_token_lifetime)

    def reset(self) -> None:
        """Back to the start: initial balances, no payouts, the configured faults and switches."""
        self.cryptomus.reset()
        self.pay3.reset()
        self.faults.replace(self.config.faults)
        self.switches.forbidden = self.config.cryptomus_forbidden
        self.switches.terminal_not_found = self.config.cryptomus_terminal_not_found

    def all_payouts(self, provider: str | None = None) -> list[dict]:
        """Every payout either provider has recorded, as the control endpoint lists them."""
        now = self.clock.now()
        listed: list[dict] = []
        if provider in (None, "cryptomus"):
            listed.extend(_cryptomus_row(p, now) for p in self.cryptomus.payouts())
        if provider in (None, "pay3"):
            listed.extend(_pay3_row(o, now) for o in self.pay3.orders())
        return listed

    def balances(self) -> dict[str, dict[str, str]]:
        return {
            "cryptomus": _texts(self.cryptomus.wallet_balances()),
            "pay3": _texts(self.pay3.all_balances()),
        }


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def _texts(amounts: dict[str, Decimal]) -> dict[str, str]:
    return {code: format_amount(amount) for code, amount in amounts.items()}


def _cryptomus_row(payout: CryptomusPayout, now: float) -> dict:
    asset = payout.service.asset
    return {
        "provider": "cryptomus",
        "id": payout.uuid,
        "idempotency_key": payout.order.order_id,
        "asset": asset.code,
        "currency": payout.order.currency,
        "network": payout.service.network,
        "address": payout.order.address,
        "amount": format_amount(payout.order.amount),
        "fee": format_amount(payout.fee),
        "debited": format_amount(payout.debited),
        "wallet": payout.wallet,
        "executed": True,
        "status": payout.status_at(now),
        "is_final": payout.plan.is_final_at(now),
        "refunded": payout.refunded,
        "created_at": _iso(payout.created_at),
    }


def _pay3_row(order: Pay3Order, now: float) -> dict:
    return {
        "provider": "pay3",
        "id": order.order_id,
        "idempotency_key": order.request_id,
        "asset": order.currency.asset.code,
        "currency": order.currency.code,
        "network": order.currency.asset.network.code,
        "address": order.address,
        "amount": format_amount(order.amount),
        "fee": format_amount(order.fees),
        "debited": format_amount(order.debited),
        "wallet": order.currency.code,
        # An estimate moves nothing; only an executed order pays.
        "executed": order.plan is not None,
        "status": order.status_at(now),
        "is_final": order.is_final_at(now),
        "refunded": order.refunded,
        "created_at": _iso(order.created_at),
    }


STATE_KEY = web.AppKey("sandbox_state", SandboxState)
