"""`treasury-app payout show|list`: one payout with its whole history, and the payout table."""

from __future__ import annotations

import click

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.providers.kinds import PROVIDER_KINDS
from treasury_app.services.payout_views import (
    DEFAULT_LISTING_LIMIT,
    MAX_LISTING_LIMIT,
    payout_detail,
    payout_listing,
)

from . import open_desk
from .payout_formatting import detail_fields, echo_detail, echo_json, echo_listing, listing_fields

JSON_HELP = "Print JSON instead of text (amounts as exact decimal strings)."


@click.command("show")
@click.argument("payout_id", metavar="ID", type=int)
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def payout_show(ctx: click.Context, payout_id: int, as_json: bool) -> None:
    """Every field of payout ID, its status timeline, approvals, what the policy says, and its audit rows."""
    with open_desk(ctx) as desk:
        detail = payout_detail(desk.ledger, payout_id)
    if as_json:
        echo_json(detail_fields(detail))
    else:
        echo_detail(detail)


@click.command("list")
@click.option("--status", "statuses", multiple=True, metavar="STATUS",
              type=click.Choice([s.value for s in PayoutStatus], case_sensitive=False),
              help="Only payouts in this status; repeat for several.")
@click.option("--provider", type=click.Choice(sorted(PROVIDER_KINDS), case_sensitive=False),
              help="Only this provider's payouts.")
@click.option("--currency", help="Only payouts in this currency, e.g. USDT.")
@click.option("--limit", type=click.IntRange(1, MAX_LISTING_LIMIT), default=DEFAULT_LISTING_LIMIT,
              show_default=True, help="At most this many, newest first.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def payout_list(ctx: click.Context, statuses: tuple[str, ...], provider: str | None, currency: str | None,
                limit: int, as_json: bool) -> None:
    """The newest payouts, filtered by status, provider and currency."""
    with open_desk(ctx) as desk:
        rows = payout_listing(desk.ledger, statuses=[PayoutStatus(s) for s in statuses], provider=provider, currency=currency, limit=limit)
    if as_json:
        echo_json([listing_fields(row) for row in rows])
    else:
        echo_listing(rows)
