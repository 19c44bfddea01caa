"""Races between real processes, many rounds in a row, while CPU-hogging neighbours compete for every core:
no false tamper alarm, one provider payout per payout, an audit trail that verifies while it grows.

A loaded machine stretches the moments between a check's reads, which is where a check that reads several
tables by separate statements sees another process's commit half-way (the false `TamperedRecordError` of two
processes executing one payout). The exact interleavings are pinned down one by one in
tests/services/test_snapshot_reads.py; here they are left to the scheduler, many times. Bounded to stay fast.
On a team ledger (PostgreSQL) the racing processes are two desks on two hosts, and the snapshots are the server's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from reliability_fixtures import (
    FIELDS,
    PROVIDERS,
    Driver,
    approved_payout,
    executed,
    only_executed,
    wait_until,
)

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.ledger import PayoutRecord
from treasury_app.security.audit_chain import verify
from treasury_app.services.approval_policies import ApprovalPolicies
from treasury_app.services.payout_workflow import PayoutWorkflow

pytestmark = pytest.mark.slow
BACKENDS = ("sqlite", "postgresql")

EXECUTE_ROUNDS = 20  # per provider
APPROVE_ROUNDS = 15  # per provider
STREAM_PAYOUTS = 30
# What the loser of an execute race may be told: it lost the claim, or read the payout after the winner's claim.
LOST_EXECUTE = {"StaleRecordError", "AlreadySentError", "NotExecutableError"}
# What an execute racing the approval may be told: it looked before the approval was there, or lost to the
# payout's move to approved.
EXECUTE_BEFORE_APPROVAL = {"ApprovalRequiredError", "StaleRecordError"}


@pytest.fixture
def busy_neighbours() -> Iterator[list[subprocess.Popen[bytes]]]:
    """One process per core that does nothing but burn CPU, for the whole test."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(os.cpu_count() or 2)]
    yield hogs
    for hog in hogs:
        hog.kill()
        hog.wait()


def result_of(racer: Driver, payout_id: int) -> dict[str, Any]:
    marker = racer.marker(f"result-{payout_id}.json")
    wait_until(marker.exists, f"driver {racer.pid} to act on payout {payout_id}", check=racer.ensure_running)
    return json.loads(marker.read_text(encoding="utf-8"))


async def awaiting_payout(workflow: PayoutWorkflow, desk, provider: str) -> PayoutRecord:
    fields = FIELDS[provider]
    policies = ApprovalPolicies(desk.ledger, clock=desk.clock)
    if policies.get(fields["currency"]) is None:
        policies.set(fields["currency"], acting=desk.sign_in("root"), approval_threshold=fields["amount"])
    acting = desk.sign_in("alice")
    payout = await workflow.estimate(acting, workflow.compose(acting, **fields).id)
    assert payout.status is PayoutStatus.AWAITING_APPROVAL, payout.status
    return payout


def assert_no_false_alarm(results: list[dict[str, Any]]) -> None:
    alarms = [r for r in results if r["error"] == "TamperedRecordError"]
    assert not alarms, f"a consistent ledger was reported as tampered: {alarms}"


@pytest.mark.team_ledger_provider("cryptomus")
async def test_two_processes_racing_to_execute_under_load_send_one_request_each_round(
        provider, tmp_path, drivers, sandbox, desk, providers, clock, busy_neighbours, desk_hosts):
    workflow = PayoutWorkflow(desk.ledger, providers, clock)
    payouts = [await approved_payout(workflow, desk, provider) for _ in range(EXECUTE_ROUNDS)]
    ids = [p.id for p in payouts]
    go = tmp_path / "go"
    racers = [drivers(tmp_path / name, "wait-then-execute", *ids, operator=name, go=go, host=host)
              for name, host in (("alice", desk_hosts.a), ("carol", desk_hosts.b))]
    for racer in racers:
        racer.wait_for_marker("ready")

    for payout in payouts:
        (tmp_path / f"go-{payout.id}").touch()
        results = [result_of(racer, payout.id) for racer in racers]
        assert_no_false_alarm(results)
        sent = [r for r in results if r["outcome"] == "sent"]
        assert len(sent) == 1, results
        assert all(r["error"] in LOST_EXECUTE for r in results if r["outcome"] == "refused"), results
        only_executed(sandbox, desk.ledger.payouts.get(payout.id))

    for racer in racers:
        racer.result()
    assert len(executed(sandbox, provider)) == EXECUTE_ROUNDS
    report = verify(desk.ledger)
    assert report.intact, report.problems


@pytest.mark.team_ledger_provider("pay3")
async def test_an_approval_racing_an_execute_under_load_is_never_a_tamper_alarm(
        provider, tmp_path, drivers, sandbox, desk, providers, clock, busy_neighbours, desk_hosts):
    workflow = PayoutWorkflow(desk.ledger, providers, clock)
    payouts = [await awaiting_payout(workflow, desk, provider) for _ in range(APPROVE_ROUNDS)]
    ids = [p.id for p in payouts]
    go = tmp_path / "go"
    approver = drivers(tmp_path / "bob", "wait-then-approve", *ids, operator="bob", go=go, host=desk_hosts.b)
    executor = drivers(tmp_path / "alice", "wait-then-execute", *ids, operator="alice", go=go, host=desk_hosts.a)
    for racer in (approver, executor):
        racer.wait_for_marker("ready")

    acting = desk.sign_in("alice")
    outcomes = []
    for payout in payouts:
        (tmp_path / f"go-{payout.id}").touch()
        approval, execution = result_of(approver, payout.id), result_of(executor, payout.id)
        assert_no_false_alarm([approval, execution])
        assert approval["outcome"] == "approved", approval  # an execute can never take a payout from an approver
        if execution["outcome"] == "refused":
            assert execution["error"] in EXECUTE_BEFORE_APPROVAL, execution
            await workflow.execute(acting, payout.id)  # approved now: it goes, once
        outcomes.append(execution["outcome"])
        only_executed(sandbox, desk.ledger.payouts.get(payout.id))

    approver.result()
    executor.result()
    assert len(executed(sandbox, provider)) == APPROVE_ROUNDS
    report = verify(desk.ledger)
    assert report.intact, report.problems


async def test_audit_verify_racing_a_stream_of_transitions_under_load_always_finds_it_intact(
        tmp_path, drivers, sandbox, desk, providers, clock, busy_neighbours, desk_hosts):
    workflow = PayoutWorkflow(desk.ledger, providers, clock)
    payouts = [await approved_payout(workflow, desk, PROVIDERS[i % 2]) for i in range(STREAM_PAYOUTS)]
    go = tmp_path / "go"
    for payout in payouts:
        (tmp_path / f"go-{payout.id}").touch()  # released all at once: the driver executes them back to back
    streaming = drivers(tmp_path / "alice", "wait-then-execute", *(p.id for p in payouts), operator="alice", go=go,
                        host=desk_hosts.a)
    head_before = desk.ledger.audit.last().seq

    reports = []
    while streaming.process.poll() is None:
        reports.append(verify(desk.ledger))
        time.sleep(0.001)  # let the stream take the write lock between walks
    result = streaming.result()

    broken = [r.problems for r in reports if not r.intact]
    assert not broken, broken[0]
    grew = sorted({r.head_seq for r in reports})
    assert len(grew) > 2 and grew[-1] > head_before, f"verify never ran while the trail grew: heads {grew}"
    assert [r["outcome"] for r in result["results"]] == ["sent"] * STREAM_PAYOUTS
    assert verify(desk.ledger).intact
