"""Amounts of money: parse what a person typed into an exact `Decimal`, and write it back without loss.

Floats never enter: a float has already rounded the amount before we see it.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from .errors import InvalidFieldError

# An amount this large is a typo or an attack on the layout, not a payout.
MAX_INTEGER_DIGITS = 15

_PLAIN_AMOUNT = re.compile(r"[0-9]+(\.[0-9]+)?")


def parse_amount(text: object, decimals: int, *, field: str = "amount", unit: str = "") -> Decimal:
    """Parse a positive amount written in plain decimal notation, with at most `decimals` places.

    `unit` (e.g. "USDT on Tron") only makes the messages clearer.
    """
    if isinstance(text, float):
        raise InvalidFieldError(field, "must be given as text, not a floating-point number (it may already be rounded)")
    if isinstance(text, Decimal | int) and not isinstance(text, bool):
        text = str(text)
    if not isinstance(text, str):
        raise InvalidFieldError(field, f"must be text, not {type(text).__name__}")
    value = text.strip(" \t")
    if not value:
        raise InvalidFieldError(field, "is empty")
    _explain_unusual_notation(value, field)
    if not _PLAIN_AMOUNT.fullmatch(value):
        raise InvalidFieldError(field, f"'{_shorten(value)}' is not a number; write digits with an optional '.', e.g. 12.50")
    amount = Decimal(value)
    if amount == 0:
        raise InvalidFieldError(field, "must be greater than zero")
    places = decimal_places(amount)
    if places > decimals:
        where = f" for {unit}" if unit else ""
        raise InvalidFieldError(field, f"has {places} decimal places; at most {decimals} are allowed{where}")
    if len(value.split(".")[0].lstrip("0")) > MAX_INTEGER_DIGITS:
        raise InvalidFieldError(field, f"is too large (more than {MAX_INTEGER_DIGITS} digits before the point)")
    return amount


def _explain_unusual_notation(value: str, field: str) -> None:
    """Refuse the common near-misses with a message that says exactly what to change."""
    if any(not ch.isascii() for ch in value):
        if any(ch.isdigit() for ch in value if not ch.isascii()):
            raise InvalidFieldError(field, "must use the digits 0-9 only (other scripts' digits are not accepted)")
        raise InvalidFieldError(field, f"contains characters that are not part of a number: '{_shorten(value)}'")
    lowered = value.lower()
    if lowered.lstrip("+-") in {"nan", "snan", "inf", "infinity"}:
        raise InvalidFieldError(field, "must be a finite number")
    if value.startswith("-"):
        raise InvalidFieldError(field, "must be greater than zero (no negative amounts)")
    if value.startswith("+"):
        raise InvalidFieldError(field, "must be written without a sign")
    if "e" in lowered and re.fullmatch(r"[0-9.]+e[+-]?[0-9]+", lowered):
        raise InvalidFieldError(field, "must be written in full, without exponent notation (e.g. 1500, not 1.5e3)")
    if "," in value:
        raise InvalidFieldError(field, "must use '.' as the decimal point and no thousands separators")
    if value.startswith("."):
        raise InvalidFieldError(field, f"needs a digit before the decimal point (0{_shorten(value)})")
    if value.endswith("."):
        raise InvalidFieldError(field, "needs digits after the decimal point, or no decimal point")
    if any(ch.isspace() for ch in value):
        raise InvalidFieldError(field, "must not contain spaces")


def _shorten(value: str, limit: int = 40) -> str:
    return value if len(value) <= limit else value[:limit] + "…"


def decimal_places(amount: Decimal) -> int:
    """How many digits the amount has after the point, ignoring trailing zeros (10.500 has 1)."""
    normal = amount.normalize()
    exponent = normal.as_tuple().exponent
    assert isinstance(exponent, int), "finite amounts only"
    return max(0, -exponent)


def format_amount(amount: Decimal, decimals: int | None = None) -> str:
    """Plain decimal notation, never an exponent, never a lost digit.

    With `decimals`, pads with zeros to that many places (10.5 → "10.500000") but keeps any extra digits the
    amount really has rather than rounding them away.
    """
    if not amount.is_finite():
        raise ValueError(f"cannot format a non-finite amount: {amount}")
    text = format(amount, "f")
    if not decimals:
        return text
    # Padding is done on the text: `quantize` would round to the context's 28 significant digits.
    whole, _, fraction = text.partition(".")
    if len(fraction) >= decimals:
        return text
    return f"{whole}.{fraction.ljust(decimals, '0')}"


def display_amount(amount: Decimal, places: int = 0) -> str:
    """For people: thousands grouped with commas ("1,500.00"), at least `places` decimals, and every digit the
    amount has beyond them (never rounded; trailing zeros beyond `places` are not digits it has: a provider's
    "1.000000" fee reads "1.00" beside a "1,500.00" amount). Files and the wire use `format_amount`."""
    text = format_amount(amount)
    sign = "-" if text.startswith("-") else ""
    whole, _, fraction = text.lstrip("-").partition(".")
    fraction = fraction.rstrip("0").ljust(places, "0")
    return f"{sign}{int(whole):,}" + (f".{fraction}" if fraction else "")


def decimal_from_wire(value: object, field: str) -> Decimal:
    """Read an amount a provider sent as a JSON string or number (never a float: JSON is parsed to Decimal).

    Providers mix "3" and 129 in one answer; both are exact. Anything else is the provider's fault and is
    reported naming the field.
    """
    if isinstance(value, bool) or isinstance(value, float):
        raise InvalidFieldError(field, f"provider sent {type(value).__name__}, expected a decimal number")
    if isinstance(value, int | Decimal):
        amount = Decimal(value)
    elif isinstance(value, str) and value.strip():
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:
            raise InvalidFieldError(field, f"provider sent '{_shorten(value)}', expected a decimal number") from None
    else:
        raise InvalidFieldError(field, "provider sent no amount")
    if not amount.is_finite():
        raise InvalidFieldError(field, "provider sent a non-finite amount")
    return amount
