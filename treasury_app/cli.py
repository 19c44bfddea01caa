"""The command-line face of Treasury Desk: the same services as the window, for people and for scripts.

Exit codes (`commands.exit_codes`):
  0  done
  1  refused by the app: validation, permission, policy, approval missing (any TreasuryError); nothing was sent
  2  wrong usage: the command's words were wrong (click), or a choice the provider never takes
  3  failed: the provider refused the payout, or it ended failed
  4  unknown: the payout was sent but its outcome is not known yet; `treasury-app refresh` reconciles it
  5  the team ledger's server cannot be reached (or dropped the connection): try again when it answers
"""

from __future__ import annotations

import importlib
import time
from pathlib import Path
from typing import Any

import click

from treasury_app.app_paths import DATA_DIR_ENV, resolve_data_dir
from treasury_app.commands import DATA_DIR_KEY, LEDGER_KEY, open_desk
from treasury_app.commands.exit_codes import ExitCode
from treasury_app.domain.errors import TreasuryError
from treasury_app.identity import COMMAND, VERSION

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
    "ledger": "treasury_app.commands.ledger_commands:ledger_group",
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
            ctx.exit(ExitCode.LEDGER_UNREACHABLE if _is_unreachable(error) else EXIT_REFUSED)


def _is_unreachable(error: TreasuryError) -> bool:
    from treasury_app.ledger.errors import LedgerUnavailableError  # loaded already: the error came from it

    return isinstance(error, LedgerUnavailableError)


@click.group(cls=TreasuryGroup, invoke_without_command=True, context_settings=CONTEXT_SETTINGS, lazy=LAZY_COMMANDS)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar=DATA_DIR_ENV,
    show_envvar=True,
    help="Folder that holds the ledger. Default: the platform's user data folder.",
)
@click.option(
    "--ledger",
    "ledger_url",
    metavar="URL",
    help="A team ledger on PostgreSQL (postgresql://user@host:5432/database) instead of the data folder's own "
         "file. Default: TREASURY_LEDGER_URL, else the one `ledger connect` set, else the file.",
)
@click.option("--demo", is_flag=True,
              help="Open the window on a throwaway demo desk: three demo operators, sixty days of payouts, the "
                   "built-in sandbox. Nothing is kept.")
@click.option("--smoke", is_flag=True,
              help="Open the window, wait until the payouts table's first page is painted, print how long that "
                   "took and exit (for benchmarks and packaged builds).")
@click.version_option(VERSION, "--version", prog_name=COMMAND)
@click.pass_context
def main(ctx: click.Context, data_dir: Path | None, ledger_url: str | None, demo: bool, smoke: bool) -> None:
    """Treasury Desk: send crypto payouts through Cryptomus and Pay3, with approvals and a local ledger.

    Run without a command to open the window (on the built-in sandbox while no provider is set up);
    `treasury-app overview` shows the state of the data folder instead.
    """
    ctx.ensure_object(dict)
    ctx.obj[DATA_DIR_KEY] = resolve_data_dir(data_dir)
    ctx.obj[LEDGER_KEY] = ledger_url
    if ctx.invoked_subcommand is not None:
        if demo or smoke:
            raise click.UsageError("--demo and --smoke open the window: give them without a command")
        return
    from treasury_app.ui.app import (  # the command line starts faster without Qt
        LaunchOptions,
        run_window,
    )

    ctx.exit(run_window(LaunchOptions(ctx.obj[DATA_DIR_KEY], ledger=ledger_url, demo=demo, smoke=smoke,
                                      started_at=STARTED_AT)))


@main.command("overview")
@click.pass_context
def overview_command(ctx: click.Context) -> None:
    """The state of the data folder: ledger, operators, payouts, providers."""
    from treasury_app.commands.ledger_commands import echo_overview

    with open_desk(ctx) as desk:
        overview = desk.overview()
    echo_overview(overview)
    click.echo("\nOpen the window:          treasury-app  (or treasury-app --demo to try it on demo data)")
    click.echo("Compose a payout here:    treasury-app payout new --help (the README walks the whole flow)")
    click.echo("Every command:            treasury-app --help")




