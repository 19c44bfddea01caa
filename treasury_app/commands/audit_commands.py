"""`treasury-app audit …`: verify the hash-chained audit trail, and list its rows."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

import click

from treasury_app.ledger import AuditRow
from treasury_app.security.audit_chain import verify
from treasury_app.services.audit_trail import row_line, verdict_of

from . import open_desk

EXIT_BROKEN = 1


@click.group("audit")
def audit_group() -> None:
    """The audit trail: every action, hash-chained so that edits, deletions and reordering show."""


@audit_group.command("verify")
@click.pass_context
def audit_verify(ctx: click.Context) -> None:
    """Check the whole chain and every payout and approval against it; exit 1 on any break."""
    with open_desk(ctx) as desk:
        report = verify(desk.ledger)
    verdict = verdict_of(report)
    for line in verdict.lines():
        click.echo(line)
    if verdict.intact:
        return
    click.echo(f"Error: the audit trail is broken: {verdict.first_problem}", err=True)
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
            click.echo(json.dumps(_as_dict(row), ensure_ascii=False) if as_json else row_line(row))


def _as_dict(row: AuditRow) -> dict[str, object]:
    return {"seq": row.seq, "at": row.at.isoformat(), "operator": row.operator, "action": row.action,
            "subject": row.subject, "detail": json.loads(row.detail_json) if row.detail_json else None,
            "prev_hash": row.prev_hash, "hash": row.hash}
