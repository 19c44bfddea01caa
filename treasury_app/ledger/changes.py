"""What callers hand the ledger to write: change sets for stored records, and payouts imported in bulk.

In a change set, `UNCHANGED` means "leave the column as it is", so that `None` can mean "clear it".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Literal

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.domain.payout_request import PayoutRequest

from .column_codecs import encode_json, optional_amount_to_text
from .timestamps import format_optional_timestamp


class _Unchanged(Enum):
    UNCHANGED = "unchanged"

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED = _Unchanged.UNCHANGED
Unchanged = Literal[_Unchanged.UNCHANGED]

_AMOUNT_FIELDS = {"estimated_fee", "estimated_net", "estimated_total", "actual_fee", "actual_amount"}
_TIME_FIELDS = {"estimated_at", "next_poll_at", "locked_until"}
_TEXT_FIELDS = {"provider_status", "provider_payout_id", "tx_hash", "failure_reason", "password_hash"}
# Poll bookkeeping changes no fact about the payout, so it alone never makes a timeline event.
POLL_FIELDS = frozenset({"next_poll_at", "poll_failures"})


class _ChangeSet:
    """Shared by the change sets: which fields were given, and their values as the ledger stores them."""

    def given(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not UNCHANGED}  # type: ignore[arg-type]

    def column_values(self) -> dict[str, Any]:
        """The given fields as column values, checked before any lock is taken."""
        return {name: _column_value(name, value) for name, value in self.given().items()}


@dataclass(frozen=True)
class PayoutChanges(_ChangeSet):
    """Fields of a payout that a status change or a provider update may set (identity and amount never)."""

    provider_status: str | None | Unchanged = UNCHANGED
    provider_payout_id: str | None | Unchanged = UNCHANGED
    tx_hash: str | None | Unchanged = UNCHANGED
    estimated_fee: Decimal | None | Unchanged = UNCHANGED
    estimated_net: Decimal | None | Unchanged = UNCHANGED
    estimated_total: Decimal | None | Unchanged = UNCHANGED
    estimate_warnings: tuple[str, ...] | Unchanged = UNCHANGED
    estimate_data: Mapping[str, Any] | None | Unchanged = UNCHANGED
    estimated_at: datetime | None | Unchanged = UNCHANGED
    actual_fee: Decimal | None | Unchanged = UNCHANGED
    actual_amount: Decimal | None | Unchanged = UNCHANGED
    failure_reason: str | None | Unchanged = UNCHANGED
    next_poll_at: datetime | None | Unchanged = UNCHANGED
    poll_failures: int | Unchanged = UNCHANGED


@dataclass(frozen=True)
class OperatorChanges(_ChangeSet):
    password_hash: str | Unchanged = UNCHANGED
    roles: Iterable[str] | Unchanged = UNCHANGED
    active: bool | Unchanged = UNCHANGED
    failed_attempts: int | Unchanged = UNCHANGED
    locked_until: datetime | None | Unchanged = UNCHANGED


@dataclass(frozen=True)
class ImportedPayout:
    """A payout made elsewhere (a provider's history, an earlier system) entering the ledger as it stands."""

    request: PayoutRequest
    idempotency_key: str
    status: PayoutStatus
    created_at: datetime
    created_by: str
    provider_status: str | None = None
    provider_payout_id: str | None = None
    tx_hash: str | None = None
    actual_fee: Decimal | None = None
    finished_at: datetime | None = None


def _column_value(name: str, value: Any) -> Any:
    if name in _AMOUNT_FIELDS:
        return optional_amount_to_text(value, name)
    if name in _TIME_FIELDS:
        return format_optional_timestamp(value)
    if name in _TEXT_FIELDS:
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{name} must be text or None, not {type(value).__name__}")
        if name == "password_hash" and not value:
            raise ValueError("password_hash must not be empty")
        return value
    if name == "estimate_warnings":
        warnings = tuple(value)
        if not all(isinstance(w, str) for w in warnings):
            raise TypeError("estimate_warnings must be texts")
        return encode_json(list(warnings)) if warnings else None
    if name == "estimate_data":
        return None if value is None else encode_json(value)
    if name in {"poll_failures", "failed_attempts"}:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a count (0 or more), not {value!r}")
        return value
    if name == "roles":
        return encode_roles(value)
    if name == "active":
        if not isinstance(value, bool):
            raise TypeError(f"active must be True or False, not {value!r}")
        return int(value)
    raise AssertionError(f"no column rule for {name}")


def encode_roles(roles: Iterable[str]) -> str:
    if isinstance(roles, str):
        raise TypeError("roles must be a collection of role names, not one text")
    names = sorted(set(roles))
    if not all(isinstance(r, str) and r for r in names):
        raise ValueError("roles must be non-empty texts")
    return encode_json(names)
