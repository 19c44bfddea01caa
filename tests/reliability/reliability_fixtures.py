"""Helpers of the reliability tests: payouts prepared in the test process, driver processes started (on a host
of their own where two desks are meant), waited for and killed, and the sandbox's own books read as the truth a
ledger must match."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from desk_fixtures import TestDesk, on_host, password_of
from payout_driver import build_providers
from provider_fixtures import PAYOUT_FIELDS, PROVIDER_NAMES, Sandbox

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.ledger import Ledger, PayoutRecord
from treasury_app.ledger.location import is_postgres_url
from treasury_app.ledger.timestamps import utc_now
from treasury_app.providers import cryptomus_answers, pay3_answers
from treasury_app.providers.pay3_protocol import Pay3Decisions
from treasury_app.security.passwords import TEST_HASHING_ENV
from treasury_app.services.approval_policies import ApprovalPolicies
from treasury_app.services.ledger_choice import TEAM_LEDGER_ENV
from treasury_app.services.payout_workflow import PayoutWorkflow
from treasury_app.services.workflow_settings import save_workflow_settings

__all__ = ["DRIVER", "FIELDS", "PROVIDERS", "DeskHosts", "Driver", "WallClock", "approved_payout", "build_providers",
           "check_hosts_can_differ", "executed", "on_host", "only_executed", "set_claim_grace", "start_driver",
           "true_status", "wait_out_claim_grace", "wait_until"]

DRIVER = Path(__file__).resolve().with_name("payout_driver.py")
FIELDS = PAYOUT_FIELDS
PROVIDERS = PROVIDER_NAMES
# The endpoint that creates money movement: Cryptomus' create is the execution, Pay3 pays at execute.
EXECUTE_ENDPOINT = {"cryptomus": "create", "pay3": "execute"}
# Generous: a loaded two-core machine starts a Python process in about half a second.
PROCESS_TIMEOUT = 30.0


@dataclass(frozen=True)
class DeskHosts:
    """The host names desk A and desk B run under; None: this computer's own (both desks on one computer)."""

    a: str | None
    b: str | None


@cache
def check_hosts_can_differ() -> None:
    """Fails, saying why, where a process cannot be given a host name of its own (needs root, as in CI)."""
    probe = "treasury-desk-probe"
    try:
        said = subprocess.run(on_host(probe, ["hostname"]), capture_output=True, text=True, timeout=PROCESS_TIMEOUT)
    except OSError as error:
        raise AssertionError(f"two desks on two hosts need util-linux's unshare: {error}") from None
    if said.stdout.strip() != probe:
        raise AssertionError("two desks on two hosts need `unshare --uts` (root, or CAP_SYS_ADMIN): "
                             f"{said.stderr.strip() or said.stdout.strip()}")


class WallClock:
    """Real time, in the shape of the service tests' clock (the driver processes use real time too)."""

    def __call__(self) -> datetime:
        return utc_now()


async def approved_payout(workflow: PayoutWorkflow, desk: TestDesk, provider: str, *,
                          initiator: str = "alice", approver: str = "bob") -> PayoutRecord:
    """Composed and estimated by the initiator, over the currency's threshold, approved by a second person."""
    fields = FIELDS[provider]
    policies = ApprovalPolicies(desk.ledger, clock=desk.clock)
    if policies.get(fields["currency"]) is None:
        policies.set(fields["currency"], acting=desk.sign_in("root"), approval_threshold=fields["amount"])
    acting = desk.sign_in(initiator)
    payout = await workflow.estimate(acting, workflow.compose(acting, **fields).id)
    assert payout.status is PayoutStatus.AWAITING_APPROVAL, payout.status
    desk.approvals.approve(payout.id, approver=approver, password=password_of(approver))
    return desk.ledger.payouts.get(payout.id)


def set_claim_grace(desk: TestDesk, seconds: int) -> None:
    """The team's claim grace, as an admin sets it (`policy set --claim-grace`): every desk reads it."""
    save_workflow_settings(desk.ledger, acting=desk.sign_in("root"), claim_grace=timedelta(seconds=seconds))


def wait_out_claim_grace(ledger: Ledger, payout: PayoutRecord, seconds: int) -> None:
    """Real time passes until the payout's last claim is older than the grace, judged as the workflow judges it
    (the claim's recorded time against the wall clock); nothing is faked."""
    claim = next(e for e in reversed(ledger.payouts.events(payout.id)) if e.to_status is PayoutStatus.SUBMITTING)
    wait_until(lambda: utc_now() - claim.at >= timedelta(seconds=seconds), f"payout {payout.id}'s claim grace")


def executed(sandbox: Sandbox, provider: str | None = None) -> list[dict[str, Any]]:
    """The provider payouts that moved money (Pay3 lists estimate-only orders too, with executed False)."""
    return [row for row in sandbox.payouts(provider) if row["executed"]]


def only_executed(sandbox: Sandbox, payout: PayoutRecord) -> dict[str, Any]:
    """The one executed provider payout under this payout's key (fails when there are none or several)."""
    rows = [row for row in executed(sandbox, payout.provider) if row["idempotency_key"] == payout.idempotency_key]
    assert len(rows) == 1, f"{len(rows)} executed provider payouts under payout {payout.id}'s key: {rows}"
    return rows[0]


def true_status(row: dict[str, Any]) -> PayoutStatus:
    """Our lifecycle status for what the sandbox's own books say of a payout, by the clients' own mapping."""
    if row["provider"] == "cryptomus":
        return cryptomus_answers.map_status(row["status"], row["is_final"])[0]
    return pay3_answers.map_status(row["status"], Pay3Decisions())[0]


def wait_until(condition: Callable[[], Any], what: str, timeout: float = PROCESS_TIMEOUT,
               check: Callable[[], None] | None = None) -> Any:
    """Poll `condition` until it is truthy; `check` runs between polls (e.g. fails when a process died)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if check is not None:
            check()
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


@dataclass
class Driver:
    """One `payout_driver.py` process; its output goes to files beside its markers (a pipe could fill up)."""

    process: subprocess.Popen[bytes]
    markers: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def output(self) -> str:
        return (self.markers / "stdout.txt").read_text(encoding="utf-8")

    def errors(self) -> str:
        return (self.markers / "stderr.txt").read_text(encoding="utf-8", errors="replace")

    def ensure_running(self) -> None:
        if self.process.poll() is not None:
            raise AssertionError(f"driver {self.pid} stopped with code {self.process.returncode}:\n"
                                 f"{self.output()}\n{self.errors()}")

    def marker(self, name: str) -> Path:
        return self.markers / name

    def wait_for_marker(self, name: str, timeout: float = PROCESS_TIMEOUT) -> None:
        wait_until(self.marker(name).exists, f"marker '{name}' of driver {self.pid}", timeout, self.ensure_running)

    def kill(self, *, may_have_ended: bool = False) -> None:
        """SIGKILL, then reap: a zombie would still answer os.kill(pid, 0) and look alive to recovery.

        `may_have_ended`: the process may have finished on its own just before (a race the test accepts)."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=PROCESS_TIMEOUT)
        ended = (-signal.SIGKILL, 0) if may_have_ended else (-signal.SIGKILL,)
        assert self.process.returncode in ended, (self.process.returncode, self.errors())

    def result(self, timeout: float = PROCESS_TIMEOUT) -> dict[str, Any]:
        """The process's JSON line, once it has ended well."""
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"driver {self.pid} did not finish:\n{self.output()}\n{self.errors()}") from None
        assert code == 0, f"driver {self.pid} ended with code {code}:\n{self.output()}\n{self.errors()}"
        return json.loads(self.output().strip().splitlines()[-1])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def start_driver(markers: Path, ledger_path: Path | str, sandbox: Sandbox, action: str, *ids: int,
                 operator: str = "alice", stop_at: str | None = None, go: Path | None = None,
                 read_timeout: float | None = None, retry_backoff: float | None = None,
                 sandbox_url: str | None = None, host: str | None = None) -> Driver:
    """`sandbox_url` sends the process elsewhere than `sandbox` (e.g. where nothing listens); `host` runs it
    under that host name (`on_host`)."""
    markers.mkdir(parents=True, exist_ok=True)
    team_ledger = is_postgres_url(str(ledger_path))
    command = [sys.executable, str(DRIVER), *([] if team_ledger else ["--ledger", str(ledger_path)]),
               "--sandbox", sandbox_url or sandbox.base_url, "--operator", operator, "--markers", str(markers)]
    if stop_at is not None:
        command += ["--stop-at", stop_at]
    if go is not None:
        command += ["--go", str(go)]
    if read_timeout is not None:
        command += ["--read-timeout", str(read_timeout)]
    if retry_backoff is not None:
        command += ["--retry-backoff", str(retry_backoff)]
    command += [action, *map(str, ids)]
    env = {key: value for key, value in os.environ.items()
           if key not in {"TREASURY_DATA_DIR", "TREASURY_PASSWORD", TEAM_LEDGER_ENV}}
    env[TEST_HASHING_ENV] = "1"
    if team_ledger:
        env[TEAM_LEDGER_ENV] = str(ledger_path)  # with its password: the environment, never the arguments
    env["TREASURY_PASSWORD"] = password_of(operator)
    with open(markers / "stdout.txt", "wb") as stdout, open(markers / "stderr.txt", "wb") as stderr:
        process = subprocess.Popen(on_host(host, command), stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, env=env)
    return Driver(process, markers)
