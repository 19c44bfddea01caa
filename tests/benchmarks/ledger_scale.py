"""Ledger at scale: build a ledger of N payouts through the repository's import path, then time the window's
queries through the repository next to the same SQL in the database's own shell (`sqlite3`, or `psql` for a
team ledger on PostgreSQL).

    python tests/benchmarks/ledger_scale.py [--rows 1000000] [--path FILE] [--reuse] [--runs 7] [--rounds 1]
    python tests/benchmarks/ledger_scale.py --ledger postgresql://user:pw@host:port/db [--reuse] …
    python tests/benchmarks/ledger_scale.py --postgres-cluster …   # a throwaway server, removed after

On PostgreSQL it also measures how long a change committed by one desk takes to reach another desk's
`follow_changes` (ledger_scale_postgres.py). Targets (design.md): each query under 150 ms, our call within 1.5×
the shell running the same SQL, a change seen by the other desk within 1 s.
A script, not a test: tests/ledger/test_ledger_benchmark_script.py only proves that it runs and prints every figure.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import sqlite3
from contextlib import ExitStack
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

PROJECT_ROOT = Path(__file__).resolve().parents[2]
if str(PROJECT_ROOT) not in sys.path:  # run as a plain script from a checkout
    sys.path.insert(0, str(PROJECT_ROOT))

from treasury_app.domain.assets import ASSETS, Asset  # noqa: E402
from treasury_app.domain.payout_lifecycle import PayoutStatus  # noqa: E402
from treasury_app.domain.payout_request import FeeMode, PayoutRequest  # noqa: E402
from treasury_app.ledger import ImportedPayout, Ledger, PayoutFilter, PayoutSort, open_ledger  # noqa: E402
from treasury_app.ledger.payout_queries import SqlQuery  # noqa: E402

TARGET_MS = 150.0
TARGET_RATIO = 1.5
PAGE = 100
BATCH = 10_000
SQLITE_SHELL_MISSING = (
    "the sqlite3 command-line shell is needed for the comparison: install the `sqlite3` package "
    "(Debian/Ubuntu: apt-get install sqlite3; macOS: it ships with the system; Windows: sqlite.org/download)"
)

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
HEX = "0123456789abcdef"
BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

# How a desk's ledger looks after a year: mostly completed, a few of everything else.
STATUS_WEIGHTS = {
    PayoutStatus.COMPLETED: 800, PayoutStatus.FAILED: 40, PayoutStatus.CANCELLED: 50, PayoutStatus.REJECTED: 10,
    PayoutStatus.PROCESSING: 20, PayoutStatus.SUBMITTING: 3, PayoutStatus.UNKNOWN: 2, PayoutStatus.DRAFT: 20,
    PayoutStatus.ESTIMATED: 20, PayoutStatus.AWAITING_APPROVAL: 15, PayoutStatus.APPROVED: 10,
    PayoutStatus.EXPIRED: 10,
}
ASSET_WEIGHTS = {
    ("USDT", "TRON"): 350, ("USDT", "ETH"): 80, ("USDT", "BSC"): 60, ("USDT", "POLYGON"): 30, ("USDT", "TON"): 40,
    ("USDT", "SOL"): 30, ("USDC", "ETH"): 50, ("USDC", "SOL"): 30, ("USDC", "POLYGON"): 20, ("USDC", "BSC"): 10,
    ("BTC", "BTC"): 90, ("ETH", "ETH"): 60, ("TRX", "TRON"): 40, ("TON", "TON"): 30, ("SOL", "SOL"): 30,
    ("LTC", "LTC"): 20, ("DOGE", "DOGE"): 10, ("BNB", "BSC"): 15,
}
NOTES = [
    "Salary", "Contractor invoice", "Affiliate commission", "Refund of order", "Supplier payment", "Bonus",
    "Marketing partner", "Bug bounty reward", "Liquidity top-up", "Market maker settlement", "Travel expenses",
]
PEOPLE = ["Ana Souza", "Kenji Watanabe", "Olu Adeyemi", "Marta Nowak", "Liam O'Brien", "Priya Raman",
          "Chen Wei", "Sofia Rossi", "Yusuf Demir", "Elena Petrova", "Diego Herrera", "Fatima Zahra"]


def address_for(network: str, rng: random.Random) -> str:
    """An address of the network's shape. The ledger stores what the domain validated; checksums do not matter
    for its speed, so they are not computed here."""
    if network == "TRON":
        return "T" + "".join(rng.choices(B58, k=33))
    if network in {"ETH", "BSC", "POLYGON"}:
        return "0x" + "".join(rng.choices(HEX, k=40))
    if network == "BTC":
        return "bc1q" + "".join(rng.choices(BECH32, k=38))
    if network == "LTC":
        return "ltc1q" + "".join(rng.choices(BECH32, k=38))
    if network == "DOGE":
        return "D" + "".join(rng.choices(B58, k=33))
    if network == "TON":
        return "UQ" + "".join(rng.choices(B64URL, k=46))
    return "".join(rng.choices(B58, k=44))  # SOL


class PayoutMaker:
    """N payouts with a year's variety: providers, assets, recurring and one-off payees, references, notes."""

    def __init__(self, rows: int, seed: int = 20261121) -> None:
        self.rows = rows
        self.rng = random.Random(seed)
        self.assets: list[Asset] = [ASSETS[key] for key in ASSET_WEIGHTS]
        self.asset_weights = list(ASSET_WEIGHTS.values())
        self.statuses = list(STATUS_WEIGHTS)
        self.status_weights = list(STATUS_WEIGHTS.values())
        networks = {asset.network.code for asset in self.assets}
        # Most payouts go to people paid before: a pool of payees per network, the rest one-off addresses.
        pool = max(50, min(20_000, rows // 20))
        self.payees = {n: [address_for(n, self.rng) for _ in range(pool)] for n in networks}
        self.end = datetime(2026, 11, 21, tzinfo=UTC)
        self.span = timedelta(days=365)

    def reference(self, n: int) -> str | None:
        roll = self.rng.random()
        if roll < 0.6:
            return f"INV-{2025 + n * 2 // max(self.rows, 1)}-{n:07d}"
        if roll < 0.8:
            return "PAY-" + "".join(self.rng.choices(HEX, k=8)).upper()
        return None

    def note(self) -> str | None:
        roll = self.rng.random()
        if roll < 0.5:
            return None
        text = self.rng.choice(NOTES)
        return f"{text} {self.rng.choice(PEOPLE)}" if roll < 0.8 else f"{text} #{self.rng.randrange(10**5)}"

    def amount(self, asset: Asset) -> Decimal:
        magnitude = self.rng.choice((0, 1, 1, 2, 2, 2, 3, 3, 4, 5))
        places = min(asset.decimals, self.rng.choice((0, 2, 2, 4, 6, 8)))
        units = self.rng.randrange(10 ** (magnitude + places), 10 ** (magnitude + places + 1))
        return Decimal(units).scaleb(-places)

    def __iter__(self) -> Iterator[ImportedPayout]:
        rng = self.rng
        start = self.end - self.span
        step = self.span / max(self.rows, 1)
        for n in range(self.rows):
            asset = rng.choices(self.assets, self.asset_weights)[0]
            status = rng.choices(self.statuses, self.status_weights)[0]
            network = asset.network.code
            address = rng.choice(self.payees[network]) if rng.random() < 0.7 else address_for(network, rng)
            sent = status.may_have_reached_provider
            yield ImportedPayout(
                request=PayoutRequest(
                    provider="cryptomus" if rng.random() < 0.55 else "pay3", asset=asset, address=address,
                    amount=self.amount(asset), fee_mode=FeeMode.FROM_BALANCE if rng.random() < 0.8
                    else FeeMode.FROM_AMOUNT, reference=self.reference(n), note=self.note(),
                ),
                idempotency_key=f"{n:08x}{rng.getrandbits(96):024x}",
                status=status,
                created_at=start + step * n + timedelta(seconds=rng.randrange(0, 600)),
                created_by=rng.choice(("alice", "bob", "carol", "dmitri", "eve")),
                provider_status={"completed": "paid", "failed": "fail"}.get(status.value, "process") if sent else None,
                provider_payout_id=f"{rng.getrandbits(128):032x}" if sent else None,
                tx_hash=f"{rng.getrandbits(256):064x}" if status is PayoutStatus.COMPLETED else None,
            )


@dataclass(frozen=True)
class Measured:
    name: str
    ours_ms: float  # the table's page: `listing`, typed rows built
    records_ms: float  # the same page as full PayoutRecords
    fetch_ms: float  # the same SQL through the driver in this process, rows fetched as tuples: no records built
    shell_ms: float
    rows: int

    @property
    def ratio(self) -> float:
        return self.ours_ms / self.shell_ms if self.shell_ms > 0 else float("inf")


class Shell(Protocol):
    """The database's own command-line shell, and its driver in this process, for the comparison."""

    name: str  # the column's heading: sqlite3, psql

    def describe(self) -> str: ...  # the first line: versions of the database, the shell, Python

    def fetch(self, query: SqlQuery) -> list[Any]: ...  # the SQL through the driver, rows as tuples

    def time_query(self, sql: str, estimate_ms: float, runs: int) -> float: ...  # ms per run in the shell

    def settle(self) -> str: ...  # make a freshly built ledger steady before timing; says what it did

    def size_mb(self) -> float: ...

    def close(self) -> None: ...


def build(location: Path | str, rows: int) -> float:
    """Import `rows` payouts; returns the insert rate in rows per second."""
    with open_ledger(location) as ledger:
        began = time.perf_counter()
        written = ledger.payouts.import_payouts(PayoutMaker(rows), actor="benchmark", batch_size=BATCH)
        elapsed = time.perf_counter() - began
    assert written == rows
    return rows / elapsed


def time_ours(call: Callable[[], list[Any]], runs: int) -> tuple[float, int]:
    """Median wall time of the repository call, warm (one untimed call first), in milliseconds."""
    found = call()
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples), len(found)


def sql_literal(value: Any) -> str:
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def inline(query: SqlQuery) -> str:
    """The query with its parameters written in, as a person would type it into the shell."""
    parts = query.sql.split("?")
    assert len(parts) == len(query.params) + 1
    text = parts[0]
    for value, rest in zip(query.params, parts[1:], strict=True):
        text += sql_literal(value) + rest
    return text


def shell_repeats(estimate_ms: float) -> int:
    """How many times one shell process runs the query: about half a second of it."""
    return max(5, min(400, int(500 / max(estimate_ms, 0.05))))


def time_shell_processes(run: Callable[[str], float], sql: str, baseline_sql: str, estimate_ms: float,
                         runs: int) -> float:
    """A query's own cost in a shell, in milliseconds per run.

    Method: a shell's own timer reports wall time to the millisecond only, too coarse for a 0.5 ms page. So we
    time whole shell processes instead: one runs the query K times, the other runs a statement that needs the
    schema but reads no row (`SELECT 1 FROM payouts WHERE false`) K times, output to /dev/null. The difference
    divided by K is the query's own cost, rows printed included, without process start-up, connecting or
    opening the file and loading the schema, none of which our measurement includes either (the ledger is
    open). Each is the median of `runs` processes; K is chosen so that the query part lasts about half a second.
    """
    repeat = shell_repeats(estimate_ms)
    script = f"{sql};\n" * repeat
    baseline = f"{baseline_sql};\n" * repeat
    run(script)  # warm the caches the same way our own warm-up call does
    with_query = statistics.median(run(script) for _ in range(runs))
    without = statistics.median(run(baseline) for _ in range(runs))
    return max(0.0, (with_query - without) * 1000 / repeat)


class SqliteShell:
    name = "sqlite3"

    def __init__(self, shell: str, path: Path) -> None:
        self.shell = shell
        self.path = path
        self._raw: sqlite3.Connection | None = None  # opened once the ledger is built

    @property
    def raw(self) -> sqlite3.Connection:
        if self._raw is None:
            self._raw = sqlite3.connect(self.path)
        return self._raw

    def describe(self) -> str:
        version = subprocess.run([self.shell, "--version"], capture_output=True, text=True).stdout.split()[0]
        return (f"Treasury Desk ledger benchmark: SQLite {sqlite3.sqlite_version}, Python {sys.version.split()[0]}, "
                f"{self.shell} ({version})")

    def fetch(self, query: SqlQuery) -> list[Any]:
        return self.raw.execute(query.sql, query.params).fetchall()

    def time_query(self, sql: str, estimate_ms: float, runs: int) -> float:
        def run(text: str) -> float:
            began = time.perf_counter()
            subprocess.run([self.shell, "-readonly", str(self.path)], input=text, text=True, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            return time.perf_counter() - began

        return time_shell_processes(run, sql, "SELECT 1 FROM payouts WHERE 0", estimate_ms, runs)

    def settle(self) -> str:
        # Let the operating system finish writing the freshly built file before anything is timed: background
        # write-back of a gigabyte would otherwise be measured as query time.
        self.raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        os.sync()
        return "WAL checkpointed, file synced"

    def size_mb(self) -> float:
        return sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*")) / 1e6

    def close(self) -> None:
        if self._raw is not None:
            self._raw.close()


def search_term(ledger: Ledger, count: int) -> str:
    """Part of a real reference (its serial number), as a person searching for one invoice would type it."""
    for payout_id in range(max(1, count // 3), count + 1):
        reference = ledger.payouts.get(payout_id).reference
        if reference and reference.startswith("INV-"):
            return reference.rsplit("-", 1)[-1]
    return "INV"


def measure(ledger: Ledger, shell: Shell, runs: int, count: int) -> list[Measured]:
    term = search_term(ledger, count)
    cases = [
        ("first page (newest first)", PayoutFilter(), PayoutSort.NEWEST),
        ("status filter (failed)", PayoutFilter(statuses=(PayoutStatus.FAILED,)), PayoutSort.NEWEST),
        (f"text search ('{term}')", PayoutFilter(text=term), PayoutSort.NEWEST),
        ("sort by amount (largest first)", PayoutFilter(), PayoutSort.AMOUNT_DESC),
    ]
    results = []
    for name, payout_filter, sort in cases:
        # The window's table reads `listing` pages; full records are timed beside them for comparison.
        ours, found = time_ours(lambda f=payout_filter, s=sort: ledger.payouts.listing(f, s, limit=PAGE), runs)
        records, _ = time_ours(lambda f=payout_filter, s=sort: ledger.payouts.page(f, s, limit=PAGE), runs)
        query = ledger.payouts.listing_sql(payout_filter, sort, PAGE, 0)  # exactly what listing() runs
        fetch, _ = time_ours(lambda q=query: shell.fetch(q), runs)
        shell_ms = shell.time_query(inline(query), ours, runs)
        results.append(Measured(name, ours, records, fetch, shell_ms, found))
    return results


def peak_memory_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB elsewhere


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="payouts to build (default 1,000,000)")
    parser.add_argument("--path", type=Path, help="ledger file to build (default: a temporary file, removed after)")
    parser.add_argument("--ledger", metavar="URL", help="a team ledger to build on: postgresql://user:pw@host/db "
                        "(an empty database or schema; its password is never printed)")
    parser.add_argument("--postgres-cluster", action="store_true",
                        help="build on a throwaway PostgreSQL server started for the run and removed after "
                        "(initdb and pg_ctl of the installed PostgreSQL, as the tests start theirs)")
    parser.add_argument("--reuse", action="store_true", help="time an existing ledger instead of building")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per query (median reported)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="time the queries this many times over (medians and spread across rounds)")
    parser.add_argument("--notify-samples", type=int, default=21,
                        help="changes timed from one desk to another (PostgreSQL only)")
    args = parser.parse_args(argv)
    chosen = [given for given in (args.path is not None, args.ledger is not None, args.postgres_cluster) if given]
    if len(chosen) > 1:
        parser.error("choose one of --path, --ledger and --postgres-cluster")
    if args.postgres_cluster and args.reuse:
        parser.error("--reuse needs a ledger that outlives the run: --path or --ledger")
    if args.ledger is not None or args.postgres_cluster:
        from ledger_scale_postgres import run_on_postgres  # psycopg and the psql shell only when asked

        return run_on_postgres(args)
    return run_on_sqlite(args)


def run_on_sqlite(args: argparse.Namespace) -> int:
    if args.path is not None and args.path.exists() and not args.reuse:
        print(f"error: {args.path} exists; remove it, or pass --reuse to time it as it is", file=sys.stderr)
        return 2
    shell = shutil.which("sqlite3")
    if shell is None:
        print(f"error: {SQLITE_SHELL_MISSING}", file=sys.stderr)
        return 2
    with ExitStack() as cleanup:
        path = args.path
        if path is None:
            path = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="ledger-bench-"))) / "ledger.sqlite3"
        sqlite = SqliteShell(shell, path)
        cleanup.callback(sqlite.close)
        print(sqlite.describe())
        print(build_report(path, args.rows, args.reuse, shown=str(path)))
        run(path, sqlite, args.runs, args.rounds)
    return 0


def build_report(location: Path | str, rows: int, reuse: bool, *, shown: str) -> str:
    if reuse:
        return f"insert rate: not measured (reusing {shown})"
    rate = build(location, rows)
    return f"insert rate: {rate:,.0f} rows/s ({rows:,} payouts with their first events, batches of {BATCH:,})"


def run(location: Path | str, shell: Shell, runs: int, rounds: int) -> list[list[Measured]]:
    """Time the queries `rounds` times on the built ledger and print every figure; the rounds' results."""
    settled = shell.settle()
    with open_ledger(location) as ledger:
        count = ledger.payouts.count()
        print(f"ledger: {count:,} payouts, {shell.size_mb():,.0f} MB on disk ({settled})")
        print(machine_load("before timing"))
        every_round = []
        for number in range(1, rounds + 1):
            if rounds > 1:
                print(f"round {number} of {rounds}:")
            results = measure(ledger, shell, runs, count)
            print_table(results, shell.name)
            every_round.append(results)
    print(f"(ours: the table's repository call `listing`, typed rows built; {shell.name}: the same SQL in the "
          "shell, rows printed to /dev/null; fetch-only: that SQL from Python, rows left as tuples; full records: "
          "`page`, all 33 fields of each payout converted; medians, warm)")
    print(machine_load("after timing"))
    if rounds > 1:
        print_spread(every_round, shell.name)
    peak = peak_memory_mb()
    print(f"peak memory: {peak:,.0f} MB (ru_maxrss of this process)")
    # Every round must meet the targets, not only the median one.
    missed = sorted({r.name for results in every_round for r in results
                     if r.ours_ms >= TARGET_MS or r.ratio >= TARGET_RATIO})
    verdict = "all met" if not missed else "NOT met by " + ", ".join(missed)
    print(f"targets (each under {TARGET_MS:.0f} ms, ratio under {TARGET_RATIO}): {verdict}")
    return every_round


def machine_load(when: str) -> str:
    """The machine's cores and load: figures taken while other work runs are noisier (see the spread)."""
    if not hasattr(os, "getloadavg"):
        return f"machine: {os.cpu_count()} cores"
    one, five, fifteen = os.getloadavg()
    return f"machine: {os.cpu_count()} cores, load average {one:.2f} {five:.2f} {fifteen:.2f} {when}"


def print_table(results: list[Measured], shell_name: str) -> None:
    print(f"{'query (first page of ' + str(PAGE) + ' rows)':<36}{'ours ms':>9}{shell_name + ' ms':>12}{'ratio':>7}"
          f"{'rows':>6}{'fetch-only ms':>15}{'full records ms':>17}")
    for r in results:
        print(f"{r.name:<36}{r.ours_ms:>9.2f}{r.shell_ms:>12.2f}{r.ratio:>7.2f}{r.rows:>6}{r.fetch_ms:>15.2f}"
              f"{r.records_ms:>17.2f}")


def print_spread(every_round: list[list[Measured]], shell_name: str) -> None:
    """Per query: the median of the rounds' figures, and their lowest and highest."""
    def spread(values: list[float]) -> str:
        return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"

    print(f"over {len(every_round)} rounds, median (lowest-highest):")
    print(f"{'query':<36}{'ours ms':>20}{shell_name + ' ms':>20}{'ratio':>20}")
    for index, first in enumerate(every_round[0]):
        same = [results[index] for results in every_round]
        print(f"{first.name:<36}{spread([r.ours_ms for r in same]):>20}{spread([r.shell_ms for r in same]):>20}"
              f"{spread([r.ratio for r in same]):>20}")


if __name__ == "__main__":
    sys.exit(main())
