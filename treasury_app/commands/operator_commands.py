"""`treasury-app operator …`: add, list, change a password or the roles, unlock, disable (accounts are never
deleted)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from treasury_app.domain.roles import Role
from treasury_app.security.errors import clock_time
from treasury_app.services.operator_accounts import (
    OperatorAccounts,
    OperatorSummary,
    SignedIn,
    validate_operator_name,
)

from . import open_desk
from .password_input import PASSWORD_ENV, acting_password, new_password

AS_HELP = f"Act as this operator; the password comes from {PASSWORD_ENV} or a hidden prompt."


@click.group("operator")
def operator_group() -> None:
    """Operator accounts: add, list, change a password or the roles, unlock, disable."""


def sign_in(accounts: OperatorAccounts, name: str) -> SignedIn:
    return accounts.authenticate(name, acting_password(name))


@operator_group.command("add")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True, metavar="ROLE",
              type=click.Choice([r.value for r in Role], case_sensitive=False),
              help="viewer, initiator, approver or admin; repeat for several.")
@click.option("--as", "acting_as", metavar="ADMIN", help=AS_HELP + " Not needed for the desk's first operator.")
@click.pass_context
def operator_add(ctx: click.Context, name: str, roles: tuple[str, ...], acting_as: str | None) -> None:
    """Add an operator. The new password is asked twice, or read from the first line of standard input.

    The desk's very first operator needs no --as and must have the admin role.
    """
    clean = validate_operator_name(name)
    with open_desk(ctx) as desk:
        accounts = OperatorAccounts(desk.ledger)
        acting = None
        if acting_as is not None:
            acting = sign_in(accounts, acting_as)
        elif accounts.has_operators():
            raise click.ClickException("the desk already has operators: add --as ADMIN to sign in as an admin")
        added = accounts.add(clean, roles, new_password(clean), acting=acting)
    click.echo(f"operator {added.name} added with roles: {', '.join(added.roles)}")


@operator_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
def operator_list(ctx: click.Context, as_json: bool) -> None:
    """Every operator with roles and state (disabled accounts stay listed)."""
    with open_desk(ctx) as desk:
        operators = OperatorAccounts(desk.ledger).list()
    if as_json:
        click.echo(json.dumps([_as_dict(o) for o in operators], indent=2))
        return
    if not operators:
        click.echo("No operators yet. Add the first one: treasury-app operator add NAME --role admin")
        return
    width = max(len(o.name) for o in operators) + 2
    click.echo(f"{'NAME':<{width}}{'ROLES':<34}STATE")
    for operator in operators:
        click.echo(f"{operator.name:<{width}}{','.join(operator.roles):<34}{_state(operator)}")


@operator_group.command("passwd")
@click.argument("name")
@click.option("--as", "acting_as", metavar="NAME",
              help=AS_HELP + " Default: NAME itself (then its current password is asked).")
@click.pass_context
def operator_passwd(ctx: click.Context, name: str, acting_as: str | None) -> None:
    """Change NAME's password (an admin may reset anyone's, which also lifts a lock)."""
    clean = validate_operator_name(name)
    with open_desk(ctx) as desk:
        accounts = OperatorAccounts(desk.ledger)
        acting = sign_in(accounts, acting_as or clean)
        accounts.change_password(clean, new_password(clean), acting=acting)
    click.echo(f"password of {clean} changed")


@operator_group.command("disable")
@click.argument("name")
@click.option("--as", "acting_as", metavar="ADMIN", required=True, help=AS_HELP)
@click.pass_context
def operator_disable(ctx: click.Context, name: str, acting_as: str) -> None:
    """Disable NAME for good: it can no longer sign in; its name stays in the history."""
    clean = validate_operator_name(name)
    with open_desk(ctx) as desk:
        accounts = OperatorAccounts(desk.ledger)
        disabled = accounts.disable(clean, acting=sign_in(accounts, acting_as))
    click.echo(f"operator {disabled.name} disabled")


@operator_group.command("roles")
@click.argument("name")
@click.option("--role", "roles", multiple=True, required=True, metavar="ROLE",
              type=click.Choice([r.value for r in Role], case_sensitive=False),
              help="The roles NAME is to hold from now on (the others are taken away); repeat for several.")
@click.option("--as", "acting_as", metavar="ADMIN", required=True, help=AS_HELP)
@click.pass_context
def operator_roles(ctx: click.Context, name: str, roles: tuple[str, ...], acting_as: str) -> None:
    """Give NAME exactly these roles. The last active admin keeps the admin role."""
    clean = validate_operator_name(name)
    with open_desk(ctx) as desk:
        accounts = OperatorAccounts(desk.ledger)
        changed = accounts.set_roles(clean, roles, acting=sign_in(accounts, acting_as))
    click.echo(f"operator {changed.name} now has roles: {', '.join(changed.roles)}")


@operator_group.command("unlock")
@click.argument("name")
@click.option("--as", "acting_as", metavar="ADMIN", required=True, help=AS_HELP)
@click.pass_context
def operator_unlock(ctx: click.Context, name: str, acting_as: str) -> None:
    """Lift the lock that wrong passwords put on NAME, keeping its password (a reset lifts it too)."""
    clean = validate_operator_name(name)
    with open_desk(ctx) as desk:
        accounts = OperatorAccounts(desk.ledger)
        unlocked = accounts.unlock(clean, acting=sign_in(accounts, acting_as))
    click.echo(f"operator {unlocked.name} unlocked")


def _state(operator: OperatorSummary) -> str:
    if not operator.active:
        return "disabled"
    if operator.is_locked_at(datetime.now(UTC)):
        return f"active, locked until {clock_time(operator.locked_until)}"
    return "active"


def _as_dict(operator: OperatorSummary) -> dict[str, object]:
    return {
        "name": operator.name,
        "roles": list(operator.roles),
        "active": operator.active,
        "failed_attempts": operator.failed_attempts,
        "locked_until": operator.locked_until.isoformat() if operator.locked_until else None,
        "created_at": operator.created_at.isoformat(),
    }
