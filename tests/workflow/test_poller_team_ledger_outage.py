"""The poller on a team ledger whose server is down when it starts (stopped with pg_ctl, postgres_outage.py): its
start-up recovery waits for the server instead of ending the poller, and runs as soon as it is woken after the
server is back (the window's session wakes it when the change feed hears the server again)."""

from __future__ import annotations

import asyncio
import logging
import time

from postgres_cluster import postgres_cluster, postgres_database, postgres_ledgers_database  # noqa: F401
from postgres_outage import server_stopped

from treasury_app.ledger import open_ledger
from treasury_app.services.payout_workflow import PayoutWorkflow
from treasury_app.services.poller import Poller, RefreshReport


async def until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"waited {timeout} s for {what}"
        await asyncio.sleep(0.02)


async def test_recovery_waits_for_a_server_that_is_down_and_runs_once_it_is_back(postgres_cluster,
                                                                                 postgres_database, caplog):
    reports: list[RefreshReport] = []
    with open_ledger(postgres_database) as ledger:
        poller = Poller(ledger, {}, PayoutWorkflow(ledger, {}))
        poller.subscribe_reports(reports.append)
        stop = asyncio.Event()
        with caplog.at_level(logging.WARNING, "treasury_app.services.poller"):
            with server_stopped(postgres_cluster):
                running = asyncio.get_running_loop().create_task(poller.run(stop=stop))
                await until(lambda: "start-up recovery waits for the team ledger" in caplog.text, 15,
                            "the poller saying it waits for the server")
                assert not running.done() and not reports
                assert postgres_cluster.password not in caplog.text
            poller.wake()
            await until(lambda: reports, 15, "the recovery's report once the server is back")
        stop.set()
        poller.wake()
        await asyncio.wait_for(running, 15)
    assert reports[0].open_payouts == 0
