"""The export benchmark script runs end to end on a small ledger and prints every figure it promises (a check that
the script works, not a timing test: its figures are for the README)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = PROJECT_ROOT / "tests" / "benchmarks" / "export.py"
SECONDS = r"[0-9][0-9,]*\.[0-9]{2} s \([0-9][0-9,]*\.[0-9]{2}–[0-9][0-9,]*\.[0-9]{2}\)"
RATE = r"[0-9][0-9,]* rows/s \([0-9][0-9,]*–[0-9][0-9,]*\)"
MEGABYTES = r"[0-9][0-9,]*\.[0-9] MB \([0-9][0-9,]*\.[0-9]–[0-9][0-9,]*\.[0-9]\)"


def test_the_export_benchmark_runs_on_a_small_ledger_and_prints_every_figure(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    result = subprocess.run([sys.executable, str(SCRIPT), "--rows", "3000", "--runs", "1", "--cache-dir",
                             str(tmp_path)], capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert re.search(rf"treasury-app export payouts, 3,000 rows: {SECONDS}, {RATE}", out), out
    assert re.search(rf"sqlite3 -csv, same rows' raw columns: +{SECONDS}, {RATE} +ratio [0-9]+\.[0-9]{{2}}", out), out
    assert re.search(rf"of ours, fixed \(start, sign-in, audit; an empty period's export\): {SECONDS}", out), out
    for rows in ("300", "3,000"):
        assert re.search(rf"peak memory of the export, {rows} rows: {MEGABYTES} \(sqlite3 -csv: [0-9.]+ MB\)",
                         out), (rows, out)
    assert re.search(rf"every line quoted and every payout approved, 300 rows: {SECONDS}, {RATE} "
                     rf"\(as it is: {SECONDS}\)", out), out
    assert re.search(r"^targets \(.*\): (all met|NOT met: [a-z, ]+)$", out, re.MULTILINE), out
    # The cached ledgers are never written to: the exports ran on copies in desks of their own.
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["export-desk-300", "export-desk-300-quoted",
                                                                           "export-desk-3000"]
