"""The ledger benchmark on a team ledger (PostgreSQL): the same ledger and queries as ledger_scale.py, timed
next to `psql`, and how long a change committed by one desk takes to reach another desk's `follow_changes`.

`--ledger URL` builds on a database you give (an empty one, or an empty schema on the URL's search path);
`--postgres-cluster` starts a throwaway server the way the tests do (tests/ledger/throwaway_postgres.py: initdb
and pg_ctl of the installed PostgreSQL, in a temporary folder, on loopback) and removes it after, so that
figures can be reproduced without owning a server. Unlike the tests' cluster, this one keeps fsync on: commits
cost what they cost on a real server. The URL's password is never printed (`shown_url`), and `psql` gets it
from its environment (PGPASSWORD), never on a command line other users could read.

`python ledger_scale_postgres.py --desk-b` is the other desk of the latency measurement: it reads the URL from
its standard input (not its command line, for the same reason), then for each payout id it reads, approves
that payout, and answers the time it began (after the commit).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import psycopg
from ledger_scale import (
    PROJECT_ROOT,
    build_report,
    run,
    time_shell_processes,
)

from treasury_app.domain.approval_binding import payout_digest
from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.ledger import (
    ApprovalDecision,
    LedgerChange,
    PayoutFilter,
    PayoutSort,
    open_ledger,
)
from treasury_app.ledger.location import password_in, shown_url, without_password
from treasury_app.ledger.payout_queries import SqlQuery
from treasury_app.ledger.postgres.connection import postgres_sql

NOTIFY_TARGET_S = 1.0
ARRIVAL_DEADLINE_S = 10.0  # a change not seen by then is reported as lost, not waited for
PSQL_MISSING = ("the psql command-line shell is needed for the comparison: install the PostgreSQL client "
                "(Debian/Ubuntu: apt-get install postgresql-client; macOS: brew install libpq)")


class PsqlShell:
    """`psql`, and psycopg in this process, on the team ledger's database."""

    name = "psql"

    def __init__(self, psql: str, url: str) -> None:
        self.psql = psql
        self.url = url
        self.raw = psycopg.connect(url, autocommit=True)

    def describe(self) -> str:
        version = self.raw.execute("SHOW server_version").fetchone()[0]
        settings = ", ".join(f"{name} {self.raw.execute(f'SHOW {name}').fetchone()[0]}"
                             for name in ("shared_buffers", "fsync", "synchronous_commit"))
        client = subprocess.run([self.psql, "--version"], capture_output=True, text=True).stdout.split()[2]
        return (f"Treasury Desk ledger benchmark: PostgreSQL {version.split()[0]} at {shown_url(self.url)} "
                f"({settings}), Python {sys.version.split()[0]}, psycopg {psycopg.__version__}, "
                f"{self.psql} ({client})")

    def fetch(self, query: SqlQuery) -> list[Any]:
        return self.raw.execute(postgres_sql(query.sql), query.params).fetchall()

    def time_query(self, sql: str, estimate_ms: float, runs: int) -> float:
        # Unaligned output (-A), like the sqlite3 shell's list mode: aligned output would first measure every row.
        command = [self.psql, "-X", "-q", "-A", "-v", "ON_ERROR_STOP=1", "-d", without_password(self.url), "-f", "-"]
        env = {**os.environ, "PGPASSWORD": password_in(self.url) or ""}

        def run_psql(text: str) -> float:
            began = time.perf_counter()
            subprocess.run(command, input=text, text=True, check=True, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            return time.perf_counter() - began

        return time_shell_processes(run_psql, sql, "SELECT 1 FROM payouts WHERE false", estimate_ms, runs)

    def settle(self) -> str:
        # What autovacuum does by itself a little after a bulk load, done now so that no round times a table
        # without statistics, or the server vacuuming it meanwhile.
        self.raw.execute("VACUUM (ANALYZE) payouts, payout_events")
        return "VACUUM (ANALYZE) after the build, as autovacuum would"

    def size_mb(self) -> float:
        return float(self.raw.execute(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class AS c "
            "JOIN pg_namespace AS n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind = 'r'").fetchone()[0]) / 1e6

    def close(self) -> None:
        self.raw.close()


def run_on_postgres(args: argparse.Namespace) -> int:
    psql = shutil.which("psql")
    if psql is None:
        print(f"error: {PSQL_MISSING}", file=sys.stderr)
        return 2
    with ExitStack() as cleanup:
        url = args.ledger
        if args.postgres_cluster:
            url = start_cluster(cleanup)
        with open_ledger(url) as ledger:  # made on first use, as a desk makes it
            already = ledger.payouts.count()
        if already and not args.reuse:
            print(f"error: the ledger at {shown_url(url)} already holds {already:,} payouts; use an empty one, or "
                  "pass --reuse to time it as it is", file=sys.stderr)
            return 2
        shell = PsqlShell(psql, url)
        cleanup.callback(shell.close)
        print(shell.describe())
        print(build_report(url, args.rows, args.reuse, shown=shown_url(url)))
        run(url, shell, args.runs, args.rounds)
        report_notify_latency(url, args.notify_samples)
    return 0


def start_cluster(cleanup: ExitStack) -> str:
    """A throwaway server for this run (stopped and removed when `cleanup` closes); its ledger database's URL."""
    tests_ledger = str(PROJECT_ROOT / "tests" / "ledger")
    if tests_ledger not in sys.path:
        sys.path.insert(0, tests_ledger)
    from throwaway_postgres import create_ledgers_database, throwaway_cluster

    cluster = cleanup.enter_context(throwaway_cluster(durable=True))
    print(f"server: a throwaway cluster in {cluster.data_dir.parent} on {cluster.host}:{cluster.port}, "
          "removed after the run")
    return cluster.url(create_ledgers_database(cluster))


def report_notify_latency(url: str, samples: int) -> None:
    latencies = notify_latencies(url, samples)
    median, low, high = statistics.median(latencies), min(latencies), max(latencies)
    verdict = "met" if high <= NOTIFY_TARGET_S else "NOT met"
    print(f"notify latency: median {median * 1000:.1f} ms, min {low * 1000:.1f} ms, max {high * 1000:.1f} ms "
          f"over {len(latencies)} approvals committed by desk B (another process) until desk A's follow_changes "
          f"callback (target under {NOTIFY_TARGET_S:.0f} s, every sample): {verdict}")


def notify_latencies(url: str, samples: int) -> list[float]:
    """Seconds from desk B beginning an approval to desk A's callback hearing of it, one approval at a time.

    Both clocks are this machine's wall clock (`time.time()`, the same for every process). The first approval
    is a warm-up (desk B's first statements are planned, its connection's caches filled) and not counted."""
    arrived: dict[int, float] = {}
    heard = threading.Condition()

    def on_change(change: LedgerChange) -> None:
        now = time.time()
        with heard:
            for payout_id in change.payout_ids:
                arrived.setdefault(payout_id, now)
            heard.notify_all()

    with open_ledger(url) as desk_a, ExitStack() as cleanup:
        waiting = PayoutFilter(statuses=(PayoutStatus.AWAITING_APPROVAL,))
        targets = [row.id for row in desk_a.payouts.listing(waiting, PayoutSort.NEWEST, limit=samples + 1)]
        if len(targets) < samples + 1:
            raise SystemExit(f"error: the ledger has {len(targets)} payouts awaiting approval; "
                             f"{samples + 1} are needed to time {samples} approvals")
        feed = desk_a.follow_changes(on_change)
        assert feed is not None  # a team ledger always has a feed
        cleanup.callback(feed.stop)
        if not feed.wait_until_listening(ARRIVAL_DEADLINE_S):
            raise SystemExit("error: desk A's change feed did not start listening")
        desk_b = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--desk-b"], text=True,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=child_env())
        cleanup.callback(desk_b.kill)
        assert desk_b.stdin is not None and desk_b.stdout is not None
        desk_b.stdin.write(url + "\n")
        desk_b.stdin.flush()
        if desk_b.stdout.readline().strip() != "ready":
            raise SystemExit("error: desk B could not open the ledger (its error is above)")
        latencies = []
        for payout_id in targets:
            desk_b.stdin.write(f"{payout_id}\n")
            desk_b.stdin.flush()
            began = float(desk_b.stdout.readline())
            with heard:
                if not heard.wait_for(lambda p=payout_id: p in arrived, timeout=ARRIVAL_DEADLINE_S):
                    raise SystemExit(f"error: desk A did not hear of the approval of payout {payout_id} "
                                     f"within {ARRIVAL_DEADLINE_S:.0f} s")
                latencies.append(arrived[payout_id] - began)
        desk_b.stdin.close()
        desk_b.wait(timeout=ARRIVAL_DEADLINE_S)
    return latencies[1:]


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH")) if p)
    return env


def desk_b() -> int:
    """The other desk: approve each payout id read from standard input, answering when each approval began."""
    url = sys.stdin.readline().strip()
    with open_ledger(url) as ledger:
        print("ready", flush=True)
        for line in sys.stdin:
            payout_id = int(line)
            payout = ledger.payouts.get(payout_id)
            began = time.time()
            ledger.approvals.add(payout_id, decision=ApprovalDecision.APPROVED, operator="benchmark-desk-b",
                                 payout_digest=payout_digest(payout))
            print(repr(began), flush=True)
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--desk-b"]:
        sys.exit(desk_b())
    print("run tests/benchmarks/ledger_scale.py --ledger URL (or --postgres-cluster); "
          "this module is its PostgreSQL part", file=sys.stderr)
    sys.exit(2)
