"""The sandbox's HTTP server: both providers' APIs and the control endpoints on one port.

Built on aiohttp rather than Starlette + uvicorn because two faults must be a real TCP close with no HTTP
answer at all ("drop" and "commit-then-drop"): aiohttp hands a handler its connection's transport
(`request.transport`), so closing it is one documented call, while an ASGI app cannot reach the socket and
uvicorn answers 500 when an app gives up. The client then sees exactly what a lost answer looks like: the
server closing the connection without a response.

Two ways to run it: `run_forever(config)` for the command line (stops cleanly on Ctrl-C and SIGTERM), and
`start_in_background(config)` for the app's demo mode and for tests (its own thread and event loop; port 0
picks a free port, so tests run side by side).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from . import control_api, cryptomus_api, pay3_api
from .clock import Clock
from .config import SandboxConfig
from .faults import ENDPOINTS, FaultKind, FaultRule
from .state import STATE_KEY, SandboxState

# A handler that sleeps on an injected latency must not hold a stop for long.
SHUTDOWN_TIMEOUT = 1.0
ACCESS_LOG = logging.getLogger("treasury_app.sandbox.access")


class SandboxRefused(ValueError):
    """The sandbox will not start as configured (e.g. a non-loopback host without allow_remote)."""


def build_app(state: SandboxState) -> web.Application:
    app = web.Application(middlewares=[_inject_faults])
    app[STATE_KEY] = state
    cryptomus_api.add_routes(app)
    pay3_api.add_routes(app)
    control_api.add_routes(app)
    return app


@web.middleware
async def _inject_faults(request: web.Request, handler: Callable[[web.Request], Any]) -> web.StreamResponse:
    provider, _, endpoint = (request.match_info.route.name or "").partition(".")
    if provider not in ENDPOINTS:
        return await handler(request)
    drawn = request.app[STATE_KEY].faults.draw(provider, endpoint)
    if drawn.latency:
        # The request is in the provider's hands before it is held, as with a real provider: a client that goes
        # away meanwhile does not stop it from being carried out (aiohttp does not cancel the handler).
        await request.read()
        await asyncio.sleep(drawn.latency)
    fault = drawn.fault
    if fault is None:
        return await handler(request)
    if fault.kind is FaultKind.COMMIT_DROP:
        await handler(request)
        return _drop_connection(request)
    await request.read()  # the whole request arrives first, so the close is a clean FIN, not a reset mid-send
    if fault.kind is FaultKind.DROP:
        return _drop_connection(request)
    return _fault_answer(provider, fault)


def _drop_connection(request: web.Request) -> web.StreamResponse:
    transport = request.transport
    if transport is not None:
        transport.close()
    # Never written: aiohttp finds the transport closed and gives up on the answer quietly.
    return web.Response(status=204)


_HTML_ERROR_PAGE = """<html>
<head><title>502 Bad Gateway</title></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx</center>
</body>
</html>
"""


def _fault_answer(provider: str, fault: FaultRule) -> web.Response:
    cryptomus = provider == "cryptomus"
    if fault.kind is FaultKind.SERVER_ERROR:
        body = ('{"message":"Server error, #1","code":500,"error":null}' if cryptomus
                else '{"error":{"code":"500","message":"Internal server error"}}')
        return web.Response(status=500, text=body, content_type="application/json")
    if fault.kind is FaultKind.RATE_LIMITED:
        body = ('{"state":1,"message":"Too Many Attempts."}' if cryptomus
                else '{"error":{"code":"429","message":"Too many requests"}}')
        return web.Response(status=429, text=body, content_type="application/json",
                            headers={"Retry-After": str(fault.retry_after)})
    if fault.kind is FaultKind.MALFORMED:
        body = '{"state":0,"result":{"uuid":"a7c0caec-a5' if cryptomus else '{"data":[{"orderId":"3b5a941c-'
        return web.Response(status=200, text=body, content_type="application/json")
    assert fault.kind is FaultKind.HTML, fault
    return web.Response(status=502, text=_HTML_ERROR_PAGE, content_type="text/html")


def _check_host(config: SandboxConfig) -> None:
    if not config.host_is_loopback and not config.allow_remote:
        raise SandboxRefused(
            f"host {config.host} is not a loopback address; the sandbox's credentials are published, so it "
            "only listens beyond this computer when explicitly allowed (allow_remote / --allow-remote)"
        )


def base_url_of(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


async def _start_site(state: SandboxState, *, access_log: bool) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(build_app(state), handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT,
                           access_log=ACCESS_LOG if access_log else None, access_log_format='%t "%r" %s %Tfs')
    await runner.setup()
    try:
        site = web.TCPSite(runner, state.config.host, state.config.port)
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner, runner.addresses[0][1]


@dataclass
class RunningSandbox:
    """A sandbox serving on its own thread; `stop()` (or leaving the `with` block) shuts it down."""

    config: SandboxConfig
    state: SandboxState
    base_url: str
    _loop: asyncio.AbstractEventLoop = field(repr=False)
    _thread: threading.Thread = field(repr=False)
    _runner: web.AppRunner = field(repr=False)
    _stopped: bool = field(default=False, repr=False)

    @property
    def cryptomus_base_url(self) -> str:
        return self.base_url

    @property
    def pay3_base_url(self) -> str:
        return self.base_url

    @property
    def port(self) -> int:
        return int(self.base_url.rsplit(":", 1)[1])

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        try:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=30)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=30)

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_in_background(config: SandboxConfig | None = None, *, clock: Clock | None = None,
                        access_log: bool = False) -> RunningSandbox:
    """Serve the sandbox on a new thread and return once it accepts connections.

    With no config it serves the defaults on a free loopback port. `clock` lets a test move time itself.
    """
    config = config if config is not None else SandboxConfig(port=0)
    _check_host(config)
    state = SandboxState(config, clock)
    loop = asyncio.new_event_loop()
    started: concurrent.futures.Future[tuple[web.AppRunner, int]] = concurrent.futures.Future()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        try:
            started.set_result(loop.run_until_complete(_start_site(state, access_log=access_log)))
        except BaseException as error:  # handed to the thread that is waiting for the start
            started.set_exception(error)
            loop.close()
            return
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    thread = threading.Thread(target=serve, name=f"treasury-sandbox-{config.port}", daemon=True)
    thread.start()
    runner, port = started.result(timeout=30)
    return RunningSandbox(config, state, base_url_of(config.host, port), loop, thread, runner)


def run_forever(config: SandboxConfig, *, on_ready: Callable[[str], None] | None = None,
                clock: Clock | None = None, access_log: bool = True) -> None:
    """Serve until Ctrl-C or SIGTERM, then stop cleanly. `on_ready` gets the base URL once it listens."""
    _check_host(config)
    # Where signal handlers cannot be installed (Windows), Ctrl-C arrives as KeyboardInterrupt instead.
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_until_stopped(SandboxState(config, clock), on_ready, access_log))


async def _serve_until_stopped(state: SandboxState, on_ready: Callable[[str], None] | None,
                               access_log: bool) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop.set)
    runner, port = await _start_site(state, access_log=access_log)
    try:
        if on_ready is not None:
            on_ready(base_url_of(state.config.host, port))
        await stop.wait()
    finally:
        await runner.cleanup()
