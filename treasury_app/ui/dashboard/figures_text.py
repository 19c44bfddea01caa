"""How the dashboard writes its figures: amounts of a currency (every digit, grouped), ages and read times."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from treasury_app.domain.assets import ASSETS
from treasury_app.domain.money import display_amount


def currency_amount(amount: Decimal, currency: str, *, short: bool = False) -> str:
    """"1,500.00 USDT": at least the currency's display places (the fewest of its networks'), every digit the
    sum has. `short` (the chart's axis only): the whole part alone, the exact amount is in the tooltip."""
    if short:
        return f"{int(amount):,} {currency}" if amount >= 1 else f"{display_amount(amount)} {currency}"
    places = [asset.display_places for (code, _), asset in ASSETS.items() if code == currency]
    return f"{display_amount(amount, min(places) if places else 0)} {currency}"


def age_text(age: timedelta) -> str:
    """"just now", "12 minutes ago", "3 hours ago", "2 days ago"."""
    seconds = int(age.total_seconds())
    if seconds < 60:
        return "just now"
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now"
