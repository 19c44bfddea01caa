"""The polling benchmark script runs end to end with a few payouts and prints every figure it promises.

It is not a timing test: the figures are for people (README, reports). This proves the script still works,
that its sandbox process goes away with it, and that the poller and the bare loop send the floor's requests.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = PROJECT_ROOT / "tests" / "benchmarks" / "polling.py"
NUMBER = r"[0-9][0-9,]*(?:\.[0-9]+)?"


def line_starting(out: str, start: str) -> str:
    found = [line for line in out.splitlines() if line.startswith(start)]
    assert len(found) == 1, f"no single line starting {start!r} in:\n{out}"
    return found[0]


def test_the_benchmark_polls_a_few_payouts_and_prints_every_figure():
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    result = subprocess.run([sys.executable, str(SCRIPT), "--payouts", "40", "--runs", "2"], capture_output=True,
                            text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    out = result.stdout

    sandbox_pid = int(re.search(r"sandbox in process ([0-9]+) at http://127\.0\.0\.1:[0-9]+", out).group(1))
    assert re.fullmatch(rf"set-up: 40 payouts sent through the real clients .* in {NUMBER} s",
                        line_starting(out, "set-up:"))
    spread = rf"{NUMBER}( ms)? \(({NUMBER})–({NUMBER})\)"
    assert re.match(rf"refresh cycle \(poller\.refresh_once\): +{spread}, median \(min–max\) of 2; 0 of 40 payouts "
                    "ended", line_starting(out, "refresh cycle"))
    assert re.match(rf"bare request loop \(httpx\): +{spread}, median \(min–max\) of 2",
                    line_starting(out, "bare request loop"))
    ratio = re.fullmatch(rf"ratio \(cycle / bare loop, run by run\): ({NUMBER}) \(({NUMBER})–({NUMBER})\)",
                         line_starting(out, "ratio"))
    assert ratio is not None
    median_ratio, low, high = (float(n) for n in ratio.groups())
    assert low <= median_ratio <= high
    requests = re.fullmatch(rf"requests per cycle: ({NUMBER}) \({NUMBER}–{NUMBER}\), bare loop ({NUMBER}) "
                            rf"\({NUMBER}–{NUMBER}\); floor ({NUMBER}) "
                            rf"\(20 Pay3 details \+ 2 Cryptomus list pages\): ({NUMBER})x the floor",
                            line_starting(out, "requests per cycle:"))
    assert requests is not None
    ours, bare, floor = (int(n.replace(",", "")) for n in requests.groups()[:3])
    # 20 Cryptomus payouts read from two list pages, 20 Pay3 payouts one GET each: the floor, on both sides.
    assert ours == bare == floor == 22 and requests.group(4) == "1.00"
    assert re.match(rf"longest event-loop stall: {NUMBER} ms during the cycles \(bare loop: {NUMBER} ms\); per cycle:",
                    line_starting(out, "longest event-loop stall:"))
    assert re.match(rf"longest garbage collection during the cycles: {NUMBER} ms",
                    line_starting(out, "longest garbage collection"))
    assert re.match(r"targets \(requests at most 1.1x the floor, ratio at most 1.3, stall at most 50 ms; medians\): ",
                    line_starting(out, "targets"))
    assert not Path(f"/proc/{sandbox_pid}").exists() or _is_zombie(sandbox_pid)


def test_the_benchmark_refuses_numbers_that_measure_nothing():
    result = subprocess.run([sys.executable, str(SCRIPT), "--payouts", "1"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2 and "--payouts" in result.stderr


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True
