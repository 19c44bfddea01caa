"""Pay3 answers turned into the app's values and errors: success bodies, `{"error": {code, message}}`, statuses.

Error codes arrive as strings or numbers and are compared as text. Pay3 documents few messages; the keyword
table below reads the rest (the ones that name a field, a balance, an expiry) and is this project's own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from treasury_app.domain.payout_lifecycle import PayoutStatus

from .answer_reading import AnswerReader
from .errors import (
    AmountLimitError,
    AuthenticationError,
    EstimateExpiredError,
    InsufficientFundsError,
    NotFoundError,
    ProviderError,
    ProviderValidationError,
    RequestRefusedError,
)
from .http_transport import HttpAnswer
from .interface import ProviderPayoutState
from .pay3_protocol import Pay3Decisions, normalise_status

PROVIDER = "pay3"


class TokenRefusedError(AuthenticationError):
    """HTTP 401 `Client verification failed`: the access token is expired or wrong. Renewed once, then shown."""


class RequestIdUsedError(ProviderError):
    """Error 7001: an order already exists for this requestId (the client then reads that order)."""


def _field(name: str) -> Callable[[str, str | None], ProviderError]:
    return lambda message, code: ProviderValidationError(PROVIDER, {name: (message,)})


_FEE_BOUND = re.compile(r"\(([0-9]+(?:\.[0-9]+)?)\)")


def _amount_limit(message: str, code: str | None) -> ProviderError:
    bound = _FEE_BOUND.search(message)
    return AmountLimitError(PROVIDER, message, bound="minimum", limit=Decimal(bound.group(1)) if bound else None)


# First match wins: (words in the lower-cased message, the error to raise).
MESSAGE_KEYWORDS: tuple[tuple[str, Callable[[str, str | None], ProviderError]], ...] = (
    ("could not verify the client", lambda m, c: AuthenticationError(
        PROVIDER, f"Pay3 refused the client id, API secret or request signature ({m})")),
    ("insufficient", lambda m, c: InsufficientFundsError(PROVIDER, m)),
    ("greater than the estimated fees", _amount_limit),
    ("expired", lambda m, c: EstimateExpiredError(PROVIDER, f"{m}; estimate again under a fresh key")),
    ("not found", lambda m, c: NotFoundError(PROVIDER, m)),
    ("address", _field("address")),
    ("amount", _field("amount")),
    ("currency", _field("currency")),
    ("payeremail", _field("payer_email")),
)


def read_body(answer: HttpAnswer, reader: AnswerReader, decisions: Pay3Decisions) -> Mapping[str, Any]:
    """The JSON object of a successful (2xx) answer; a typed error for every other answer."""
    body = reader.json_body(answer)
    if not isinstance(body, Mapping):
        reader.fail(f"HTTP {answer.status} with a JSON {type(body).__name__}, expected an object")
    error = body.get("error")
    if 200 <= answer.status < 300 and error is None:
        return body
    if not isinstance(error, Mapping):
        reader.fail(f"HTTP {answer.status} without Pay3's error shape")
    raise error_of(answer.status, error, reader, decisions)


def error_of(status: int, error: Mapping[str, Any], reader: AnswerReader, decisions: Pay3Decisions) -> ProviderError:
    code = reader.text(error, "code", required=False)
    code = code.strip() if code else None
    message = str(error.get("message") or "").strip() or f"error {code or status}"
    lowered = message.lower()
    if status == 401 or code == "401" or lowered == "client verification failed":
        return TokenRefusedError(PROVIDER, f"Pay3 refused the access token ({message})")
    if code == decisions.order_exists_code:
        return RequestIdUsedError(PROVIDER, message)
    for words, make in MESSAGE_KEYWORDS:
        if words in lowered:
            return make(message, code)
    return RequestRefusedError(PROVIDER, message, code=code)


def map_status(word: str, decisions: Pay3Decisions) -> tuple[PayoutStatus, bool, str | None]:
    """(our status, final?, why) for an order status word, whatever its case, spaces or underscores."""
    status = normalise_status(word)
    if status in decisions.completed_statuses:
        return PayoutStatus.COMPLETED, True, None
    if status in decisions.failed_statuses:
        return PayoutStatus.FAILED, True, "Pay3 reports the order failed"
    if status in decisions.abandoned_statuses:
        return PayoutStatus.CANCELLED, True, "Pay3 abandoned the order (timed out); nothing was paid"
    if status in decisions.estimated_statuses:
        # Registered by createEstimate and not executed: nothing has moved.
        return PayoutStatus.ESTIMATED, False, None
    if status in decisions.processing_statuses:
        return PayoutStatus.PROCESSING, False, None
    # An unknown word is never taken as final: keep following the order, with the raw word shown.
    return PayoutStatus.PROCESSING, False, f"Pay3 reports the status '{word}', which this app does not know"


def order_state(item: Any, key: str, reader: AnswerReader, decisions: Pay3Decisions) -> ProviderPayoutState:
    """One entry of the order-details answer."""
    detail = reader.mapping(item, "an order")
    word = reader.text(detail, "orderStatus")
    assert word is not None
    status, is_final, reason = map_status(word, decisions)
    error_reason = detail.get("errorReason")
    if isinstance(error_reason, Mapping) and status is PayoutStatus.FAILED:
        code = reader.text(error_reason, "errorCode", required=False)
        text = reader.text(error_reason, "errorDesc", required=False) or "no description"
        reason = f"{text} (Pay3 error {code})" if code else text
    return ProviderPayoutState(
        idempotency_key=key,
        status=status,
        provider_status=word,
        is_final=is_final,
        provider_payout_id=reader.text(detail, "orderId", required=False),
        tx_hash=reader.text(detail, "txnHash", required=False),
        paid_amount=reader.amount(detail, "receivedAmount", required=False)
        if status is PayoutStatus.COMPLETED else None,
        failure_reason=reason,
        raw=dict(detail),
    )


def details_state(body: Mapping[str, Any], key: str, reader: AnswerReader,
                  decisions: Pay3Decisions) -> ProviderPayoutState | None:
    """The order under `key` in a details answer; None when Pay3 has none (`"data": []`)."""
    if "data" not in body:
        reader.fail("'data' is missing")
    orders = reader.items(body["data"], "'data'")
    if not orders:
        return None
    matching = [o for o in orders if isinstance(o, Mapping) and str(o.get("requestId", key)) == key]
    if not matching:
        reader.fail(f"the orders listed are not the one asked for ({key})")
    return order_state(matching[-1], key, reader, decisions)


def executed_state(body: Mapping[str, Any], key: str, reader: AnswerReader,
                   decisions: Pay3Decisions) -> ProviderPayoutState:
    """The execute answer: `{txnHash, orderType, orderId, requestId, status}`."""
    request_id = reader.text(body, "requestId", required=False)
    if request_id is not None and request_id != key:
        reader.fail(f"it answers for requestId {request_id}, not {key}")
    word = reader.text(body, "status")
    assert word is not None
    status, is_final, reason = map_status(word, decisions)
    return ProviderPayoutState(
        idempotency_key=key,
        status=status,
        provider_status=word,
        is_final=is_final,
        provider_payout_id=reader.text(body, "orderId", required=False),
        tx_hash=reader.text(body, "txnHash", required=False),
        paid_amount=None,
        failure_reason=reason,
        raw=dict(body),
    )
