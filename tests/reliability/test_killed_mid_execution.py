"""A real process executing a payout is killed (SIGKILL) at each step of execution; a new process recovers.

Each payout must then be in its true state — the one the sandbox's own books give — and the sandbox must hold
exactly one executed provider payout for it, under its idempotency key, for both providers. The ledger and the
operators are prepared in the test process; the execution and the recovery run in `payout_driver.py`.

On a ledger file the killed process and the one that recovers share one computer: a claim whose process is gone
is taken over at once. On a team ledger (PostgreSQL) desk A is killed and desk B, another process on another host,
reconciles: a claim from another host cannot be judged by its process id, so where the provider holds nothing
under the key desk B first waits out the team's claim grace (set short here, and waited for in real time).
"""

from __future__ import annotations

import asyncio
import json
import os
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
    DeskHosts,
    Driver,
    WallClock,
    approved_payout,
    executed,
    only_executed,
    set_claim_grace,
    true_status,
    wait_out_claim_grace,
    wait_until,
)

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.ledger import PayoutRecord
from treasury_app.security.audit_chain import verify
from treasury_app.services.ledger_choice import TEAM_LEDGER_ENV
from treasury_app.services.payout_outcomes import CLAIM_HOLDER_KEY
from treasury_app.services.payout_workflow import PayoutWorkflow
from treasury_app.services.provider_directory import SANDBOX_URL_ENV

BACKENDS = ("sqlite", "postgresql")

# Longer than any test runs: the request is still held at the provider when the process is killed.
# Long enough that recovery runs while the provider still holds the request; short enough to wait out.
HELD_SECONDS = 4
# The team's claim grace where desk B must wait it out (a claim from another host): short, to keep tests fast.
CLAIM_GRACE_SECONDS = 1
RACING_CLAIM_GRACE_SECONDS = 3


@pytest.fixture
def workflow(desk: TestDesk, providers: dict[str, Any], clock: WallClock) -> PayoutWorkflow:
    return PayoutWorkflow(desk.ledger, providers, clock)


@pytest.fixture
def two_hosts(desk_hosts: DeskHosts, desk: TestDesk) -> bool:
    """Whether desk A and desk B run on two hosts (a team ledger); then the team's claim grace is made short."""
    if desk_hosts.a == desk_hosts.b:
        return False
    set_claim_grace(desk, CLAIM_GRACE_SECONDS)
    return True


@pytest.fixture
def restart(tmp_path: Path, drivers: Callable[..., Driver], desk: TestDesk, desk_hosts: DeskHosts,
            two_hosts: bool) -> Driver:
    """The process that recovers after the kill (desk B's), started beside the one to be killed so that the
    restart costs no start-up time: it opens the ledger and signs in (once the desk has its operators), then
    waits for its go file to run recovery."""
    folder = tmp_path / "recovery"
    return drivers(folder, "recover", go=folder / "go", host=desk_hosts.b)


def claimed_by(desk: TestDesk, payout: PayoutRecord) -> str:
    """The host and process the payout's last claim names ("host:pid")."""
    claims = [e for e in desk.ledger.payouts.events(payout.id) if e.to_status is PayoutStatus.SUBMITTING]
    return str(claims[-1].detail[CLAIM_HOLDER_KEY])


def check_claimed_at_desk_a(desk: TestDesk, payout: PayoutRecord, driver: Driver, desk_hosts: DeskHosts) -> None:
    """The claim names desk A's process, on desk A's host where it has one of its own."""
    host, _, pid = claimed_by(desk, payout).rpartition(":")
    assert pid == str(driver.pid)
    if desk_hosts.a is not None:
        assert host == desk_hosts.a


def audit_actions(desk: TestDesk, payout: PayoutRecord) -> list[str]:
    return [row.action for row in desk.ledger.audit.rows_about(f"payout:{payout.id}")]


async def recover_and_check(restart: Driver, sandbox: Sandbox, desk: TestDesk, workflow: PayoutWorkflow,
                            payout: PayoutRecord, *, after_grace: bool = False) -> PayoutRecord:
    """Restart (another process runs recovery), then: the true state and exactly one provider payout, now and
    once the provider has finished with it. `after_grace`: recovery starts once the claim's grace is over."""
    if after_grace:
        wait_out_claim_grace(desk.ledger, payout, CLAIM_GRACE_SECONDS)
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


@pytest.mark.team_ledger_provider("cryptomus")
async def test_killed_after_the_claim_is_committed_before_the_request_leaves(
        provider, tmp_path, drivers, restart, sandbox, desk, workflow, desk_hosts, two_hosts):
    payout = await approved_payout(workflow, desk, provider)
    driver = drivers(tmp_path / "execute", "execute", payout.id, stop_at="claimed", host=desk_hosts.a)
    try:
        driver.wait_for_marker("claimed")
    finally:
        driver.kill()
    assert desk.ledger.payouts.get(payout.id).status is PayoutStatus.SUBMITTING
    assert executed(sandbox, provider) == []
    check_claimed_at_desk_a(desk, payout, driver, desk_hosts)

    await recover_and_check(restart, sandbox, desk, workflow, payout, after_grace=two_hosts)
    assert audit_actions(desk, payout)[-4:-1] == ["payout.claim_orphaned", "payout.resending", "payout.submitted"]


@pytest.mark.team_ledger_provider("pay3")
async def test_killed_while_the_provider_holds_the_request_before_committing(
        provider, tmp_path, drivers, restart, sandbox, desk, workflow, desk_hosts, two_hosts):
    payout = await approved_payout(workflow, desk, provider)
    sandbox.add_faults(f"{provider}:{EXECUTE_ENDPOINT[provider]}:latency={HELD_SECONDS}:1")
    driver = drivers(tmp_path / "execute", "execute", payout.id, read_timeout=HELD_SECONDS * 2, host=desk_hosts.a)
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

    # The grace (1 s) is over well before the provider lets the request go (HELD_SECONDS after it arrived).
    recovered = await recover_and_check(restart, sandbox, desk, workflow, payout, after_grace=two_hosts)
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
        provider, tmp_path, drivers, restart, sandbox, desk, workflow, desk_hosts):
    payout = await approved_payout(workflow, desk, provider)
    sandbox.add_faults(f"{provider}:{EXECUTE_ENDPOINT[provider]}:commit-drop")
    # A long back-off: Cryptomus' create is repeated after a lost answer, and the kill lands before the retry.
    driver = drivers(tmp_path / "execute", "execute", payout.id, retry_backoff=30, host=desk_hosts.a)
    try:
        wait_until(lambda: executed(sandbox, provider), "the provider to commit the payout")
    finally:
        driver.kill(may_have_ended=True)  # Pay3's execute is never repeated: the process may be done already
    sandbox.clear_faults()
    # The process may or may not have recorded `unknown` before it died: either way it is recovered.
    assert desk.ledger.payouts.get(payout.id).status in (PayoutStatus.SUBMITTING, PayoutStatus.UNKNOWN)
    assert len(executed(sandbox, provider)) == 1

    # The provider holds the payout: desk B follows its word at once, whatever the claim's grace.
    await recover_and_check(restart, sandbox, desk, workflow, payout)
    assert audit_actions(desk, payout)[-2] == "payout.reconciled"
    assert "payout.resending" not in audit_actions(desk, payout)


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_killed_after_the_answer_arrives_before_the_ledger_commit(
        provider, tmp_path, drivers, restart, sandbox, desk, workflow, desk_hosts):
    payout = await approved_payout(workflow, desk, provider)
    driver = drivers(tmp_path / "execute", "execute", payout.id, stop_at="answered", host=desk_hosts.a)
    try:
        driver.wait_for_marker("answered")
    finally:
        driver.kill()
    assert desk.ledger.payouts.get(payout.id).status is PayoutStatus.SUBMITTING
    assert len(executed(sandbox, provider)) == 1
    check_claimed_at_desk_a(desk, payout, driver, desk_hosts)

    await recover_and_check(restart, sandbox, desk, workflow, payout)
    assert audit_actions(desk, payout)[-2] == "payout.reconciled"
    assert "payout.resending" not in audit_actions(desk, payout)


@pytest.mark.team_ledger_provider("cryptomus")
async def test_killed_after_the_claim_then_two_desks_recovering_at_once_send_it_once(
        provider, tmp_path, drivers, sandbox, desk, workflow, desk_hosts, two_hosts):
    """Desk A dies after its claim; desks B and C start up at the same moment and both find the claim orphaned.
    Only one of them takes it over (a compare-and-set at the version both read) and sends it again; the other
    then finds the winner's fresh claim and leaves it to it."""
    if two_hosts:
        # Longer here: the winner's own claim must stay within the grace until the loser has looked at it.
        set_claim_grace(desk, RACING_CLAIM_GRACE_SECONDS)
    payout = await approved_payout(workflow, desk, provider)
    go = tmp_path / "go"
    recoverers = [drivers(tmp_path / name, "recover", go=go, host=host)
                  for name, host in (("desk-b", desk_hosts.b), ("desk-c", "desk-c" if two_hosts else None))]
    driver = drivers(tmp_path / "execute", "execute", payout.id, stop_at="claimed", host=desk_hosts.a)
    try:
        driver.wait_for_marker("claimed")
    finally:
        driver.kill()
    for recoverer in recoverers:
        recoverer.wait_for_marker("ready")
    if two_hosts:
        wait_out_claim_grace(desk.ledger, payout, RACING_CLAIM_GRACE_SECONDS)
    go.touch()  # one file releases both
    reports = [recoverer.result() for recoverer in recoverers]

    assert all([p["id"] for p in report["recovered"]] == [payout.id] for report in reports), reports
    actions = audit_actions(desk, payout)
    assert actions.count("payout.claim_orphaned") == 1 and actions.count("payout.resending") == 1, actions
    await check_true_state(sandbox, desk, workflow, payout)


@pytest.mark.backends("sqlite")
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


@pytest.mark.backends("postgresql")
async def test_a_claim_from_another_host_waits_out_the_grace_though_its_process_id_is_free_here(
        tmp_path, drivers, sandbox, desk, workflow, desk_hosts):
    """Desk A dies mid-send. Its process id is free on this machine, but a process id says nothing of another
    host: desk B leaves the claim for the grace (here a long one). Desk A restarted on its own host judges its
    own dead claim by the id and takes it over at once; the payout then ends in its true state."""
    set_claim_grace(desk, 600)
    payout = await approved_payout(workflow, desk, "cryptomus")
    driver = drivers(tmp_path / "execute", "execute", payout.id, stop_at="claimed", host=desk_hosts.a)
    try:
        driver.wait_for_marker("claimed")
    finally:
        driver.kill()
    holder_pid = int(claimed_by(desk, payout).rpartition(":")[2])
    with pytest.raises(ProcessLookupError):
        os.kill(holder_pid, 0)  # gone: a check by process id alone would take the claim over

    at_desk_b = drivers(tmp_path / "desk-b", "recover", host=desk_hosts.b).result()
    assert [(p["id"], p["status"]) for p in at_desk_b["recovered"]] == [(payout.id, "submitting")]
    assert at_desk_b["reconciled"] == [] or at_desk_b["reconciled"][0]["status"] == "submitting", at_desk_b
    assert executed(sandbox) == []
    assert "payout.claim_orphaned" not in audit_actions(desk, payout)

    desk_a_again = drivers(tmp_path / "desk-a-again", "recover", host=desk_hosts.a)
    report = desk_a_again.result()
    assert [(p["id"], p["status"]) for p in report["recovered"]] == [(payout.id, "processing")], report
    assert audit_actions(desk, payout)[-3:] == ["payout.claim_orphaned", "payout.resending", "payout.submitted"]
    await check_true_state(sandbox, desk, workflow, payout)


async def test_killed_after_the_claim_and_restarted_after_pay3_abandoned_the_estimate(
        tmp_path, drivers, restart, sandbox, desk, workflow, desk_hosts, two_hosts):
    """Pay3 abandons an estimated order that is not executed in time. A claim orphaned for longer than that
    is not sent with the dead token: the provider's own word (abandoned, nothing paid) is recorded."""
    payout = await approved_payout(workflow, desk, "pay3")
    driver = drivers(tmp_path / "execute", "execute", payout.id, stop_at="claimed", host=desk_hosts.a)
    try:
        driver.wait_for_marker("claimed")
    finally:
        driver.kill()
    sandbox.advance(3600)  # the app stays down past Pay3's estimate lifetime (the provider's clock)

    if two_hosts:
        wait_out_claim_grace(desk.ledger, payout, CLAIM_GRACE_SECONDS)  # the ledger's clock is real time
    restart.marker("go").touch()
    restart.result()
    recovered = desk.ledger.payouts.get(payout.id)
    (order,) = sandbox.payouts("pay3")
    assert executed(sandbox) == [] and order["status"] == "ABANDONED"
    assert recovered.status is true_status(order) is PayoutStatus.CANCELLED, recovered.failure_reason
    assert recovered.failure_reason
    audit = verify(desk.ledger)
    assert audit.intact, audit.problems


@pytest.mark.team_ledger_provider("pay3")
async def test_killed_after_the_claim_then_treasury_app_refresh_recovers(
        provider, tmp_path, ledger_path, drivers, sandbox, desk, workflow, desk_hosts, two_hosts):
    """The restart is the app's own command, `treasury-app refresh` (recovery first, then a poll): on a team
    ledger desk B's, from its own data folder, pointed at the team ledger as a script would point it."""
    payout = await approved_payout(workflow, desk, provider)
    driver = drivers(tmp_path / "execute", "execute", payout.id, stop_at="claimed", host=desk_hosts.a)
    try:
        driver.wait_for_marker("claimed")
    finally:
        driver.kill()

    env = {SANDBOX_URL_ENV: sandbox.base_url}
    data_dir = ledger_path.parent if isinstance(ledger_path, Path) else tmp_path / "desk-b"
    if two_hosts:
        env[TEAM_LEDGER_ENV] = ledger_path
        wait_out_claim_grace(desk.ledger, payout, CLAIM_GRACE_SECONDS)
    done = run_app(data_dir, "refresh", "--json", env_extra=env)
    assert done.returncode == 0, (done.stdout, done.stderr)
    report = json.loads(done.stdout)
    assert [c["payout_id"] for c in report["recovery"]["changes"]] == [payout.id], report
    await check_true_state(sandbox, desk, workflow, payout)
