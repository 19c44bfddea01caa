"""`treasury-app address-book …`: list, add and remove named destinations (the window's Address book screen,
on the command line; the same service decides both)."""

from __future__ import annotations

import json

import click

from treasury_app.ledger import AddressBookEntry
from treasury_app.services.address_book import AddressBook, EntryFields
from treasury_app.services.operator_accounts import OperatorAccounts

from . import open_desk
from .operator_commands import AS_HELP, sign_in


@click.group("address-book")
def address_book_group() -> None:
    """Named destinations per currency and network; adding or removing one needs an approver or an admin."""


@address_book_group.command("list")
@click.option("--search", default="", metavar="TEXT", help="Only entries whose label holds TEXT (any case).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
def address_book_list(ctx: click.Context, search: str, as_json: bool) -> None:
    """Every entry, by label."""
    with open_desk(ctx) as desk:
        entries = AddressBook(desk.ledger).list(search)
    if as_json:
        click.echo(json.dumps([_as_dict(e) for e in entries], indent=2))
        return
    if not entries:
        click.echo("No entry matches." if search else "The address book is empty. Add one: treasury-app "
                                                       "address-book add --label NAME --currency USDT "
                                                       "--network TRON --address ADDRESS --as APPROVER")
    for entry in entries:
        click.echo(f"{entry.id:>4}  {entry.label}  {entry.currency or ''} on {entry.network}  {entry.address}  "
                   f"(added by {entry.created_by}, {entry.created_at:%Y-%m-%d %H:%M} UTC)"
                   + (f"  — {entry.note}" if entry.note else ""))


@address_book_group.command("add")
@click.option("--label", required=True, help="The name people know the destination by.")
@click.option("--currency", required=True, help="Currency code, e.g. USDT.")
@click.option("--network", required=True, help="Network code, e.g. TRON, ETH, BTC.")
@click.option("--address", required=True, help="The address, checked as a payout's is.")
@click.option("--note", default="", help="Optional: why this destination is trusted.")
@click.option("--as", "acting_as", metavar="APPROVER", required=True, help=AS_HELP + " An approver or an admin.")
@click.pass_context
def address_book_add(ctx: click.Context, label: str, currency: str, network: str, address: str, note: str,
                     acting_as: str) -> None:
    """Add a destination; the approval policy then counts it as known."""
    with open_desk(ctx) as desk:
        acting = sign_in(OperatorAccounts(desk.ledger), acting_as)
        entry = AddressBook(desk.ledger).add(EntryFields(label, currency, network, address, note), acting=acting)
    click.echo(f"added {entry.id}: {entry.label} ({entry.currency} on {entry.network}) {entry.address}")


@address_book_group.command("remove")
@click.argument("entry_id", type=int)
@click.option("--as", "acting_as", metavar="APPROVER", required=True, help=AS_HELP + " An approver or an admin.")
@click.pass_context
def address_book_remove(ctx: click.Context, entry_id: int, acting_as: str) -> None:
    """Remove an entry by its number (from `address-book list`)."""
    with open_desk(ctx) as desk:
        acting = sign_in(OperatorAccounts(desk.ledger), acting_as)
        entry = AddressBook(desk.ledger).remove(entry_id, acting=acting)
    click.echo(f"removed {entry.id}: {entry.label} ({entry.network}) {entry.address}")


def _as_dict(entry: AddressBookEntry) -> dict[str, object]:
    return {"id": entry.id, "label": entry.label, "currency": entry.currency, "network": entry.network,
            "address": entry.address, "note": entry.note, "created_by": entry.created_by,
            "created_at": entry.created_at.isoformat()}
