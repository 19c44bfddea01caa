"""Whether a refreshed estimate still matches what a person confirmed (and an approver approved).

A stale estimate is asked again before executing. When the fee rose, or the amount the recipient receives fell,
by more than the tolerance, the payout must not leave on the old confirmation: the person has to see the new
figures. A move in the company's favour (a lower fee) never stops a payout.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .errors import InvalidFieldError
from .money import format_amount

DEFAULT_FEE_TOLERANCE = Decimal("0.05")


@dataclass(frozen=True)
class EstimateFigures:
    fee: Decimal
    net_amount: Decimal


def parse_tolerance(value: Decimal | str | int) -> Decimal:
    """A tolerance as a fraction: "0.05" is 5 %. Between 0 and 1, exact."""
    try:
        tolerance = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except ArithmeticError:
        raise InvalidFieldError("fee_tolerance", f"'{value}' is not a number (write 0.05 for 5 %)") from None
    if isinstance(value, float) or not tolerance.is_finite() or not Decimal(0) <= tolerance <= Decimal(1):
        raise InvalidFieldError("fee_tolerance", "must be a fraction between 0 and 1 (0.05 is 5 %)")
    return tolerance


def estimate_drift(confirmed: EstimateFigures, fresh: EstimateFigures, tolerance: Decimal, currency: str) -> tuple[str, ...]:
    """What moved beyond the tolerance, one sentence each; empty when the fresh estimate may be used as is."""
    moves: list[str] = []
    fee_allowed = confirmed.fee * tolerance
    if fresh.fee - confirmed.fee > fee_allowed:
        moves.append(f"the fee rose from {format_amount(confirmed.fee)} to {format_amount(fresh.fee)} {currency}")
    net_allowed = confirmed.net_amount * tolerance
    if confirmed.net_amount - fresh.net_amount > net_allowed:
        moves.append(f"the recipient would receive {format_amount(fresh.net_amount)} {currency} instead of "
                     f"{format_amount(confirmed.net_amount)}")
    return tuple(moves)
