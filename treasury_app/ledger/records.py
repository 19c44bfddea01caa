"""The frozen records the ledger hands to services: exact `Decimal` amounts, tz-aware UTC times, enums.

Each `from_row` (`from_values` for payouts) reads one row as SQLite returns it; nothing outside the ledger
sees a row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, NamedTuple

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.domain.payout_request import FeeMode, Priority

from .column_codecs import EMPTY_MAPPING, amount_from_text, decode_json, decode_json_object

_STATUSES = {status.value: status for status in PayoutStatus}
_FEE_MODES = {mode.value: mode for mode in FeeMode}
_PRIORITIES = {level.value: level for level in Priority}


def _time(text: str) -> datetime:
    # The ledger writes only its own fixed format, ending in "Z"; fromisoformat (C, fast) reads that as UTC.
    # Paging 100 rows of a million-row ledger must not spend its time in a regular expression.
    moment = _fromisoformat(text)
    if moment.tzinfo is not UTC:
        raise ValueError(f"ledger time {text!r} is not UTC")
    return moment


_fromisoformat = datetime.fromisoformat


def _optional_time(text: str | None) -> datetime | None:
    return None if text is None else _time(text)


class ApprovalDecision(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"


class OverLimitAction(StrEnum):
    """What crossing a daily limit does: ask a second person, or refuse outright."""

    NEEDS_APPROVAL = "needs_approval"
    REFUSE = "refuse"


@dataclass(frozen=True, slots=True)
class PayoutRecord:
    """A payout as stored. (`amount_key`, the sort twin of `amount`, stays inside the ledger.)"""

    id: int
    idempotency_key: str
    provider: str
    currency: str
    network: str
    address: str
    amount: Decimal
    fee_mode: FeeMode
    priority: Priority | None
    memo: str | None
    reference: str | None
    note: str | None
    status: PayoutStatus
    provider_status: str | None
    provider_payout_id: str | None
    tx_hash: str | None
    estimated_fee: Decimal | None
    estimated_net: Decimal | None
    estimated_total: Decimal | None
    estimate_warnings: tuple[str, ...]
    estimate_data: Mapping[str, Any]
    estimated_at: datetime | None
    actual_fee: Decimal | None
    actual_amount: Decimal | None
    failure_reason: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    finished_at: datetime | None
    next_poll_at: datetime | None
    poll_failures: int
    version: int

    @classmethod
    def from_values(cls, values: Sequence[Any]) -> PayoutRecord:
        """Build from a row selected as `payout_queries.PAYOUT_COLUMNS` (that order, positionally).

        The window builds a hundred of these per page, so conversions are written inline: this function is
        most of the cost of a page, far more than SQLite's. Every stored time ends in "Z", which
        `fromisoformat` reads as UTC; amounts are read with Decimal(text), exactly.
        """
        (id_, key, provider, currency, network, address, amount, fee_mode, priority, memo, reference, note,
         status, provider_status, provider_payout_id, tx_hash, estimated_fee, estimated_net, estimated_total,
         warnings, data, estimated_at, actual_fee, actual_amount, failure_reason, created_by, created_at,
         updated_at, submitted_at, finished_at, next_poll_at, poll_failures, version) = values
        return cls(
            id_, key, provider, currency, network, address, Decimal(amount), _FEE_MODES[fee_mode],
            None if priority is None else _PRIORITIES[priority], memo, reference, note, _STATUSES[status],
            provider_status, provider_payout_id, tx_hash,
            None if estimated_fee is None else Decimal(estimated_fee),
            None if estimated_net is None else Decimal(estimated_net),
            None if estimated_total is None else Decimal(estimated_total),
            () if warnings is None else tuple(decode_json(warnings)),
            EMPTY_MAPPING if data is None else decode_json_object(data),
            None if estimated_at is None else _time(estimated_at),
            None if actual_fee is None else Decimal(actual_fee),
            None if actual_amount is None else Decimal(actual_amount),
            failure_reason, created_by, _time(created_at), _time(updated_at),
            None if submitted_at is None else _time(submitted_at),
            None if finished_at is None else _time(finished_at),
            None if next_poll_at is None else _time(next_poll_at),
            poll_failures, version,
        )


class PayoutListing(NamedTuple):
    """A row of the payout table: the few columns it shows, read a hundred at a time.

    A NamedTuple rather than a frozen dataclass on purpose: it is as immutable, and building one costs a
    fraction of a dataclass's constructor, which is what paging a million-row ledger is spent on.
    """

    id: int
    created_at: datetime
    status: PayoutStatus
    provider: str
    currency: str
    network: str
    amount: Decimal
    address: str
    reference: str | None
    tx_hash: str | None
    version: int  # moves on every change: a re-read row with the same version shows nothing new

    @classmethod
    def from_values(cls, values: Sequence[Any]) -> PayoutListing:
        """Build from a row selected as `payout_queries.LISTING_COLUMNS` (that order)."""
        id_, created_at, status, provider, currency, network, amount, address, reference, tx_hash, version = values
        return cls(id_, _time(created_at), _STATUSES[status], provider, currency, network, Decimal(amount), address,
                   reference, tx_hash, version)


@dataclass(frozen=True, slots=True)
class PayoutEvent:
    """One step of a payout's timeline: a status change, or a provider update within the same status."""

    id: int
    payout_id: int
    at: datetime
    actor: str
    from_status: PayoutStatus | None
    to_status: PayoutStatus
    provider_status: str | None
    detail: Mapping[str, Any]

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> PayoutEvent:
        source = row["from_status"]
        return cls(
            id=row["id"],
            payout_id=row["payout_id"],
            at=_time(row["at"]),
            actor=row["actor"],
            from_status=None if source is None else _STATUSES[source],
            to_status=_STATUSES[row["to_status"]],
            provider_status=row["provider_status"],
            detail=decode_json_object(row["detail"]),
        )


@dataclass(frozen=True, slots=True)
class ApprovalRecord:
    id: int
    payout_id: int
    decision: ApprovalDecision
    operator: str
    payout_digest: str
    reason: str | None
    decided_at: datetime
    expires_at: datetime | None
    voided_at: datetime | None
    void_reason: str | None

    @property
    def is_void(self) -> bool:
        return self.voided_at is not None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ApprovalRecord:
        return cls(
            id=row["id"],
            payout_id=row["payout_id"],
            decision=ApprovalDecision(row["decision"]),
            operator=row["operator"],
            payout_digest=row["payout_digest"],
            reason=row["reason"],
            decided_at=_time(row["decided_at"]),
            expires_at=_optional_time(row["expires_at"]),
            voided_at=_optional_time(row["voided_at"]),
            void_reason=row["void_reason"],
        )


@dataclass(frozen=True, slots=True)
class OperatorRecord:
    id: int
    name: str
    # Kept out of repr so that a record printed in a log or a traceback never shows it.
    password_hash: str = field(repr=False)
    roles: frozenset[str]
    active: bool
    failed_attempts: int
    locked_until: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> OperatorRecord:
        return cls(
            id=row["id"],
            name=row["name"],
            password_hash=row["password_hash"],
            roles=frozenset(decode_json(row["roles"])),
            active=bool(row["active"]),
            failed_attempts=row["failed_attempts"],
            locked_until=_optional_time(row["locked_until"]),
            created_at=_time(row["created_at"]),
            updated_at=_time(row["updated_at"]),
        )


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One link of the audit chain, exactly as stored: `detail_json` is the text that was hashed."""

    seq: int
    at: datetime
    operator: str | None
    action: str
    subject: str | None
    detail_json: str | None
    prev_hash: str
    hash: str

    @property
    def detail(self) -> Mapping[str, Any]:
        return decode_json_object(self.detail_json)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> AuditRow:
        return cls(
            seq=row["seq"],
            at=_time(row["at"]),
            operator=row["operator"],
            action=row["action"],
            subject=row["subject"],
            detail_json=row["detail"],
            prev_hash=row["prev_hash"],
            hash=row["hash"],
        )


@dataclass(frozen=True, slots=True)
class AddressBookEntry:
    id: int
    label: str
    currency: str | None
    network: str
    address: str
    note: str | None
    created_by: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> AddressBookEntry:
        return cls(
            id=row["id"],
            label=row["label"],
            currency=row["currency"],
            network=row["network"],
            address=row["address"],
            note=row["note"],
            created_by=row["created_by"],
            created_at=_time(row["created_at"]),
        )


@dataclass(frozen=True, slots=True)
class PolicyRecord:
    """A currency's approval policy; an absent limit means "no limit"."""

    currency: str
    approval_threshold: Decimal | None
    daily_limit_operator: Decimal | None
    daily_limit_desk: Decimal | None
    over_limit: OverLimitAction
    new_destination_needs_approval: bool
    updated_by: str
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> PolicyRecord:
        return cls(
            currency=row["currency"],
            approval_threshold=amount_from_text(row["approval_threshold"]),
            daily_limit_operator=amount_from_text(row["daily_limit_operator"]),
            daily_limit_desk=amount_from_text(row["daily_limit_desk"]),
            over_limit=OverLimitAction(row["over_limit"]),
            new_destination_needs_approval=bool(row["new_destination_needs_approval"]),
            updated_by=row["updated_by"],
            updated_at=_time(row["updated_at"]),
        )
