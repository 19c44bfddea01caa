"""Cryptomus's request validation: the 422 `errors` map, field → list of Laravel-style codes.

Cryptomus runs on Laravel, whose validator names a failure `validation.<rule>` and first turns an empty
string into null; the sandbox does the same, so an empty optional field is simply absent.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from treasury_app.domain.errors import InvalidFieldError
from treasury_app.domain.money import parse_amount

from .cryptomus_book import PayoutOrder

ORDER_ID_MAX_LENGTH = 100
INFO_ORDER_ID_MAX_LENGTH = 32  # /v1/payout/info allows less than create does (documented)
MEMO_MAX_LENGTH = 30
_ALPHA_DASH = re.compile(r"[A-Za-z0-9_-]+")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{1,2}:\d{2}:\d{2}")
PRIORITIES = ("recommended", "economy", "high", "highest")
COURSE_SOURCES = ("Binance", "BinanceP2p", "Exmo", "Kucoin")
FROM_CURRENCIES = ("USDT",)
# The most decimal places any asset has; the asset's own limit is checked once the service is known.
MAX_DECIMALS = 18

Errors = dict[str, list[str]]


class _Form:
    """Reads fields from a request's parameters and collects the codes of the rules they break."""

    def __init__(self, params: dict[str, Any]) -> None:
        # Laravel's ConvertEmptyStringsToNull: "" is the same as absent.
        self.params = {k: (None if v == "" else v) for k, v in params.items()}
        self.errors: Errors = {}

    def fail(self, name: str, code: str) -> None:
        self.errors.setdefault(name, []).append(f"validation.{code}")

    def text(self, name: str, *, required: bool = False, min_length: int = 0, max_length: int | None = None,
             pattern: re.Pattern[str] | None = None, pattern_code: str = "regex") -> str | None:
        value = self.params.get(name)
        if value is None:
            if required:
                self.fail(name, "required")
            return None
        if not isinstance(value, str):
            self.fail(name, "string")
            return None
        if len(value) < min_length:
            self.fail(name, "min.string")
        elif max_length is not None and len(value) > max_length:
            self.fail(name, "max.string")
        elif pattern is not None and not pattern.fullmatch(value):
            self.fail(name, pattern_code)
        else:
            return value
        return None

    def choice(self, name: str, allowed: tuple[str, ...]) -> str | None:
        value = self.params.get(name)
        if value is None:
            return None
        if value not in allowed:
            self.fail(name, "in")
            return None
        return value

    def boolean(self, name: str) -> bool | None:
        value = self.params.get(name)
        if value is None:
            self.fail(name, "required")
        elif value in (True, 1, "1") and not isinstance(value, Decimal):
            return True
        elif value in (False, 0, "0") and not isinstance(value, Decimal):
            return False
        else:
            self.fail(name, "boolean")
        return None

    def amount(self, name: str) -> Decimal | None:
        value = self.params.get(name)
        if value is None:
            self.fail(name, "required")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
            self.fail(name, "numeric")
            return None
        try:
            return parse_amount(value, MAX_DECIMALS)
        except InvalidFieldError:
            self.fail(name, "gt.numeric" if _is_number_at_most_zero(value) else "numeric")
            return None

    def url(self, name: str) -> str | None:
        value = self.text(name, max_length=255)
        if value is not None:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                self.fail(name, "url")
                return None
        return value


def _is_number_at_most_zero(value: object) -> bool:
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return False
    return number.is_finite() and number <= 0


def validate_create(params: dict[str, Any]) -> PayoutOrder | Errors:
    form = _Form(params)
    amount = form.amount("amount")
    currency = form.text("currency", required=True)
    network = form.text("network")
    order_id = form.text("order_id", required=True, min_length=1, max_length=ORDER_ID_MAX_LENGTH,
                         pattern=_ALPHA_DASH, pattern_code="alpha_dash")
    address = form.text("address", required=True)
    is_subtract = form.boolean("is_subtract")
    url_callback = form.url("url_callback")
    to_currency = form.text("to_currency")
    course_source = form.choice("course_source", COURSE_SOURCES)
    from_currency = form.choice("from_currency", FROM_CURRENCIES)
    priority = form.choice("priority", PRIORITIES)
    memo = form.text("memo", min_length=1, max_length=MEMO_MAX_LENGTH)
    if form.errors:
        return form.errors
    assert amount is not None and currency and order_id and address and is_subtract is not None
    return PayoutOrder(
        order_id=order_id, amount=amount, currency=currency.upper(), network=network.upper() if network else None,
        address=address, is_subtract=is_subtract, url_callback=url_callback,
        to_currency=to_currency.upper() if to_currency else None, from_currency=from_currency,
        course_source=course_source, priority=priority, memo=memo,
    )


def validate_info(params: dict[str, Any]) -> tuple[str | None, str | None] | Errors:
    """(uuid, order_id) of the payout asked for; `order_id` wins when both are given (documented)."""
    form = _Form(params)
    uuid = form.text("uuid", pattern=_UUID, pattern_code="uuid")
    order_id = form.text("order_id", max_length=INFO_ORDER_ID_MAX_LENGTH, pattern=_ALPHA_DASH,
                         pattern_code="alpha_dash")
    if not form.errors and uuid is None and order_id is None:
        form.fail("uuid", "required_without")
        form.fail("order_id", "required_without")
    if form.errors:
        return form.errors
    return uuid, order_id


def validate_list(params: dict[str, Any]) -> tuple[datetime | None, datetime | None] | Errors:
    """The period asked for, as naive date-times in Cryptomus's UTC+3."""
    form = _Form(params)
    found: list[datetime | None] = []
    for name in ("date_from", "date_to"):
        text = form.text(name)
        moment = None
        if text is not None:
            try:
                if not _DATE_TIME.fullmatch(text):
                    raise ValueError(text)
                moment = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
            except ValueError:
                form.fail(name, "date_format")
        found.append(moment)
    if form.errors:
        return form.errors
    return found[0], found[1]
