"""Reading a provider's JSON answer leniently but exactly: numbers as `Decimal`, typed errors for bad shapes.

Providers mix `"3"` and `129` for amounts, send codes as strings or numbers, and may omit what they document.
Whatever the shape, reading ends in a value or in `UnexpectedAnswerError` naming the field — never a KeyError.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NoReturn

from treasury_app.domain.errors import InvalidFieldError
from treasury_app.domain.money import decimal_from_wire

from .errors import UnexpectedAnswerError
from .http_transport import HttpAnswer


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_json_text(content: bytes) -> Any:
    """JSON with every fractional number as `Decimal` (never float); NaN and Infinity refused."""
    return json.loads(content.decode("utf-8"), parse_float=Decimal, parse_constant=_refuse_constant)


@dataclass(frozen=True)
class AnswerReader:
    """Reads fields of one answer; `what` names the call in error messages ("payout info <key>")."""

    provider: str
    what: str
    # False where a body may hold a secret not yet known to the redactor (the access-token answer).
    quote_body: bool = True

    def fail(self, detail: str) -> NoReturn:
        raise UnexpectedAnswerError(self.provider, f"{self.what}: unexpected answer: {detail}")

    def json_body(self, answer: HttpAnswer) -> Any:
        if not answer.content.strip():
            self.fail(f"HTTP {answer.status} with an empty body")
        try:
            return parse_json_text(answer.content)
        except (ValueError, UnicodeDecodeError):
            shown = f": '{answer.excerpt()}'" if self.quote_body else ""
            self.fail(f"HTTP {answer.status}, not JSON{shown}")

    def mapping(self, value: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self.fail(f"{where} is {_kind(value)}, expected an object")
        return value

    def items(self, value: Any, where: str) -> list[Any]:
        if not isinstance(value, list):
            self.fail(f"{where} is {_kind(value)}, expected a list")
        return value

    def text(self, obj: Mapping[str, Any], name: str, *, required: bool = True) -> str | None:
        """A string field; numbers are accepted and written as text (ids and codes arrive both ways)."""
        value = obj.get(name)
        if value is None or value == "":
            if required:
                self.fail(f"'{name}' is missing")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            self.fail(f"'{name}' is {_kind(value)}, expected text")
        if isinstance(value, int):
            return str(value)
        return value if isinstance(value, str) else format(value, "f")

    def amount(self, obj: Mapping[str, Any], name: str, *, required: bool = True) -> Decimal | None:
        value = obj.get(name)
        if value is None or value == "":
            if required:
                self.fail(f"'{name}' is missing")
            return None
        try:
            return decimal_from_wire(value, name)
        except InvalidFieldError as error:
            self.fail(f"'{name}': {error.message}")

    def flag(self, obj: Mapping[str, Any], name: str) -> bool:
        """A boolean, also as PHP writes them at times: 1/0, "1"/"0", "true"/"false"."""
        value = obj.get(name)
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in ("1", "0", "true", "false"):
            return value.strip().lower() in ("1", "true")
        if value is None:
            self.fail(f"'{name}' is missing")
        self.fail(f"'{name}' is {_kind(value)}, expected true or false")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "text"
    if isinstance(value, int | Decimal | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__
