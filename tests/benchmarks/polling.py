"""Polling at scale: N open payouts (half per provider) that really exist at a sandbox running in its own process,
one full refresh cycle of the poller next to a bare loop making the requests of the floor with httpx, and the
longest stall of the event loop during the cycle.

    python tests/benchmarks/polling.py [--payouts 2000] [--runs 3] [--advance SECONDS] [--gc-freeze]

Targets (design.md): requests per cycle at most 1.1x the floor the APIs allow (one Pay3 order-details GET per
payout, and the Cryptomus list pages that hold its payouts: ceil(n / 15)), a cycle within 1.3x the bare request
loop, the event loop never stalled more than 50 ms.
The sandbox runs in a child process so that only the app's side is measured (its CPU, its stalls); its clock
stands still at the time it started, as a provider's reads about the desk's. The bare loop sends the floor's
requests (Cryptomus: its list pages, back to the same date, until every payout was seen; Pay3: a token, then one
GET per payout) with the same bound of requests in flight, and reads each answer's JSON, but keeps no ledger and
builds no records. Every figure is the median of --runs cycles with its spread (min-max).
A script, not a test: tests/workflow/test_polling_benchmark_script.py only proves that it runs and prints
every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

PROJECT_ROOT = Path(__file__).resolve().parents[2]
if str(PROJECT_ROOT) not in sys.path:  # run as a plain script from a checkout
    sys.path.insert(0, str(PROJECT_ROOT))

from treasury_app.domain.payout_lifecycle import PayoutStatus  # noqa: E402
from treasury_app.domain.payout_request import compose_payout, new_idempotency_key  # noqa: E402
from treasury_app.ledger import ImportedPayout, Ledger, open_ledger  # noqa: E402
from treasury_app.ledger.timestamps import utc_now  # noqa: E402
from treasury_app.providers.cryptomus import (  # noqa: E402
    CRYPTOMUS_TIME,
    SENT_SINCE_MARGIN,
    CryptomusProfile,
    CryptomusProvider,
)
from treasury_app.providers.cryptomus_signing import encode_body, sign_body  # noqa: E402
from treasury_app.providers.http_transport import HttpSettings  # noqa: E402
from treasury_app.providers.pay3 import Pay3Profile, Pay3Provider  # noqa: E402
from treasury_app.sandbox import (  # noqa: E402
    DEFAULT_CRYPTOMUS_MERCHANT,
    DEFAULT_CRYPTOMUS_PAYOUT_KEY,
    DEFAULT_PAY3_API_SECRET,
    DEFAULT_PAY3_CLIENT_ID,
    ManualClock,
    SandboxConfig,
    start_in_background,
)
from treasury_app.services.payout_workflow import PayoutWorkflow, earliest_send  # noqa: E402
from treasury_app.services.poller import Poller, PollerSettings  # noqa: E402

TARGET_RATIO = 1.3
TARGET_REQUESTS = 1.1  # of the floor
TARGET_STALL_MS = 50.0
TICK_SECONDS = 0.005
ADDRESS = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
# Enough in every wallet for any --payouts: the sandbox refuses payouts its balances do not cover.
PLENTY = {"USDT": Decimal(1_000_000_000)}
SETUP_CONCURRENCY = 16


# --- the sandbox, in a child process -------------------------------------------------------------------------


def serve_sandbox() -> int:
    """The child: a sandbox on a free port with a clock that stands still at its start (no payout moves unless
    told), so that Cryptomus's history has the payouts at about the times the desk sent them."""
    config = SandboxConfig(port=0, cryptomus_balances=PLENTY, pay3_balances={"USDT-TRON": PLENTY["USDT"]})
    with start_in_background(config, clock=ManualClock(time.time())) as running:
        print(running.base_url, flush=True)
        sys.stdin.read()  # until the parent closes our standard input
    return 0


class SandboxProcess:
    def __init__(self) -> None:
        self.process = subprocess.Popen([sys.executable, __file__, "--serve-sandbox"], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.base_url = self.process.stdout.readline().strip()
        if not self.base_url.startswith("http://"):
            self.stop()
            raise RuntimeError("the sandbox process did not start")

    def advance(self, seconds: float) -> None:
        httpx.post(f"{self.base_url}/_sandbox/advance", json={"seconds": seconds}, timeout=30).raise_for_status()

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


# --- counting what goes over the wire ------------------------------------------------------------------------


class CountingTransport(httpx.AsyncBaseTransport):
    """The real transport, counting requests (the same wrapper on both sides, so it costs both the same)."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def clients(base_url: str, transport: httpx.AsyncBaseTransport | None = None,
            settings: HttpSettings | None = None) -> dict[str, Any]:
    return {
        "cryptomus": CryptomusProvider(CryptomusProfile(merchant=DEFAULT_CRYPTOMUS_MERCHANT, base_url=base_url),
                                       DEFAULT_CRYPTOMUS_PAYOUT_KEY, transport=transport, settings=settings),
        "pay3": Pay3Provider(Pay3Profile(base_url=base_url, client_id=DEFAULT_PAY3_CLIENT_ID),
                             DEFAULT_PAY3_API_SECRET, transport=transport, settings=settings),
    }


# --- the payouts: made at the sandbox through the real clients, imported into the ledger ---------------------


async def make_payouts(base_url: str, ledger: Ledger, count: int) -> None:
    """`count` payouts, half per provider, sent through the real clients; the ledger's rows under the same keys,
    in processing, with what the provider answered (so the cycles measured find nothing new)."""
    setup = clients(base_url, settings=HttpSettings(max_connections=SETUP_CONCURRENCY * 2))
    slots = asyncio.Semaphore(SETUP_CONCURRENCY)
    requests = {
        "cryptomus": compose_payout(provider="cryptomus", currency="USDT", network="TRON", address=ADDRESS,
                                    amount="5"),
        "pay3": compose_payout(provider="pay3", currency="USDT", network="TRON", address=ADDRESS, amount="5",
                               fee_mode="from_amount"),
    }

    async def send(name: str) -> ImportedPayout:
        provider, request, key = setup[name], requests[name], new_idempotency_key()
        async with slots:
            execution: dict[str, Any] = {}
            if provider.estimate_registers_order:
                execution = dict((await provider.estimate(request, key)).execution_data)
            state = await provider.submit(request, key, execution)
        return ImportedPayout(request=request, idempotency_key=key, status=PayoutStatus.PROCESSING,
                              created_at=utc_now() - timedelta(minutes=5), created_by="benchmark",
                              provider_status=state.provider_status, provider_payout_id=state.provider_payout_id)

    try:
        names = ["cryptomus"] * (count - count // 2) + ["pay3"] * (count // 2)
        made = await asyncio.gather(*(send(name) for name in names))
    finally:
        for client in setup.values():
            await client.aclose()
    ledger.payouts.import_payouts(made, actor="benchmark")


# --- measuring -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timed:
    seconds: float
    requests: int
    stall_ms: float
    gc_ms: float  # the longest garbage collection meanwhile (it stalls the loop too, whoever made the garbage)


class CollectorWatch:
    """The longest pause of Python's garbage collector while it is attached."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._began = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.longest = max(self.longest, time.perf_counter() - self._began)


async def timed(run: Callable[[], Awaitable[Any]], transport: CountingTransport) -> Timed:
    """Wall time of `run`, the requests it sent, the longest lateness of a ticker that wants to run every 5 ms
    (what a window's repaint would have waited), and the longest garbage collection meanwhile."""
    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    worst = 0.0
    collector = CollectorWatch()

    async def ticker() -> None:
        nonlocal worst
        while not done.is_set():
            wanted = loop.time() + TICK_SECONDS
            await asyncio.sleep(TICK_SECONDS)
            worst = max(worst, loop.time() - wanted)

    ticking = asyncio.create_task(ticker())
    await asyncio.sleep(TICK_SECONDS * 2)
    before = transport.requests
    gc.callbacks.append(collector)
    began = time.perf_counter()
    try:
        await run()
    finally:
        elapsed = time.perf_counter() - began
        done.set()
        await ticking
        gc.callbacks.remove(collector)
    return Timed(elapsed, transport.requests - before, worst * 1000, collector.longest * 1000)


class BareLoop:
    """The same requests as the poller's clients make, straight through httpx: no ledger, no records."""

    def __init__(self, base_url: str, transport: CountingTransport, settings: PollerSettings) -> None:
        http = HttpSettings()
        self.client = httpx.AsyncClient(base_url=base_url, transport=transport, limits=httpx.Limits(
            max_connections=http.max_connections, max_keepalive_connections=http.max_keepalive_connections))
        # One bound per provider, as each client's read slots (and the poller's calls in flight) give.
        self.slots = {name: asyncio.Semaphore(min(http.max_concurrent_reads, settings.max_in_flight))
                      for name in ("cryptomus", "pay3")}
        self.settings = settings
        self.profile = Pay3Profile(base_url=base_url, client_id=DEFAULT_PAY3_CLIENT_ID)
        self.token: str | None = None

    async def cycle(self, keys: dict[str, list[str]], cryptomus_since: datetime) -> None:
        await asyncio.gather(self.cryptomus(keys["cryptomus"], cryptomus_since), self.pay3(keys["pay3"]))

    async def cryptomus(self, keys: list[str], sent_since: datetime) -> None:
        """The list pages back to `sent_since` (less the client's margin, in Moscow time, as the client asks),
        until every key was seen; then `info` for any the list did not show."""
        date_from = (sent_since - SENT_SINCE_MARGIN).astimezone(CRYPTOMUS_TIME)
        data = {"date_from": f"{date_from:%Y-%m-%d %H:%M:%S}"}
        wanted, found = set(keys), set()
        async with self.slots["cryptomus"]:
            cursor = None
            while True:
                page = await self._cryptomus_post("/v1/payout/list", data, {"cursor": cursor} if cursor else None)
                found.update(item.get("order_id") for item in page["result"]["items"])
                cursor = page["result"]["paginate"].get("nextCursor")
                if not cursor or wanted <= found:
                    break

        async def info(key: str) -> None:
            async with self.slots["cryptomus"]:
                await self._cryptomus_post("/v1/payout/info", {"order_id": key})

        await asyncio.gather(*(info(key) for key in keys if key not in found))

    async def _cryptomus_post(self, path: str, data: dict[str, Any], params: dict[str, str] | None = None) -> Any:
        body = encode_body(data)
        headers = {"merchant": DEFAULT_CRYPTOMUS_MERCHANT, "sign": sign_body(body, DEFAULT_CRYPTOMUS_PAYOUT_KEY),
                   "Content-Type": "application/json"}
        response = await self.client.post(path, content=body, headers=headers, params=params)
        response.raise_for_status()
        return json.loads(response.content)

    async def pay3(self, keys: list[str]) -> None:
        decisions = self.profile.decisions
        if self.token is None:
            payload = {decisions.token_client_id_field: DEFAULT_PAY3_CLIENT_ID,
                       decisions.token_secret_field: DEFAULT_PAY3_API_SECRET}
            response = await self.client.post(decisions.token_path, json=payload)
            response.raise_for_status()
            self.token = json.loads(response.content)[decisions.token_answer_field]

        async def details(key: str) -> None:
            async with self.slots["pay3"]:
                response = await self.client.get(decisions.details_path, headers={"access-token": str(self.token)},
                                                 params={"requestId": key, "clientId": DEFAULT_PAY3_CLIENT_ID})
                response.raise_for_status()
                json.loads(response.content)

        size = self.settings.fetch_size("pay3")
        batches = [keys[start:start + size] for start in range(0, len(keys), size)]
        await _bounded(self.settings.max_in_flight,
                       [lambda b=b: asyncio.gather(*(details(k) for k in b)) for b in batches])


async def _bounded(width: int, calls: list[Callable[[], Awaitable[Any]]]) -> None:
    """Run `calls` with at most `width` at once (workers taking the next call, as the poller's do)."""
    queue = list(reversed(calls))

    async def worker() -> None:
        while queue:
            await queue.pop()()

    await asyncio.gather(*(worker() for _ in range(min(width, len(calls)))))


async def measure(sandbox: SandboxProcess, ledger: Ledger, runs: int,
                  advance: float) -> tuple[list[Timed], list[Timed], int]:
    """The poller's cycle and the bare loop, alternately, `runs` times each after one untimed warm-up; the
    sandbox's clock moved by `advance` seconds before each timed cycle of the poller."""
    base_url = sandbox.base_url
    settings = PollerSettings()
    open_payouts = {name: ledger.payouts.open_payouts(provider=name) for name in ("cryptomus", "pay3")}
    keys = {name: [p.idempotency_key for p in payouts] for name, payouts in open_payouts.items()}
    cryptomus_since = earliest_send(open_payouts["cryptomus"])
    ours_transport, bare_transport = CountingTransport(), CountingTransport()
    providers = clients(base_url, ours_transport)
    poller = Poller(ledger, providers, PayoutWorkflow(ledger, providers), settings=settings)
    bare = BareLoop(base_url, bare_transport, settings)
    changed = 0
    try:
        warm = await poller.refresh_once()  # connections, Pay3's token, SQLite's cache
        changed += len(warm.changes)
        await bare.cycle(keys, cryptomus_since)
        ours, theirs = [], []
        reports: list[Any] = []
        for _ in range(runs):
            if advance:
                sandbox.advance(advance)
            ours.append(await timed(lambda: _keep(poller.refresh_once(), reports), ours_transport))
            changed += len(reports[-1].changes)
            if reports[-1].problems:
                raise RuntimeError(f"the cycle met problems: {reports[-1].problems}")
            theirs.append(await timed(lambda: bare.cycle(keys, cryptomus_since), bare_transport))
    finally:
        await bare.client.aclose()
        for client in providers.values():
            await client.aclose()
    return ours, theirs, changed


async def _keep(call: Awaitable[Any], into: list[Any]) -> None:
    into.append(await call)


def spread(values: list[float], digits: int = 0, unit: str = "") -> str:
    """`median unit (min–max)` of `values`."""
    def shown(value: float) -> str:
        return f"{value:,.{digits}f}"
    return f"{shown(statistics.median(values))}{unit} ({shown(min(values))}–{shown(max(values))})"


def floor_requests(payouts: int) -> tuple[int, int, int]:
    """The fewest requests a cycle can make for `payouts` open payouts (half per provider, as made here): one
    Pay3 order-details GET each, and the Cryptomus list pages that hold its payouts (the sandbox's page size,
    15 as documented). Returns (floor, Pay3 GETs, Cryptomus pages)."""
    pay3, cryptomus = payouts // 2, payouts - payouts // 2
    pages = math.ceil(cryptomus / SandboxConfig().cryptomus_page_size)
    return pay3 + pages, pay3, pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payouts", type=int, default=2000, help="open payouts, half per provider (default 2,000)")
    parser.add_argument("--runs", type=int, default=3, help="timed cycles of each kind (median reported)")
    parser.add_argument("--advance", type=float, default=0.0,
                        help="move the sandbox's clock this many seconds before each timed cycle, so that "
                             "statuses change during the cycles (default 0: a steady state, nothing changes)")
    parser.add_argument("--gc-freeze", action="store_true",
                        help="move every object alive after the set-up out of the collector's sight (gc.freeze()), "
                             "as an application does once it has started: full collections then stay short")
    parser.add_argument("--serve-sandbox", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_sandbox:
        return serve_sandbox()
    if args.payouts < 2 or args.runs < 1:
        print("error: --payouts must be at least 2 and --runs at least 1", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="polling-bench-") as folder:
        sandbox = SandboxProcess()
        try:
            return run(sandbox, Path(folder) / "ledger.sqlite3", args.payouts, args.runs, args.advance,
                       args.gc_freeze)
        finally:
            sandbox.stop()


def run(sandbox: SandboxProcess, path: Path, payouts: int, runs: int, advance: float, freeze: bool) -> int:
    print(f"Treasury Desk polling benchmark: Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, "
          f"{os.cpu_count()} CPUs; sandbox in process {sandbox.process.pid} at {sandbox.base_url}")
    with open_ledger(path) as ledger:
        began = time.perf_counter()
        asyncio.run(make_payouts(sandbox.base_url, ledger, payouts))
        print(f"set-up: {payouts:,} payouts sent through the real clients and imported as processing in "
              f"{time.perf_counter() - began:.1f} s")
        if freeze:
            gc.collect()
            gc.freeze()
        ours, bare, changed = asyncio.run(measure(sandbox, ledger, runs, advance))
        still_open = len(ledger.payouts.open_payouts())
    report(ours, bare, payouts, still_open, changed, freeze)
    return 0


def report(ours: list[Timed], bare: list[Timed], payouts: int, still_open: int, changed: int, freeze: bool) -> None:
    runs = len(ours)
    ratios = [mine.seconds / theirs.seconds for mine, theirs in zip(ours, bare, strict=True)]
    floor, pay3, pages = floor_requests(payouts)
    requests = [float(t.requests) for t in ours]
    stall, bare_stall = max(t.stall_ms for t in ours), max(t.stall_ms for t in bare)
    collection = max(t.gc_ms for t in ours)
    print(f"refresh cycle (poller.refresh_once): {spread([t.seconds * 1000 for t in ours], unit=' ms')}, median "
          f"(min–max) of {runs}; {payouts - still_open:,} of {payouts:,} payouts ended during the run, {changed:,} "
          "changes recorded")
    print(f"bare request loop (httpx):           {spread([t.seconds * 1000 for t in bare], unit=' ms')}, median "
          f"(min–max) of {runs}")
    print(f"ratio (cycle / bare loop, run by run): {spread(ratios, 2)}")
    print(f"requests per cycle: {spread(requests)}, bare loop {spread([float(t.requests) for t in bare])}; "
          f"floor {floor:,} ({pay3:,} Pay3 details + {pages:,} Cryptomus list pages): "
          f"{statistics.median(requests) / floor:.2f}x the floor")
    print(f"longest event-loop stall: {stall:.1f} ms during the cycles (bare loop: {bare_stall:.1f} ms); per cycle: "
          + ", ".join(f"{t.stall_ms:.0f}" for t in ours) + " ms (bare: " + ", ".join(f"{t.stall_ms:.0f}" for t in bare)
          + " ms)")
    print(f"longest garbage collection during the cycles: {collection:.1f} ms "
          f"({'start-up objects frozen' if freeze else 'default collector; --gc-freeze to freeze start-up objects'}, "
          f"{len(gc.get_objects()):,} objects tracked)")
    met = (("requests", statistics.median(requests) <= TARGET_REQUESTS * floor),
           ("ratio", statistics.median(ratios) <= TARGET_RATIO), ("stall", stall <= TARGET_STALL_MS))
    missed = [name for name, ok in met if not ok]
    verdict = "all met" if not missed else "NOT met: " + ", ".join(missed)
    print(f"targets (requests at most {TARGET_REQUESTS:g}x the floor, ratio at most {TARGET_RATIO:g}, "
          f"stall at most {TARGET_STALL_MS:g} ms; medians): {verdict}")

if __name__ == "__main__":
    sys.exit(main())
