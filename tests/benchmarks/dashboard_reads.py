"""The dashboard's reads timed on a ledger file (a COPY: opening it migrates it to this version's schema), as
the dashboard makes them on the worker thread.

    python tests/benchmarks/dashboard_reads.py --path COPY.sqlite3 [--now 2026-11-21T12:00:00+00:00] [--runs 7]

`--now` is "now" for the reads (the benchmark ledger's last day, to look at days that have payouts). Each read
is printed as its first time (the file partly on disk, as at the dashboard's first opening) and then the
median (min–max) of `--runs` more. A script, not a test: tests/services/test_dashboard_reads_script.py only
proves that it runs and prints every figure.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from treasury_app.ledger import open_ledger
from treasury_app.services.dashboard import daily_volume, dashboard_counts, estimate_news
from treasury_app.services.operator_accounts import SignedIn

T = TypeVar("T")


def timed(name: str, read: Callable[[], T], runs: int) -> T:
    samples = []
    for _ in range(runs + 1):
        started = time.perf_counter()
        result = read()
        samples.append((time.perf_counter() - started) * 1000)
    first, warm = samples[0], samples[1:]
    print(f"{name}: first {first:.1f} ms, then {statistics.median(warm):.1f} ms ({min(warm):.1f}-{max(warm):.1f}) "
          f"over {runs} runs", flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--path", required=True, help="a copy of a ledger file (it is migrated)")
    parser.add_argument("--now", type=datetime.fromisoformat, default=datetime.now(UTC))
    parser.add_argument("--runs", type=int, default=7, help="timed runs after the first (median, min-max)")
    args = parser.parse_args()
    now: datetime = args.now if args.now.tzinfo else args.now.replace(tzinfo=UTC)
    started = time.perf_counter()
    with open_ledger(args.path) as ledger:
        print(f"open (and migrate) to schema version {ledger.schema_version}: "
              f"{time.perf_counter() - started:.2f} s", flush=True)
        approver = next((o.name for o in ledger.operators.all() if "approver" in o.roles), "nobody")
        acting = SignedIn(approver, frozenset({"approver"}), now)
        counts = timed(f"counts (waiting for {approver}, others, being paid, unknown, completed today, failed "
                       "in 7 days)", lambda: dashboard_counts(ledger, acting, now), args.runs)
        print(f"  {counts.waiting_for_me} {counts.waiting_for_others} {counts.being_paid} {counts.unknown} "
              f"{counts.completed_today} {counts.failed_this_week}")
        for days in (30, 90):
            volume = timed(f"daily sums, {days} days", lambda days=days: daily_volume(ledger, days, now), args.runs)
            print(f"  {sum(v.payouts for v in volume.currencies)} completed payouts in "
                  f"{len(volume.currencies)} currencies")
        timed("newest Pay3 estimate per asset, 30 days", lambda: estimate_news(ledger, ("pay3",), now), args.runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
