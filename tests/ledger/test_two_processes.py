"""Two real processes on one ledger file: nothing lost, nothing corrupted, and "busy" is a clear typed error."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest
from ledger_fixtures import make_request, subprocess_env

from treasury_app.domain.payout_lifecycle import PayoutStatus as S
from treasury_app.ledger import LedgerBusyError, PayoutFilter, open_ledger

SCRIPT = Path(__file__).with_name("ledger_process.py")
PER_PROCESS = 200


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(SCRIPT), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=subprocess_env())


def finish(process: subprocess.Popen, timeout: float = 120) -> dict:
    out, err = process.communicate(input="", timeout=timeout)
    assert process.returncode == 0, f"process crashed:\n{err}"
    assert "database is locked" not in err
    return json.loads(out.strip().splitlines()[-1])


def test_two_processes_writing_a_fresh_ledger_at_once_lose_nothing(tmp_path):
    path = tmp_path / "shared" / "ledger.sqlite3"  # neither the folder nor the file exists yet
    start_at = f"{time.time() + 0.8:.3f}"
    processes = [start("write", str(path), name, str(PER_PROCESS), start_at) for name in ("east", "west")]
    results = [finish(p) for p in processes]

    assert [r["added"] for r in results] == [PER_PROCESS, PER_PROCESS]
    with open_ledger(path) as ledger:
        assert ledger.integrity_check() == []
        assert ledger.payouts.count() == 2 * PER_PROCESS
        assert ledger.payouts.count(PayoutFilter(statuses=(S.COMPLETED,))) == 2 * PER_PROCESS
        for name in ("east", "west"):
            assert ledger.payouts.count(PayoutFilter(text=f"{name} payout")) == PER_PROCESS
        for batch in ledger.payouts.iter_batches(batch_size=100):
            for payout in batch:
                events = ledger.payouts.events(payout.id)
                assert [e.to_status for e in events] == [S.DRAFT, S.ESTIMATED, S.SUBMITTING, S.PROCESSING,
                                                         S.COMPLETED]
                assert {e.actor for e in events} == {payout.created_by}
                assert payout.version == 5


def test_two_processes_claiming_the_same_payouts_claim_each_exactly_once(ledger_path):
    with open_ledger(ledger_path) as ledger:
        for n in range(100):
            payout = ledger.payouts.add(make_request(amount=Decimal(n + 1)), idempotency_key=f"c{n}", actor="alice")
            for target in (S.ESTIMATED, S.AWAITING_APPROVAL, S.APPROVED):
                ledger.payouts.transition(payout.id, target, actor="alice")
    processes = [start("claim", str(ledger_path), name) for name in ("window-1", "window-2")]
    for process in processes:  # each has read the approved payouts it will race for
        assert json.loads(process.stdout.readline()) == {"ready": True}
    for process in processes:
        process.stdin.write("go\n")
        process.stdin.flush()
    results = [finish(p) for p in processes]

    won = [set(r["won"]) for r in results]
    assert not won[0] & won[1]
    assert len(won[0] | won[1]) == 100
    assert sum(r["lost"] for r in results) == 100
    with open_ledger(ledger_path) as ledger:
        for payout in ledger.payouts.page(limit=1000):
            claims = [e for e in ledger.payouts.events(payout.id) if e.to_status is S.SUBMITTING]
            assert len(claims) == 1
            winner = results[0]["name"] if payout.id in won[0] else results[1]["name"]
            assert claims[0].actor == winner
        assert ledger.integrity_check() == []


@pytest.fixture
def holder(ledger_path):
    open_ledger(ledger_path).close()
    process = start("hold", str(ledger_path))
    assert process.stdout is not None
    assert json.loads(process.stdout.readline()) == {"holding": True}
    yield process
    if process.poll() is None:  # the test failed before letting go: end the holder it started
        process.kill()
        process.communicate(timeout=30)


def test_a_write_that_waits_too_long_gets_a_clear_busy_error(ledger_path, holder):
    with open_ledger(ledger_path, busy_timeout_ms=150) as ledger:  # opening needs no write lock
        assert ledger.settings.get("held_by") is None  # and reading is not blocked (WAL)
        began = time.monotonic()
        with pytest.raises(LedgerBusyError) as busy:
            ledger.payouts.add(make_request(), idempotency_key="waiting", actor="alice")
        waited = time.monotonic() - began

        message = str(busy.value)
        assert message == (f"The ledger is busy: another Treasury Desk process is writing to {ledger_path}. "
                           "Try again in a moment.")
        assert 0.3 <= waited < 5  # three busy timeouts with bounded back-off between them; not forever
        assert ledger.payouts.count() == 0

        assert finish(holder) == {"released": True}  # closes its standard input: it commits and exits
        payout = ledger.payouts.add(make_request(), idempotency_key="waiting", actor="alice")  # now it goes through
        assert ledger.settings.get("held_by") == "another process"
        assert ledger.payouts.get(payout.id).idempotency_key == "waiting"
