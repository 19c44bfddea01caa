"""A real process executing a payout is killed (SIGKILL) at each step of execution; a new process recovers.

Each payout must then be in its true state — the one the sandbox's own books give — and the sandbox must hold
exactly one executed provider payout for it, under its idempotency key, for both providers. The ledger and the
operators are prepared in the test process; the execution and the recovery run in `payout_driver.py`.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from desk_fixtures import TestDesk, run_app
from provider_fixtures import Sandbox
from reliability_fixtures import (
    EXECUTE_ENDPOINT,
    PROVIDERS,
    Driver,
    WallClock,
    approved_payout,
    executed,
    only_executed,
    true_status,
    wait_until,
)

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.ledger import PayoutRecord
from treasury_app.security.audit_chain import verify
from treasury_app.services.payout_workflow import PayoutWorkflow
from treasury_app.services.provider_directory import SANDBOX_URL_ENV

# Longer than any test runs: the request is still held at the provider when the process is killed.
# Long enough that recovery runs while the provider still holds the request; short enough to wait out.
HELD_SECONDS = 4


@pytest.fixture
def workflow(desk: TestDesk, providers: dict[str, Any], clock: WallClock) -> PayoutWorkflow:
    return PayoutWorkflow(desk.ledger, providers, clock)


@pytest.fixture
def restart(tmp_path: Path, drivers: Callable[..., Driver], desk: TestDesk) -> Driver:
    """The process that recovers after the kill, started beside the one to be killed so that the restart costs
    no start-up time: it opens the ledger and signs in (once the desk has its operators), then waits for its
    go file to run recovery."""
    folder = tmp_path / "recovery"
    return drivers(folder, "recover", go=folder / "go")


def audit_actions(desk: TestDesk, payout: PayoutRecord) -> list[str]:
    return [row.action for row in desk.ledger.audit.rows_about(f"payout:{payout.id}")]


async def recover_and_check(restart: Driver, sandbox: Sandbox, desk: TestDesk, workflow: PayoutWorkflow,
                            payout: PayoutRecord) -> PayoutRecord:
    """Restart (another process runs recovery), then: the true state and exactly one provider payout, now and
    once the provider has finished with it."""
    restart.marker("go").touch()
    report = restart.result()
    assert [p["id"] for p in report["recovered"]] == [payout.id], report
    return await check_true_state(sandbox, desk, workflow, payout)


async def check_true_state(sandbox: Sandbox, desk: TestDesk, workflow: PayoutWorkflow,
                           payout: PayoutRecord) -> PayoutRecord:
    recovered = desk.ledger.payouts.get(payout.id)
    assert recovered.idempotency_key == payout.idempotency_key
    row = only_executed(sandbox, payout)
    assert len(executed(sandbox)) == 1
    assert recovered.status is true_status(row) is PayoutStatus.PROCESSING, recovered.failure_reason
    assert recovered.provider_status == row["status"]
    assert recovered.provider_payout_id == row["id"]

    sandbox.advance(3600)  # the provider finishes the payout (its seeded fate: paid or failed)
    final = await workflow.reconcile(payout.id)
    row = only_executed(sandbox, payout)
    assert len(executed(sandbox)) == 1
    assert final.status.is_final and final.status is true_status(row), (final.status, row)
    assert final.provider_status == row["status"]
    audit = verify(desk.ledger)
    assert audit.intact, audit.problems
    return recovered


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_killed_after_the_claim_is_committed_before_the_request_leaves(
        provider, tmp_path, drivers, restart, sandbox, desk, workflow):
    payout = await approved_payout(workflow, desk, provider)
    driver = drivers(tmp_path / "execute", "execute", payout.id, stop_at="claimed")
    try:
        driver.wait_for_marker("claimed")
    finally:
        driver.kill()
    assert desk.ledger.payouts.get(payout.id).status is PayoutStatus.SUBMITTING
    assert executed(sandbox, provider) == []

    await recover_and_check(restart, sandbox, desk, workflow, payout)
    assert audit_actions(desk, payout)[-4:-1] == ["payout.claim_orphaned", "payout.resending", "payout.submitted"]


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_killed_while_the_provider_holds_the_request_before_committing(
        provider, tmp_path, drivers, restart, sandbox, desk, workflow):
    payout = await approved_payout(workflow, desk, provider)
    sandbox.add_faults(f"{provider}:{EXECUTE_ENDPOINT[provider]}:latency={HELD_SECONDS}:1")
    driver = drivers(tmp_path / "execute", "execute", payout.id, read_timeout=HELD_SECONDS * 2)
    try:
        driver.wait_for_marker("claimed")
        # The counted fault is gone from the board once the request has reached the provider, which holds it.
        wait_until(lambda: sandbox.control.get("/_sandbox/faults").json()["faults"] == [],
                   "the request to reach the provider", check=driver.ensure_running)
        held_until = time.monotonic() + HELD_SECONDS
    finally:
        driver.kill()
    assert desk.ledger.payouts.get(payout.id).status is PayoutStatus.SUBMITTING
    assert executed(sandbox, provider) == []

    recovered = await recover_and_check(restart, sandbox, desk, workflow, payout)
    # Recovery asked while the provider still held the request: nothing under the key yet, so it was sent
    # again, under the same key.
    assert audit_actions(desk, payout)[-4:-1] == ["payout.claim_orphaned", "payout.resending", "payout.submitted"]
    # The provider then carries out the request it held (its client long gone): a second order under the same
    # key, which it refuses. Still exactly one provider payout, and the ledger's record unchanged.
    settled = desk.ledger.payouts.get(payout.id)
    await asyncio.sleep(max(0.0, held_until - time.monotonic()) + 1.0)
    assert len(executed(sandbox)) == 1
    assert only_executed(sandbox, payout)["id"] == recovered.provider_payout_id
    assert await workflow.reconcile(payout.id) == settled


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_killed_after_the_provider_committed_before_the_answer_arrives(
        provider, tmp_path, drivers, restart, sandbox, desk, workflow):
    payout = await approved_payout(workflow, desk, provider)
    sandbox.add_faults(f"{provider}:{EXECUTE_ENDPOINT[provider]}:commit-drop")
    # A long back-off: Cryptomus' create is repeated after a lost answer, and the kill lands before the retry.
    driver = drivers(tmp_path / "execute", "execute", payout.id, retry_backoff=30)
    try:
        wait_until(lambda: executed(sandbox, provider), "the provider to commit the payout")
    finally:
        driver.kill(may_have_ended=True)  # Pay3's execute is never repeated: the process may be done already
    sandbox.clear_faults()
    # The process may or may not have recorded `unknown` before it died: either way it is recovered.
    assert desk.ledger.payouts.get(payout.id).status in (PayoutStatus.SUBMITTING, PayoutStatus.UNKNOWN)
    assert len(executed(sandbox, provider)) == 1

    await recover_and_check(restart, sandbox, desk, workflow, payout)
    assert audit_actions(desk, payout)[-2] == "payout.reconciled"
    assert "payout.resending" not in audit_actions(desk, payout)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_killed_after_the_answer_arrives_before_the_ledger_commit(
        provider, tmp_path, drivers, restart, sandbox, desk, workflow):
    payout = await approved_payout(workflow, desk, provider)
    driver = drivers(tmp_path / "execute", "execute", payout.id, stop_at="answered")
    try:
        driver.wait_for_marker("answered")
    finally:
        driver.kill()
    assert desk.ledger.payouts.get(payout.id).status is PayoutStatus.SUBMITTING
    assert len(executed(sandbox, provider)) == 1

    await recover_and_check(restart, sandbox, desk, workflow, payout)
    assert audit_actions(desk, payout)[-2] == "payout.reconciled"
    assert "payout.resending" not in audit_actions(desk, payout)


async def test_a_claim_of_a_live_process_is_left_to_it_by_a_recovering_process(
        tmp_path, drivers, restart, sandbox, desk, workflow):
    """Another window starting up while a payout is being sent must not take the claim over: the claim names
    a process that is alive (checked with signal 0 across real processes), so it waits for it."""
    payout = await approved_payout(workflow, desk, "cryptomus")
    driver = drivers(tmp_path / "execute", "execute", payout.id, stop_at="claimed")
    try:
        driver.wait_for_marker("claimed")
        report = drivers(tmp_path / "meanwhile", "recover").result()
        assert [(p["id"], p["status"]) for p in report["recovered"]] == [(payout.id, "submitting")]
        assert executed(sandbox) == []
        assert "payout.claim_orphaned" not in audit_actions(desk, payout)
    finally:
        driver.kill()

    await recover_and_check(restart, sandbox, desk, workflow, payout)


async def test_killed_after_the_claim_and_restarted_after_pay3_abandoned_the_estimate(
        tmp_path, drivers, restart, sandbox, desk, workflow):
    """Pay3 abandons an estimated order that is not executed in time. A claim orphaned for longer than that
    is not sent with the dead token: the provider's own word (abandoned, nothing paid) is recorded."""
    payout = await approved_payout(workflow, desk, "pay3")
    driver = drivers(tmp_path / "execute", "execute", payout.id, stop_at="claimed")
    try:
        driver.wait_for_marker("claimed")
    finally:
        driver.kill()
    sandbox.advance(3600)  # the app stays down past Pay3's estimate lifetime

    restart.marker("go").touch()
    restart.result()
    recovered = desk.ledger.payouts.get(payout.id)
    (order,) = sandbox.payouts("pay3")
    assert executed(sandbox) == [] and order["status"] == "ABANDONED"
    assert recovered.status is true_status(order) is PayoutStatus.CANCELLED, recovered.failure_reason
    assert recovered.failure_reason
    audit = verify(desk.ledger)
    assert audit.intact, audit.problems


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_killed_after_the_claim_then_treasury_app_refresh_recovers(
        provider, tmp_path, ledger_path, drivers, sandbox, desk, workflow):
    """The restart is the app's own command, `treasury-app refresh` (recovery first, then a poll)."""
    payout = await approved_payout(workflow, desk, provider)
    driver = drivers(tmp_path / "execute", "execute", payout.id, stop_at="claimed")
    try:
        driver.wait_for_marker("claimed")
    finally:
        driver.kill()

    done = run_app(ledger_path.parent, "refresh", "--json", env_extra={SANDBOX_URL_ENV: sandbox.base_url})
    assert done.returncode == 0, (done.stdout, done.stderr)
    report = json.loads(done.stdout)
    assert [c["payout_id"] for c in report["recovery"]["changes"]] == [payout.id], report
    await check_true_state(sandbox, desk, workflow, payout)
