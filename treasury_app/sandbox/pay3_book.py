"""Pay3's side of the sandbox: the client's balances and crypto payout orders, estimate then execute.

An estimate (`createEstimate`) records the order and moves no money; execute debits the amount (Pay3 takes
its fee out of it) and starts the status plan; a failed order is refunded when its failure becomes final.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from decimal import Decimal

from treasury_app.domain.addresses import validate_address
from treasury_app.domain.assets import AddressFormat
from treasury_app.domain.errors import InvalidFieldError
from treasury_app.domain.money import format_amount, parse_amount

from .clock import Clock
from .refund_queue import RefundQueue
from .config import Pay3Currency, SandboxConfig
from .status_plans import PAY3_OUTCOMES, StatusPlan, pay3_plan, seeded_tx_hash, seeded_uuid

PARTNER_ERROR = ("9004", "Error while the payment partner processed the payment")
REFUNDED_OUTCOMES = frozenset({"FAILED", "ABANDONED"})


class Pay3Refusal(Exception):
    """An answer in Pay3's error shape: HTTP status, `error.code`, `error.message`."""

    def __init__(self, http_status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.code = code
        self.message = message


def bad_request(message: str) -> Pay3Refusal:
    return Pay3Refusal(400, "400", message)


@dataclass
class Pay3Order:
    seq: int
    order_id: str
    request_id: str
    client_id: str
    currency: Pay3Currency
    address: str
    amount: Decimal
    fees: Decimal
    payer_email: str
    token: str  # the estimate's token, needed to execute
    created_at: float
    abandon_at: float  # when an estimate that was never executed becomes ABANDONED
    txn_hash: str
    executed_at: float | None = None
    plan: StatusPlan | None = None
    plan_version: int = 0
    debited: Decimal = Decimal(0)
    refunded: bool = False
    error_reason: tuple[str, str] = PARTNER_ERROR

    @property
    def net_amount(self) -> Decimal:
        return self.amount - self.fees

    def status_at(self, now: float) -> str:
        if self.plan is None:
            return "CREATED" if now < self.abandon_at else "ABANDONED"
        return self.plan.step_at(now).status

    def updated_at(self, now: float) -> float:
        if self.plan is None:
            return self.created_at if now < self.abandon_at else self.abandon_at
        return self.plan.step_at(now).at

    def is_final_at(self, now: float) -> bool:
        return self.status_at(now) in ("COMPLETED", "FAILED", "ABANDONED")

    def txn_hash_at(self, now: float) -> str:
        shown = self.plan is not None and (
            self.plan.reached("ORDER_PAYMENT_INITIATED", now) and self.status_at(now) != "FAILED"
        )
        return self.txn_hash if shown else ""


@dataclass
class Pay3Book:
    config: SandboxConfig
    clock: Clock
    balances: dict[str, Decimal] = field(init=False)
    _orders: dict[str, Pay3Order] = field(init=False)
    _forced: dict[str, str] = field(init=False)
    _refunds: RefundQueue = field(init=False)
    lock: threading.RLock = field(init=False, default_factory=threading.RLock)

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.balances = {code: Decimal(v) for code, v in self.config.pay3_balances.items()}
            self._orders, self._forced, self._refunds = {}, {}, RefundQueue()

    # --- reading -------------------------------------------------------------------------------------

    def orders(self) -> list[Pay3Order]:
        with self.lock:
            self.settle()
            return sorted(self._orders.values(), key=lambda o: o.seq)

    def find(self, request_id: str) -> Pay3Order | None:
        with self.lock:
            self.settle()
            return self._orders.get(request_id)

    def all_balances(self) -> dict[str, Decimal]:
        with self.lock:
            self.settle()
            return dict(self.balances)

    def settle(self) -> None:
        now = self.clock.now()
        with self.lock:
            for request_id, version in self._refunds.due(now):
                order = self._orders.get(request_id)
                if order is None or order.plan_version != version or order.refunded or not order.debited:
                    continue
                order.refunded = True
                self.balances[order.currency.code] += order.debited

    # --- changing ------------------------------------------------------------------------------------

    def create_estimate(self, *, client_id: str, request_id: str, currency_code: str, address: str,
                        amount: object, payer_email: str) -> tuple[Pay3Order, str | None]:
        """Record the order (status CREATED) and answer its fees and the low-balance warning, if any."""
        with self.lock:
            self.settle()
            if request_id in self._orders:
                raise Pay3Refusal(400, "7001", "Order already exists for given requestId")
            currency = self.config.pay3_currency(currency_code)
            if currency is None:
                raise bad_request(f"Currency {currency_code} is not enabled for this client")
            asset = currency.asset
            try:
                clean_address = validate_address(asset.network, address)
            except InvalidFieldError as error:
                raise bad_request(f"Invalid address for {currency.code}: {error.message}") from None
            try:
                value = parse_amount(amount, asset.decimals, unit=currency.code)
            except InvalidFieldError as error:
                raise bad_request(f"Invalid amount: {error.message}") from None
            if value <= currency.fee:
                raise bad_request(f"Amount must be greater than the estimated fees ({format_amount(currency.fee)})")
            now = self.clock.now()
            seed = self.config.seed
            evm = asset.network.address_format is AddressFormat.EVM
            order = Pay3Order(
                seq=len(self._orders) + 1, order_id=seeded_uuid(seed, "pay3-order", request_id),
                request_id=request_id, client_id=client_id, currency=currency, address=clean_address,
                amount=value, fees=currency.fee, payer_email=payer_email,
                token=seeded_uuid(seed, "pay3-token", request_id), created_at=now,
                abandon_at=now + self.config.pay3_estimate_lifetime,  # not sped up: see the config
                txn_hash=seeded_tx_hash(seed, evm, "pay3", request_id),
            )
            self._orders[request_id] = order
            return order, self._low_balance_warning(currency)

    def execute(self, *, client_id: str, request_id: str, token: str) -> Pay3Order:
        with self.lock:
            self.settle()
            order = self._orders.get(request_id)
            if order is None or order.client_id != client_id:
                raise bad_request("Order not found for given requestId")
            if token != order.token:
                raise bad_request("Invalid token for given requestId")
            now = self.clock.now()
            if order.plan is not None:
                raise bad_request("Order already executed for given requestId")
            if now >= order.abandon_at:
                raise bad_request("Order expired for given requestId")
            order.executed_at = now
            outcome = self._forced.pop(request_id, None)
            code = order.currency.code
            if self.balances.get(code, Decimal(0)) >= order.amount:
                self.balances[code] -= order.amount
                order.debited = order.amount
            else:
                outcome = "FAILED"
                order.error_reason = ("9004", f"Insufficient {code} balance to pay the order")
            order.plan = self._plan(order, outcome)
            self._schedule_refund(order)
            return order

    def force_outcome(self, request_id: str, outcome: str) -> bool:
        """Make this order end in `outcome`; True if it changed an executed order, False if one to come."""
        if outcome not in PAY3_OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(PAY3_OUTCOMES)}")
        with self.lock:
            self.settle()
            order = self._orders.get(request_id)
            if order is None or order.plan is None:
                self._forced[request_id] = outcome
                return False
            if order.is_final_at(self.clock.now()):
                raise ValueError(f"order {request_id} is already final")
            order.plan_version += 1
            order.plan = self._plan(order, outcome)
            self._schedule_refund(order)
            return True

    def _plan(self, order: Pay3Order, outcome: str | None) -> StatusPlan:
        assert order.executed_at is not None
        return pay3_plan(
            self.config.seed, order.request_id, order.amount, order.executed_at, self.config.speed,
            fail_share=self.config.pay3_fail_share, abandon_after=self.config.pay3_estimate_lifetime,
            outcome=outcome,
        )

    def _schedule_refund(self, order: Pay3Order) -> None:
        assert order.plan is not None
        if order.plan.final.status in REFUNDED_OUTCOMES:
            self._refunds.schedule(order.plan.final.at, order.seq, order.request_id, order.plan_version)

    def _low_balance_warning(self, currency: Pay3Currency) -> str | None:
        balance = self.balances.get(currency.code, Decimal(0))
        threshold = self.config.pay3_low_balance_threshold
        if balance >= threshold:
            return None
        # The documented wording: "The BTC-BitcoinTestnet balance (0.0031) is below the configured threshold
        # (100.0000)".
        shown_balance = format_amount(balance.normalize(), 4)
        shown_threshold = format_amount(threshold.normalize(), 4)
        return (f"The {currency.code} balance ({shown_balance}) is below the configured threshold "
                f"({shown_threshold})")
