"""The command-line face of Treasury Desk: the same services as the window, for people and for scripts.

Exit codes (`commands.exit_codes`):
  0  done
  1  refused by the app: validation, permission, policy, approval missing (any TreasuryError); nothing was sent
  2  wrong usage: the command's words were wrong (click), or a choice the provider never takes
  3  failed: the provider refused the payout, or it ended failed
  4  unknown: the payout was sent but its outcome is not known yet; `treasury-app refresh` reconciles it
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from treasury_app.app_paths import DATA_DIR_ENV, resolve_data_dir
from treasury_app.commands import DATA_DIR_KEY, open_desk
from treasury_app.commands.exit_codes import ExitCode
from treasury_app.domain.errors import TreasuryError
from treasury_app.identity import APP_TITLE, COMMAND, VERSION

if TYPE_CHECKING:
    from treasury_app.services.desk import LedgerOverview

EXIT_REFUSED = ExitCode.REFUSED
# When this process began its work, as near as the module can tell: `--smoke` measures from here.
STARTED_AT = time.perf_counter()

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


# The command groups, imported when one is used: the bare command opens the window, which must not wait for
# every command's imports (tests/benchmarks/window.py measures the start).
LAZY_COMMANDS = {
    "sandbox": "treasury_app.sandbox.command_line:sandbox_command",
    "operator": "treasury_app.commands.operator_commands:operator_group",
    "policy": "treasury_app.commands.policy_commands:policy_group",
    "audit": "treasury_app.commands.audit_commands:audit_group",
    "payout": "treasury_app.commands.payout_commands:payout_group",
    "provider": "treasury_app.commands.provider_commands:provider_group",
    "refresh": "treasury_app.commands.refresh_commands:refresh_command",
    "export": "treasury_app.commands.export_commands:export_group",
    "address-book": "treasury_app.commands.address_book_commands:address_book_group",
}


class TreasuryGroup(click.Group):
    """Turns the app's own errors into one clear line on stderr instead of a traceback; `lazy` names commands
    imported only when asked for."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            module_name, _, attribute = self.lazy[cmd_name].partition(":")
            self.add_command(getattr(importlib.import_module(module_name), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TreasuryError as error:
            click.echo(f"Error: {error}", err=True)
            ctx.exit(EXIT_REFUSED)


@click.group(cls=TreasuryGroup, invoke_without_command=True, context_settings=CONTEXT_SETTINGS, lazy=LAZY_COMMANDS)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar=DATA_DIR_ENV,
    show_envvar=True,
    help="Folder that holds the ledger. Default: the platform's user data folder.",
)
@click.option("--demo", is_flag=True,
              help="Open the window on a throwaway demo desk: three demo operators, sixty days of payouts, the "
                   "built-in sandbox. Nothing is kept.")
@click.option("--smoke", is_flag=True,
              help="Open the window, wait until the payouts table's first page is painted, print how long that "
                   "took and exit (for benchmarks and packaged builds).")
@click.version_option(VERSION, "--version", prog_name=COMMAND)
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None, demo: bool, smoke: bool) -> None:
    """Treasury Desk: send crypto payouts through Cryptomus and Pay3, with approvals and a local ledger.

    Run without a command to open the window (on the built-in sandbox while no provider is set up);
    `treasury-app overview` shows the state of the data folder instead.
    """
    ctx.ensure_object(dict)
    ctx.obj[DATA_DIR_KEY] = resolve_data_dir(data_dir)
    if ctx.invoked_subcommand is not None:
        if demo or smoke:
            raise click.UsageError("--demo and --smoke open the window: give them without a command")
        return
    from treasury_app.ui.app import LaunchOptions, run_window  # the command line starts faster without Qt

    ctx.exit(run_window(LaunchOptions(ctx.obj[DATA_DIR_KEY], demo=demo, smoke=smoke, started_at=STARTED_AT)))


@main.command("overview")
@click.pass_context
def overview_command(ctx: click.Context) -> None:
    """The state of the data folder: ledger, operators, payouts, providers."""
    with open_desk(ctx) as desk:
        overview = desk.overview()
    echo_overview(overview)
    click.echo("\nOpen the window:          treasury-app  (or treasury-app --demo to try it on demo data)")
    click.echo("Compose a payout here:    treasury-app payout new --help (the README walks the whole flow)")
    click.echo("Every command:            treasury-app --help")




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
    click.echo(f"{APP_TITLE} {VERSION}")
    click.echo(f"Data folder:  {overview.data_dir}")
    click.echo(f"Ledger:       {overview.ledger_file} (schema version {overview.schema_version})")
    click.echo(f"Payouts:      {overview.payout_count}")
    for status, count in overview.payouts_by_status.items():
        click.echo(f"  {status.value:<18} {count}")
