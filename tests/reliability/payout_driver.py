"""A real process that executes or recovers payouts of a ledger file against a sandbox, for the reliability tests.

The tests start it with `sys.executable`, kill it with SIGKILL at a step of execution, start another one to
recover, or start two at once to race for one payout. It uses the app's own services and provider clients,
never a mock; only the `checkpoint` test hook of `PayoutWorkflow` is used, to stop at a known step.

    payout_driver.py [--ledger FILE] --sandbox URL --operator NAME [options] execute ID
    payout_driver.py --ledger FILE --sandbox URL --operator NAME [--go FILE] [options] recover
    payout_driver.py --ledger FILE --sandbox URL --operator NAME --go PREFIX [options] wait-then-execute ID [ID …]
    payout_driver.py --ledger FILE --sandbox URL --operator NAME --go PREFIX [options] wait-then-approve ID [ID …]

The operator's password comes from the environment variable TREASURY_PASSWORD (never an argument), and so does a
team ledger's URL with its password (TREASURY_LEDGER_URL, where --ledger is not given).
Markers (in --markers DIR, each file holding this process's id): `ready` once signed in, one per checkpoint
step reached (`claimed`, `answered`), and for wait-then-execute and wait-then-approve `result-ID.json` per
payout. At the step named
by --stop-at the process writes its marker and then sleeps until it is killed. With --go, recover first waits
for that file (started early, the restart after a kill costs no start-up time). Output: one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the project, wherever the test runs from

from treasury_app.domain.errors import TreasuryError
from treasury_app.domain.payout_lifecycle import IN_FLIGHT_STATUSES
from treasury_app.ledger import Ledger, PayoutRecord, open_ledger
from treasury_app.ledger.location import is_postgres_url
from treasury_app.services.ledger_choice import TEAM_LEDGER_ENV
from treasury_app.providers.cryptomus import CryptomusProfile, CryptomusProvider
from treasury_app.providers.http_transport import HttpSettings
from treasury_app.providers.pay3 import Pay3Profile, Pay3Provider
from treasury_app.sandbox import (
    DEFAULT_CRYPTOMUS_MERCHANT,
    DEFAULT_CRYPTOMUS_PAYOUT_KEY,
    DEFAULT_PAY3_API_SECRET,
    DEFAULT_PAY3_CLIENT_ID,
)
from treasury_app.services.approvals import Approvals
from treasury_app.services.operator_accounts import OperatorAccounts, SignedIn
from treasury_app.services.payout_workflow import PayoutWorkflow

STEPS = ("claimed", "answered")
# How often a waiting process looks for its "go" file: short, so that two processes start within a millisecond.
GO_POLL_SECONDS = 0.0005


def write_marker(folder: Path, name: str, content: str | None = None) -> None:
    """Written whole then renamed, so that a test never reads half a marker."""
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{name}.{os.getpid()}.partial"
    partial.write_text(content if content is not None else str(os.getpid()), encoding="utf-8")
    partial.replace(folder / name)


def record_fields(payout: PayoutRecord) -> dict[str, Any]:
    return {"id": payout.id, "status": str(payout.status), "provider": payout.provider,
            "provider_status": payout.provider_status, "provider_payout_id": payout.provider_payout_id,
            "failure_reason": payout.failure_reason, "idempotency_key": payout.idempotency_key,
            "version": payout.version}


def build_providers(sandbox_url: str, settings: HttpSettings) -> dict[str, Any]:
    return {
        "cryptomus": CryptomusProvider(CryptomusProfile(merchant=DEFAULT_CRYPTOMUS_MERCHANT, base_url=sandbox_url),
                                       DEFAULT_CRYPTOMUS_PAYOUT_KEY, settings=settings),
        "pay3": Pay3Provider(Pay3Profile(base_url=sandbox_url, client_id=DEFAULT_PAY3_CLIENT_ID),
                             DEFAULT_PAY3_API_SECRET, settings=settings),
    }


def stopping_checkpoint(markers: Path | None, stop_at: str | None):
    def checkpoint(step: str, payout: PayoutRecord) -> None:
        if markers is not None:
            write_marker(markers, step)
        if step == stop_at:
            # Frozen between two commits, as a crash would leave it; the test kills the process here.
            while True:
                time.sleep(3600)
    return checkpoint


async def execute_one(workflow: PayoutWorkflow, acting: SignedIn, payout_id: int, ledger: Ledger) -> dict[str, Any]:
    """Execute; a refusal (any TreasuryError) is reported with the error's class, as a window would show it."""
    try:
        done = await workflow.execute(acting, payout_id)
    except TreasuryError as error:
        return {"payout_id": payout_id, "outcome": "refused", "error": type(error).__name__, "message": str(error),
                "record": record_fields(ledger.payouts.get(payout_id))}
    return {"payout_id": payout_id, "outcome": "sent", "error": None, "message": None,
            "record": record_fields(done)}


def wait_for_file(path: Path) -> None:
    while not path.exists():
        time.sleep(GO_POLL_SECONDS)  # blocking on purpose: nothing else runs, the start is as sharp as it gets


async def wait_then_execute(workflow: PayoutWorkflow, acting: SignedIn, ids: list[int], ledger: Ledger,
                            go: Path, markers: Path) -> list[dict[str, Any]]:
    results = []
    for payout_id in ids:
        wait_for_file(Path(f"{go}-{payout_id}"))
        result = await execute_one(workflow, acting, payout_id, ledger)
        write_marker(markers, f"result-{payout_id}.json", json.dumps(result))
        results.append(result)
    return results


def approve_one(ledger: Ledger, operator: str, payout_id: int) -> dict[str, Any]:
    """Approve as `operator` (password typed in the same call, as the approver does); a refusal is reported."""
    try:
        Approvals(ledger).approve(payout_id, approver=operator, password=os.environ["TREASURY_PASSWORD"])
    except TreasuryError as error:
        return {"payout_id": payout_id, "outcome": "refused", "error": type(error).__name__, "message": str(error),
                "record": record_fields(ledger.payouts.get(payout_id))}
    return {"payout_id": payout_id, "outcome": "approved", "error": None, "message": None,
            "record": record_fields(ledger.payouts.get(payout_id))}


def wait_then_approve(ledger: Ledger, operator: str, ids: list[int], go: Path, markers: Path) -> list[dict[str, Any]]:
    results = []
    for payout_id in ids:
        wait_for_file(Path(f"{go}-{payout_id}"))
        result = approve_one(ledger, operator, payout_id)
        write_marker(markers, f"result-{payout_id}.json", json.dumps(result))
        results.append(result)
    return results


async def recover(workflow: PayoutWorkflow, ledger: Ledger) -> dict[str, Any]:
    """What the app does at start-up (recovery), then one reconcile of every payout still in flight."""
    recovered = await workflow.recover()
    reconciled = []
    for payout in ledger.payouts.open_payouts():
        if payout.status in IN_FLIGHT_STATUSES:
            reconciled.append(await workflow.reconcile(payout.id))
    return {"recovered": [record_fields(p) for p in recovered],
            "reconciled": [record_fields(p) for p in reconciled]}


def ledger_location(file: str | None) -> Path | str:
    if file is not None:
        return Path(file)
    url = os.environ.get(TEAM_LEDGER_ENV, "")
    if not is_postgres_url(url):
        raise SystemExit(f"no --ledger, and {TEAM_LEDGER_ENV} names no team ledger")
    return url


async def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = HttpSettings(connect_timeout=5, read_timeout=args.read_timeout, write_timeout=5, pool_timeout=5,
                            max_attempts=3, retry_backoff_seconds=args.retry_backoff, max_retry_after_seconds=1)
    providers = build_providers(args.sandbox, settings)
    markers = Path(args.markers) if args.markers else None
    try:
        with open_ledger(ledger_location(args.ledger)) as ledger:
            acting = OperatorAccounts(ledger).authenticate(args.operator, os.environ["TREASURY_PASSWORD"])
            workflow = PayoutWorkflow(ledger, providers, checkpoint=stopping_checkpoint(markers, args.stop_at))
            if markers is not None:
                write_marker(markers, "ready")
            if args.action == "execute":
                (payout_id,) = args.ids
                return {"action": "execute", "pid": os.getpid(),
                        **await execute_one(workflow, acting, payout_id, ledger)}
            if args.action == "wait-then-execute":
                if args.go is None or markers is None:
                    raise SystemExit("wait-then-execute needs --go and --markers")
                results = await wait_then_execute(workflow, acting, args.ids, ledger, Path(args.go), markers)
                return {"action": "wait-then-execute", "pid": os.getpid(), "results": results}
            if args.action == "wait-then-approve":
                if args.go is None or markers is None:
                    raise SystemExit("wait-then-approve needs --go and --markers")
                results = wait_then_approve(ledger, args.operator, args.ids, Path(args.go), markers)
                return {"action": "wait-then-approve", "pid": os.getpid(), "results": results}
            if args.go is not None:
                wait_for_file(Path(args.go))
            return {"action": "recover", "pid": os.getpid(), **await recover(workflow, ledger)}
    finally:
        for client in providers.values():
            await client.aclose()


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ledger", help=f"a ledger file; without it, the team ledger named by {TEAM_LEDGER_ENV}")
    parser.add_argument("--sandbox", required=True, help="the sandbox's base URL")
    parser.add_argument("--operator", required=True)
    parser.add_argument("--markers", help="folder for the marker files")
    parser.add_argument("--stop-at", choices=STEPS, help="freeze at this checkpoint until killed")
    parser.add_argument("--go", help="wait-then-execute: waits for the file GO-<payout id> before each payout; "
                                       "recover: waits for the file GO")
    parser.add_argument("--read-timeout", type=float, default=5.0)
    parser.add_argument("--retry-backoff", type=float, default=0.01)
    parser.add_argument("action", choices=("execute", "recover", "wait-then-execute", "wait-then-approve"))
    parser.add_argument("ids", nargs="*", type=int)
    args = parser.parse_args(argv)
    if args.action == "execute" and len(args.ids) != 1:
        parser.error("execute takes exactly one payout id")
    if args.action in {"wait-then-execute", "wait-then-approve"} and not args.ids:
        parser.error(f"{args.action} takes one payout id or more")
    if args.action == "recover" and args.ids:
        parser.error("recover takes no payout id")
    return args


def main(argv: list[str]) -> int:
    outcome = asyncio.run(run(parse_arguments(argv)))
    print(json.dumps(outcome), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
