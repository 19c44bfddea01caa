"""The Audit trail screen's reads on a long trail: what the window asks the ledger when the screen opens, when a
filter changes, when the person scrolls far down, and the chain check of Verify.

    python tests/benchmarks/audit_trail.py [--rows 1000000] [--runs 7] [--cache-dir DIR]

The trail is made once and cached (a million rows in about a minute): hash-chained exactly as the services
chain their rows (`audit verify` passes on it), sign-ins, failed sign-ins, setting and policy changes and
address-book entries by 12 operators, one row every 30 s. Each read goes through `services.audit_trail`, as the
screen's worker does. Figures in ms: median (min-max) of --runs warm runs. Target (the payouts table's, from
design.md): a filter change to its first page ≤ 50 ms, a far page ≤ 50 ms; the operator and action choices are
read once per opening, off the GUI thread, and Verify is a progress bar: they have no target and are printed.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parents[1]
if str(PROJECT_ROOT) not in sys.path:  # run as a plain script from a checkout
    sys.path.insert(0, str(PROJECT_ROOT))

from payout_table import timed  # noqa: E402 — the same warm runs as the payouts table's figures

from treasury_app.ledger import open_ledger  # noqa: E402
from treasury_app.ledger.audit_trail_reads import AuditFilter  # noqa: E402
from treasury_app.ledger.column_codecs import encode_json  # noqa: E402
from treasury_app.ledger.timestamps import format_timestamp  # noqa: E402
from treasury_app.security.audit_chain import GENESIS_HASH, canonical_content, chain_hash, verify  # noqa: E402
from treasury_app.services.audit_trail import AuditTrail  # noqa: E402
from treasury_app.services.operator_accounts import SignedIn  # noqa: E402

PAGE = 200
TARGET_MS = 50.0
START = datetime(2025, 1, 1, tzinfo=UTC)
OPERATORS = [f"clerk{n:02d}" for n in range(12)]
# (action, share of the rows in parts of 100): what a desk's trail is mostly made of, once payouts are aside.
ACTIONS = (("operator.signed_in", 70), ("operator.sign_in_failed", 15), ("settings.changed", 8),
           ("policy.set", 5), ("address_book.added", 2))
BATCH = 20_000


def trail_file(cache_dir: Path, rows: int) -> Path:
    # No schema version in the name: opening an older cache migrates it like any desk's ledger (indexes added in
    # seconds), where building a million chained rows again takes minutes.
    path = cache_dir / f"audit-trail-{rows}.sqlite3"
    if path.exists():
        print(f"trail: reusing {path}")
        return path
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    for stale in cache_dir.glob(partial.name + "*"):
        stale.unlink()
    print(f"trail: building {rows:,} rows in {path} (once; later runs reuse it) …", flush=True)
    began = time.perf_counter()
    build(partial, rows)
    print(f"trail: built at {rows / (time.perf_counter() - began):,.0f} rows/s")
    partial.rename(path)
    return path


def build(path: Path, rows: int) -> None:
    with open_ledger(path):
        pass  # the schema, as the app makes it
    actions = [name for name, share in ACTIONS for _ in range(share)]
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        prev_hash = GENESIS_HASH
        for first in range(1, rows + 1, BATCH):
            batch = []
            for seq in range(first, min(rows, first + BATCH - 1) + 1):
                operator = OPERATORS[(seq * 7) % len(OPERATORS)]
                action = actions[(seq * 31) % len(actions)]
                failed = action == "operator.sign_in_failed"
                detail = encode_json({"reason": "wrong_password", "failures_in_a_row": seq % 4 + 1}) if failed \
                    else (encode_json({"setting": "poll.interval", "value": seq % 90}) if action.startswith("settings")
                          else None)
                at_text = format_timestamp(START + timedelta(seconds=30 * seq))
                shown_operator = None if failed else operator
                subject = f"operator:{operator}"
                content = canonical_content(seq=seq, at_text=at_text, operator=shown_operator, action=action,
                                            subject=subject, detail_json=detail)
                row_hash = chain_hash(prev_hash, content)
                batch.append((seq, at_text, shown_operator, action, subject, detail, prev_hash, row_hash))
                prev_hash = row_hash
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO audit_log (seq, at, operator, action, subject, detail, prev_hash, hash) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", batch)
            conn.execute("COMMIT")
    finally:
        conn.close()


def spread(samples: list[float]) -> str:
    return f"{statistics.median(samples):10.1f} ({min(samples):.1f}-{max(samples):.1f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7, help="timed runs per figure (median, min-max printed)")
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "treasury-payout-table-bench")
    args = parser.parse_args(argv)
    path = trail_file(args.cache_dir, args.rows)
    auditor = SignedIn("auditor", frozenset({"viewer"}), datetime.now(UTC))
    with open_ledger(path) as ledger:
        # The services check the reader's role in the ledger: an operator row (no password needed to read).
        if ledger.operators.find("auditor") is None:
            ledger.operators.add("auditor", password_hash="-", roles=["viewer"])
        trail = AuditTrail(ledger)
        last_day = START + timedelta(seconds=30 * args.rows) - timedelta(days=1)
        cases = [
            ("whole trail, newest first", AuditFilter()),
            ("one operator (clerk03)", AuditFilter(operator="clerk03")),
            ("one action (policy.set)", AuditFilter(action="policy.set")),
            ("failed sign-ins (no operator)", AuditFilter(operator="")),
            ("the last day", AuditFilter(since=last_day)),
        ]
        print(f"{args.rows:,} audit rows; pages of {PAGE}; ms: median (min-max) of {args.runs} warm runs")
        print(f"{'case':<34}{'rows':>11}{'open/filter ms':>26}{'page starts ms':>26}{'far page ms':>26}")
        missed = []
        for name, audit_filter in cases:
            query = trail.query(auditor, audit_filter, PAGE)
            opened = timed(lambda f=audit_filter: trail.query(auditor, f, PAGE), args.runs)
            starts = trail.page_starts(auditor, query, PAGE)
            starting = timed(lambda q=query: trail.page_starts(auditor, q, PAGE), args.runs)
            far_text = "-"
            if len(starts) > 1:
                start = starts[len(starts) * 9 // 10]
                far = timed(lambda f=audit_filter, s=start: trail.page(auditor, f, PAGE, s), args.runs)
                far_text = spread(far)
                missed += [name] if statistics.median(far) > TARGET_MS else []
            missed += [name] if statistics.median(opened) > TARGET_MS else []
            print(f"{name:<34}{query.count:>11,}{spread(opened):>26}{spread(starting):>26}{far_text:>26}")
        choices = timed(lambda: trail.choices(auditor), args.runs)
        print(f"{'operator and action choices':<34}{'':>11}{spread(choices):>26}")
        verify_runs = max(1, args.runs // 3)
        verdicts = []
        checked = timed(lambda: verdicts.append(verify(ledger)), verify_runs)
        intact = all(report.intact for report in verdicts)
        print(f"{'Verify (whole chain)':<34}{args.rows:>11,}{spread(checked):>26}  "
              f"{'intact' if intact else 'BROKEN'} ({verify_runs} runs)")
    verdict = "all met" if not missed else "NOT met by " + ", ".join(dict.fromkeys(missed))
    print(f"target (open/filter and far page, each ≤ {TARGET_MS:.0f} ms): {verdict}")
    return 0 if intact else 1


if __name__ == "__main__":
    sys.exit(main())
