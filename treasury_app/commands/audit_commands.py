"""`treasury-app audit …`: verify the hash-chained audit trail, and list its rows."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

import click

from treasury_app.ledger import AuditRow
from treasury_app.security.audit_chain import verify

from . import open_desk

EXIT_BROKEN = 1
# Problems listed after the first one; `verify` counts them all.
SHOWN_PROBLEMS = 20


@click.group("audit")
def audit_group() -> None:
    """The audit trail: every action, hash-chained so that edits, deletions and reordering show."""


@audit_group.command("verify")
@click.pass_context
def audit_verify(ctx: click.Context) -> None:
    """Check the whole chain and every payout and approval against it; exit 1 on any break."""
    with open_desk(ctx) as desk:
        report = verify(desk.ledger)
    checked = (f"{report.rows_checked} rows, {report.payouts_checked} payouts, {report.approvals_checked} "
               "approvals checked")
    if report.intact:
        click.echo(f"audit trail intact: {checked}")
        if report.head_seq is not None:
            click.echo(f"head: row {report.head_seq}, hash {report.head_hash}")
            click.echo("(note the head somewhere safe: a later verify must reach it or go past it)")
        return
    first = report.first_problem
    assert first is not None
    click.echo(f"AUDIT TRAIL BROKEN ({checked}); {report.problem_count} problem(s).")
    click.echo(f"first broken: {first.message}")
    if report.first_broken_row is not None:
        click.echo(f"  the row as stored: {_line(report.first_broken_row)}")
    for problem in report.problems[1:SHOWN_PROBLEMS + 1]:
        click.echo(f"also: {problem.message}")
    if report.problem_count > SHOWN_PROBLEMS + 1:
        click.echo(f"… and {report.problem_count - SHOWN_PROBLEMS - 1} more")
    click.echo(f"Error: the audit trail is broken: {first.message}", err=True)
    sys.exit(EXIT_BROKEN)


@audit_group.command("show")
@click.option("--since", type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]),
              help="Only rows from this UTC date (or date and time) on.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@click.pass_context
def audit_show(ctx: click.Context, since: datetime | None, as_json: bool) -> None:
    """List the audit rows in order: number, time (UTC), operator, action, subject, detail."""
    start = since.replace(tzinfo=UTC) if since is not None else None
    with open_desk(ctx) as desk:
        for row in desk.ledger.audit.rows(since=start):
            click.echo(json.dumps(_as_dict(row), ensure_ascii=False) if as_json else _line(row))


def _line(row: AuditRow) -> str:
    return (f"#{row.seq}  {row.at:%Y-%m-%d %H:%M:%S}  {row.operator or '-'}  {row.action}  {row.subject or '-'}  "
            f"{row.detail_json or ''}").rstrip()


def _as_dict(row: AuditRow) -> dict[str, object]:
    return {"seq": row.seq, "at": row.at.isoformat(), "operator": row.operator, "action": row.action,
            "subject": row.subject, "detail": json.loads(row.detail_json) if row.detail_json else None,
            "prev_hash": row.prev_hash, "hash": row.hash}
