"""The audit trail benchmark script runs end to end on a short trail and prints every figure it promises, on a
chain that `audit verify` finds intact. Not a timing test: the figures are for people (README)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = PROJECT_ROOT / "tests" / "benchmarks" / "audit_trail.py"
FIGURE = r"[0-9]+\.[0-9] \([0-9.]+-[0-9.]+\)"
CASES = ["whole trail, newest first", "one operator (clerk03)", "one action (policy.set)",
         "failed sign-ins (no operator)", "the last day"]


def test_the_benchmark_builds_a_short_trail_and_prints_every_figure(tmp_path: Path):
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT))
    result = subprocess.run([sys.executable, str(SCRIPT), "--rows", "3000", "--runs", "2", "--cache-dir",
                             str(tmp_path)], capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "trail: building 3,000 rows" in out, out
    for case in CASES:
        line = next((line for line in out.splitlines() if line.startswith(case)), None)
        assert line is not None, f"no line for {case!r} in:\n{out}"
        rows = int(line[34:45].replace(",", ""))
        assert 0 < rows <= 3000, line
        # open/filter and page starts; a far page when the rows fill more than one page of 200
        assert len(re.findall(FIGURE, line)) == (3 if rows > 200 else 2), line
    assert re.search(rf"^operator and action choices\s+{FIGURE}", out, re.MULTILINE), out
    assert re.search(rf"^Verify \(whole chain\)\s+3,000\s+{FIGURE}\s+intact", out, re.MULTILINE), out
    assert re.search(r"^target \(open/filter and far page, each ≤ 50 ms\): ", out, re.MULTILINE), out
