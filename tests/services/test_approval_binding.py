"""What an approval binds to, and the rules that make one valid (the domain's pure functions)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from treasury_app.domain.approval_binding import canonical_amount, check_approval, payout_digest
from treasury_app.domain.payout_request import FeeMode

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


@dataclasses.dataclass(frozen=True)
class Payout:
    provider: str = "cryptomus"
    currency: str = "USDT"
    network: str = "TRON"
    address: str = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
    amount: Decimal = Decimal("1500.5")
    fee_mode: FeeMode = FeeMode.FROM_BALANCE
    memo: str | None = None


@dataclasses.dataclass(frozen=True)
class Approval:
    id: int = 1
    payout_id: int = 3
    decision: str = "approved"
    operator: str = "bob"
    payout_digest: str = payout_digest(Payout())
    expires_at: datetime | None = NOW + timedelta(hours=24)
    voided_at: datetime | None = None


@pytest.mark.parametrize(("a", "b"), [("10.5", "10.50"), ("1000", "1E+3"), ("1000", "1000.000"), ("0.1", "0.10")])
def test_equal_amounts_give_the_same_canonical_text(a, b):
    assert canonical_amount(Decimal(a)) == canonical_amount(Decimal(b))
    assert "E" not in canonical_amount(Decimal(b))
    assert payout_digest(Payout(amount=Decimal(a))) == payout_digest(Payout(amount=Decimal(b)))


@pytest.mark.parametrize("change", [
    {"provider": "pay3"}, {"currency": "USDC"}, {"network": "ETH"}, {"address": "TJRabPrwbZy45sbavfcjinPJC18kjpRTv8"},
    {"amount": Decimal("1500.500001")}, {"amount": Decimal(15005)}, {"fee_mode": FeeMode.FROM_AMOUNT},
    {"memo": "12345"}, {"memo": ""},
])
def test_any_change_to_a_bound_field_changes_the_digest(change):
    assert payout_digest(Payout(**change)) != payout_digest(Payout())


def test_a_float_amount_cannot_be_bound():
    with pytest.raises(ValueError):
        canonical_amount(1500.5)  # type: ignore[arg-type]


def test_a_matching_live_approval_by_someone_else_is_valid():
    verdict = check_approval(Approval(), payout_id=3, current_digest=payout_digest(Payout()), initiator="alice",
                             now=NOW)
    assert verdict.valid and verdict.problems == ()


@pytest.mark.parametrize(("change", "initiator", "problem"), [
    ({"decision": "rejected"}, "alice", "not an approval"),
    ({"voided_at": NOW}, "alice", "was voided"),
    ({"expires_at": NOW}, "alice", "expired at 2026-03-01 12:00 UTC"),
    ({"expires_at": None}, "alice", "no expiry time"),
    ({"payout_digest": payout_digest(Payout(amount=Decimal(1)))}, "alice", "different payout details"),
    ({"payout_id": 4}, "alice", "is for payout 4"),
    ({}, "bob", "own initiator"),
    ({}, " BOB ", "own initiator"),
])
def test_each_way_an_approval_stops_counting(change, initiator, problem):
    verdict = check_approval(Approval(**change), payout_id=3, current_digest=payout_digest(Payout()),
                             initiator=initiator, now=NOW)
    assert not verdict.valid
    assert any(problem in p for p in verdict.problems), verdict.problems
