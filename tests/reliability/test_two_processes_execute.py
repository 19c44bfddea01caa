"""Two real processes execute the same approved payout at the same moment: one provider payout, one sender.

Both processes are started, sign in (alice and carol, two initiators at two desks) and wait; each round
releases them on one payout with a single file, so they reach `execute` within a millisecond of each other.
Several rounds in a row, to give a race the chances to show. On a ledger file both processes share one computer;
on a team ledger (PostgreSQL) they are two desks on two hosts.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from reliability_fixtures import (
    PROVIDERS,
    Driver,
    approved_payout,
    executed,
    only_executed,
    true_status,
    wait_until,
)

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.security.audit_chain import verify
from treasury_app.services.payout_workflow import PayoutWorkflow

BACKENDS = ("sqlite", "postgresql")
ROUNDS = 5
# What the loser may be told: it lost the claim, or it read the payout after the winner's claim.
REFUSALS = {"StaleRecordError", "AlreadySentError", "NotExecutableError"}


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_two_processes_executing_one_payout_send_one_request(provider, tmp_path, drivers, sandbox, desk,
                                                                    providers, clock, desk_hosts):
    workflow = PayoutWorkflow(desk.ledger, providers, clock)
    payouts = [await approved_payout(workflow, desk, provider) for _ in range(ROUNDS)]
    ids = [p.id for p in payouts]
    go = tmp_path / "go"
    racers: list[Driver] = [drivers(tmp_path / name, "wait-then-execute", *ids, operator=name, go=go, host=host)
                            for name, host in (("alice", desk_hosts.a), ("carol", desk_hosts.b))]
    for racer in racers:
        racer.wait_for_marker("ready")

    for payout in payouts:
        (tmp_path / f"go-{payout.id}").touch()  # one file releases both
        results = [read_result(racer, payout.id) for racer in racers]
        sent = [r for r in results if r["outcome"] == "sent"]
        refused = [r for r in results if r["outcome"] == "refused"]
        assert len(sent) == 1 and len(refused) == 1, results
        assert refused[0]["error"] in REFUSALS, refused[0]
        assert f"payout {payout.id}" in refused[0]["message"].lower(), refused[0]  # told in words, which payout
        assert sent[0]["record"]["status"] == PayoutStatus.PROCESSING, sent[0]

        stored = desk.ledger.payouts.get(payout.id)
        row = only_executed(sandbox, stored)
        assert stored.status is true_status(row) and stored.provider_status == row["status"]

    for racer in racers:
        racer.result()
    assert len(executed(sandbox, provider)) == ROUNDS  # one per payout, none twice
    report = verify(desk.ledger)
    assert report.intact, report.problems


def read_result(racer: Driver, payout_id: int) -> dict[str, Any]:
    marker = racer.marker(f"result-{payout_id}.json")
    wait_until(marker.exists, f"driver {racer.pid} to execute payout {payout_id}", check=racer.ensure_running)
    return json.loads(marker.read_text(encoding="utf-8"))
