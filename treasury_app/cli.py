"""The command-line face of Treasury Desk: the same services as the window, for people and for scripts.

Exit codes (`commands.exit_codes`):
  0  done
  1  refused by the app: validation, permission, policy, approval missing (any TreasuryError); nothing was sent
  2  wrong usage: the command's words were wrong (click), or a choice the provider never takes
  3  failed: the provider refused the payout, or it ended failed
  4  unknown: the payout was sent but its outcome is not known yet; `treasury-app refresh` reconciles it
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from treasury_app import __version__
from treasury_app.app_paths import DATA_DIR_ENV, resolve_data_dir
from treasury_app.commands import DATA_DIR_KEY, open_desk
from treasury_app.commands.audit_commands import audit_group
from treasury_app.commands.exit_codes import ExitCode
from treasury_app.commands.operator_commands import operator_group
from treasury_app.commands.payout_commands import payout_group
from treasury_app.commands.policy_commands import policy_group
from treasury_app.commands.provider_commands import provider_group
from treasury_app.commands.refresh_commands import refresh_command
from treasury_app.domain.errors import TreasuryError
from treasury_app.sandbox.command_line import sandbox_command
from treasury_app.services.desk import LedgerOverview

EXIT_REFUSED = ExitCode.REFUSED

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class TreasuryGroup(click.Group):
    """Turns the app's own errors into one clear line on stderr instead of a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TreasuryError as error:
            click.echo(f"Error: {error}", err=True)
            ctx.exit(EXIT_REFUSED)


@click.group(cls=TreasuryGroup, invoke_without_command=True, context_settings=CONTEXT_SETTINGS)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar=DATA_DIR_ENV,
    show_envvar=True,
    help="Folder that holds the ledger. Default: the platform's user data folder.",
)
@click.version_option(__version__, "--version", prog_name="treasury-app")
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None) -> None:
    """Treasury Desk: send crypto payouts through Cryptomus and Pay3, with approvals and a local ledger.

    Run without a command to see the state of the data folder.
    """
    ctx.ensure_object(dict)
    ctx.obj[DATA_DIR_KEY] = resolve_data_dir(data_dir)
    if ctx.invoked_subcommand is None:
        with open_desk(ctx) as desk:
            overview = desk.overview()
        echo_overview(overview)
        click.echo("\nTry it without an account: start the sandbox (treasury-app sandbox) in another terminal,")
        click.echo("then compose a payout: treasury-app payout new --help (the README walks the whole flow).")
        click.echo("Every command:            treasury-app --help")


main.add_command(sandbox_command)
main.add_command(operator_group)
main.add_command(policy_group)
main.add_command(audit_group)
main.add_command(payout_group)
main.add_command(provider_group)
main.add_command(refresh_command)


@main.group(cls=TreasuryGroup)
def ledger() -> None:
    """Inspect the local ledger file."""


@ledger.command("info")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
def ledger_info(ctx: click.Context, as_json: bool) -> None:
    """Where the ledger is, its schema version, and how many payouts it holds by status."""
    with open_desk(ctx) as desk:
        overview = desk.overview()
    if as_json:
        click.echo(json.dumps(overview_as_dict(overview), indent=2))
    else:
        echo_overview(overview)


@ledger.command("check")
@click.pass_context
def ledger_check(ctx: click.Context) -> None:
    """Ask SQLite to check the whole ledger file; exit 1 if it finds a problem."""
    with open_desk(ctx) as desk:
        problems = desk.check_ledger()
        path = desk.ledger.path
    if problems:
        for problem in problems:
            click.echo(f"problem: {problem}", err=True)
        sys.exit(EXIT_REFUSED)
    click.echo(f"ledger OK: {path}")


def overview_as_dict(overview: LedgerOverview) -> dict[str, Any]:
    return {
        "data_dir": str(overview.data_dir),
        "ledger_file": str(overview.ledger_file),
        "schema_version": overview.schema_version,
        "payouts": overview.payout_count,
        "payouts_by_status": {status.value: n for status, n in overview.payouts_by_status.items()},
    }


def echo_overview(overview: LedgerOverview) -> None:
    click.echo(f"Treasury Desk {__version__}")
    click.echo(f"Data folder:  {overview.data_dir}")
    click.echo(f"Ledger:       {overview.ledger_file} (schema version {overview.schema_version})")
    click.echo(f"Payouts:      {overview.payout_count}")
    for status, count in overview.payouts_by_status.items():
        click.echo(f"  {status.value:<18} {count}")
