"""JSON on the wire with exact decimals: numbers read as `Decimal`, `Decimal` written as a JSON number.

The standard library writes no `Decimal` and reads `1.1` as a float; a provider's `"balance": 129.5` must
reach the client exactly as written, so this module writes JSON itself.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def loads(raw: bytes | str) -> Any:
    """Parse JSON; fractional numbers become `Decimal`, NaN and Infinity are refused."""
    return json.loads(raw, parse_float=Decimal, parse_constant=_refuse_constant)


def dumps(value: Any, *, escape_slashes: bool = False) -> str:
    """Compact JSON. `escape_slashes` writes `/` as `\\/` and non-ASCII as `\\uXXXX`, as PHP answers do."""
    out: list[str] = []
    _write(value, escape_slashes, out)
    return "".join(out)


def _write(value: Any, php: bool, out: list[str]) -> None:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot write {value} as JSON")
        out.append(format(value, "f"))
    elif isinstance(value, float):
        raise TypeError("floats never reach the wire; use Decimal")
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=php)
        out.append(text.replace("/", "\\/") if php else text)
    elif value is None or isinstance(value, bool | int):
        out.append(json.dumps(value))
    elif isinstance(value, dict):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            if index:
                out.append(",")
            _write(str(key), php, out)
            out.append(":")
            _write(item, php, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, php, out)
        out.append("]")
    else:
        raise TypeError(f"cannot write {type(value).__name__} as JSON")
