"""Sandbox-only endpoints under `/_sandbox/`: what tests and demos need that no provider offers.

List every payout (to prove nothing was paid twice), switch faults and account states at run time, force an
order's outcome, move the clock, reset. No provider path starts with `/_sandbox`, and faults never hit these.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aiohttp import web

from . import wire_json
from .faults import FaultRule, FaultSpecError, fault_from_json
from .state import STATE_KEY
from .status_plans import CANCELLED_DECIMALS, FAILING_DECIMALS


def answer(payload: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, text=wire_json.dumps(payload), content_type="application/json")


def problem(message: str, status: int = 400) -> web.Response:
    return answer({"error": message}, status)


def _epoch(seconds: float) -> Decimal:
    return Decimal(repr(seconds))


async def _body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        body = wire_json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise web.HTTPBadRequest(text='{"error": "the body is not valid JSON"}',
                                 content_type="application/json") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text='{"error": "the body must be a JSON object"}', content_type="application/json")
    return body


async def info(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    config = state.config
    return answer({
        "sandbox": True,
        "seed": config.seed,
        "speed": str(config.speed),
        # Every payout succeeds except test amounts and, when asked for, a seeded share of failures.
        "outcomes": {"fail_when_decimals_end_in": FAILING_DECIMALS, "cancel_when_decimals_end_in": CANCELLED_DECIMALS,
                     "cryptomus_fail_share": str(config.cryptomus_fail_share),
                     "cryptomus_system_fail_share": str(config.cryptomus_system_fail_share),
                     "pay3_fail_share": str(config.pay3_fail_share)},
        "now": _epoch(state.clock.now()),
        "cryptomus": {"merchant": config.cryptomus_merchant, "payout_key": config.cryptomus_payout_key},
        "pay3": {"client_id": config.pay3_client_id, "api_secret": config.pay3_api_secret,
                 "currencies": [c.code for c in config.pay3_currencies]},
    })


async def list_payouts(request: web.Request) -> web.Response:
    provider = request.query.get("provider")
    if provider not in (None, "cryptomus", "pay3"):
        return problem("provider must be cryptomus or pay3")
    return answer({"payouts": request.app[STATE_KEY].all_payouts(provider)})


async def list_balances(request: web.Request) -> web.Response:
    return answer(request.app[STATE_KEY].balances())


async def list_faults(request: web.Request) -> web.Response:
    return answer({"faults": request.app[STATE_KEY].faults.snapshot()})


async def add_faults(request: web.Request) -> web.Response:
    """Body `{"faults": ["cryptomus:create:500:1", ...], "replace": false}`; objects with the same parts work too."""
    body = await _body(request)
    items = body.get("faults", [])
    if not isinstance(items, list):
        return problem("faults must be a list")
    try:
        rules: list[FaultRule] = [fault_from_json(item) for item in items]
    except FaultSpecError as error:
        return problem(str(error))
    board = request.app[STATE_KEY].faults
    if body.get("replace"):
        board.replace(rules)
    else:
        board.add(rules)
    return answer({"faults": board.snapshot()})


async def clear_faults(request: web.Request) -> web.Response:
    board = request.app[STATE_KEY].faults
    board.clear()
    return answer({"faults": board.snapshot()})


async def set_switches(request: web.Request) -> web.Response:
    """Body `{"cryptomus_forbidden": true, "cryptomus_terminal_not_found": false}` (either or both)."""
    body = await _body(request)
    switches = request.app[STATE_KEY].switches
    for name, attribute in (("cryptomus_forbidden", "forbidden"), ("cryptomus_terminal_not_found",
                                                                    "terminal_not_found")):
        if name in body:
            if not isinstance(body[name], bool):
                return problem(f"{name} must be true or false")
            setattr(switches, attribute, body[name])
    return answer({"cryptomus_forbidden": switches.forbidden,
                   "cryptomus_terminal_not_found": switches.terminal_not_found})


async def force_outcome(request: web.Request) -> web.Response:
    """Body `{"provider": "cryptomus", "id": "<order_id or requestId>", "outcome": "fail"}`."""
    body = await _body(request)
    state = request.app[STATE_KEY]
    provider, key, outcome = body.get("provider"), body.get("id"), body.get("outcome")
    if not isinstance(key, str) or not key or not isinstance(outcome, str):
        return problem("id (the order_id or requestId) and outcome are required")
    books = {"cryptomus": state.cryptomus, "pay3": state.pay3}
    if provider not in books:
        return problem("provider must be cryptomus or pay3")
    try:
        changed = books[provider].force_outcome(key, outcome)
    except ValueError as error:
        return problem(str(error), 409)
    return answer({"provider": provider, "id": key, "outcome": outcome, "applied_to_existing": changed})


async def advance_clock(request: web.Request) -> web.Response:
    """Body `{"seconds": 60}`: statuses and token expiry jump forward as if that time had passed."""
    body = await _body(request)
    seconds = body.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | Decimal):
        return problem("seconds must be a number")
    state = request.app[STATE_KEY]
    try:
        state.clock.advance(float(seconds))
    except ValueError as error:
        return problem(str(error))
    return answer({"now": _epoch(state.clock.now())})


async def reset(request: web.Request) -> web.Response:
    request.app[STATE_KEY].reset()
    return answer({"reset": True})


def add_routes(app: web.Application) -> None:
    router = app.router
    router.add_get("/_sandbox", info, name="sandbox.info")
    router.add_get("/_sandbox/payouts", list_payouts, name="sandbox.payouts")
    router.add_get("/_sandbox/balances", list_balances, name="sandbox.balances")
    router.add_get("/_sandbox/faults", list_faults, name="sandbox.faults")
    router.add_post("/_sandbox/faults", add_faults, name="sandbox.add_faults")
    router.add_delete("/_sandbox/faults", clear_faults, name="sandbox.clear_faults")
    router.add_post("/_sandbox/switches", set_switches, name="sandbox.switches")
    router.add_post("/_sandbox/outcomes", force_outcome, name="sandbox.outcomes")
    router.add_post("/_sandbox/advance", advance_clock, name="sandbox.advance")
    router.add_post("/_sandbox/reset", reset, name="sandbox.reset")
