"""The workflow's tunable limits, kept in the ledger's settings so that every window and command shares them.

- `estimate_max_age`: an estimate older than this is asked again before executing. Pay3 abandons an estimate
  (and its order token) after about 15 minutes, so the default stays well under that.
- `fee_tolerance`: how far a refreshed estimate may move against us before execution stops for a new
  confirmation (a fraction: 0.05 is 5 % of the confirmed fee or net amount).
- `claim_grace`: how long a `submitting` claim of a process that may still be alive (another window, another
  computer's process) is left alone before it is treated as orphaned and reconciled. A claim whose process is
  known to be gone (same computer, process id no longer running) is reconciled at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from treasury_app.domain.errors import InvalidFieldError
from treasury_app.domain.estimate_drift import DEFAULT_FEE_TOLERANCE, parse_tolerance
from treasury_app.domain.roles import Permission
from treasury_app.ledger import Ledger
from treasury_app.ledger.timestamps import utc_now

from . import audit
from .audit import AuditAction
from .operator_accounts import SignedIn, require_permission

SETTING_ESTIMATE_MAX_AGE = "workflow.estimate_max_age_seconds"
SETTING_FEE_TOLERANCE = "workflow.fee_tolerance"
SETTING_CLAIM_GRACE = "workflow.claim_grace_seconds"
# An hour: Pay3 abandons an estimate after about 15 minutes anyway, and older fees are guesses.
MAX_ESTIMATE_AGE = timedelta(hours=1)
MAX_CLAIM_GRACE = timedelta(hours=1)


class SettingsReader(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...


class LedgerWithSettings(Protocol):
    @property
    def settings(self) -> SettingsReader: ...


@dataclass(frozen=True)
class WorkflowSettings:
    estimate_max_age: timedelta = timedelta(minutes=10)
    fee_tolerance: Decimal = DEFAULT_FEE_TOLERANCE
    claim_grace: timedelta = timedelta(seconds=120)

    def __post_init__(self) -> None:
        if not timedelta(0) < self.estimate_max_age <= MAX_ESTIMATE_AGE:
            raise InvalidFieldError("estimate_max_age", f"must be between 1 and {_whole(MAX_ESTIMATE_AGE)} seconds")
        if not timedelta(0) <= self.claim_grace <= MAX_CLAIM_GRACE:
            raise InvalidFieldError("claim_grace", f"must be between 0 and {_whole(MAX_CLAIM_GRACE)} seconds")
        object.__setattr__(self, "fee_tolerance", parse_tolerance(self.fee_tolerance))

    @classmethod
    def from_ledger(cls, ledger: LedgerWithSettings) -> WorkflowSettings:
        defaults = cls()
        settings = ledger.settings
        return cls(
            estimate_max_age=_seconds(settings.get(SETTING_ESTIMATE_MAX_AGE), defaults.estimate_max_age,
                                      SETTING_ESTIMATE_MAX_AGE),
            fee_tolerance=parse_tolerance(settings.get(SETTING_FEE_TOLERANCE) or defaults.fee_tolerance),
            claim_grace=_seconds(settings.get(SETTING_CLAIM_GRACE), defaults.claim_grace, SETTING_CLAIM_GRACE),
        )


    def as_settings(self) -> dict[str, Any]:
        """The values as stored (and as `policy show --json` prints them): seconds, and the tolerance as text."""
        return {SETTING_ESTIMATE_MAX_AGE: _whole(self.estimate_max_age),
                SETTING_FEE_TOLERANCE: str(self.fee_tolerance),
                SETTING_CLAIM_GRACE: _whole(self.claim_grace)}


def save_workflow_settings(ledger: Ledger, *, acting: SignedIn, estimate_max_age: timedelta | None = None,
                           fee_tolerance: Decimal | str | None = None, claim_grace: timedelta | None = None,
                           clock: Callable[[], datetime] = utc_now) -> WorkflowSettings:
    """Change the limits (admins only; what is not given stays), audited with before and after."""
    with ledger.transaction():
        admin = require_permission(ledger, acting, Permission.MANAGE_POLICY, "change the execution limits")
        before = WorkflowSettings.from_ledger(ledger)
        changes: dict[str, Any] = {}
        if estimate_max_age is not None:
            changes["estimate_max_age"] = estimate_max_age
        if fee_tolerance is not None:
            changes["fee_tolerance"] = parse_tolerance(fee_tolerance)
        if claim_grace is not None:
            changes["claim_grace"] = claim_grace
        after = replace(before, **changes)  # validated by __post_init__
        for key, value in after.as_settings().items():
            ledger.settings.set(key, value)
        audit.record(ledger, admin.name, AuditAction.SETTING_CHANGED, "setting:workflow",
                     {"before": before.as_settings(), "after": after.as_settings()}, clock=clock)
    return after


def _whole(delta: timedelta) -> int:
    return int(delta.total_seconds())


def _seconds(value: Any, default: timedelta, name: str) -> timedelta:
    if value is None:
        return default
    try:
        seconds = Decimal(str(value).strip())
    except ArithmeticError:
        raise InvalidFieldError(name, f"'{value}' is not a number of seconds") from None
    if not seconds.is_finite() or seconds < 0:
        raise InvalidFieldError(name, "must be a number of seconds, 0 or more")
    return timedelta(seconds=int(seconds))
