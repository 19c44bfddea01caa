"""Amounts typed by a person become exact Decimals, or a clear error naming the field."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from treasury_app.domain.errors import InvalidFieldError
from treasury_app.domain.money import decimal_from_wire, decimal_places, format_amount, parse_amount


@pytest.mark.parametrize(
    ("text", "decimals", "expected"),
    [
        ("10", 6, Decimal("10")),
        ("10.5", 6, Decimal("10.5")),
        ("0.000001", 6, Decimal("0.000001")),
        ("  12.50 ", 2, Decimal("12.50")),
        ("10.500000000", 6, Decimal("10.5")),  # trailing zeros are not extra precision
        ("0.000000000000000001", 18, Decimal("0.000000000000000001")),
        ("123456789012345.12345678", 8, Decimal("123456789012345.12345678")),
        ("007", 0, Decimal("7")),
    ],
)
def test_plain_amounts_parse_exactly(text, decimals, expected):
    assert parse_amount(text, decimals) == expected


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("0", "greater than zero"),
        ("0.000", "greater than zero"),
        ("-5", "no negative amounts"),
        ("+5", "without a sign"),
        ("NaN", "finite"),
        ("inf", "finite"),
        ("-Infinity", "finite"),
        ("1e5", "exponent"),
        ("1.5E-3", "exponent"),
        ("1,000.00", "decimal point"),
        ("10,5", "decimal point"),
        (".5", "digit before the decimal point"),
        ("5.", "digits after the decimal point"),
        ("1 000", "spaces"),
        ("١٢٣", "digits 0-9"),
        ("１２", "digits 0-9"),
        ("12€", "not part of a number"),
        ("0x10", "not a number"),
        ("ten", "not a number"),
        ("1.2.3", "not a number"),
        ("1234567890123456", "too large"),
    ],
)
def test_bad_amount_text_is_refused_with_a_reason(value, fragment):
    with pytest.raises(InvalidFieldError) as caught:
        parse_amount(value, 8)
    assert caught.value.field == "amount"
    assert fragment in caught.value.message


def test_too_many_decimals_names_the_limit_and_the_unit():
    with pytest.raises(InvalidFieldError) as caught:
        parse_amount("1.1234567", 6, unit="USDT on Tron")
    assert caught.value.message == "has 7 decimal places; at most 6 are allowed for USDT on Tron"


def test_float_is_refused_even_when_it_looks_exact():
    with pytest.raises(InvalidFieldError, match="not a floating-point number"):
        parse_amount(0.5, 8)


def test_the_field_name_is_carried_into_the_error():
    with pytest.raises(InvalidFieldError) as caught:
        parse_amount("", 2, field="approval_threshold")
    assert str(caught.value) == "approval_threshold: is empty"


@pytest.mark.parametrize(
    ("amount", "decimals", "text"),
    [
        (Decimal("1E+3"), None, "1000"),
        (Decimal("1E-18"), None, "0.000000000000000001"),
        (Decimal("10.5"), 6, "10.500000"),
        (Decimal("10.1234567"), 2, "10.1234567"),  # never rounds digits away
        (Decimal("0E-8"), None, "0.00000000"),
        (Decimal("123456789012345.123456789012345678"), 8, "123456789012345.123456789012345678"),
    ],
)
def test_format_amount_never_uses_exponents_or_loses_digits(amount, decimals, text):
    assert format_amount(amount, decimals) == text


@given(st.decimals(min_value=Decimal("0.000000000000000001"), max_value=Decimal("999999999999999"), places=18,
                   allow_nan=False, allow_infinity=False))
def test_format_then_parse_round_trips_exactly(amount):
    if amount == 0:
        return
    text = format_amount(amount)
    assert "E" not in text and "e" not in text
    assert parse_amount(text, 18) == amount


def test_decimal_places_ignores_trailing_zeros():
    assert decimal_places(Decimal("10.500")) == 1
    assert decimal_places(Decimal("100")) == 0
    assert decimal_places(Decimal("1E+2")) == 0


@pytest.mark.parametrize(("wire", "expected"), [("3", Decimal("3")), (129, Decimal("129")),
                                               (Decimal("0.1"), Decimal("0.1")), (" 10.50000000 ", Decimal("10.5"))])
def test_provider_amounts_in_strings_or_numbers_are_exact(wire, expected):
    assert decimal_from_wire(wire, "balance") == expected


@pytest.mark.parametrize("wire", [0.1, True, None, "", "abc", "NaN", [], {}])
def test_garbled_provider_amounts_are_reported_by_field(wire):
    with pytest.raises(InvalidFieldError) as caught:
        decimal_from_wire(wire, "balance")
    assert caught.value.field == "balance"
