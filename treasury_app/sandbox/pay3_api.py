"""Pay3's crypto payout API over HTTP: access token, create-order (`createEstimate`), execute, order details.

Shapes follow `providers/pay3.md`, including its recorded decisions. Errors are `{"error": {"code", "message"}}`:
401 `Client verification failed` for a missing, forged or expired token; 400 `Could not verify the client` for
wrong credentials, a wrong `signature` or a `clientId` that is not the token's; 400 `7001` for a reused
`requestId`. Sandbox decisions where Pay3 documents nothing: other refusals answer 400 with code "400" and a
message that names the field or the order.
"""

from __future__ import annotations

import hmac
import re
from decimal import Decimal
from typing import Any

from aiohttp import web

from treasury_app.domain.money import format_amount

from . import wire_json
from .pay3_auth import (
    create_order_signed_string,
    execute_signed_string,
    signature_matches,
)
from .pay3_book import Pay3Order, Pay3Refusal, bad_request
from .state import STATE_KEY, SandboxState

CLIENT_VERIFICATION_FAILED = Pay3Refusal(401, "401", "Client verification failed")
COULD_NOT_VERIFY_CLIENT = Pay3Refusal(400, "400", "Could not verify the client")
_REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")
PAYMENT_STATUS = {
    "CREATED": "PENDING", "ORDER_PAYMENT_PROCESSING": "PROCESSING", "ORDER_PAYMENT_INITIATED": "PROCESSING",
    "COMPLETED": "SUCCESS", "FAILED": "FAILED", "ABANDONED": "EXPIRED",
}


def answer(payload: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, text=wire_json.dumps(payload), content_type="application/json")


def error_answer(state: SandboxState, refusal: Pay3Refusal) -> web.Response:
    code: str | int = int(refusal.code) if state.config.pay3_numeric_error_codes else refusal.code
    return answer({"error": {"code": code, "message": refusal.message}}, refusal.http_status)


def _verified_client(request: web.Request) -> str:
    """The client id of a valid, unexpired `access-token`."""
    client_id = request.app[STATE_KEY].pay3_tokens.client_of(request.headers.get("access-token"))
    if client_id is None:
        raise CLIENT_VERIFICATION_FAILED
    return client_id


async def _json_object(request: web.Request) -> dict[str, Any]:
    try:
        body = wire_json.loads(await request.read())
    except (ValueError, UnicodeDecodeError):
        raise bad_request("The request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object")
    return body


def _text(body: dict[str, Any], name: str, pattern: re.Pattern[str] | None = None) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise bad_request(f"{name} is required and must be a non-empty string")
    if pattern is not None and not pattern.fullmatch(value):
        raise bad_request(f"{name} must be 1 to 100 letters, digits, '_' or '-'")
    return value


def _amount_text(body: dict[str, Any]) -> str:
    value = body.get("amount")
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise bad_request("amount is required, as a decimal string such as \"0.001\"")
    return str(value)


def _pay3_handler(handler):
    """Turns a Pay3Refusal raised anywhere in the handler into Pay3's error answer."""

    async def run(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except Pay3Refusal as refusal:
            return error_answer(request.app[STATE_KEY], refusal)

    run.__name__ = handler.__name__
    return run


@_pay3_handler
async def access_token(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    body = await _json_object(request)
    client_id, secret = body.get("clientId"), body.get("apiSecret")
    if not (isinstance(client_id, str) and isinstance(secret, str)
            and hmac.compare_digest(client_id.encode(), state.config.pay3_client_id.encode())
            and hmac.compare_digest(secret.encode(), state.config.pay3_api_secret.encode())):
        raise COULD_NOT_VERIFY_CLIENT
    token = state.pay3_tokens.issue(client_id)
    return answer({"accessToken": token, "expiresIn": state.pay3_tokens.lifetime})


@_pay3_handler
async def create_order(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    client_id = _verified_client(request)
    body = await _json_object(request)
    if body.get("clientId") != client_id:
        raise COULD_NOT_VERIFY_CLIENT
    request_id = _text(body, "requestId", _REQUEST_ID)
    address = _text(body, "address")
    currency = _text(body, "currency")
    amount = _amount_text(body)
    payer_email = _text(body, "payerEmail")
    mode = _text(body, "mode")
    signed = create_order_signed_string(address=address, amount=amount, currency=currency, request_id=request_id)
    if not signature_matches(state.config.pay3_api_secret, signed, request.headers.get("signature")):
        raise COULD_NOT_VERIFY_CLIENT
    if "@" not in payer_email:
        raise bad_request("payerEmail must be an e-mail address")
    if mode.lower() != "createestimate":
        raise bad_request(f"mode '{mode}' is not supported; use createEstimate")
    order, warning = state.pay3.create_estimate(
        client_id=client_id, request_id=request_id, currency_code=currency, address=address, amount=amount,
        payer_email=payer_email,
    )
    result: dict[str, Any] = {"token": order.token, "requestId": order.request_id,
                              "currency": order.currency.code, "address": order.address}
    if warning is not None:
        result["warning"] = warning
    result["estimatedFees"] = format_amount(order.fees)
    result["estimatedNetAmount"] = format_amount(order.net_amount)
    return answer(result)


@_pay3_handler
async def execute_order(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    client_id = _verified_client(request)
    body = await _json_object(request)
    if body.get("clientId") != client_id:
        raise COULD_NOT_VERIFY_CLIENT
    token = _text(body, "token")
    request_id = _text(body, "requestId", _REQUEST_ID)
    signed = execute_signed_string(request_id=request_id, token=token)
    if not signature_matches(state.config.pay3_api_secret, signed, request.headers.get("signature")):
        raise COULD_NOT_VERIFY_CLIENT
    order = state.pay3.execute(client_id=client_id, request_id=request_id, token=token)
    now = state.clock.now()
    return answer({
        "txnHash": order.txn_hash_at(now),
        "orderType": "PAYOUT",
        "orderId": order.order_id,
        "requestId": order.request_id,
        "status": order.status_at(now),
    })


@_pay3_handler
async def order_details(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    client_id = _verified_client(request)
    if request.query.get("clientId") != client_id:
        raise COULD_NOT_VERIFY_CLIENT
    request_id = request.query.get("requestId", "")
    if not request_id:
        raise bad_request("requestId is required")
    order = state.pay3.find(request_id)
    if order is None or order.client_id != client_id:
        return answer({"data": []})
    return answer({"data": [order_detail(state, order)]})


def order_detail(state: SandboxState, order: Pay3Order) -> dict[str, Any]:
    now = state.clock.now()
    status = order.status_at(now)
    detail: dict[str, Any] = {
        "orderId": order.order_id,
        "orderStatus": status,
        "updatedTs": int(order.updated_at(now) * 1000),
        "orderType": "PAYOUT",
        "requestId": order.request_id,
        "clientId": order.client_id,
        "paymentStatus": PAYMENT_STATUS[status],
        "receivedAmount": format_amount(order.net_amount) if status == "COMPLETED" else "0",
        "payersEmail": order.payer_email,
        "settlementStatus": "SETTLED" if status == "COMPLETED" else "REFUNDED" if order.refunded else "PENDING",
        "txnHash": order.txn_hash_at(now),
        "cryptoCurId": order.currency.code,
        "cryptoAmount": format_amount(order.amount),
    }
    if status == "FAILED":
        code, description = order.error_reason
        detail["errorReason"] = {
            "errorCode": int(code) if state.config.pay3_numeric_error_codes else code,
            "errorDesc": description,
        }
    return detail


def add_routes(app: web.Application) -> None:
    app.router.add_post("/v1/client/access-token", access_token, name="pay3.token")
    app.router.add_post("/v1/client/crypto-payout/create-order", create_order, name="pay3.create")
    app.router.add_post("/v1/client/crypto-payout/execute", execute_order, name="pay3.execute")
    app.router.add_get("/v1/client/crypto-orders", order_details, name="pay3.details")
