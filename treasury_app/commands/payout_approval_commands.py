"""`treasury-app payout approve|reject`: decide on a payout awaiting approval, authenticating as you do."""

from __future__ import annotations

import click

from treasury_app.services.approvals import Approvals

from . import open_desk
from .operator_commands import AS_HELP
from .password_input import acting_password


@click.command("approve")
@click.argument("payout_id", metavar="ID", type=int)
@click.option("--as", "acting_as", metavar="NAME", required=True, help=AS_HELP + " Needs the approver role.")
@click.pass_context
def payout_approve(ctx: click.Context, payout_id: int, acting_as: str) -> None:
    """Approve payout ID (never your own): binds to its exact details and expires."""
    with open_desk(ctx) as desk:
        approval = Approvals(desk.ledger).approve(payout_id, approver=acting_as, password=acting_password(acting_as))
    expires = f"; it expires at {approval.expires_at:%Y-%m-%d %H:%M} UTC" if approval.expires_at else ""
    click.echo(f"payout {payout_id} approved by {approval.operator}{expires}")


@click.command("reject")
@click.argument("payout_id", metavar="ID", type=int)
@click.option("--reason", required=True, help="Why: the initiator reads it.")
@click.option("--as", "acting_as", metavar="NAME", required=True, help=AS_HELP + " Needs the approver role.")
@click.pass_context
def payout_reject(ctx: click.Context, payout_id: int, reason: str, acting_as: str) -> None:
    """Reject payout ID with a reason; it can then not be executed."""
    with open_desk(ctx) as desk:
        Approvals(desk.ledger).reject(payout_id, approver=acting_as, password=acting_password(acting_as),
                                      reason=reason)
    click.echo(f"payout {payout_id} rejected by {acting_as}: {reason.strip()}")
