"""How a composed or imported payout becomes a payouts row, and the statements that insert one or many."""

from __future__ import annotations

from typing import Any

from treasury_app.domain.errors import InvalidFieldError
from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.domain.payout_request import PayoutRequest, validate_idempotency_key

from .changes import ImportedPayout
from .column_codecs import amount_sort_key, amount_to_text, optional_amount_to_text
from .timestamps import format_optional_timestamp, format_timestamp

INSERT_COLUMNS = (
    "idempotency_key", "provider", "currency", "network", "address", "amount", "amount_key", "fee_mode",
    "priority", "memo", "reference", "note", "status", "provider_status", "provider_payout_id", "tx_hash",
    "actual_fee", "created_by", "created_at", "updated_at", "submitted_at", "finished_at",
)
INSERT_PAYOUT = (
    f"INSERT INTO payouts ({', '.join(INSERT_COLUMNS)}) VALUES ({', '.join(':' + c for c in INSERT_COLUMNS)})"
)
# The staging table lives in the connection's temporary database: never in the ledger file.
CREATE_IMPORT_TABLE = f"CREATE TEMP TABLE IF NOT EXISTS payout_import ({', '.join(INSERT_COLUMNS)})"
STAGE_PAYOUT = (
    f"INSERT INTO temp.payout_import ({', '.join(INSERT_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in INSERT_COLUMNS)})"
)
INSERT_STAGED = (
    f"INSERT INTO payouts ({', '.join(INSERT_COLUMNS)}) "
    f"SELECT {', '.join(INSERT_COLUMNS)} FROM temp.payout_import ORDER BY rowid"
)
# PostgreSQL: the batch is COPYed into a temporary table that goes at commit, with the ids the schema's trigger
# would give (largest + 1, + 2, …: the batch runs under the write lock), and moved in one INSERT … SELECT.
COPY_COLUMNS = ("id", *INSERT_COLUMNS)
CREATE_COPY_TABLE = (
    f"CREATE TEMP TABLE payout_import ON COMMIT DROP AS SELECT {', '.join(COPY_COLUMNS)} FROM payouts WITH NO DATA"
)
INSERT_COPIED = (
    f"INSERT INTO payouts ({', '.join(COPY_COLUMNS)}) "
    f"SELECT {', '.join(COPY_COLUMNS)} FROM pg_temp.payout_import ORDER BY id"
)
INSERT_EVENT = (
    "INSERT INTO payout_events (payout_id, at, actor, from_status, to_status, provider_status, detail) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def payout_row(request: PayoutRequest, key: str, status: PayoutStatus, *, created_by: str, created_at: str,
                updated_at: str) -> dict[str, Any]:
    return {
        "idempotency_key": key,
        "provider": request.provider,
        "currency": request.asset.currency,
        "network": request.asset.network.code,
        "address": request.address,
        "amount": amount_to_text(request.amount),
        "amount_key": amount_sort_key(request.amount),
        "fee_mode": request.fee_mode.value,
        "priority": None if request.priority is None else request.priority.value,
        "memo": request.memo,
        "reference": request.reference,
        "note": request.note,
        "status": status.value,
        "provider_status": None,
        "provider_payout_id": None,
        "tx_hash": None,
        "actual_fee": None,
        "created_by": created_by,
        "created_at": created_at,
        "updated_at": updated_at,
        "submitted_at": None,
        "finished_at": None,
    }


def imported_row(item: ImportedPayout) -> dict[str, Any]:
    created_at = format_timestamp(item.created_at)
    status = PayoutStatus(item.status)
    row = payout_row(item.request, validate_idempotency_key(item.idempotency_key), status,
                      created_by=check_actor(item.created_by), created_at=created_at, updated_at=created_at)
    row.update(
        provider_status=item.provider_status,
        provider_payout_id=item.provider_payout_id,
        tx_hash=item.tx_hash,
        actual_fee=optional_amount_to_text(item.actual_fee, "actual_fee"),
        submitted_at=created_at if status.may_have_reached_provider else None,
        finished_at=format_optional_timestamp(item.finished_at) or (created_at if status.is_final else None),
    )
    return row


def check_actor(actor: str) -> str:
    if not isinstance(actor, str) or not actor.strip():
        raise InvalidFieldError("actor", "must name who did it (an operator, or a part of the app such as 'poller')")
    return actor
