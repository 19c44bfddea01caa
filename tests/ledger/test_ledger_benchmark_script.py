"""The ledger benchmark script runs end to end on a small ledger and prints every figure it promises.

It is not a timing test: the figures themselves are for people (README). This proves the script still works.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ledger_fixtures import PROJECT_ROOT, subprocess_env

SCRIPT = PROJECT_ROOT / "tests" / "benchmarks" / "ledger_scale.py"
NUMBER = r"[0-9][0-9,]*(?:\.[0-9]+)?"
QUERIES = ["first page (newest first)", "status filter (failed)", "text search (", "sort by amount (largest first)"]


def test_the_benchmark_builds_a_small_ledger_and_prints_every_figure(tmp_path: Path):
    if shutil.which("sqlite3") is None:
        pytest.fail("the sqlite3 command-line shell is missing: install the `sqlite3` package "
                    "(apt-get install sqlite3); the ledger benchmark compares against it")
    path = tmp_path / "bench.sqlite3"
    result = subprocess.run([sys.executable, str(SCRIPT), "--rows", "2000", "--path", str(path), "--runs", "3"],
                            capture_output=True, text=True, timeout=300, env=subprocess_env())
    assert result.returncode == 0, result.stderr
    out = result.stdout

    assert re.search(rf"^insert rate: {NUMBER} rows/s \(2,000 payouts", out, re.MULTILINE), out
    assert re.search(r"^ledger: 2,000 payouts", out, re.MULTILINE), out
    for query in QUERIES:
        line = next((line for line in out.splitlines() if line.startswith(query)), None)
        assert line is not None, f"no line for {query!r} in:\n{out}"
        ours, shell, ratio, rows, fetch, records = line[36:].split()
        for figure in (ours, shell, ratio, fetch, records):
            assert re.fullmatch(NUMBER, figure), line
        assert int(rows) >= 1, line  # every query finds something in the generated ledger
    assert re.search(rf"^peak memory: {NUMBER} MB", out, re.MULTILINE), out
    assert re.search(r"^targets \(each under 150 ms, ratio under 1.5\): ", out, re.MULTILINE), out
    assert path.exists()


def test_the_benchmark_refuses_to_overwrite_an_existing_file(tmp_path: Path):
    path = tmp_path / "precious.sqlite3"
    path.write_bytes(b"keep me")
    result = subprocess.run([sys.executable, str(SCRIPT), "--rows", "10", "--path", str(path)],
                            capture_output=True, text=True, timeout=120, env=subprocess_env())
    assert result.returncode == 2 and "exists" in result.stderr
    assert path.read_bytes() == b"keep me"
