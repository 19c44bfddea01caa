"""`treasury-app payout new|estimate|execute`: compose and estimate a payout; execute it once, when confirmed.

Both talk to the payout's provider through the `ProviderDirectory` (its profile, or the local sandbox when
none is set up: marked SANDBOX). The workflow service decides everything; these commands sign in, ask, print.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from typing import Any

import click

from treasury_app.domain.approval_policy import PolicyDecision
from treasury_app.domain.errors import TreasuryError
from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.domain.payout_request import FeeMode, Priority, compose_payout
from treasury_app.domain.provider_capabilities import UnsupportedChoiceError
from treasury_app.ledger import Ledger, LedgerUnavailableError, PayoutRecord
from treasury_app.providers.kinds import PROVIDER_KINDS
from treasury_app.services.approvals import Approvals, ExecutionClearance
from treasury_app.services.operator_accounts import OperatorAccounts, SignedIn
from treasury_app.services.payout_views import address_note
from treasury_app.services.payout_workflow import (
    DEFINITE_REFUSALS,
    ESTIMABLE,
    PayoutNotSentError,
    PayoutWorkflow,
)
from treasury_app.services.provider_directory import (
    ProviderConnection,
    ProviderDirectory,
)
from treasury_app.services.workflow_settings import WorkflowSettings

from . import open_desk
from .exit_codes import ExitCode, exit_code_for
from .operator_commands import AS_HELP, sign_in
from .payout_formatting import (
    address_note_fields,
    address_warning_text,
    connection_fields,
    connection_text,
    echo_estimate,
    echo_json,
    echo_line,
    echo_outcome,
    echo_request,
    payout_amount_text,
    payout_fields,
    policy_fields,
    policy_text,
    time_text,
)
from .provider_choice_words import choices_help, refusal_line

JSON_HELP = "Print the result as JSON (amounts as exact decimal strings)."


@dataclass(frozen=True)
class Estimated:
    """A payout after its estimate was asked for; `error` says why there is none."""

    payout: PayoutRecord
    connection: ProviderConnection | None
    error: TreasuryError | None


@click.command("new", epilog=choices_help(kind.capabilities for kind in PROVIDER_KINDS.values()))
@click.option("--provider", required=True, type=click.Choice(sorted(PROVIDER_KINDS), case_sensitive=False),
              help="Who pays it out. With no profile set up, the local sandbox (treasury-app sandbox).")
@click.option("--currency", required=True, help="Currency code, e.g. USDT.")
@click.option("--network", help="Network code, e.g. TRON; left out, the only network the provider pays the currency "
                                "on (see below).")
@click.option("--address", required=True, help="The recipient's address, checked for the network.")
@click.option("--amount", required=True, help="Exact decimal amount, e.g. 1500.25 (no exponent, no separators).")
@click.option("--fee-from-balance/--fee-from-amount", "fee_from_balance", default=None,
              help="Who pays the fee: our balance on top of the amount, or the recipient out of it. Left out: the "
                   "provider's default (see below).")
@click.option("--priority", type=click.Choice([p.value for p in Priority], case_sensitive=False),
              help="Where the provider takes one (see below).")
@click.option("--memo", help="Memo or tag, where the provider carries one (see below).")
@click.option("--reference", help="Your internal reference (one line).")
@click.option("--note", help="A note for the ledger.")
@click.option("--as", "acting_as", metavar="NAME", required=True, help=AS_HELP + " Needs the initiator role.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def payout_new(ctx: click.Context, provider: str, currency: str, network: str | None, address: str, amount: str,
               fee_from_balance: bool | None, priority: str | None, memo: str | None, reference: str | None,
               note: str | None, acting_as: str, as_json: bool) -> None:
    """Compose a payout and ask its provider for the fee: prints its id, the estimate and whether it needs
    approval. Nothing is sent: `payout execute ID` does that.

    \b
    Exit codes:
      0 composed and estimated
      1 refused (a field, a permission, the policy, or no estimate could be had: the draft stays)
      2 a choice the provider does not take (the line names the option and what it allows); nothing is written
      3 the provider refused the payout's estimate (the draft stays)
    """
    fee_mode = None if fee_from_balance is None else FeeMode.FROM_BALANCE if fee_from_balance else FeeMode.FROM_AMOUNT
    fields: dict[str, Any] = {"provider": provider, "currency": currency, "network": network, "address": address,
                              "amount": amount, "fee_mode": fee_mode, "priority": priority, "memo": memo,
                              "reference": reference, "note": note}
    with open_desk(ctx) as desk:
        directory = ProviderDirectory(desk.ledger.settings, only=[provider])
        try:  # a mistyped field or a refused choice, before any password is asked (compose checks again)
            compose_payout(**fields, capabilities=directory.capabilities(provider))
        except UnsupportedChoiceError as refused:
            click.echo(f"Error: {refusal_line(refused)}", err=True)
            ctx.exit(ExitCode.USAGE)
        acting = sign_in(OperatorAccounts(desk.ledger), acting_as)
        estimated = asyncio.run(_estimate(desk.ledger, directory, acting, provider, fields=fields))
        _echo_estimated(estimated, Approvals(desk.ledger).policy_decision(estimated.payout), acting.name, as_json)


@click.command("estimate")
@click.argument("payout_id", metavar="ID", type=int)
@click.option("--as", "acting_as", metavar="NAME", required=True, help=AS_HELP + " Needs the initiator role.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def payout_estimate(ctx: click.Context, payout_id: int, acting_as: str, as_json: bool) -> None:
    """Ask the provider again for payout ID's fee: a draft whose estimate failed, or an expired estimate.

    Exit codes as for `payout new`.
    """
    with open_desk(ctx) as desk:
        payout = desk.ledger.payouts.get(payout_id)
        acting = sign_in(OperatorAccounts(desk.ledger), acting_as)
        directory = ProviderDirectory(desk.ledger.settings, only=[payout.provider])
        estimated = asyncio.run(_estimate(desk.ledger, directory, acting, payout.provider, payout_id=payout.id))
        _echo_estimated(estimated, Approvals(desk.ledger).policy_decision(estimated.payout), acting.name, as_json)


async def _estimate(ledger: Ledger, directory: ProviderDirectory, acting: SignedIn, provider: str, *,
                    fields: dict[str, Any] | None = None, payout_id: int | None = None) -> Estimated:
    """Compose (when given `fields`) and estimate; a failed estimate is returned with the payout as it stays."""
    async with directory:
        workflow = PayoutWorkflow(ledger, directory.providers)
        if fields is not None:
            payout_id = workflow.compose(acting, **fields).id
        assert payout_id is not None
        connection = directory.connection(provider)
        try:
            return Estimated(await workflow.estimate(acting, payout_id), connection, None)
        except TreasuryError as error:
            # The draft (or the stored estimate, when the policy refused after it) stays, with its id.
            return Estimated(ledger.payouts.get(payout_id), connection, error)


def _echo_estimated(estimated: Estimated, decision: PolicyDecision, initiator: str, as_json: bool) -> None:
    payout, error = estimated.payout, estimated.error
    if as_json:
        echo_json({"payout": payout_fields(payout), **address_note_fields(payout),
                   "provider": connection_fields(estimated.connection), "approval": policy_fields(decision),
                   "error": str(error) if error else None})
    else:
        click.echo(f"payout {payout.id}: {payout.status.value}")
        echo_line("provider", connection_text(estimated.connection, payout.provider))
        echo_request(payout)
        echo_estimate(payout)
        echo_line("approval", policy_text(decision))
        _echo_next_step(payout, initiator)
    if error is not None:
        again = f"; ask again with: treasury-app payout estimate {payout.id}" if payout.status in ESTIMABLE else ""
        click.echo(f"Error: payout {payout.id} stays {payout.status.value}: {error}{again}", err=True)
        sys.exit(ExitCode.FAILED if isinstance(error, DEFINITE_REFUSALS) else ExitCode.REFUSED)


def _echo_next_step(payout: PayoutRecord, initiator: str) -> None:
    if payout.status is PayoutStatus.AWAITING_APPROVAL:
        click.echo(f"Next: another operator approves it: treasury-app payout approve {payout.id} --as APPROVER")
    elif payout.status is PayoutStatus.ESTIMATED:
        click.echo(f"Next: treasury-app payout execute {payout.id} --as {initiator}")


@click.command("execute")
@click.argument("payout_id", metavar="ID", type=int)
@click.option("--as", "acting_as", metavar="NAME", required=True, help=AS_HELP + " Needs the initiator role.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (for scripts).")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def payout_execute(ctx: click.Context, payout_id: int, acting_as: str, yes: bool, as_json: bool) -> None:
    """Send payout ID to its provider, exactly once, after showing what will happen.

    \b
    Exit codes:
      0 sent (processing or completed)
      1 refused before anything was sent (approval, policy, status, confirmation), or the provider could
        not be connected to: nothing was sent, the payout is as before and can be executed again
      3 failed (the provider refused it)
      4 unknown (sent, outcome not known yet: run `treasury-app refresh`)
      5 the team ledger's server went away: see `payout show ID` once it answers
    """
    with open_desk(ctx) as desk:
        # The refusals no password could fix come first: an approval missing, a policy refusal, a wrong status.
        clearance = Approvals(desk.ledger).ensure_executable(payout_id)
        acting = sign_in(OperatorAccounts(desk.ledger), acting_as)
        payout = desk.ledger.payouts.get(payout_id)
        directory = ProviderDirectory(desk.ledger.settings, only=[payout.provider])
        _echo_confirmation(desk.ledger, payout, clearance, directory.connection(payout.provider))
        if not yes and not _confirmed(payout.id):
            click.echo(f"payout {payout.id} was not sent", err=True)
            sys.exit(ExitCode.REFUSED)
        try:
            result = asyncio.run(_execute(desk.ledger, directory, acting, payout.id))
        except PayoutNotSentError as not_sent:
            _echo_not_sent(not_sent, directory.connection(payout.provider), acting.name, as_json)
        except LedgerUnavailableError:
            # Where it stands depends on the step the server went at (before the claim, nothing happened; after
            # it, the request may have left): the ledger knows, and nothing sends it twice.
            click.echo(f"payout {payout.id}: the team ledger went away while it was being executed. Once the "
                       f"server answers, `treasury-app payout show {payout.id}` says where it stands, and "
                       f"`treasury-app refresh` asks {payout.provider} what became of a request that left; it is "
                       "never sent twice.", err=True)
            raise
    if as_json:
        connection = directory.connection(result.provider)
        echo_json({"payout": payout_fields(result), **address_note_fields(result),
                   "provider": connection_fields(connection), "exit_code": int(exit_code_for(result.status))})
    else:
        click.echo(f"payout {result.id}: {_outcome_headline(result)}")
        echo_outcome(result)
    sys.exit(exit_code_for(result.status))


async def _execute(ledger: Ledger, directory: ProviderDirectory, acting: SignedIn, payout_id: int) -> PayoutRecord:
    async with directory:
        return await PayoutWorkflow(ledger, directory.providers).execute(acting, payout_id)


def _echo_not_sent(error: PayoutNotSentError, connection: ProviderConnection | None, initiator: str,
                   as_json: bool) -> None:
    payout = error.payout
    if as_json:
        echo_json({"payout": payout_fields(payout), **address_note_fields(payout),
                   "provider": connection_fields(connection), "exit_code": int(ExitCode.REFUSED),
                   "error": str(error)})
    else:
        click.echo(f"payout {payout.id}: NOT SENT: the provider could not be reached; it is {payout.status.value} "
                   "again")
        echo_outcome(payout)
    click.echo(f"Error: {error}. Once {payout.provider} can be reached, send it again: treasury-app payout "
               f"execute {payout.id} --as {initiator}", err=True)
    sys.exit(ExitCode.REFUSED)


def _echo_confirmation(ledger: Ledger, payout: PayoutRecord, clearance: ExecutionClearance,
                       connection: ProviderConnection | None) -> None:
    # Printed on stderr: it is the question's context, and stdout stays the result (JSON for scripts).
    def line(label: str, value: object) -> None:
        click.echo(f"  {label:<17}{value}", err=True)

    click.echo(f"About to send payout {payout.id}:", err=True)
    line("provider", connection_text(connection, payout.provider))
    line("asset", f"{payout.currency} on {payout.network}")
    line("address", payout.address)
    note = address_note(payout)
    if note is not None:
        line("address warning", address_warning_text(note))
    line("amount", payout_amount_text(payout, payout.amount))
    line("fee", f"{payout_amount_text(payout, payout.estimated_fee)} ({payout.fee_mode.value.replace('_', ' ')})")
    line("to recipient", payout_amount_text(payout, payout.estimated_net))
    line("total debited", payout_amount_text(payout, payout.estimated_total))
    if payout.estimate_warnings:
        line("warnings", "; ".join(payout.estimate_warnings))
    max_age = int(WorkflowSettings.from_ledger(ledger).estimate_max_age.total_seconds())
    line("estimated at", f"{time_text(payout.estimated_at)} (an estimate older than {max_age} s is asked again "
                         "before sending)")
    if clearance.approval_id is not None:
        approval = ledger.approvals.get(clearance.approval_id)
        line("approval", f"approved by {approval.operator} at {time_text(approval.decided_at)}, valid until "
                         f"{time_text(approval.expires_at)}")
    else:
        line("approval", policy_text(clearance.decision))


def _confirmed(payout_id: int) -> bool:
    try:
        return click.confirm(f"Send payout {payout_id} now?", default=False, err=True)
    except click.Abort:  # end of input or Ctrl-C at the question: no
        click.echo("", err=True)
        return False


def _outcome_headline(payout: PayoutRecord) -> str:
    status, code = payout.status, exit_code_for(payout.status)
    if code is ExitCode.FAILED:
        return f"{status.value.upper()}: the provider did not pay it"
    if code is ExitCode.UNKNOWN:
        return (f"{status.value.upper()}: sent, but its outcome is not known yet; 'treasury-app refresh' asks the "
                "provider by its key (it is never sent twice)")
    follow = "" if status.is_final else "; follow it with: treasury-app refresh --watch"
    return f"sent, {status.value}{follow}"
