"""How the window writes amounts, addresses, times and statuses: one place, so that every screen says a
payout the same way. Amounts stay exact (`Decimal` in, digits out; nothing is rounded)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from treasury_app.domain.assets import Asset, find_asset
from treasury_app.domain.errors import InvalidFieldError
from treasury_app.domain.money import display_amount
from treasury_app.domain.payout_request import FeeMode

DASH = "—"


def asset_of(currency: str, network: str) -> Asset | None:
    try:
        return find_asset(currency, network)
    except InvalidFieldError:
        return None  # a payout of an asset this version no longer knows: shown, never guessed


def amount_text(amount: Decimal | None, currency: str, network: str, *, with_currency: bool = True) -> str:
    """"1,500.00 USDT": grouped, at least the asset's display places, every digit the amount has."""
    if amount is None:
        return DASH
    asset = asset_of(currency, network)
    digits = display_amount(amount, asset.display_places if asset else 0)
    return f"{digits} {currency}" if with_currency else digits


def asset_text(currency: str, network: str) -> str:
    asset = asset_of(currency, network)
    return f"{currency} · {asset.network.name}" if asset else f"{currency} · {network}"


def grouped_address(address: str, size: int = 4) -> str:
    """The address in groups of four, as a person compares it with the one on an invoice."""
    return " ".join(address[i:i + size] for i in range(0, len(address), size))


def short_address(address: str, keep: int = 8) -> str:
    if len(address) <= 2 * keep + 1:
        return address
    return f"{address[:keep]}…{address[-keep:]}"


def local_time(moment: datetime | None, *, seconds: bool = False) -> str:
    """A moment in this computer's time zone, as the clerk's clock shows it."""
    if moment is None:
        return DASH
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def fee_mode_text(mode: FeeMode) -> str:
    return "from our balance, on top" if mode is FeeMode.FROM_BALANCE else "taken from the amount"


def words(identifier: str) -> str:
    """`awaiting_approval` → `awaiting approval`; `payout.approvals_voided` → `approvals voided`."""
    return identifier.rsplit(".", 1)[-1].replace("_", " ")
