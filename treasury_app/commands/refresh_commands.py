"""`treasury-app refresh`: ask the providers what became of every payout in flight, once or until all are final.

No sign-in: it only records what the providers say, as the actor "poller". Recovery (payouts left
`submitting` or `unknown`) always runs first, so a payout whose fate is unknown is reconciled by its key before
anything else happens.
"""

from __future__ import annotations

import asyncio
import gc
import json
import signal
import sys
from collections.abc import Callable
from typing import Any

import click

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.ledger import Ledger
from treasury_app.services.payout_workflow import PayoutWorkflow
from treasury_app.services.poller import PayoutChange, Poller, RefreshReport
from treasury_app.services.provider_directory import ProviderDirectory

from . import open_desk
from .exit_codes import ExitCode
from .payout_formatting import json_object, payout_fields

# Statuses whose failure reason is news; in the others it is left over from an earlier step.
REASON_SHOWN = frozenset({PayoutStatus.FAILED, PayoutStatus.UNKNOWN, PayoutStatus.CANCELLED})


@click.command("refresh")
@click.option("--watch", is_flag=True, help="Keep following until every payout is final; Ctrl-C stops cleanly.")
@click.option("--json", "as_json", is_flag=True,
              help="JSON (amounts as exact decimal strings): one object; with --watch, one object per line.")
@click.pass_context
def refresh_command(ctx: click.Context, watch: bool, as_json: bool) -> None:
    """Ask the providers about every payout in flight and record what they say; no sign-in needed.

    Without --watch: one round (recovery, then every open payout), the changes and a summary; exit 1 when a
    provider could not be asked. With --watch: each change as it happens, until no payout is in flight. On a team
    ledger a provider that another desk polls (it holds the provider's poll lease) is named and not asked.
    """
    with open_desk(ctx) as desk:
        if watch:
            interrupted = asyncio.run(_watch(desk.ledger, as_json))
            _echo_watch_end(desk.ledger, interrupted, as_json)
            return
        recovered, refreshed = asyncio.run(_refresh_once(desk.ledger))
    problems = tuple(dict.fromkeys((*recovered.problems, *refreshed.problems)))
    if as_json:
        click.echo(json.dumps({"recovery": _report_fields(recovered), "refresh": _report_fields(refreshed)},
                              indent=2, ensure_ascii=False))
    else:
        for change in (*recovered.changes, *refreshed.changes):
            click.echo(_change_text(change))
        click.echo(f"asked about {refreshed.polled} payout(s) in {refreshed.requests} request(s); "
                   f"{len(recovered.changes) + len(refreshed.changes)} changed; {refreshed.open_payouts} still in "
                   "flight" + ("" if not refreshed.open_payouts else " (treasury-app refresh --watch follows them)"))
        if refreshed.polled_elsewhere:
            click.echo(_elsewhere_text(refreshed.polled_elsewhere))
    for problem in problems:
        click.echo(f"problem: {problem}", err=True)
    if problems:
        sys.exit(ExitCode.REFUSED)


def _poller(ledger: Ledger, directory: ProviderDirectory) -> Poller:
    return Poller(ledger, directory.providers, PayoutWorkflow(ledger, directory.providers))


async def _refresh_once(ledger: Ledger) -> tuple[RefreshReport, RefreshReport]:
    async with ProviderDirectory(ledger.settings) as directory:
        poller = _poller(ledger, directory)
        recovered = await poller.recover()
        return recovered, await poller.refresh_once()


async def _watch(ledger: Ledger, as_json: bool) -> bool:
    """Follow until every payout is final; True when stopped by Ctrl-C (or SIGTERM) first."""
    stop = asyncio.Event()
    # Everything made at start-up lives as long as the watch: keep it out of the cyclic garbage collector,
    # whose full passes over it otherwise stall the loop for 30-70 ms (tests/benchmarks/polling.py --gc-freeze).
    gc.freeze()
    # Nor may a WAL checkpoint's fsync run in a commit on the loop's thread.
    ledger.checkpoint_in_background()
    async with ProviderDirectory(ledger.settings) as directory:
        poller = _poller(ledger, directory)
        unsubscribe = poller.subscribe(lambda change: _echo_change(change, as_json))
        unsubscribe_reports = poller.subscribe_reports(_echo_elsewhere_changes(as_json))
        restore = _stop_on_signals(stop)
        try:
            await poller.run(until_all_final=True, stop=stop)
        finally:
            restore()
            unsubscribe_reports()
            unsubscribe()
    return stop.is_set()


def _stop_on_signals(stop: asyncio.Event) -> Callable[[], None]:
    """Ctrl-C and SIGTERM end the watch between two rounds, never in the middle of recording an answer."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for which in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(which, stop.set)
            installed.append(which)
        except (NotImplementedError, RuntimeError):  # Windows: Ctrl-C ends asyncio.run instead
            pass

    def restore() -> None:
        for which in installed:
            loop.remove_signal_handler(which)

    return restore


def _echo_change(change: PayoutChange, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"event": "change", **_change_fields(change)}, ensure_ascii=False))
    else:
        click.echo(_change_text(change))


def _echo_elsewhere_changes(as_json: bool) -> Callable[[RefreshReport], None]:
    """Says which providers another desk polls, when that changes (its lease taken or freed), not every round."""
    said: list[tuple[str, ...]] = [()]

    def echo(report: RefreshReport) -> None:
        if report.polled_elsewhere == said[0]:
            return
        said[0] = report.polled_elsewhere
        if as_json:
            click.echo(json.dumps({"event": "polled_elsewhere", "providers": list(report.polled_elsewhere)}))
        elif report.polled_elsewhere:
            click.echo(_elsewhere_text(report.polled_elsewhere))
        else:
            click.echo("every provider is polled by this desk now")

    return echo


def _echo_watch_end(ledger: Ledger, interrupted: bool, as_json: bool) -> None:
    still_open = len(ledger.payouts.open_payouts())
    if as_json:
        click.echo(json.dumps({"event": "stopped" if interrupted else "all_final", "open_payouts": still_open}))
    elif interrupted:
        click.echo(f"stopped; {still_open} payout(s) still in flight (treasury-app refresh --watch goes on)")
    else:
        click.echo("every payout is final")


def _change_text(change: PayoutChange) -> str:
    after = change.after
    text = f"payout {change.payout_id}: {change.before.value} → {after.status.value}"
    if after.provider_status:
        text += f"  [{after.provider} {after.provider_status}]"
    if after.tx_hash:
        text += f"  tx {after.tx_hash}"
    if after.failure_reason and after.status in REASON_SHOWN:
        text += f"  ({after.failure_reason})"
    return text


def _change_fields(change: PayoutChange) -> dict[str, Any]:
    return {"payout_id": change.payout_id, "before": change.before.value, "after": change.after.status.value,
            "payout": payout_fields(change.after)}


def _elsewhere_text(providers: tuple[str, ...]) -> str:
    # Not a problem (exit 0): the team's payouts are followed, by the desk that holds the poll lease.
    return (f"{', '.join(providers)}: polled by another desk of the team ledger now; what it records is in the "
            "ledger for every desk")


def _report_fields(report: RefreshReport) -> dict[str, Any]:
    return json_object({"polled": report.polled, "requests": report.requests,
                        "polled_elsewhere": list(report.polled_elsewhere),
                       "changes": [_change_fields(c) for c in report.changes], "problems": list(report.problems),
                       "open_payouts": report.open_payouts, "started_at": report.started_at,
                       "finished_at": report.finished_at})
