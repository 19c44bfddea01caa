"""`treasury-app ledger …`: which ledger the desk uses, what it holds, whether it is sound, and connecting the
desk to a team ledger on PostgreSQL (or back to its own file)."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click

from treasury_app.identity import APP_TITLE, VERSION

from . import LEDGER_KEY, data_dir_of, open_desk
from .exit_codes import ExitCode
from .password_input import stdin_is_a_terminal

if TYPE_CHECKING:
    from treasury_app.services.desk import LedgerOverview


@click.group("ledger")
def ledger_group() -> None:
    """Which ledger this desk uses (its own file or a team ledger), and what it holds."""


@ledger_group.command("info")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
def ledger_info(ctx: click.Context, as_json: bool) -> None:
    """Which ledger is in use and why, its schema version, and how many payouts it holds by status."""
    with open_desk(ctx) as desk:
        overview = desk.overview()
    if as_json:
        click.echo(json.dumps(overview_as_dict(overview), indent=2))
    else:
        echo_overview(overview)


@ledger_group.command("check")
@click.pass_context
def ledger_check(ctx: click.Context) -> None:
    """Ask the database to check the whole ledger; exit 1 if it finds a problem."""
    with open_desk(ctx) as desk:
        problems = desk.check_ledger()
        path = desk.ledger.path
    if problems:
        for problem in problems:
            click.echo(f"problem: {problem}", err=True)
        sys.exit(ExitCode.REFUSED)
    click.echo(f"ledger OK: {path}")


@ledger_group.command("connect")
@click.argument("url")
@click.option("--password-stdin", is_flag=True,
              help="Read the server password from the first line of standard input (scripts). In a terminal "
                   "you are asked for it; an empty answer means the server wants none.")
@click.pass_context
def ledger_connect(ctx: click.Context, url: str, password_stdin: bool) -> None:
    """Use the team ledger at URL (postgresql://user@host:5432/database) from now on.

    The desk connects once to check the server and the database (an empty database gets the ledger's tables;
    one holding other tables is refused), then keeps the password in the OS keyring and the URL, without it,
    in the data folder. `--ledger` and TREASURY_LEDGER_URL still take precedence."""
    from treasury_app.services.ledger_choice import connect_team_ledger

    password = _server_password(url, password_stdin)
    choice = connect_team_ledger(data_dir_of(ctx), url, password)
    click.echo(f"This desk now uses the team ledger {choice.location.shown}.")
    if password:
        click.echo("Its password is in the OS keyring.")


@ledger_group.command("migrate")
@click.option("--to", "url", required=True, metavar="URL",
              help="The team ledger to copy into: postgresql://user@host:5432/database, an empty database.")
@click.option("--password-stdin", is_flag=True,
              help="Read the server password from the first line of standard input (scripts). Else the keyring's "
                   "(after `ledger connect`), or you are asked for it in a terminal.")
@click.pass_context
def ledger_migrate(ctx: click.Context, url: str, password_stdin: bool) -> None:
    """Copy this desk's ledger file into an empty team ledger: payouts, events, approvals, operators, policy,
    settings and the whole audit trail.

    The desk's audit trail is verified first, and the copy before it is committed: it must reach the same head.
    One transaction: if anything fails, the team ledger is left empty. The desk's file is not changed, and the
    desk keeps using it until `treasury-app ledger connect URL`. The file is the data folder's, or --ledger FILE."""
    from treasury_app.services.ledger_migration import migrate_desk_ledger

    explicit = ctx.find_root().obj.get(LEDGER_KEY)
    password = _server_password(url, password_stdin, keyring_first=True)

    def progress(table: str, done: int, total: int) -> None:
        if done == total:
            click.echo(f"  {table.replace('_', ' '):<16}{total:>12,} rows", err=True)

    migration = migrate_desk_ledger(data_dir_of(ctx), url, password,
                                    source=explicit, progress=progress)
    click.echo(f"Copied {migration.source} into the team ledger {migration.target}.")
    if migration.head_seq is None:
        click.echo("The audit trail is empty on both.")
    else:
        click.echo(f"Audit trail verified on the copy before it was committed: {migration.audit_rows:,} rows, "
                   f"the same head as the file: row {migration.head_seq}, hash {migration.head_hash}")
    click.echo(f"This desk still uses its file. To use the team ledger: treasury-app ledger connect "
               f"{migration.target}")


@ledger_group.command("disconnect")
@click.pass_context
def ledger_disconnect(ctx: click.Context) -> None:
    """Go back to this desk's own ledger file; the team ledger itself is left as it is."""
    from treasury_app.services.ledger_choice import disconnect_team_ledger

    was = disconnect_team_ledger(data_dir_of(ctx))
    if was is None:
        click.echo("This desk was not connected to a team ledger; it uses its own file.")
    else:
        click.echo(f"This desk no longer uses the team ledger {was}; it uses its own file again.")


def _server_password(url: str, from_stdin: bool, *, keyring_first: bool = False) -> str | None:
    """The server's password: from standard input, or asked in a terminal (unless the URL holds one, or, with
    `keyring_first`, the keyring keeps one for it: then None, and the service reads it there)."""
    from treasury_app.ledger.location import has_password, user_in

    if from_stdin:
        return sys.stdin.readline().removesuffix("\n").removesuffix("\r") or None
    if has_password(url) or not stdin_is_a_terminal():
        return None
    if keyring_first:
        from treasury_app.services.ledger_choice import kept_password

        if kept_password(url) is not None:
            return None
    who = user_in(url) or "the server"
    return click.prompt(f"Password for {who} (empty: none)", hide_input=True, default="", show_default=False,
                        err=True) or None


def overview_as_dict(overview: LedgerOverview) -> dict[str, Any]:
    return {
        "data_dir": str(overview.data_dir),
        "ledger_file": str(overview.ledger_file),
        "team_ledger": overview.is_team_ledger,
        "chosen_by": overview.chosen_by,
        "schema_version": overview.schema_version,
        "payouts": overview.payout_count,
        "payouts_by_status": {status.value: n for status, n in overview.payouts_by_status.items()},
    }


def echo_overview(overview: LedgerOverview) -> None:
    click.echo(f"{APP_TITLE} {VERSION}")
    click.echo(f"Data folder:  {overview.data_dir}")
    kind = "team ledger" if overview.is_team_ledger else "this desk's file"
    click.echo(f"Ledger:       {overview.ledger_file} ({kind}, schema version {overview.schema_version}; "
               f"chosen by {overview.chosen_by})")
    click.echo(f"Payouts:      {overview.payout_count}")
    for status, count in overview.payouts_by_status.items():
        click.echo(f"  {status.value:<18} {count}")
