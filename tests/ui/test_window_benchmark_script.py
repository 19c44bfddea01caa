"""The window benchmark script runs end to end on a small ledger and prints every figure it promises (a check
that the script works, not a timing test: its figures are for the README)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = PROJECT_ROOT / "tests" / "benchmarks" / "window.py"
MS = r"[0-9][0-9,]*\.[0-9] ms \([0-9][0-9,]*\.[0-9]–[0-9][0-9,]*\.[0-9]\)"


def test_the_window_benchmark_runs_on_a_small_ledger_and_prints_every_figure(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, str(SCRIPT), "--rows", "3000", "--runs", "1", "--payouts", "20",
                             "--cache-dir", str(tmp_path)], capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for start in ("start to painted table", "bare PySide6 window start", "filter or sort change",
                  "jump to row"):
        assert any(line.startswith(start) and re.search(MS, line) for line in out.splitlines()), (start, out)
    assert re.search(r"longest GUI-thread stall while polling 20 payouts: [0-9.]+ ms \(20 changes", out), out
    assert re.search(r"ratio [0-9]+\.[0-9]{2}", out) and "targets (" in out


def test_the_window_export_benchmark_runs_on_a_small_ledger_and_prints_every_figure(tmp_path):
    script = PROJECT_ROOT / "tests" / "benchmarks" / "export_window.py"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, str(script), "--rows", "2000", "--runs", "1", "--cache-dir",
                             str(tmp_path)], capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert re.search(rf"export of 2,000 payouts through the window's dialog: {MS}", out), out
    assert re.search(rf"longest GUI-thread stall during the export: {MS}", out), out
    assert re.search(r"^target \(stall ≤ 50 ms\): (met|NOT met)$", out, re.MULTILINE), out
