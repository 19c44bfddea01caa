"""How amounts and JSON are written to the ledger's TEXT columns and read back, exactly.

Amounts are plain decimal text (never REAL: SQLite would round them through a double), and `amount_key` is a
fixed-width text twin that sorts like the number. JSON never carries a float: numbers come back as `Decimal`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from enum import Enum
from types import MappingProxyType
from typing import Any

from treasury_app.domain.money import format_amount

from .timestamps import format_timestamp

# Wider than any amount the domain accepts (15 integer digits, 18 decimals) so that a later, wider asset needs
# no migration; an amount outside this is refused rather than stored with a key that would sort it wrongly.
AMOUNT_KEY_INTEGER_DIGITS = 18
AMOUNT_KEY_FRACTION_DIGITS = 18

EMPTY_MAPPING: Mapping[str, Any] = MappingProxyType({})


def amount_to_text(amount: Decimal, field: str = "amount") -> str:
    if not isinstance(amount, Decimal):
        raise TypeError(f"{field} must be a Decimal, not {type(amount).__name__} (floats are never stored)")
    if not amount.is_finite() or (amount.is_signed() and amount != 0):
        raise ValueError(f"{field} must be a finite amount of zero or more, not {amount}")
    return format_amount(amount.copy_abs())


def optional_amount_to_text(amount: Decimal | None, field: str) -> str | None:
    return None if amount is None else amount_to_text(amount, field)


def amount_from_text(text: str | None) -> Decimal | None:
    # Decimal(text) keeps every digit and the exponent as written: the round trip is exact.
    return None if text is None else Decimal(text)


def amount_sort_key(amount: Decimal) -> str:
    """Fixed-width text that sorts like the amount: `000000000000000150.250000000000000000` for 150.25.

    Built from the digits, never through a float, so that 0.1 + 0.2 ≠ 0.3 can never reorder two payouts.
    """
    whole, _, fraction = amount_to_text(amount).partition(".")
    whole = whole.lstrip("0")
    fraction = fraction.rstrip("0")
    if len(whole) > AMOUNT_KEY_INTEGER_DIGITS or len(fraction) > AMOUNT_KEY_FRACTION_DIGITS:
        raise ValueError(
            f"amount {amount} is outside what the ledger sorts exactly "
            f"(at most {AMOUNT_KEY_INTEGER_DIGITS} digits before the point and {AMOUNT_KEY_FRACTION_DIGITS} after)"
        )
    return f"{whole.rjust(AMOUNT_KEY_INTEGER_DIGITS, '0')}.{fraction.ljust(AMOUNT_KEY_FRACTION_DIGITS, '0')}"


def encode_json(value: Any) -> str:
    """Canonical JSON (sorted keys, no spaces) so that equal values are equal text, e.g. for hashing.

    Decimals are written as plain-notation strings ("12.50"): a JSON number would be read back by other tools
    as a float. Floats are refused: money must never have passed through one.
    """
    _refuse_floats(value, "value")
    return json.dumps(
        value, default=_encode_extra, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    )


def optional_json(value: Any) -> str | None:
    return None if value is None else encode_json(value)


def decode_json(text: str | None) -> Any:
    """JSON text back into read-only values: objects become read-only mappings, arrays tuples."""
    if text is None:
        return None
    return _freeze(json.loads(text, parse_float=Decimal))


def decode_json_object(text: str | None) -> Mapping[str, Any]:
    value = decode_json(text)
    if value is None:
        return EMPTY_MAPPING
    if not isinstance(value, Mapping):
        raise ValueError(f"expected a JSON object in the ledger, found {type(value).__name__}")
    return value


def _encode_extra(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format_amount(value)
    if isinstance(value, datetime):
        return format_timestamp(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (tuple, frozenset, set)):
        return sorted(value) if isinstance(value, (frozenset, set)) else list(value)
    raise TypeError(f"a {type(value).__name__} cannot be stored in the ledger as JSON: {value!r:.80}")


def _refuse_floats(value: Any, where: str) -> None:
    if isinstance(value, float):
        raise TypeError(f"{where} is a float ({value!r}); pass a Decimal or a string so that no digit is lost")
    if isinstance(value, Mapping):
        for key, item in value.items():
            _refuse_floats(item, f"{where}.{key}")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _refuse_floats(item, f"{where}[{index}]")


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({key: _freeze(item) for key, item in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(item) for item in value)
    return value
