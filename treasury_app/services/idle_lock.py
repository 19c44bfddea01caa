"""How long the window may go without a key press or a click before it locks: the desk's own setting, in the
ledger (so every window of the desk shares it), set by admins and audited like the other limits.

A window left signed in on a treasury desk is a payout anyone passing could send. Ten minutes by default; at
least one minute (shorter locks a person reading a payout out of it) and at most eight hours (a working day:
there is no "never").
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from treasury_app.domain.errors import InvalidFieldError
from treasury_app.domain.roles import Permission
from treasury_app.ledger import Ledger
from treasury_app.ledger.timestamps import utc_now

from . import audit
from .audit import AuditAction
from .operator_accounts import SignedIn, require_permission
from .workflow_settings import LedgerWithSettings

SETTING_IDLE_LOCK = "desk.idle_lock_seconds"
DEFAULT_IDLE_LOCK = timedelta(minutes=10)
SHORTEST_IDLE_LOCK = timedelta(minutes=1)
LONGEST_IDLE_LOCK = timedelta(hours=8)


def idle_lock_after(ledger: LedgerWithSettings) -> timedelta:
    """The desk's idle time before the window locks (the default when none was set)."""
    stored = ledger.settings.get(SETTING_IDLE_LOCK)
    return DEFAULT_IDLE_LOCK if stored is None else _checked(timedelta(seconds=int(stored)))


def set_idle_lock(ledger: Ledger, *, acting: SignedIn, after: timedelta,
                  clock: Callable[[], datetime] = utc_now) -> timedelta:
    """Admins only; audited with before and after (in seconds)."""
    after = _checked(after)
    with ledger.transaction():
        admin = require_permission(ledger, acting, Permission.MANAGE_POLICY, "change the idle lock")
        before = idle_lock_after(ledger)
        ledger.settings.set(SETTING_IDLE_LOCK, int(after.total_seconds()))
        audit.record(ledger, admin.name, AuditAction.SETTING_CHANGED, "setting:idle_lock",
                     {"before": {SETTING_IDLE_LOCK: int(before.total_seconds())},
                      "after": {SETTING_IDLE_LOCK: int(after.total_seconds())}}, clock=clock)
    return after


def parse_minutes(text: str) -> timedelta:
    """'10' or '2.5' minutes (a person's words for it), checked against the bounds."""
    try:
        minutes = Decimal(text.strip())
    except InvalidOperation:
        raise InvalidFieldError("minutes", f"'{text}' is not a number of minutes") from None
    if not minutes.is_finite():
        raise InvalidFieldError("minutes", f"'{text}' is not a number of minutes")
    return _checked(timedelta(seconds=int(minutes * 60)))


def _checked(after: timedelta) -> timedelta:
    if not SHORTEST_IDLE_LOCK <= after <= LONGEST_IDLE_LOCK:
        raise InvalidFieldError("minutes", f"must be between {_minutes(SHORTEST_IDLE_LOCK)} and "
                                           f"{_minutes(LONGEST_IDLE_LOCK)} minutes")
    return after


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)
