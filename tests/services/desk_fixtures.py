"""Helpers of the service tests: a clock the test moves, a desk with operators of every role, and payouts
composed as the workflow will compose them (each step with its audit row)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.domain.payout_request import compose_payout, new_idempotency_key
from treasury_app.ledger import Ledger, PayoutChanges, PayoutRecord
from treasury_app.security.audit_chain import payout_subject
from treasury_app.security.passwords import TEST_HASHING_ENV
from treasury_app.services import audit
from treasury_app.services.approvals import Approvals
from treasury_app.services.operator_accounts import OperatorAccounts, SignedIn

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TRON_ADDRESS = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"
OTHER_TRON_ADDRESS = "TJRabPrwbZy45sbavfcjinPJC18kjpRTv8"
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

# name → roles; every password is "<name> password long" (long enough for the rules).
OPERATORS = {
    "root": ("admin",),
    "alice": ("initiator",),
    "bob": ("approver",),
    "carol": ("initiator", "approver"),
    "vic": ("viewer",),
    "dave": ("approver",),
}


def password_of(name: str) -> str:
    return f"{name} password long"


class TestClock:
    """Moves one millisecond per reading (every stamp distinct), and as far as a test says with `advance`."""

    __test__ = False

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class TestDesk:
    __test__ = False

    ledger: Ledger
    clock: TestClock
    accounts: OperatorAccounts
    approvals: Approvals

    def sign_in(self, name: str) -> SignedIn:
        return self.accounts.authenticate(name, password_of(name))

    def compose(self, initiator: str = "alice", *, amount: str = "1500", address: str = TRON_ADDRESS,
                currency: str = "USDT", network: str = "TRON", memo: str | None = None,
                provider: str = "cryptomus") -> PayoutRecord:
        """A payout composed and estimated, each step audited as the workflow service will do it."""
        request = compose_payout(provider=provider, currency=currency, network=network, address=address,
                                 amount=amount, memo=memo)
        with self.ledger.transaction():
            payout = self.ledger.payouts.add(request, idempotency_key=new_idempotency_key(), actor=initiator)
            audit.record(self.ledger, initiator, "payout.composed", payout_subject(payout.id),
                         {"amount": payout.amount, "address": payout.address}, payout=payout, clock=self.clock)
        return audit.audited_transition(
            self.ledger, payout.id, PayoutStatus.ESTIMATED, operator=initiator, action="payout.estimated",
            changes=PayoutChanges(estimated_fee=Decimal(1), estimated_net=payout.amount,
                                  estimated_total=payout.amount + 1, estimated_at=self.clock.now),
            clock=self.clock)

    def awaiting(self, initiator: str = "alice", **fields: Any) -> PayoutRecord:
        payout = self.compose(initiator, **fields)
        return self.approvals.request_approval(payout.id, acting=self.sign_in(initiator))

    def approved(self, initiator: str = "alice", approver: str = "bob", **fields: Any) -> PayoutRecord:
        payout = self.awaiting(initiator, **fields)
        self.approvals.approve(payout.id, approver=approver, password=password_of(approver))
        return self.ledger.payouts.get(payout.id)

    def finish(self, payout: PayoutRecord, *path: PayoutStatus) -> PayoutRecord:
        """Walk a payout through statuses (e.g. submitting, completed), each step audited."""
        for status in path:
            payout = audit.audited_transition(self.ledger, payout.id, status, operator="poller",
                                              action="payout.status", clock=self.clock)
        return payout


def build_desk(ledger: Ledger, clock: TestClock) -> TestDesk:
    accounts = OperatorAccounts(ledger, clock=clock)
    root = None
    for name, roles in OPERATORS.items():
        accounts.add(name, roles, password_of(name), acting=root)
        if root is None:
            root = accounts.authenticate("root", password_of("root"))
    return TestDesk(ledger, clock, accounts, Approvals(ledger, clock=clock))


def edit_ledger_file(path: Path | str, sql: str, params: tuple[Any, ...] = ()) -> None:
    """What someone with the file and any SQLite tool can do: change a row behind the app's back. On a team
    ledger (a postgresql:// URL), what its superuser can do: switch off the trigger that keeps the audit trail
    append-only, change the row, switch it on again, in one transaction."""
    if str(path).startswith("postgresql://"):
        _edit_as_superuser(str(path), sql, params)
        return
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(sql, params)
    finally:
        conn.close()


def _edit_as_superuser(url: str, sql: str, params: tuple[Any, ...]) -> None:
    import psycopg

    guard = "audit_log_no_update_or_delete"
    with psycopg.connect(url) as conn:  # one transaction, committed on leaving the block
        assert conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]
        conn.execute(f"ALTER TABLE audit_log DISABLE TRIGGER {guard}")
        conn.execute(sql.replace("?", "%s"), params or None)
        conn.execute(f"ALTER TABLE audit_log ENABLE TRIGGER {guard}")


def on_host(host: str | None, command: list[str]) -> list[str]:
    """`command` in a UTS namespace of its own whose host name is `host` (as root: `unshare --uts`), so that
    socket.gethostname() in it — what a payout's claim records — really is another host's; the same PIDs, the
    same loopback. The command is exec'd: the process started is the one a test may kill. None: this host."""
    if host is None:
        return command
    return ["unshare", "--uts", "--", "sh", "-c", 'hostname "$0" && exec "$@"', host, *command]


def app_invocation(data_dir: Path, *args: str, password: str | None = None, env_extra: dict[str, str] | None = None,
                   host: str | None = None) -> tuple[list[str], dict[str, str]]:
    """The command and environment of `python -m treasury_app --data-dir DIR …` (see `run_app`), for a test that
    starts the process itself (e.g. to kill it)."""
    env = {k: v for k, v in os.environ.items() if k not in {"TREASURY_DATA_DIR", "TREASURY_PASSWORD"}}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH")) if p)
    env[TEST_HASHING_ENV] = "1"
    if password is not None:
        env["TREASURY_PASSWORD"] = password
    env.update(env_extra or {})
    return on_host(host, [sys.executable, "-m", "treasury_app", "--data-dir", str(data_dir), *args]), env


def run_app(data_dir: Path, *args: str, password: str | None = None, stdin: str | None = None,
            env_extra: dict[str, str] | None = None, host: str | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m treasury_app --data-dir DIR …` as a real process, stdin a pipe (not a terminal); `host`: under
    that host name (`on_host`)."""
    command, env = app_invocation(data_dir, *args, password=password, env_extra=env_extra, host=host)
    return subprocess.run(command, check=False, input=stdin if stdin is not None else "", capture_output=True,
                          text=True, env=env, timeout=60)
