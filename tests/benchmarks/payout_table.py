"""The window's payout table on a 1,000,000-payout ledger: a filter or sort change (first page and count, one
snapshot), the anchors of a query, and a jump to row 900,000 (one keyset page from its anchor).

    python tests/benchmarks/payout_table.py [--rows 1000000] [--runs 7] [--cache-dir DIR]

The ledger is built once (ledger_scale.py's payouts, through the import path) and kept in the cache folder
(default: <temp>/treasury-payout-table-bench) for the next run. Target (design.md): each ≤ 50 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
if str(PROJECT_ROOT) not in sys.path:  # run as a plain script from a checkout
    sys.path.insert(0, str(PROJECT_ROOT))

from ledger_scale import build  # noqa: E402

from treasury_app.domain.payout_lifecycle import PayoutStatus  # noqa: E402
from treasury_app.ledger import open_ledger  # noqa: E402
from treasury_app.ledger.schema import SCHEMA_VERSION  # noqa: E402
from treasury_app.services.payout_table import PayoutFilter, PayoutTable, TableSort  # noqa: E402

TARGET_MS = 50.0
PAGE = 200
JUMP_ROW = 900_000

CASES = [
    ("everything, newest first", PayoutFilter(), TableSort()),
    ("everything, largest amount first", PayoutFilter(), TableSort("amount", "desc")),
    ("everything, by status", PayoutFilter(), TableSort("status", "asc")),
    ("completed, largest amount first", PayoutFilter(statuses=(PayoutStatus.COMPLETED,)), TableSort("amount", "desc")),
    ("pay3 + USDT, newest first", PayoutFilter(provider="pay3", currency="USDT"), TableSort()),
    ("failed, by provider", PayoutFilter(statuses=(PayoutStatus.FAILED,)), TableSort("provider", "desc")),
    ("June, by currency", PayoutFilter(created_from=datetime(2026, 6, 1, tzinfo=UTC),
                                        created_to=datetime(2026, 7, 1, tzinfo=UTC)), TableSort("currency", "asc")),
    ("search a reference serial ('0123456')", PayoutFilter(text="0123456"), TableSort()),
    ("search 'Salary' (a third of the notes)", PayoutFilter(text="Salary"), TableSort()),
]


def ledger_file(cache_dir: Path, rows: int) -> Path:
    """The cached ledger of `rows` payouts at this schema version, built when missing."""
    path = cache_dir / f"ledger-{rows}-v{SCHEMA_VERSION}.sqlite3"
    if path.exists():
        print(f"ledger: reusing {path}")
        return path
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    for stale in cache_dir.glob(partial.name + "*"):
        stale.unlink()
    print(f"ledger: building {rows:,} payouts in {path} (once; later runs reuse it) …", flush=True)
    rate = build(partial, rows)
    print(f"ledger: built at {rate:,.0f} payouts/s")
    partial.rename(path)
    return path


def timed(call: Callable[[], object], runs: int) -> list[float]:
    call()  # warm: the window repeats queries on a file the operating system has cached
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        call()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def spread(samples: list[float]) -> str:
    return f"{statistics.median(samples):8.1f} ({min(samples):.1f}-{max(samples):.1f})"


def measure(table: PayoutTable, runs: int) -> list[str]:
    missed = []
    header = (f"{'case':<40}{'rows':>10}{'first page ms':>22}{'page + count ms':>22}{'anchors ms':>22}"
              f"{'jump ms':>22}")
    print(header)
    for name, payout_filter, sort in CASES:
        first = timed(lambda f=payout_filter, s=sort: table.first_page(f, s, PAGE), runs)
        change = timed(lambda f=payout_filter, s=sort: table.read_query(f, s, PAGE), runs)
        count = table.count(payout_filter)
        anchors_ms = timed(lambda f=payout_filter, s=sort: table.anchors(f, s, PAGE), max(1, runs // 2))
        anchors = table.anchors(payout_filter, sort, PAGE)
        target = min(JUMP_ROW, count * 9 // 10)
        page_number = target // PAGE
        jump_text = "-"
        if page_number >= 1:
            anchor = anchors[page_number - 1]
            jump = timed(lambda f=payout_filter, s=sort, a=anchor: table.page_from(f, s, a, PAGE), runs)
            jump_text = spread(jump) + f" @{target:,}"
            missed += [name] if statistics.median(jump) > TARGET_MS else []
        missed += [name] if statistics.median(change) > TARGET_MS else []
        print(f"{name:<40}{count:>10,}{spread(first):>22}{spread(change):>22}{spread(anchors_ms):>22}  {jump_text}")
    return missed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7, help="timed runs per figure (median, min-max printed)")
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "treasury-payout-table-bench")
    args = parser.parse_args(argv)
    path = ledger_file(args.cache_dir, args.rows)
    with open_ledger(path) as ledger:
        table = PayoutTable(ledger)
        print(f"pages of {PAGE} rows; figures in ms: median (min-max) of {args.runs} warm runs; anchors: "
              f"{max(1, args.runs // 2)} runs; jump: one keyset page from the anchor of the row after '@'")
        missed = measure(table, args.runs)
    verdict = "all met" if not missed else "NOT met by " + ", ".join(dict.fromkeys(missed))
    print(f"target (query change and jump, each ≤ {TARGET_MS:.0f} ms; anchors are read once per query, off the "
          f"GUI thread, before the first far jump): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
