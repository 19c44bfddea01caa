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

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any, Protocol

from treasury_app.domain.errors import InvalidFieldError
from treasury_app.domain.estimate_drift import DEFAULT_FEE_TOLERANCE, parse_tolerance

SETTING_ESTIMATE_MAX_AGE = "workflow.estimate_max_age_seconds"
SETTING_FEE_TOLERANCE = "workflow.fee_tolerance"
SETTING_CLAIM_GRACE = "workflow.claim_grace_seconds"


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
        if self.estimate_max_age <= timedelta(0):
            raise InvalidFieldError("estimate_max_age", "must be longer than zero")
        if self.claim_grace < timedelta(0):
            raise InvalidFieldError("claim_grace", "must not be negative")
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
