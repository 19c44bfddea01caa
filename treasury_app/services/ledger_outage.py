"""What the window needs to tell a team ledger that is away: the error a change or read raises then, and the
reachability the desk session announces. A light module (no provider, no sandbox), so that the window's first
paint does not wait for the session's imports (tests/ui/test_window_start.py)."""

from treasury_app.ledger.errors import LedgerUnavailableError
from treasury_app.ledger.live_changes import LedgerReachability

__all__ = ["LedgerReachability", "LedgerUnavailableError", "is_ledger_outage"]


def is_ledger_outage(error: BaseException) -> bool:
    """Whether `error` means the team ledger's server could not be reached (nothing else is wrong)."""
    return isinstance(error, LedgerUnavailableError)
