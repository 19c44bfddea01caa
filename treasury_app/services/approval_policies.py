"""Setting and reading the approval policy per currency, and how long an approval stays valid (admins only,
every change audited with its before and after)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, Literal

from treasury_app.domain.approval_policy import ApprovalPolicy, OverLimit
from treasury_app.domain.assets import currencies, decimals_of
from treasury_app.domain.errors import InvalidFieldError
from treasury_app.domain.money import parse_amount
from treasury_app.domain.roles import Permission
from treasury_app.ledger import Ledger, OverLimitAction, PolicyRecord
from treasury_app.ledger.timestamps import utc_now

from . import audit
from .audit import AuditAction
from .operator_accounts import SignedIn, require_permission

Clock = Callable[[], datetime]

APPROVAL_EXPIRY_SETTING = "approval.expiry_hours"
DEFAULT_APPROVAL_EXPIRY_HOURS = 24
# A month: an approval older than that approves a world that has moved on.
MAX_APPROVAL_EXPIRY_HOURS = 720


class _Keep(Enum):
    KEEP = "keep"


KEEP = _Keep.KEEP
Keep = Literal[_Keep.KEEP]
AmountInput = str | Decimal | None | Keep


def domain_policy(record: PolicyRecord | None) -> ApprovalPolicy | None:
    """The stored policy as the domain's value (the ledger's enum becomes the domain's)."""
    if record is None:
        return None
    return ApprovalPolicy(
        currency=record.currency,
        approval_threshold=record.approval_threshold,
        daily_limit_operator=record.daily_limit_operator,
        daily_limit_desk=record.daily_limit_desk,
        over_limit=OverLimit(record.over_limit.value),
        new_destination_needs_approval=record.new_destination_needs_approval,
    )


class ApprovalPolicies:
    def __init__(self, ledger: Ledger, *, clock: Clock = utc_now) -> None:
        self._ledger = ledger
        self._clock = clock

    def get(self, currency: str) -> ApprovalPolicy | None:
        return domain_policy(self._ledger.policies.get(currency))

    def all(self) -> list[PolicyRecord]:
        return self._ledger.policies.all()

    def set(self, currency: str, *, acting: SignedIn, approval_threshold: AmountInput = KEEP,
            operator_daily_limit: AmountInput = KEEP, desk_daily_limit: AmountInput = KEEP,
            over_limit: OverLimit | str | Keep = KEEP,
            new_destination_needs_approval: bool | Keep = KEEP) -> PolicyRecord:
        """Change a currency's policy: what is not given stays as it was; None removes a limit."""
        code = _known_currency(currency)
        threshold = _amount(approval_threshold, code, "approval_threshold")
        per_operator = _amount(operator_daily_limit, code, "operator_daily_limit")
        per_desk = _amount(desk_daily_limit, code, "daily_limit")
        action = over_limit if over_limit is KEEP else _over_limit(over_limit)
        with self._ledger.transaction():
            admin = require_permission(self._ledger, acting, Permission.MANAGE_POLICY, "change the approval policy")
            before = self._ledger.policies.get(code)
            after = self._ledger.policies.put(
                code,
                actor=admin.name,
                approval_threshold=_pick(threshold, before, "approval_threshold"),
                daily_limit_operator=_pick(per_operator, before, "daily_limit_operator"),
                daily_limit_desk=_pick(per_desk, before, "daily_limit_desk"),
                over_limit=OverLimitAction(_pick(action, before, "over_limit") or OverLimitAction.NEEDS_APPROVAL),
                new_destination_needs_approval=bool(
                    _pick(new_destination_needs_approval, before, "new_destination_needs_approval")),
            )
            audit.record(self._ledger, admin.name, AuditAction.POLICY_SET, f"policy:{code}",
                         {"before": _policy_values(before), "after": _policy_values(after)}, clock=self._clock)
        return after

    def approval_expiry(self) -> timedelta:
        hours = self._ledger.settings.get(APPROVAL_EXPIRY_SETTING, DEFAULT_APPROVAL_EXPIRY_HOURS)
        return timedelta(hours=_valid_hours(hours))

    def set_approval_expiry(self, hours: int, *, acting: SignedIn) -> timedelta:
        valid = _valid_hours(hours)
        with self._ledger.transaction():
            admin = require_permission(self._ledger, acting, Permission.MANAGE_POLICY, "change how long approvals last")
            before = self._ledger.settings.get(APPROVAL_EXPIRY_SETTING, DEFAULT_APPROVAL_EXPIRY_HOURS)
            self._ledger.settings.set(APPROVAL_EXPIRY_SETTING, valid)
            audit.record(self._ledger, admin.name, AuditAction.SETTING_CHANGED, f"setting:{APPROVAL_EXPIRY_SETTING}",
                         {"before": before, "after": valid}, clock=self._clock)
        return timedelta(hours=valid)


def _known_currency(currency: str) -> str:
    code = (currency or "").strip().upper()
    if code not in currencies():
        raise InvalidFieldError("currency", f"'{currency}' is not a currency this app knows; use one of "
                                            f"{', '.join(currencies())}")
    return code


def _amount(value: AmountInput, currency: str, field: str) -> Decimal | None | Keep:
    if value is KEEP or value is None:
        return value
    if isinstance(value, str) and value.strip().lower() in {"none", "off"}:
        return None  # how the command line says "no limit"
    return parse_amount(value, decimals_of(currency), field=field, unit=currency)


def _over_limit(value: OverLimit | str) -> OverLimitAction:
    text = str(value).strip().lower().replace("-", "_")
    try:
        return OverLimitAction(text)
    except ValueError:
        raise InvalidFieldError("over_limit", f"'{value}' is not one of needs-approval, refuse") from None


def _pick(given: Any, before: PolicyRecord | None, name: str) -> Any:
    if given is not KEEP:
        return given
    return None if before is None else getattr(before, name)


def _valid_hours(hours: object) -> int:
    if isinstance(hours, bool) or not isinstance(hours, int | Decimal) or hours != int(hours):
        raise InvalidFieldError("approval_expiry_hours", f"must be a whole number of hours, not {hours!r}")
    if not 1 <= int(hours) <= MAX_APPROVAL_EXPIRY_HOURS:
        raise InvalidFieldError("approval_expiry_hours", f"must be between 1 and {MAX_APPROVAL_EXPIRY_HOURS}")
    return int(hours)


def _policy_values(policy: PolicyRecord | None) -> dict[str, Any] | None:
    if policy is None:
        return None
    return {
        "approval_threshold": policy.approval_threshold,
        "daily_limit_operator": policy.daily_limit_operator,
        "daily_limit_desk": policy.daily_limit_desk,
        "over_limit": policy.over_limit.value,
        "new_destination_needs_approval": policy.new_destination_needs_approval,
    }
