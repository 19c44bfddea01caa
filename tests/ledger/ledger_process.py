"""A second Treasury Desk process for the multi-process ledger tests (run as a script, never imported by pytest).

    python ledger_process.py write PATH NAME COUNT START_AT   add COUNT payouts, walk each to completed
    python ledger_process.py claim PATH NAME START_AT         try to claim every approved payout for execution
    python ledger_process.py hold  PATH                       hold a write transaction open until a line arrives
                                                              on standard input (or it closes), then commit

Prints one JSON line with what it did; any exception ends it with a traceback and a non-zero exit.
"""

from __future__ import annotations

import json
import sys
import time
from decimal import Decimal
from pathlib import Path

from treasury_app.domain.assets import find_asset
from treasury_app.domain.payout_lifecycle import PayoutStatus as S
from treasury_app.domain.payout_request import PayoutRequest
from treasury_app.ledger import LedgerBusyError, PayoutChanges, PayoutFilter, StaleRecordError, open_ledger


def wait_until(start_at: float) -> None:
    # Both processes start their writes at the same moment, so that they really contend for the lock.
    time.sleep(max(0.0, start_at - time.time()))


def write(path: Path, name: str, count: int, start_at: float) -> dict:
    wait_until(start_at)
    ledger = open_ledger(path)  # the two processes may be creating and migrating the file at the same time
    request = PayoutRequest(provider="pay3", asset=find_asset("USDT", "TRON"),
                            address="TXguLRFtrAFrEDA17WuPfrxB84jVzJcNNV", amount=Decimal("1"),
                            reference=f"{name} payout")
    busy = 0
    for n in range(count):
        payout = ledger.payouts.add(request, idempotency_key=f"{name}-{n}", actor=name)
        for target in (S.ESTIMATED, S.SUBMITTING, S.PROCESSING, S.COMPLETED):
            while True:
                try:
                    payout = ledger.payouts.transition(payout.id, target, actor=name,
                                                       expected_version=payout.version,
                                                       changes=PayoutChanges(provider_status=target.value))
                    break
                except LedgerBusyError:  # allowed, but with the default timeout it should never happen
                    busy += 1
    ledger.close()
    return {"name": name, "added": count, "busy": busy}


def claim(path: Path, name: str) -> dict:
    ledger = open_ledger(path)
    approved = [p.id for p in ledger.payouts.page(PayoutFilter(statuses=(S.APPROVED,)), limit=10_000)]
    # Both processes must hold their list before either claims: a start time can be missed by a process that a
    # loaded machine starts late (it would then find fewer payouts to race for). The test says go to both.
    print(json.dumps({"ready": True}), flush=True)
    sys.stdin.readline()
    won, lost = [], 0
    for payout_id in approved:
        try:
            ledger.payouts.transition(payout_id, S.SUBMITTING, actor=name, expected_status=S.APPROVED)
            won.append(payout_id)
        except StaleRecordError:
            lost += 1
    ledger.close()
    return {"name": name, "won": won, "lost": lost}


def hold(path: Path) -> dict:
    ledger = open_ledger(path)
    with ledger.transaction():
        ledger.settings.set("held_by", "another process")
        print(json.dumps({"holding": True}), flush=True)
        sys.stdin.readline()  # the test says when to let go: no sleep to tune, no race with a slow machine
    ledger.close()
    return {"released": True}


def main(argv: list[str]) -> int:
    mode, path = argv[0], Path(argv[1])
    if mode == "write":
        result = write(path, argv[2], int(argv[3]), float(argv[4]))
    elif mode == "claim":
        result = claim(path, argv[2])
    elif mode == "hold":
        result = hold(path)
    else:
        raise SystemExit(f"unknown mode {mode}")
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
