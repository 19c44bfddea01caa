"""What an approval binds to, and when it still counts: a SHA-256 digest of the payout's exact fields, and the
rules that make an approval valid (approved, not voided, not expired, same digest, not the initiator's own).

Any change to a bound field changes the digest, so an approval given for one payout can never carry over to
an edited one.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol

# Part of the hashed text, so that a later change to what is bound can never match an old digest by chance.
BINDING_VERSION = 1
BOUND_FIELDS = ("provider", "currency", "network", "address", "amount", "fee_mode", "memo")


class BindablePayout(Protocol):
    """The fields an approval binds to (a `PayoutRecord` has them)."""

    @property
    def provider(self) -> str: ...
    @property
    def currency(self) -> str: ...
    @property
    def network(self) -> str: ...
    @property
    def address(self) -> str: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def fee_mode(self) -> str: ...
    @property
    def memo(self) -> str | None: ...


class ApprovalFacts(Protocol):
    """What the validity rules read from a stored decision (an `ApprovalRecord` has them)."""

    @property
    def id(self) -> int: ...
    @property
    def payout_id(self) -> int: ...
    @property
    def decision(self) -> str: ...
    @property
    def operator(self) -> str: ...
    @property
    def payout_digest(self) -> str: ...
    @property
    def expires_at(self) -> datetime | None: ...
    @property
    def voided_at(self) -> datetime | None: ...


def canonical_amount(amount: Decimal) -> str:
    """One text per value: '10.5' and '10.50' are the same amount and must give the same digest."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise ValueError(f"an approval binds to an exact, finite Decimal amount, not {amount!r}")
    # normalize() drops trailing zeros (10.50 → 10.5) but writes 1000 as 1E+3; 'f' spells it out again.
    text = format(amount.normalize(), "f")
    return "0" if text in ("-0", "0") else text


def binding_text(payout: BindablePayout) -> str:
    """The canonical text the digest is taken over: sorted-key JSON, no spaces, exact strings."""
    fields = {
        "v": BINDING_VERSION,
        "provider": payout.provider,
        "currency": payout.currency,
        "network": payout.network,
        "address": payout.address,
        "amount": canonical_amount(payout.amount),
        "fee_mode": str(payout.fee_mode),
        "memo": payout.memo,
    }
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def payout_digest(payout: BindablePayout) -> str:
    """SHA-256 of `binding_text`, as 64 hex characters; stored with every approval."""
    return hashlib.sha256(binding_text(payout).encode("utf-8")).hexdigest()


def same_operator(a: str, b: str) -> bool:
    # The ledger keeps names unique regardless of case, so "Alice" and "alice" are one person.
    return a.strip().casefold() == b.strip().casefold()


@dataclass(frozen=True)
class ApprovalVerdict:
    approval_id: int
    problems: tuple[str, ...]

    @property
    def valid(self) -> bool:
        return not self.problems


def check_approval(approval: ApprovalFacts, *, payout_id: int, current_digest: str, initiator: str,
                   now: datetime) -> ApprovalVerdict:
    """Every reason this decision does not (or no longer) allow executing the payout; none means valid."""
    problems: list[str] = []
    label = f"approval {approval.id}"
    if approval.payout_id != payout_id:
        problems.append(f"{label} is for payout {approval.payout_id}, not payout {payout_id}")
    if str(approval.decision) != "approved":
        problems.append(f"{label} is a {approval.decision} decision, not an approval")
    if approval.voided_at is not None:
        problems.append(f"{label} was voided")
    if approval.expires_at is None:
        problems.append(f"{label} has no expiry time, so it cannot be trusted; approve again")
    elif now >= approval.expires_at:
        problems.append(f"{label} expired at {approval.expires_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC; approve again")
    if approval.payout_digest != current_digest:
        problems.append(f"{label} was given for different payout details (provider, currency, network, address, "
                        "amount, fee mode or memo changed since)")
    if same_operator(approval.operator, initiator):
        problems.append(f"{label} was given by the payout's own initiator ({approval.operator})")
    return ApprovalVerdict(approval.id, tuple(problems))
