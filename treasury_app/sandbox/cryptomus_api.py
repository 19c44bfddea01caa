"""Cryptomus's payout API over HTTP, with the paths, headers, signature and answers of `providers/cryptomus.md`.

The `sign` header is checked over the raw received bytes, never a re-encoding, so any JSON layout a client
sends (spaced, `\\/` or `/`, an empty body, `{}` or `[]`) passes when it is what was signed.
Sandbox decisions where the documentation is silent: business errors answer HTTP 400, a wrong sign or unknown
merchant HTTP 401 (`Invalid Sign.` as the real API words it, `Merchant not found`), an unknown payout HTTP 404
`Payout not found`, a bad address 422 `validation.address`; list items also carry `order_id`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from aiohttp import web

from treasury_app.domain.money import format_amount

from . import wire_json
from .cryptomus_book import CryptomusInvalid, CryptomusPayout, CryptomusRefusal
from .cryptomus_validation import validate_create, validate_info, validate_list
from .state import STATE_KEY, SandboxState
from .status_plans import seeded_uuid

# Cryptomus writes times in Moscow time, UTC+3 (documented for the payout list).
CRYPTOMUS_TIME = timezone(timedelta(hours=3))
AMOUNT_DECIMALS = 8


def cryptomus_sign(body: bytes, payout_key: str) -> str:
    """`md5(base64(body) + key)`, lowercase hex, over exactly the bytes sent."""
    return hashlib.md5(base64.b64encode(body) + payout_key.encode()).hexdigest()


def answer(payload: Any, status: int = 200) -> web.Response:
    # Cryptomus is PHP: its answers escape `/` as `\/` and non-ASCII as \uXXXX; clients must cope.
    return web.Response(status=status, text=wire_json.dumps(payload, escape_slashes=True),
                        content_type="application/json")


def ok(result: Any) -> web.Response:
    return answer({"state": 0, "result": result})


def refused(message: str, status: int = 400) -> web.Response:
    return answer({"state": 1, "message": message}, status)


def invalid(errors: dict[str, list[str]]) -> web.Response:
    return answer({"state": 1, "errors": errors}, 422)


def _header_bytes(request: web.Request, name: str) -> bytes:
    # A header with odd bytes in it is simply wrong, never a server error.
    return request.headers.get(name, "").encode("utf-8", "replace")


async def _signed_params(request: web.Request) -> dict[str, Any] | web.Response:
    """The request's parameters, or the refusal when merchant or sign do not hold."""
    state = request.app[STATE_KEY]
    body = await request.read()
    merchant = _header_bytes(request, "merchant")
    if not hmac.compare_digest(merchant, state.config.cryptomus_merchant.encode()):
        return refused("Merchant not found", 401)
    expected = cryptomus_sign(body, state.config.cryptomus_payout_key)
    if not hmac.compare_digest(_header_bytes(request, "sign"), expected.encode()):
        return refused("Invalid Sign.", 401)
    try:
        params = wire_json.loads(body) if body.strip() else {}
    except (ValueError, UnicodeDecodeError):
        params = {}
    # PHP's empty array is `[]`; anything that is not an object carries no parameters.
    return params if isinstance(params, dict) else {}


async def create_payout(request: web.Request) -> web.Response:
    params = await _signed_params(request)
    if isinstance(params, web.Response):
        return params
    order = validate_create(params)
    if isinstance(order, dict):
        return invalid(order)
    state = request.app[STATE_KEY]
    try:
        payout, _ = state.cryptomus.create(order)
    except CryptomusInvalid as error:
        return invalid(error.errors)
    except CryptomusRefusal as error:
        return refused(error.message)
    return ok(payout_result(state, payout))


async def payout_info(request: web.Request) -> web.Response:
    params = await _signed_params(request)
    if isinstance(params, web.Response):
        return params
    wanted = validate_info(params)
    if isinstance(wanted, dict):
        return invalid(wanted)
    uuid, order_id = wanted
    state = request.app[STATE_KEY]
    payout = state.cryptomus.find(uuid=uuid, order_id=order_id)
    if payout is None:
        return refused("Payout not found", 404)
    return ok(payout_result(state, payout))


async def payout_list(request: web.Request) -> web.Response:
    params = await _signed_params(request)
    if isinstance(params, web.Response):
        return params
    period = validate_list(params)
    if isinstance(period, dict):
        return invalid(period)
    cursor = request.query.get("cursor")
    position = _read_cursor(cursor) if cursor else None
    if cursor and position is None:
        return invalid({"cursor": ["validation.invalid"]})
    state = request.app[STATE_KEY]
    date_from, date_to = period
    newest_first = [
        p for p in reversed(state.cryptomus.payouts())
        if (date_from is None or _local(p.created_at) >= date_from)
        and (date_to is None or _local(p.created_at) <= date_to)
    ]
    page, next_seq, previous_seq = _page(newest_first, position, state.config.cryptomus_page_size)
    return ok({
        "merchant_uuid": state.config.cryptomus_merchant,
        "items": [_list_item(state, p) for p in page],
        "paginate": {
            "count": len(page),
            "hasPages": next_seq is not None or previous_seq is not None,
            "nextCursor": _write_cursor(next_seq, True) if next_seq is not None else None,
            "previousCursor": _write_cursor(previous_seq, False) if previous_seq is not None else None,
            "perPage": state.config.cryptomus_page_size,
        },
    })


async def payout_services(request: web.Request) -> web.Response:
    params = await _signed_params(request)
    if isinstance(params, web.Response):
        return params
    state = request.app[STATE_KEY]
    return ok([
        {
            "network": s.network,
            "currency": s.currency,
            "is_available": s.is_available,
            "limit": {"min_amount": _amount_text(s.min_amount), "max_amount": _amount_text(s.max_amount)},
            "commission": {"fee_amount": _amount_text(s.fee_amount), "percent": format_amount(s.percent, 2)},
        }
        for s in state.config.cryptomus_services
    ])


async def balance(request: web.Request) -> web.Response:
    params = await _signed_params(request)
    if isinstance(params, web.Response):
        return params
    state = request.app[STATE_KEY]
    wallets = state.cryptomus.wallet_balances()
    merchant = [_wallet(state, code, amount) for code, amount in wallets.items()]
    user = [_wallet(state, code, Decimal(0), owner="user") for code in ("USDT", "BTC")]
    return ok([{"balance": {"merchant": merchant, "user": user}}])


def payout_result(state: SandboxState, payout: CryptomusPayout) -> dict[str, Any]:
    now = state.clock.now()
    return {
        "uuid": payout.uuid,
        "amount": _amount_text(payout.order.amount),
        "currency": payout.order.currency,
        "network": payout.service.network,
        "address": payout.order.address,
        "txid": payout.txid_at(now),
        "status": payout.status_at(now),
        "is_final": payout.plan.is_final_at(now),
        # The documentation's own example sends these two as JSON numbers; so does the sandbox.
        "balance": state.cryptomus.wallet_balances().get(payout.wallet, Decimal(0)),
        "payer_currency": payout.payer_currency,
        "payer_amount": payout.payer_amount,
    }


def _list_item(state: SandboxState, payout: CryptomusPayout) -> dict[str, Any]:
    now = state.clock.now()
    item = payout_result(state, payout)
    item["order_id"] = payout.order.order_id
    item["created_at"] = _local(payout.created_at).strftime("%Y-%m-%d %H:%M:%S")
    item["updated_at"] = _local(payout.updated_at(now)).strftime("%Y-%m-%d %H:%M:%S")
    return item


def _wallet(state: SandboxState, code: str, amount: Decimal, owner: str = "merchant") -> dict[str, Any]:
    rate = state.config.cryptomus_usd_rates.get(code, Decimal(0))
    usd = (amount * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return {
        "uuid": seeded_uuid(state.config.seed, "cryptomus-wallet", owner, code),
        "balance": _amount_text(amount),
        "currency_code": code,
        "balance_usd": format_amount(usd, 2),
    }


def _amount_text(amount: Decimal) -> str:
    return format_amount(amount, AMOUNT_DECIMALS)


def _local(epoch: float) -> datetime:
    """A sandbox time as Cryptomus writes it: UTC+3, naive, to the second."""
    moment = datetime.fromtimestamp(epoch, UTC).astimezone(CRYPTOMUS_TIME)
    return moment.replace(tzinfo=None, microsecond=0)


def _page(newest_first: list[CryptomusPayout], position: tuple[int, bool] | None,
          size: int) -> tuple[list[CryptomusPayout], int | None, int | None]:
    """One page and the positions of the next and previous pages, as a cursor paginator keys them."""
    if position is None:
        start, end = 0, size
    elif position[1]:
        start = next((i for i, p in enumerate(newest_first) if p.seq < position[0]), len(newest_first))
        end = start + size
    else:
        end = next((i for i, p in enumerate(newest_first) if p.seq <= position[0]), len(newest_first))
        start = max(0, end - size)
    page = newest_first[start:end]
    next_seq = page[-1].seq if page and end < len(newest_first) else None
    previous_seq = page[0].seq if page and start > 0 else None
    return page, next_seq, previous_seq


def _write_cursor(seq: int, points_to_next: bool) -> str:
    raw = json.dumps({"id": seq, "_pointsToNextItems": points_to_next}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_cursor(cursor: str) -> tuple[int, bool] | None:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("id"), int):
        return None
    return data["id"], bool(data.get("_pointsToNextItems", True))


def add_routes(app: web.Application) -> None:
    app.router.add_post("/v1/payout", create_payout, name="cryptomus.create")
    app.router.add_post("/v1/payout/info", payout_info, name="cryptomus.info")
    app.router.add_post("/v1/payout/list", payout_list, name="cryptomus.list")
    app.router.add_post("/v1/payout/services", payout_services, name="cryptomus.services")
    app.router.add_post("/v1/balance", balance, name="cryptomus.balance")
