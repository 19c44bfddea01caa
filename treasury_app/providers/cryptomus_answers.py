"""Cryptomus answers turned into the app's values and errors: the envelope, documented messages, statuses.

`{"state": 0, "result": …}` with HTTP 200 is success; anything else is an error (cryptomus.md, from the SDKs).
Validation errors name Cryptomus's fields; they are reported under the names of OUR form's fields.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from treasury_app.domain.assets import NETWORKS, Asset, find_asset
from treasury_app.domain.errors import InvalidFieldError
from treasury_app.domain.payout_lifecycle import PayoutStatus

from .answer_reading import AnswerReader
from .errors import (
    AmountLimitError,
    AuthenticationError,
    ForbiddenError,
    InsufficientFundsError,
    NotFoundError,
    ProviderError,
    ProviderUnavailableError,
    ProviderValidationError,
    RequestRefusedError,
)
from .http_transport import HttpAnswer
from .interface import Balance, PayoutOption, ProviderPayoutState

PROVIDER = "cryptomus"

# Cryptomus's request fields → the payout form's fields, so a person sees the error where they typed.
FORM_FIELDS = {
    "amount": "amount", "currency": "currency", "network": "network", "address": "address", "memo": "memo",
    "priority": "priority", "is_subtract": "fee_mode", "order_id": "idempotency_key", "uuid": "idempotency_key",
    "to_currency": "currency", "from_currency": "currency", "course_source": "currency",
}
# Laravel's rule names, as a person would read them.
RULE_WORDS = {
    "required": "is required", "required_without": "is required", "string": "must be text",
    "numeric": "must be a number", "decimal": "has more decimal places than the currency allows",
    "gt.numeric": "must be greater than zero", "min.string": "is too short", "max.string": "is too long",
    "alpha_dash": "may contain only letters, digits, '_' and '-'", "in": "is not one of the allowed values",
    "boolean": "must be true or false", "url": "is not a valid URL",
    "address": "is not a valid address for this network", "uuid": "is not a valid UUID",
    "date_format": "is not a date as YYYY-MM-DD HH:MM:SS", "invalid": "is not valid",
}
# The messages cryptomus.md documents for create-payout, by what a person can do about them.
MESSAGE_ERRORS: dict[str, type[ProviderError]] = {
    "you are forbidden": ForbiddenError,
    "the currency was not found": NotFoundError,
    "the service was not found": NotFoundError,
    "wallet not found": NotFoundError,
    "not found service to_currency": NotFoundError,
    "payout not found": NotFoundError,
    "not enough funds": InsufficientFundsError,
    "error convert to_currency": RequestRefusedError,
    # Maintenance: temporary, and certain that nothing was done.
    "the terminal was not found": ProviderUnavailableError,
}
AUTH_MESSAGES = ("invalid sign", "merchant not found", "unauthorized", "unauthenticated")
_LIMIT = re.compile(r"(minimum|maximum) amount\s+([0-9]+(?:\.[0-9]+)?)", re.IGNORECASE)


def read_result(answer: HttpAnswer, reader: AnswerReader) -> Any:
    """The `result` of a successful answer; a typed error for every other answer."""
    body = reader.json_body(answer)
    if not isinstance(body, Mapping):
        reader.fail(f"HTTP {answer.status} with a JSON {type(body).__name__}, expected an object")
    state = body.get("state")
    succeeded = state in (0, "0") and not isinstance(state, bool)
    if answer.status == 200 and succeeded:
        if "result" not in body:
            reader.fail("'result' is missing")
        return body["result"]
    raise _error_of(answer.status, body, reader)


def _error_of(status: int, body: Mapping[str, Any], reader: AnswerReader) -> ProviderError:
    errors = body.get("errors")
    if isinstance(errors, Mapping) and errors:
        return ProviderValidationError(PROVIDER, form_field_errors(errors))
    message = body.get("message")
    if not isinstance(message, str) or not message.strip():
        reader.fail(f"HTTP {status} with state {body.get('state')!r} and no message")
    text = message.strip()
    lowered = text.lower().rstrip(".")
    if status == 401 or any(lowered.startswith(words) for words in AUTH_MESSAGES):
        return AuthenticationError(PROVIDER, f"Cryptomus refused the merchant id or payout key ({text})")
    limit = _LIMIT.match(text)
    if limit:
        bound = limit.group(1).lower()
        return AmountLimitError(PROVIDER, text, bound=bound, limit=Decimal(limit.group(2)))
    if lowered == "the withdrawal amount is too small":
        return AmountLimitError(PROVIDER, text, bound="minimum", limit=None)
    if lowered.startswith("not enough balance for convert"):
        return InsufficientFundsError(PROVIDER, text)
    kind = MESSAGE_ERRORS.get(lowered)
    if kind is not None:
        return kind(PROVIDER, text)
    return RequestRefusedError(PROVIDER, text)


def form_field_errors(errors: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    fields: dict[str, list[str]] = {}
    for name, codes in errors.items():
        reasons = codes if isinstance(codes, list) else [codes]
        ours = FORM_FIELDS.get(str(name), str(name))
        for code in reasons:
            rule = str(code).removeprefix("validation.")
            fields.setdefault(ours, []).append(RULE_WORDS.get(rule, str(code)))
    return {name: tuple(reasons) for name, reasons in fields.items()}


def map_status(word: str, is_final: bool) -> tuple[PayoutStatus, str | None]:
    """Our lifecycle status for a Cryptomus status; finality comes from `is_final`, never the word alone."""
    status = word.strip().lower()
    if not is_final:
        if status in ("fail", "system_fail"):
            return PayoutStatus.PROCESSING, f"Cryptomus reports '{word}' but not as final: it can still be resent"
        return PayoutStatus.PROCESSING, None
    if status == "paid":
        return PayoutStatus.COMPLETED, None
    if status in ("fail", "system_fail"):
        return PayoutStatus.FAILED, f"Cryptomus reports '{word}'; the funds return to the balance"
    if status == "cancel":
        return PayoutStatus.CANCELLED, "Cryptomus cancelled the payout"
    # Final, but a word we do not know (or `process`/`check` marked final): a person must look.
    return PayoutStatus.UNKNOWN, f"Cryptomus reports the final status '{word}', which this app does not know"


def payout_state(item: Any, key: str, reader: AnswerReader) -> ProviderPayoutState:
    """A payout as create, info and list return it."""
    data = reader.mapping(item, "the payout")
    word = reader.text(data, "status")
    assert word is not None
    is_final = reader.flag(data, "is_final")
    status, reason = map_status(word, is_final)
    amount = reader.amount(data, "amount", required=False)
    return ProviderPayoutState(
        idempotency_key=key,
        status=status,
        provider_status=word,
        is_final=is_final,
        provider_payout_id=reader.text(data, "uuid"),
        tx_hash=reader.text(data, "txid", required=False),
        paid_amount=amount if status is PayoutStatus.COMPLETED else None,
        failure_reason=reason,
        raw=dict(data),
    )


def catalogue_asset(currency: str, network: str) -> Asset | None:
    """The catalogue asset for a Cryptomus currency and network; None for one the app does not handle."""
    if network.strip().upper() not in NETWORKS:
        return None
    try:
        return find_asset(currency, network)
    except InvalidFieldError:
        return None


def payout_options(result: Any, reader: AnswerReader) -> list[tuple[PayoutOption, Mapping[str, Any]]]:
    """Services the catalogue knows, with Cryptomus's own line kept for the estimate's raw record."""
    options = []
    for line in reader.items(result, "the services list"):
        item = reader.mapping(line, "a service")
        currency, network = reader.text(item, "currency"), reader.text(item, "network")
        assert currency is not None and network is not None
        asset = catalogue_asset(currency, network)
        if asset is None:
            continue
        limit = reader.mapping(item.get("limit") or {}, "'limit'")
        commission = reader.mapping(item.get("commission") or {}, "'commission'")
        options.append((PayoutOption(
            asset=asset,
            wire_code=f"{currency}:{network}",
            is_available=reader.flag(item, "is_available"),
            min_amount=reader.amount(limit, "min_amount", required=False),
            max_amount=reader.amount(limit, "max_amount", required=False),
            fee_fixed=reader.amount(commission, "fee_amount", required=False),
            fee_percent=reader.amount(commission, "percent", required=False),
        ), item))
    return options


def merchant_balances(result: Any, reader: AnswerReader) -> list[Balance]:
    """The business wallets (`merchant`), which payouts are paid from; personal (`user`) wallets are not."""
    entries = [result] if isinstance(result, Mapping) else reader.items(result, "the balance list")
    balances = []
    for entry in entries:
        holder = reader.mapping(reader.mapping(entry, "a balance entry").get("balance"), "'balance'")
        for wallet in reader.items(holder.get("merchant", []), "'merchant'"):
            item = reader.mapping(wallet, "a wallet")
            code = reader.text(item, "currency_code")
            amount = reader.amount(item, "balance")
            assert code is not None and amount is not None
            balances.append(Balance(code, amount, dict(item)))
    return balances
