"""`treasury-app policy …`: set and show the approval policy per currency, and how long approvals last."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import click

from treasury_app.domain.money import format_amount
from treasury_app.ledger import PolicyRecord
from treasury_app.services.approval_policies import DEFAULT_APPROVAL_EXPIRY_HOURS, KEEP, ApprovalPolicies
from treasury_app.services.idle_lock import (
    DEFAULT_IDLE_LOCK,
    LONGEST_IDLE_LOCK,
    SHORTEST_IDLE_LOCK,
    idle_lock_after,
    parse_minutes,
    set_idle_lock,
)
from treasury_app.services.operator_accounts import OperatorAccounts
from treasury_app.services.workflow_settings import (
    WorkflowSettings,
    save_workflow_settings,
)

from . import open_desk
from .operator_commands import AS_HELP, sign_in

LIMIT_HELP = "Amount in the currency, or 'none' for no limit. Left out: unchanged."
# The defaults the help names are the services' own, so that the help cannot drift from what a new desk does.
_DEFAULT_LIMITS = WorkflowSettings()


def _seconds(duration: timedelta) -> int:
    return int(duration.total_seconds())


@click.group("policy")
def policy_group() -> None:
    """The approval policy: threshold and daily limits per currency; limits that apply at execution."""


@policy_group.command("set")
@click.option("--currency", required=True, help="Currency code, e.g. USDT (one policy covers all its networks).")
@click.option("--approval-threshold", metavar="AMOUNT", help="Payouts at or above it need approval. " + LIMIT_HELP)
@click.option("--daily-limit", metavar="AMOUNT", help="The whole desk's daily total. " + LIMIT_HELP)
@click.option("--operator-daily-limit", metavar="AMOUNT", help="Each initiator's daily total. " + LIMIT_HELP)
@click.option("--over-limit", type=click.Choice(["needs-approval", "refuse"]),
              help="What crossing a daily limit does. Left out: unchanged (needs-approval for a new policy).")
@click.option("--new-destination-needs-approval/--no-new-destination-needs-approval", default=None,
              help="Whether paying an address never paid before (and not in the address book) needs approval.")
@click.option("--as", "acting_as", metavar="ADMIN", required=True, help=AS_HELP)
@click.pass_context
def policy_set(ctx: click.Context, currency: str, approval_threshold: str | None, daily_limit: str | None,
               operator_daily_limit: str | None, over_limit: str | None,
               new_destination_needs_approval: bool | None, acting_as: str) -> None:
    """Change a currency's policy; options left out keep their current value. Days are UTC days."""
    with open_desk(ctx) as desk:
        acting = sign_in(OperatorAccounts(desk.ledger), acting_as)
        policy = ApprovalPolicies(desk.ledger).set(
            currency,
            acting=acting,
            approval_threshold=KEEP if approval_threshold is None else approval_threshold,
            desk_daily_limit=KEEP if daily_limit is None else daily_limit,
            operator_daily_limit=KEEP if operator_daily_limit is None else operator_daily_limit,
            over_limit=KEEP if over_limit is None else over_limit,
            new_destination_needs_approval=(KEEP if new_destination_needs_approval is None
                                            else new_destination_needs_approval),
        )
    click.echo(f"policy for {policy.currency} set by {policy.updated_by}:")
    _echo_policy(policy)


@policy_group.command(
    "approval-expiry", help=f"How many hours an approval stays valid (default {DEFAULT_APPROVAL_EXPIRY_HOURS}).")
@click.argument("hours", type=click.IntRange(1))
@click.option("--as", "acting_as", metavar="ADMIN", required=True, help=AS_HELP)
@click.pass_context
def policy_approval_expiry(ctx: click.Context, hours: int, acting_as: str) -> None:
    with open_desk(ctx) as desk:
        acting = sign_in(OperatorAccounts(desk.ledger), acting_as)
        expiry = ApprovalPolicies(desk.ledger).set_approval_expiry(hours, acting=acting)
    click.echo(f"approvals now expire after {int(expiry.total_seconds() // 3600)} hours")


@policy_group.command("execution")
@click.option("--estimate-max-age", type=click.IntRange(1), metavar="SECONDS",
              help="An older estimate is asked again before executing (default "
                   f"{_seconds(_DEFAULT_LIMITS.estimate_max_age)}).")
@click.option("--fee-tolerance", metavar="FRACTION",
              help="How far a re-asked estimate may move against you before execution stops for a new "
                   "confirmation: 0.05 is 5 % of the confirmed fee or net amount (default "
                   f"{_DEFAULT_LIMITS.fee_tolerance.normalize():f}).")
@click.option("--claim-grace", type=click.IntRange(0), metavar="SECONDS",
              help="How long a payout another process started sending is left to it before it is reconciled "
                   f"as orphaned (default {_seconds(_DEFAULT_LIMITS.claim_grace)}; a process known to have "
                   "stopped is reconciled at once).")
@click.option("--as", "acting_as", metavar="ADMIN", required=True, help=AS_HELP)
@click.pass_context
def policy_execution(ctx: click.Context, estimate_max_age: int | None, fee_tolerance: str | None,
                     claim_grace: int | None, acting_as: str) -> None:
    """Limits that apply when payouts are executed; options left out keep their value."""
    with open_desk(ctx) as desk:
        acting = sign_in(OperatorAccounts(desk.ledger), acting_as)
        limits = save_workflow_settings(
            desk.ledger, acting=acting,
            estimate_max_age=None if estimate_max_age is None else timedelta(seconds=estimate_max_age),
            fee_tolerance=fee_tolerance,
            claim_grace=None if claim_grace is None else timedelta(seconds=claim_grace))
    _echo_limits(limits)


@policy_group.command("idle-lock")
@click.option("--minutes", required=True, metavar="MINUTES",
              help=f"Lock the window after this long without a key press or a click (default "
                   f"{_seconds(DEFAULT_IDLE_LOCK) // 60}; {_seconds(SHORTEST_IDLE_LOCK) // 60} to "
                   f"{_seconds(LONGEST_IDLE_LOCK) // 60}).")
@click.option("--as", "acting_as", metavar="ADMIN", required=True, help=AS_HELP)
@click.pass_context
def policy_idle_lock(ctx: click.Context, minutes: str, acting_as: str) -> None:
    """How long the window may stay unused before it locks (every window of the desk)."""
    after = parse_minutes(minutes)
    with open_desk(ctx) as desk:
        acting = sign_in(OperatorAccounts(desk.ledger), acting_as)
        set_idle_lock(desk.ledger, acting=acting, after=after)
    _echo_idle_lock(after)


@policy_group.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
def policy_show(ctx: click.Context, as_json: bool) -> None:
    """Every currency's policy, and how long approvals last."""
    with open_desk(ctx) as desk:
        policies = ApprovalPolicies(desk.ledger)
        records, expiry = policies.all(), policies.approval_expiry()
        limits = WorkflowSettings.from_ledger(desk.ledger)
        idle_lock = idle_lock_after(desk.ledger)
    hours = int(expiry.total_seconds() // 3600)
    if as_json:
        click.echo(json.dumps({"approval_expiry_hours": hours, "execution": limits.as_settings(),
                               "idle_lock_seconds": _seconds(idle_lock),
                               "policies": [_as_dict(p) for p in records]}, indent=2))
        return
    click.echo(f"Approvals expire after {hours} hours. Daily limits count UTC days.")
    _echo_limits(limits)
    _echo_idle_lock(idle_lock)
    if not records:
        click.echo("No policy set: no payout needs approval. Set one: treasury-app policy set --currency USDT "
                   "--approval-threshold 1000 --as ADMIN")
    for policy in records:
        click.echo(f"\n{policy.currency}  (set by {policy.updated_by}, {policy.updated_at:%Y-%m-%d %H:%M} UTC)")
        _echo_policy(policy)


def _echo_limits(limits: WorkflowSettings) -> None:
    click.echo(f"Estimates older than {_seconds(limits.estimate_max_age)} s are asked again before "
               f"executing; a move against you of more than {(limits.fee_tolerance * 100).normalize():f} % stops the payout "
               "for a new confirmation.")
    click.echo(f"A payout another process started sending is left to it for "
               f"{_seconds(limits.claim_grace)} s.")


def _echo_idle_lock(after: timedelta) -> None:
    minutes = Decimal(_seconds(after)) / 60
    click.echo(f"The window locks after {minutes.normalize():f} minutes without a key press or a click.")


def _echo_policy(policy: PolicyRecord) -> None:
    click.echo(f"  approval threshold      {_limit(policy.approval_threshold)}")
    click.echo(f"  daily limit (desk)      {_limit(policy.daily_limit_desk)}")
    click.echo(f"  daily limit (operator)  {_limit(policy.daily_limit_operator)}")
    click.echo(f"  over a daily limit      {policy.over_limit.value.replace('_', ' ')}")
    new = "needs approval" if policy.new_destination_needs_approval else "no approval needed"
    click.echo(f"  new destination         {new}")


def _limit(amount: Decimal | None) -> str:
    return "none" if amount is None else format_amount(amount)


def _as_dict(policy: PolicyRecord) -> dict[str, Any]:
    def text(amount: Decimal | None) -> str | None:
        return None if amount is None else format_amount(amount)

    return {
        "currency": policy.currency,
        "approval_threshold": text(policy.approval_threshold),
        "daily_limit_desk": text(policy.daily_limit_desk),
        "daily_limit_operator": text(policy.daily_limit_operator),
        "over_limit": policy.over_limit.value,
        "new_destination_needs_approval": policy.new_destination_needs_approval,
        "updated_by": policy.updated_by,
        "updated_at": policy.updated_at.isoformat(),
    }
