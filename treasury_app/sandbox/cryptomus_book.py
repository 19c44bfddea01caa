"""Cryptomus's side of the sandbox: merchant wallets, payouts, and the business rules of `/v1/payout`.

The HTTP shapes live in `cryptomus_api`; this module decides what happens, under one lock, so a payout is
created at most once per `order_id` whatever the concurrency.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from decimal import ROUND_DOWN, ROUND_UP, Decimal

from treasury_app.domain.addresses import validate_address
from treasury_app.domain.assets import AddressFormat
from treasury_app.domain.errors import InvalidFieldError
from treasury_app.domain.money import format_amount, parse_amount

from .clock import Clock
from .refund_queue import RefundQueue
from .config import CryptomusService, SandboxConfig
from .status_plans import CRYPTOMUS_OUTCOMES, StatusPlan, cryptomus_plan, seeded_tx_hash, seeded_uuid

FIAT_DECIMALS = 2
# Cryptomus: "the cost of the withdrawal fee depends on the selected priority" (BTC, ETH, POLYGON, BSC only).
PRIORITY_FEE_FACTORS = {"economy": Decimal("0.5"), "recommended": Decimal("1"), "high": Decimal("1.5"),
                        "highest": Decimal("2")}
REFUNDED_OUTCOMES = frozenset({"fail", "system_fail", "cancel"})


class CryptomusRefusal(Exception):
    """A documented business error: `{"state": 1, "message": ...}`."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CryptomusInvalid(Exception):
    """A validation error found once the service is known: HTTP 422 with the `errors` map."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(str(errors))
        self.errors = errors


@dataclass(frozen=True)
class PayoutOrder:
    """A create request whose fields have the right types and forms (see `cryptomus_validation`)."""

    order_id: str
    amount: Decimal
    currency: str
    network: str | None
    address: str
    is_subtract: bool
    url_callback: str | None = None
    to_currency: str | None = None
    from_currency: str | None = None
    course_source: str | None = None
    priority: str | None = None
    memo: str | None = None


@dataclass
class CryptomusPayout:
    seq: int
    uuid: str
    order: PayoutOrder
    service: CryptomusService
    payer_amount: Decimal
    fee: Decimal
    wallet: str  # the merchant wallet debited
    debited: Decimal
    created_at: float
    plan: StatusPlan
    txid: str
    plan_version: int = 0
    refunded: bool = False

    @property
    def payer_currency(self) -> str:
        return self.service.currency

    def status_at(self, now: float) -> str:
        return self.plan.step_at(now).status

    def updated_at(self, now: float) -> float:
        return self.plan.step_at(now).at

    def txid_at(self, now: float) -> str | None:
        return self.txid if self.plan.reached("paid", now) else None


@dataclass
class CryptomusSwitches:
    """Account-level states that block every create, switchable while the sandbox runs."""

    forbidden: bool = False  # "You are forbidden": payouts blocked, e.g. for 24 h after a key change
    terminal_not_found: bool = False  # "The terminal was not found": maintenance


@dataclass
class CryptomusBook:
    config: SandboxConfig
    clock: Clock
    switches: CryptomusSwitches
    wallets: dict[str, Decimal] = field(init=False)
    _by_uuid: dict[str, CryptomusPayout] = field(init=False)
    _by_order_id: dict[str, CryptomusPayout] = field(init=False)
    _forced: dict[str, str] = field(init=False)
    _refunds: RefundQueue = field(init=False)
    lock: threading.RLock = field(init=False, default_factory=threading.RLock)

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.wallets = {code.upper(): Decimal(v) for code, v in self.config.cryptomus_balances.items()}
            self._by_uuid, self._by_order_id, self._forced, self._refunds = {}, {}, {}, RefundQueue()

    # --- reading -------------------------------------------------------------------------------------

    def payouts(self) -> list[CryptomusPayout]:
        """Every payout, oldest first, with failed ones already refunded."""
        with self.lock:
            self.settle()
            return sorted(self._by_uuid.values(), key=lambda p: p.seq)

    def find(self, *, uuid: str | None = None, order_id: str | None = None) -> CryptomusPayout | None:
        with self.lock:
            self.settle()
            if order_id is not None:
                return self._by_order_id.get(order_id)
            return self._by_uuid.get(uuid or "")

    def wallet_balances(self) -> dict[str, Decimal]:
        with self.lock:
            self.settle()
            return dict(self.wallets)

    def settle(self) -> None:
        """Refund every payout whose failure has become final by now."""
        now = self.clock.now()
        with self.lock:
            for uuid, version in self._refunds.due(now):
                payout = self._by_uuid.get(uuid)
                if payout is None or payout.plan_version != version or payout.refunded:
                    continue
                payout.refunded = True
                self.wallets[payout.wallet] = self.wallets.get(payout.wallet, Decimal(0)) + payout.debited

    # --- changing ------------------------------------------------------------------------------------

    def create(self, order: PayoutOrder) -> tuple[CryptomusPayout, bool]:
        """The payout for this order_id: the existing one (False), or a new one (True) after every check."""
        with self.lock:
            self.settle()
            existing = self._by_order_id.get(order.order_id)
            if existing is not None:
                return existing, False
            if self.switches.forbidden:
                raise CryptomusRefusal("You are forbidden")
            if self.switches.terminal_not_found:
                raise CryptomusRefusal("The terminal was not found")
            service, is_fiat = self._service_for(order)
            asset = service.asset
            try:
                address = validate_address(asset.network, order.address)
            except InvalidFieldError:
                raise CryptomusInvalid({"address": ["validation.address"]}) from None
            payer_amount = self._payer_amount(order, service, is_fiat)
            self._check_limits(payer_amount, service)
            fee = self._fee(order, service, payer_amount)
            if not order.is_subtract and payer_amount <= fee:
                raise CryptomusRefusal("The withdrawal amount is too small")
            cost = payer_amount + fee if order.is_subtract else payer_amount
            wallet, debit = self._debit_for(order, service, cost)
            self.wallets[wallet] -= debit
            return self._record(order, service, address, payer_amount, fee, wallet, debit), True

    def force_outcome(self, order_id: str, outcome: str) -> bool:
        """Make this order end in `outcome`; True if it changed an existing payout, False if one to come."""
        if outcome not in CRYPTOMUS_OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(CRYPTOMUS_OUTCOMES)}")
        with self.lock:
            self.settle()
            payout = self._by_order_id.get(order_id)
            if payout is None:
                self._forced[order_id] = outcome
                return False
            if payout.plan.is_final_at(self.clock.now()):
                raise ValueError(f"payout {order_id} is already final")
            payout.plan_version += 1
            payout.plan = self._plan(payout.order, payout.created_at, outcome)
            self._schedule_refund(payout)
            return True

    # --- the rules -----------------------------------------------------------------------------------

    def _service_for(self, order: PayoutOrder) -> tuple[CryptomusService, bool]:
        is_fiat = order.currency in self.config.cryptomus_fiat_usd_rates
        known = {s.currency for s in self.config.cryptomus_services}
        if is_fiat:
            if order.to_currency is None:
                raise CryptomusInvalid({"to_currency": ["validation.required"]})
            if order.to_currency not in known:
                raise CryptomusRefusal("Not found service to_currency")
            payer = order.to_currency
        elif order.currency not in known:
            raise CryptomusRefusal("The currency was not found")
        else:
            payer = order.currency
        candidates = [s for s in self.config.cryptomus_services if s.currency == payer]
        if order.network is None:
            if len(candidates) > 1:
                raise CryptomusInvalid({"network": ["validation.required"]})
            matching = candidates
        else:
            matching = [s for s in candidates if s.network.upper() == order.network]
        if not matching or not matching[0].is_available:
            raise CryptomusRefusal("Not found service to_currency" if is_fiat else "The service was not found")
        return matching[0], is_fiat

    def _payer_amount(self, order: PayoutOrder, service: CryptomusService, is_fiat: bool) -> Decimal:
        decimals = service.asset.decimals
        if not is_fiat:
            try:
                return parse_amount(order.amount, decimals)
            except InvalidFieldError:
                raise CryptomusInvalid({"amount": ["validation.decimal"]}) from None
        try:
            parse_amount(order.amount, FIAT_DECIMALS)
        except InvalidFieldError:
            raise CryptomusInvalid({"amount": ["validation.decimal"]}) from None
        usd = order.amount * self.config.cryptomus_fiat_usd_rates[order.currency]
        rate = self.config.cryptomus_usd_rates.get(service.currency)
        if not rate:
            raise CryptomusRefusal("Error convert to_currency")
        converted = (usd / rate).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_DOWN)
        if converted <= 0:
            raise CryptomusRefusal("The withdrawal amount is too small")
        return converted

    def _check_limits(self, amount: Decimal, service: CryptomusService) -> None:
        if amount < service.min_amount:
            raise CryptomusRefusal(f"Minimum amount {_plain(service.min_amount)} {service.currency}")
        if amount > service.max_amount:
            raise CryptomusRefusal(f"Maximum amount {_plain(service.max_amount)} {service.currency}")

    def _fee(self, order: PayoutOrder, service: CryptomusService, amount: Decimal) -> Decimal:
        factor = Decimal(1)
        if order.priority and service.asset.network.supports_priority:
            factor = PRIORITY_FEE_FACTORS[order.priority]
        fee = service.fee_amount * factor + amount * service.percent / 100
        return fee.quantize(Decimal(1).scaleb(-service.asset.decimals), rounding=ROUND_UP)

    def _debit_for(self, order: PayoutOrder, service: CryptomusService, cost: Decimal) -> tuple[str, Decimal]:
        if order.from_currency == "USDT" and service.currency != "USDT":
            rates = self.config.cryptomus_usd_rates
            if not rates.get(service.currency) or not rates.get("USDT"):
                raise CryptomusRefusal("Error convert to_currency")
            cost = (cost * rates[service.currency] / rates["USDT"]).quantize(Decimal("0.000001"), rounding=ROUND_UP)
            if "USDT" not in self.wallets:
                raise CryptomusRefusal("Wallet not found")
            if self.wallets["USDT"] < cost:
                raise CryptomusRefusal(f"Not enough balance for convert USDT to {service.currency}")
            return "USDT", cost
        if service.currency not in self.wallets:
            raise CryptomusRefusal("Wallet not found")
        if self.wallets[service.currency] < cost:
            raise CryptomusRefusal("Not enough funds")
        return service.currency, cost

    def _record(self, order: PayoutOrder, service: CryptomusService, address: str, payer_amount: Decimal,
                fee: Decimal, wallet: str, debit: Decimal) -> CryptomusPayout:
        now = self.clock.now()
        seed = self.config.seed
        evm = service.asset.network.address_format is AddressFormat.EVM
        payout = CryptomusPayout(
            seq=len(self._by_uuid) + 1,
            uuid=seeded_uuid(seed, "cryptomus", order.order_id),
            order=replace(order, address=address),
            service=service, payer_amount=payer_amount, fee=fee, wallet=wallet, debited=debit, created_at=now,
            plan=self._plan(order, now, self._forced.pop(order.order_id, None)),
            txid=seeded_tx_hash(seed, evm, "cryptomus", order.order_id),
        )
        self._by_uuid[payout.uuid] = payout
        self._by_order_id[order.order_id] = payout
        self._schedule_refund(payout)
        return payout

    def _plan(self, order: PayoutOrder, start: float, outcome: str | None) -> StatusPlan:
        # The amount as the order sent it decides a test amount's fate (a fiat amount, before conversion).
        return cryptomus_plan(
            self.config.seed, order.order_id, order.amount, start, self.config.speed,
            fail_share=self.config.cryptomus_fail_share, system_fail_share=self.config.cryptomus_system_fail_share,
            outcome=outcome,
        )

    def _schedule_refund(self, payout: CryptomusPayout) -> None:
        if payout.plan.final.status in REFUNDED_OUTCOMES:
            self._refunds.schedule(payout.plan.final.at, payout.seq, payout.uuid, payout.plan_version)


def _plain(amount: Decimal) -> str:
    """`0.5`, `10000000`: the documented messages write limits without padding."""
    return format_amount(amount.normalize())
