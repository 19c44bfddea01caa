"""The payouts CSV export as a person runs it: `treasury-app export payouts` of a 1,000,000-payout ledger, next to
`sqlite3 -csv` writing the same rows' raw columns, and the export's peak memory at 100,000 and 1,000,000 payouts.

    python tests/benchmarks/export.py [--rows 1000000] [--small-rows 100000] [--runs 3] [--cache-dir DIR]

Each run is a fresh process, timed from its launch to its exit, with its peak resident memory (wait4's
ru_maxrss); ours and sqlite3 alternate, so that a slower spell of the machine falls on both. Ours includes all a
user waits for: Python's start, the sign-in (argon2id at its real cost), the count, padding, neutralisation and
quoting, SHA-256, fsync, the rename and the audit row; the fixed part of that is printed beside it (an export of
an empty period) and subtracted from nothing. The ledgers are payout_table.py's cached ones (built when
missing: 100,000 in ~25 s, 1,000,000 in ~4 min), copied once into a desk of their own with an exporting
operator, so that the cache is never written to.
The worst case for the report's reader is printed too: a copy of the smaller ledger where every payout's note
holds the delimiter and a quote (so every line is made again, quoted) and every payout has a standing approval
(a third of them two), timed beside the same ledger as it is. It has no target; it shows that such a file costs
a small factor, not a different order.
Targets (design.md, issue 13): at least half the throughput of `sqlite3 -csv`; peak memory under 150 MB, and
flat: the 1,000,000-payout export within 10 % of the 100,000 one. Figures: median (min–max) of --runs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parents[1]
if str(PROJECT_ROOT) not in sys.path:  # run as a plain script from a checkout
    sys.path.insert(0, str(PROJECT_ROOT))

from payout_table import ledger_file  # noqa: E402

from treasury_app.app_paths import ledger_path  # noqa: E402
from treasury_app.ledger import open_ledger  # noqa: E402
from treasury_app.services.operator_accounts import OperatorAccounts  # noqa: E402

TARGET_RATIO = 0.5
TARGET_PEAK_MB = 150.0
FLAT_TOLERANCE = 0.10
OPERATOR = "bench-exporter"
PASSWORD = "export benchmark passphrase 2026"
# The payouts' own columns behind the report's cells, raw (no padding, no neutralisation, sqlite3's quoting),
# in the report's order: the approvals' two cells have no raw column, net and total come from four.
RAW_COLUMNS = ("created_at, estimated_at, submitted_at, finished_at, id, idempotency_key, provider, "
               "provider_payout_id, currency, network, address, amount, estimated_fee, actual_fee, actual_amount, "
               "estimated_net, estimated_total, fee_mode, status, provider_status, tx_hash, created_by, reference, "
               "note")
RAW_QUERY = f"SELECT {RAW_COLUMNS} FROM payouts ORDER BY created_at, id"


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_mb: float


# Runs one command and reports its time and peak memory. Linux keeps a process's peak across exec, so a child
# forked from this benchmark (a hundred megabytes of Python and ledger) would report at least that: the child is
# forked from this small launcher instead (Python without site, a few MB: the floor of the figure).
LAUNCHER = """
import os, sys, time
out = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC) if sys.argv[1] != "-" else os.open(os.devnull, os.O_WRONLY)
began = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.dup2(out, 1)
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
print(time.perf_counter() - began, usage.ru_maxrss, os.waitstatus_to_exitcode(status))
"""


def timed_process(command: list[str], env: dict[str, str], output: Path | None = None) -> Run:
    """Launch to exit of one fresh process, and its peak resident memory. `output`: its standard output's file."""
    done = subprocess.run([sys.executable, "-S", "-c", LAUNCHER, str(output) if output else "-", *command], env=env,
                          capture_output=True, text=True, timeout=1800)
    seconds, peak_kib, code = done.stdout.split()
    if done.returncode != 0 or int(code) != 0:
        raise RuntimeError(f"{' '.join(command)} failed (exit {code}): {done.stderr.strip()[-400:]}")
    return Run(float(seconds), int(peak_kib) / 1024)  # Linux gives KiB


def export_desk(cache_dir: Path, rows: int) -> Path:
    """A desk (data folder) holding a copy of the cached ledger and an operator who may export."""

    def add_exporter(copy: Path) -> None:
        with open_ledger(copy) as ledger:
            OperatorAccounts(ledger).add(OPERATOR, ["admin"], PASSWORD, acting=None)

    return _desk_from(ledger_file(cache_dir, rows), cache_dir / f"export-desk-{rows}", add_exporter)


def quoted_desk(cache_dir: Path, rows: int) -> Path:
    """The smaller desk with every line needing quotes and every payout approved (see the docstring)."""

    def quote_and_approve(copy: Path) -> None:
        with sqlite3.connect(copy) as conn:
            conn.execute("""UPDATE payouts SET note = 'invoice ' || id || ', paid "in full"'""")
            for operator, every in (("approver-one", 1), ("approver-two", 3)):
                conn.execute("INSERT INTO approvals (payout_id, decision, operator, payout_digest, decided_at) "
                             "SELECT id, 'approved', ?, 'benchmark', created_at FROM payouts WHERE id % ? = 0",
                             (operator, every))
        conn.close()

    plain = export_desk(cache_dir, rows)
    return _desk_from(ledger_path(plain), cache_dir / f"export-desk-{rows}-quoted", quote_and_approve)


def _desk_from(source: Path, data_dir: Path, prepare: Callable[[Path], None]) -> Path:
    """`data_dir` with a prepared copy of the ledger `source`, made once (a partial copy never counts as made)."""
    if not ledger_path(data_dir).exists():
        ledger_path(data_dir).parent.mkdir(parents=True, exist_ok=True)
        partial = data_dir / "copying.partial"
        shutil.copyfile(source, partial)
        prepare(partial)
        partial.rename(ledger_path(data_dir))
    return data_dir


def our_export(data_dir: Path, target: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "treasury_app", "--data-dir", str(data_dir), "export", "payouts", "--as", OPERATOR,
            "-o", str(target), "--force", *extra]


def measure(data_dir: Path, rows: int, runs: int, scratch: Path) -> dict[str, list[Run]]:
    env = {**os.environ, "TREASURY_PASSWORD": PASSWORD, "PYTHONPATH": str(PROJECT_ROOT)}
    ours_file, raw_file = scratch / "ours.csv", scratch / "raw.csv"
    empty = our_export(data_dir, scratch / "empty.csv", "--from", "2100-01-01")
    timed_process(our_export(data_dir, ours_file), env)  # warm: the file in the page cache for both
    figures: dict[str, list[Run]] = {"ours": [], "sqlite3": [], "fixed": []}
    for _ in range(runs):
        figures["ours"].append(timed_process(our_export(data_dir, ours_file), env))
        figures["sqlite3"].append(timed_process(["sqlite3", "-readonly", "-csv", str(ledger_path(data_dir)),
                                                 RAW_QUERY], env, raw_file))
        figures["fixed"].append(timed_process(empty, env))
    written = sum(1 for _ in open(ours_file, "rb")) - 2  # the heading and the column names
    raw_rows = sum(1 for _ in open(raw_file, "rb"))
    if written != rows or raw_rows < rows:  # a raw line may hold a note's line break: never fewer lines
        raise RuntimeError(f"expected {rows:,} rows; ours wrote {written:,} lines, sqlite3 {raw_rows:,}")
    return figures


def spread(values: list[float], unit: str, digits: int = 2) -> str:
    return f"{statistics.median(values):,.{digits}f} {unit} ({min(values):,.{digits}f}–{max(values):,.{digits}f})"


def rates(runs: list[Run], rows: int) -> list[float]:
    return [rows / run.seconds for run in runs]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small-rows", type=int, default=None,
                        help="the smaller ledger of the memory comparison (default: 100,000, or rows/10 if fewer)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "treasury-payout-table-bench")
    args = parser.parse_args(argv)
    small = args.small_rows or min(100_000, max(1, args.rows // 10))
    if shutil.which("sqlite3") is None:
        raise SystemExit("the sqlite3 command-line shell is needed (apt-get install sqlite3)")
    desks = {rows: export_desk(args.cache_dir, rows) for rows in (small, args.rows)}
    print(f"Treasury Desk export benchmark: payouts report of {args.rows:,} and {small:,} payouts, Python "
          f"{sys.version.split()[0]}, {os.cpu_count()} CPUs; median (min–max) of {args.runs} fresh processes")
    scratch = Path(tempfile.mkdtemp(prefix="treasury-export-bench-"))
    try:
        figures = {rows: measure(desk, rows, args.runs, scratch) for rows, desk in desks.items()}
        quoted = measure(quoted_desk(args.cache_dir, small), small, args.runs, scratch)["ours"]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    big = figures[args.rows]
    ours_rate, raw_rate = rates(big["ours"], args.rows), rates(big["sqlite3"], args.rows)
    ratio = statistics.median(ours_rate) / statistics.median(raw_rate)
    print(f"treasury-app export payouts, {args.rows:,} rows: {spread([r.seconds for r in big['ours']], 's')}, "
          f"{spread(ours_rate, 'rows/s', 0)}")
    print(f"sqlite3 -csv, same rows' raw columns:      {spread([r.seconds for r in big['sqlite3']], 's')}, "
          f"{spread(raw_rate, 'rows/s', 0)}   ratio {ratio:.2f}")
    print(f"of ours, fixed (start, sign-in, audit; an empty period's export): "
          f"{spread([r.seconds for r in big['fixed']], 's')} (included above, not subtracted)")
    plain = figures[small]["ours"]
    print(f"every line quoted and every payout approved, {small:,} rows: {spread([r.seconds for r in quoted], 's')}, "
          f"{spread(rates(quoted, small), 'rows/s', 0)} (as it is: {spread([r.seconds for r in plain], 's')})")
    peaks = {rows: [r.peak_mb for r in runs["ours"]] for rows, runs in figures.items()}
    for rows, values in peaks.items():
        print(f"peak memory of the export, {rows:,} rows: {spread(values, 'MB', 1)} "
              f"(sqlite3 -csv: {statistics.median([r.peak_mb for r in figures[rows]['sqlite3']]):,.1f} MB)")
    small_peak, big_peak = statistics.median(peaks[small]), statistics.median(peaks[args.rows])
    met = {"throughput": ratio >= TARGET_RATIO, "memory": max(small_peak, big_peak) < TARGET_PEAK_MB,
           "flat": big_peak <= small_peak * (1 + FLAT_TOLERANCE)}
    missed = [name for name, ok in met.items() if not ok]
    print(f"targets (≥ {TARGET_RATIO:g}× sqlite3's rows/s, peak < {TARGET_PEAK_MB:g} MB, {args.rows:,} rows within "
          f"{FLAT_TOLERANCE:.0%} of {small:,}): " + ("all met" if not missed else "NOT met: " + ", ".join(missed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
