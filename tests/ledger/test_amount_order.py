"""Amounts sort exactly in SQL: `amount_key` orders like the Decimal, across every magnitude, never via a float."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ledger_fixtures import make_request

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.ledger import ImportedPayout, PayoutSort, open_ledger
from treasury_app.ledger.column_codecs import amount_sort_key

BACKENDS = ("sqlite", "postgresql")


@st.composite
def amounts(draw) -> Decimal:
    """Positive amounts as the domain allows them: up to 15 digits before the point and 18 after."""
    whole = draw(st.one_of(st.integers(0, 9), st.integers(0, 10**6), st.integers(0, 10**15 - 1)))
    places = draw(st.integers(0, 18))
    fraction = draw(st.integers(0, 10**places - 1)) if places else 0
    text = f"{whole}.{fraction:0{places}d}" if places else str(whole)
    amount = Decimal(text)
    return amount if amount > 0 else Decimal("0.000000000000000001")


@settings(max_examples=60, deadline=None)
@given(st.lists(amounts(), min_size=1, max_size=25))
def test_order_by_amount_key_equals_sorting_the_decimals(values):
    with tempfile.TemporaryDirectory() as folder, open_ledger(Path(folder) / "ledger.sqlite3") as ledger:
        ledger.payouts.import_payouts(
            (ImportedPayout(request=make_request(currency="USDT", network="BSC", amount=value),
                            idempotency_key=f"k{n}", status=PayoutStatus.DRAFT,
                            created_at=datetime(2026, 1, 1, tzinfo=UTC), created_by="alice")
             for n, value in enumerate(values)),
            actor="test",
        )
        ascending = [p.amount for p in ledger.payouts.page(sort=PayoutSort.AMOUNT_ASC, limit=100)]
        descending = [p.amount for p in ledger.payouts.page(sort=PayoutSort.AMOUNT_DESC, limit=100)]
    assert ascending == sorted(values)
    assert descending == sorted(values, reverse=True)
    # Exact, not merely equal: each stored amount keeps its digits.
    assert sorted(map(str, ascending)) == sorted(map(str, values))


@pytest.mark.parametrize(
    ("amount", "key"),
    [
        ("150.25", "000000000000000150.250000000000000000"),
        ("0.000000000000000001", "000000000000000000.000000000000000001"),
        ("123456789012345.123456789012345678", "000123456789012345.123456789012345678"),
        ("10.500", "000000000000000010.500000000000000000"),
        ("1E+3", "000000000000001000.000000000000000000"),
    ],
)
def test_the_sort_key_is_fixed_width_text_built_from_the_digits(amount, key):
    assert amount_sort_key(Decimal(amount)) == key


@pytest.mark.parametrize("amount", ["-1", "NaN", "Infinity", "1E+18", "1E-19"])
def test_amounts_the_key_cannot_order_exactly_are_refused(amount):
    with pytest.raises(ValueError):
        amount_sort_key(Decimal(amount))


def test_a_float_never_becomes_a_key():
    with pytest.raises(TypeError):
        amount_sort_key(0.1)  # type: ignore[arg-type]
