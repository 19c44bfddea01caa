"""The dashboard's timing script runs on a small demo ledger and prints every figure (its timings are for a
person to read; the README says what they were on a million payouts)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from treasury_app.app_paths import ledger_path
from treasury_app.services.demo_data import write_demo_desk

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "dashboard_reads.py"


def test_the_dashboard_reads_script_prints_each_read_and_its_time(tmp_path):
    write_demo_desk(tmp_path / "desk", payouts=40)
    done = subprocess.run([sys.executable, str(SCRIPT), "--path", str(ledger_path(tmp_path / "desk")), "--runs", "2"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    said = done.stdout
    for line in ("open (and migrate) to schema version", "counts (waiting for arno", "daily sums, 30 days:",
                 "daily sums, 90 days:", "newest Pay3 estimate per asset, 30 days:"):
        assert line in said, said
    assert len(re.findall(r": first [0-9.]+ ms, then [0-9.]+ ms \([0-9.]+-[0-9.]+\) over 2 runs\n", said)) == 4, said
