"""The approval policy, decided here without I/O: given a payout and today's volumes, free to go, needs a
second person's approval (with every reason), or refused.

Services gather the facts (volumes from the ledger, whether the destination was paid before) and enforce the
decision; the window and the command line only show it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from .errors import TreasuryError
from .money import format_amount


class OverLimit(StrEnum):
    """What crossing a daily limit does (same values as the ledger's `OverLimitAction`)."""

    NEEDS_APPROVAL = "needs_approval"
    REFUSE = "refuse"


class Outcome(StrEnum):
    FREE = "free"
    NEEDS_APPROVAL = "needs_approval"
    REFUSED = "refused"


class ReasonCode(StrEnum):
    THRESHOLD = "threshold"
    OPERATOR_DAILY_LIMIT = "operator_daily_limit"
    DESK_DAILY_LIMIT = "desk_daily_limit"
    NEW_DESTINATION = "new_destination"


@dataclass(frozen=True)
class ApprovalPolicy:
    """A currency's policy; a limit left as None does not apply."""

    currency: str
    approval_threshold: Decimal | None = None
    daily_limit_operator: Decimal | None = None
    daily_limit_desk: Decimal | None = None
    over_limit: OverLimit = OverLimit.NEEDS_APPROVAL
    new_destination_needs_approval: bool = False


@dataclass(frozen=True)
class PayoutFacts:
    """What the policy looks at. Volumes are today's totals *before* this payout, in its currency."""

    currency: str
    amount: Decimal
    initiator: str
    address: str
    operator_volume_today: Decimal = Decimal(0)
    desk_volume_today: Decimal = Decimal(0)
    destination_paid_before: bool = False
    destination_in_address_book: bool = False


@dataclass(frozen=True)
class PolicyReason:
    code: ReasonCode
    message: str


@dataclass(frozen=True)
class PolicyDecision:
    outcome: Outcome
    reasons: tuple[PolicyReason, ...] = ()

    @property
    def is_free(self) -> bool:
        return self.outcome is Outcome.FREE

    @property
    def needs_approval(self) -> bool:
        return self.outcome is Outcome.NEEDS_APPROVAL

    @property
    def is_refused(self) -> bool:
        return self.outcome is Outcome.REFUSED

    @property
    def codes(self) -> frozenset[ReasonCode]:
        return frozenset(reason.code for reason in self.reasons)

    def explain(self) -> str:
        if not self.reasons:
            return "no rule of the policy applies"
        return "; ".join(reason.message for reason in self.reasons)


FREE = PolicyDecision(Outcome.FREE)


class PolicyRefusedError(TreasuryError):
    """The policy refuses the payout outright (a daily limit crossed with over-limit set to refuse)."""

    def __init__(self, decision: PolicyDecision, payout: int | None = None) -> None:
        self.decision = decision
        self.payout = payout
        which = f"payout {payout}" if payout is not None else "this payout"
        super().__init__(
            f"{which} is refused by policy: {decision.explain()}. Nothing was sent. Wait for tomorrow's limit "
            "(days are UTC), lower the amount, or ask an admin to change the policy."
        )


def decide(policy: ApprovalPolicy | None, facts: PayoutFacts) -> PolicyDecision:
    """Every rule is checked and every reason kept, so the approver sees all of them, not just the first."""
    if policy is None:
        return FREE  # a currency without a policy has no threshold and no limits
    if policy.currency.upper() != facts.currency.upper():
        raise ValueError(f"the {policy.currency} policy cannot decide a {facts.currency} payout")
    cur = facts.currency.upper()
    reasons: list[PolicyReason] = []
    limit_crossed = False
    if policy.approval_threshold is not None and facts.amount >= policy.approval_threshold:
        reasons.append(PolicyReason(
            ReasonCode.THRESHOLD,
            f"{_amount(facts.amount)} {cur} is at or above the approval threshold of "
            f"{_amount(policy.approval_threshold)} {cur}",
        ))
    # Reaching a limit exactly is allowed; going past it is "crossing" it.
    operator_total = facts.operator_volume_today + facts.amount
    if policy.daily_limit_operator is not None and operator_total > policy.daily_limit_operator:
        limit_crossed = True
        reasons.append(PolicyReason(
            ReasonCode.OPERATOR_DAILY_LIMIT,
            f"{facts.initiator}'s payouts today would total {_amount(operator_total)} {cur}, over the "
            f"operator daily limit of {_amount(policy.daily_limit_operator)} {cur}",
        ))
    desk_total = facts.desk_volume_today + facts.amount
    if policy.daily_limit_desk is not None and desk_total > policy.daily_limit_desk:
        limit_crossed = True
        reasons.append(PolicyReason(
            ReasonCode.DESK_DAILY_LIMIT,
            f"the desk's payouts today would total {_amount(desk_total)} {cur}, over the desk daily limit of "
            f"{_amount(policy.daily_limit_desk)} {cur}",
        ))
    if (policy.new_destination_needs_approval and not facts.destination_paid_before
            and not facts.destination_in_address_book):
        reasons.append(PolicyReason(
            ReasonCode.NEW_DESTINATION,
            f"{facts.address} has never been paid and is not in the address book",
        ))
    if limit_crossed and policy.over_limit is OverLimit.REFUSE:
        return PolicyDecision(Outcome.REFUSED, tuple(reasons))
    if reasons:
        return PolicyDecision(Outcome.NEEDS_APPROVAL, tuple(reasons))
    return FREE


def policy_day(moment: datetime) -> tuple[datetime, datetime]:
    """The UTC calendar day a moment falls in, as [start, end): daily limits count payouts created in it.

    UTC, not the machine's zone: two desks in different zones sharing one ledger must agree on "today".
    """
    if moment.utcoffset() is None:
        raise ValueError("a policy day needs a time with a time zone")
    start = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + timedelta(days=1)


def _amount(value: Decimal) -> str:
    return format_amount(value.normalize())  # 1000.00 reads as 1000 in a message
