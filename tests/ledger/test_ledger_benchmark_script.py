"""The ledger benchmark script runs end to end on a small ledger and prints every figure it promises, on SQLite
and on PostgreSQL (the test cluster, and a throwaway server of its own with --postgres-cluster).

It is not a timing test: the figures themselves are for people (README). This proves the script still works.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ledger_fixtures import PROJECT_ROOT, make_request, subprocess_env

from treasury_app.ledger import open_ledger
from treasury_app.ledger.location import password_in

SCRIPT = PROJECT_ROOT / "tests" / "benchmarks" / "ledger_scale.py"
NUMBER = r"[0-9][0-9,]*(?:\.[0-9]+)?"
QUERIES = ["first page (newest first)", "status filter (failed)", "text search (", "sort by amount (largest first)"]


def run_script(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *arguments], capture_output=True, text=True, timeout=300,
                          env=subprocess_env())


def assert_every_query_figure(out: str, shell: str) -> None:
    assert re.search(rf"^query \(first page of 100 rows\) +ours ms +{shell} ms +ratio", out, re.MULTILINE), out
    for query in QUERIES:
        line = next((line for line in out.splitlines() if line.startswith(query)), None)
        assert line is not None, f"no line for {query!r} in:\n{out}"
        ours, shell_ms, ratio, rows, fetch, records = line[36:].split()
        for figure in (ours, shell_ms, ratio, fetch, records):
            assert re.fullmatch(NUMBER, figure), line
        assert int(rows) >= 1, line  # every query finds something in the generated ledger
    assert re.search(rf"^peak memory: {NUMBER} MB", out, re.MULTILINE), out
    assert re.search(r"^targets \(each under 150 ms, ratio under 1.5\): ", out, re.MULTILINE), out


def test_the_benchmark_builds_a_small_ledger_and_prints_every_figure(tmp_path: Path):
    if shutil.which("sqlite3") is None:
        pytest.fail("the sqlite3 command-line shell is missing: install the `sqlite3` package "
                    "(apt-get install sqlite3); the ledger benchmark compares against it")
    path = tmp_path / "bench.sqlite3"
    result = run_script("--rows", "2000", "--path", str(path), "--runs", "3")
    assert result.returncode == 0, result.stderr
    out = result.stdout

    assert re.search(rf"^insert rate: {NUMBER} rows/s \(2,000 payouts", out, re.MULTILINE), out
    assert re.search(r"^ledger: 2,000 payouts", out, re.MULTILINE), out
    assert_every_query_figure(out, "sqlite3")
    assert path.exists()


def test_on_a_team_ledger_it_prints_every_figure_with_psql_and_the_notify_latency(postgres_database: str):
    if shutil.which("psql") is None:
        pytest.fail("the psql shell is missing: install the PostgreSQL client (apt-get install postgresql-client); "
                    "the ledger benchmark compares against it")
    result = run_script("--ledger", postgres_database, "--rows", "2000", "--runs", "2", "--rounds", "2",
                        "--notify-samples", "5")
    assert result.returncode == 0, result.stderr
    out = result.stdout

    secret = password_in(postgres_database)
    assert secret and secret not in out + result.stderr
    assert re.search(r"^Treasury Desk ledger benchmark: PostgreSQL 1[0-9.]+ at postgresql://\S+@127\.0\.0\.1:", out,
                     re.MULTILINE), out
    assert re.search(rf"^insert rate: {NUMBER} rows/s \(2,000 payouts", out, re.MULTILINE), out
    assert re.search(r"^ledger: 2,000 payouts, [0-9,]+ MB on disk", out, re.MULTILINE), out
    assert out.count("round ") == 2 and "over 2 rounds, median (lowest-highest):" in out, out
    assert_every_query_figure(out, "psql")
    latency = re.search(rf"^notify latency: median ({NUMBER}) ms, min ({NUMBER}) ms, max ({NUMBER}) ms over 5 "
                        r"approvals committed by desk B \(another process\)", out, re.MULTILINE)
    assert latency is not None, out
    median, low, high = (float(figure) for figure in latency.groups())
    assert 0 < low <= median <= high, out
    with open_ledger(postgres_database) as ledger:  # desk B's approvals are in the ledger, one per sample
        assert len([a for a in ledger.approvals.iter_all() if a.operator == "benchmark-desk-b"]) == 6  # + warm-up


def test_the_postgres_cluster_option_runs_on_a_server_of_its_own_and_removes_it():
    result = run_script("--postgres-cluster", "--rows", "600", "--runs", "1", "--notify-samples", "2")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    started = re.search(r"^server: a throwaway cluster in (\S+) on 127\.0\.0\.1:[0-9]+", out, re.MULTILINE)
    assert started is not None, out
    assert_every_query_figure(out, "psql")
    assert re.search(r"^notify latency: median ", out, re.MULTILINE), out
    assert not Path(started.group(1)).exists()  # the server's folder went with it


def test_a_team_ledger_that_holds_payouts_is_not_built_on_without_reuse(postgres_database: str):
    with open_ledger(postgres_database) as ledger:
        ledger.payouts.add(make_request(), idempotency_key="k" * 32, actor="someone")
    result = run_script("--ledger", postgres_database, "--rows", "10")
    assert result.returncode == 2 and "already holds 1 payouts" in result.stderr, result.stderr
    assert password_in(postgres_database) not in result.stderr
    with open_ledger(postgres_database) as ledger:
        assert ledger.payouts.count() == 1


def test_the_benchmark_refuses_to_overwrite_an_existing_file(tmp_path: Path):
    path = tmp_path / "precious.sqlite3"
    path.write_bytes(b"keep me")
    result = subprocess.run([sys.executable, str(SCRIPT), "--rows", "10", "--path", str(path)],
                            capture_output=True, text=True, timeout=120, env=subprocess_env())
    assert result.returncode == 2 and "exists" in result.stderr
    assert path.read_bytes() == b"keep me"
