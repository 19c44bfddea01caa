"""How a simulated payout moves through its provider's statuses: decided once, when it is created.

Every payout succeeds, except test amounts (as payment sandboxes have them) and, when asked for, a share of
failures drawn from the seed and the payout's idempotency key. Timings are drawn the same way, so the same
seed gives every order the same fate and the same timings on every run; `speed` only compresses the timings.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


@dataclass(frozen=True)
class StatusStep:
    at: float  # epoch seconds on the sandbox clock
    status: str


@dataclass(frozen=True)
class StatusPlan:
    """The statuses a payout will show, in order; the last one is final."""

    steps: tuple[StatusStep, ...]

    def step_at(self, now: float) -> StatusStep:
        current = self.steps[0]
        for step in self.steps:
            if step.at <= now:
                current = step
        return current

    @property
    def final(self) -> StatusStep:
        return self.steps[-1]

    def is_final_at(self, now: float) -> bool:
        return now >= self.final.at

    def reached(self, status: str, now: float) -> bool:
        return any(step.status == status and step.at <= now for step in self.steps)


def seeded_random(seed: int, *parts: str) -> random.Random:
    # A str seed is hashed with SHA-512 by `random`, independent of PYTHONHASHSEED: stable across runs.
    return random.Random(":".join([str(seed), *parts]))


def seeded_uuid(seed: int, *parts: str) -> str:
    return str(uuid.UUID(int=seeded_random(seed, "uuid", *parts).getrandbits(128), version=4))


def seeded_tx_hash(seed: int, evm_style: bool, *parts: str) -> str:
    digits = f"{seeded_random(seed, 'tx', *parts).getrandbits(256):064x}"
    return f"0x{digits}" if evm_style else digits


CRYPTOMUS_OUTCOMES = ("paid", "fail", "system_fail", "cancel")
PAY3_OUTCOMES = ("COMPLETED", "FAILED", "ABANDONED")


class AmountFate(StrEnum):
    """What a test amount always does, whatever the seed: its decimals end in `FAILING_DECIMALS` or
    `CANCELLED_DECIMALS` (10.13 USDT and 0.00013 BTC fail; 10.14 USDT is cancelled)."""

    FAIL = "fail"
    CANCEL = "cancel"


FAILING_DECIMALS = "13"
CANCELLED_DECIMALS = "14"
_CRYPTOMUS_FATES = {AmountFate.FAIL: "fail", AmountFate.CANCEL: "cancel"}
_PAY3_FATES = {AmountFate.FAIL: "FAILED", AmountFate.CANCEL: "ABANDONED"}


def fate_of_amount(amount: Decimal) -> AmountFate | None:
    """The fate a test amount always has, or None for an ordinary amount (trailing zeros do not count)."""
    decimals = decimal_digits(amount)
    if decimals.endswith(FAILING_DECIMALS):
        return AmountFate.FAIL
    if decimals.endswith(CANCELLED_DECIMALS):
        return AmountFate.CANCEL
    return None


def decimal_digits(amount: Decimal) -> str:
    """The digits after the decimal point without trailing zeros: "13" for 10.130, "00013" for 0.00013."""
    _, digits, exponent = amount.normalize().as_tuple()
    if not isinstance(exponent, int) or exponent >= 0:
        return ""
    return "".join(map(str, digits)).rjust(-exponent, "0")[exponent:]


def cryptomus_plan(
    seed: int, order_id: str, amount: Decimal, start: float, speed: float, *, fail_share: float,
    system_fail_share: float, outcome: str | None = None,
) -> StatusPlan:
    """`process` → `check` → `paid` | `fail`; `system_fail` and `cancel` end straight from `process`.

    `outcome` (forced through the control API) wins; then a test amount's fate; then the seeded draw.
    """
    rng = seeded_random(seed, "cryptomus", order_id)
    draw = rng.random()
    fate = fate_of_amount(amount)
    if outcome is None and fate is not None:
        outcome = _CRYPTOMUS_FATES[fate]
    if outcome is None:
        outcome = "fail" if draw < fail_share else "system_fail" if draw < fail_share + system_fail_share else "paid"
    check_after = rng.uniform(10, 25)
    final_after = check_after + rng.uniform(20, 60)
    if outcome in ("system_fail", "cancel"):
        offsets = [(0.0, "process"), (check_after, outcome)]
    else:
        offsets = [(0.0, "process"), (check_after, "check"), (final_after, outcome)]
    return _scaled(offsets, start, speed)


def pay3_plan(
    seed: int, request_id: str, amount: Decimal, start: float, speed: float, *, fail_share: float,
    abandon_after: float, outcome: str | None = None,
) -> StatusPlan:
    """From execute: `ORDER_PAYMENT_PROCESSING` → `ORDER_PAYMENT_INITIATED` → `COMPLETED` | `FAILED`.

    An `ABANDONED` one stays in processing until the estimate's lifetime runs out. `outcome` (forced, or
    FAILED for want of balance) wins; then a test amount's fate; then the seeded draw.
    """
    rng = seeded_random(seed, "pay3", request_id)
    draw = rng.random()
    fate = fate_of_amount(amount)
    if outcome is None and fate is not None:
        outcome = _PAY3_FATES[fate]
    if outcome is None:
        outcome = "FAILED" if draw < fail_share else "COMPLETED"
    initiated_after = rng.uniform(5, 20)
    final_after = initiated_after + rng.uniform(20, 60)
    if outcome == "ABANDONED":
        offsets = [(0.0, "ORDER_PAYMENT_PROCESSING"), (abandon_after, "ABANDONED")]
    else:
        offsets = [(0.0, "ORDER_PAYMENT_PROCESSING"), (initiated_after, "ORDER_PAYMENT_INITIATED"),
                   (final_after, outcome)]
    return _scaled(offsets, start, speed)


def _scaled(offsets: list[tuple[float, str]], start: float, speed: float) -> StatusPlan:
    return StatusPlan(tuple(StatusStep(start + offset / speed, status) for offset, status in offsets))
