"""How the payout commands print payouts: text for people, JSON for scripts (amounts as exact decimal strings).

Only presentation lives here; every value comes from a service.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import click

from treasury_app.domain.addresses import ChecksumNote
from treasury_app.domain.approval_policy import PolicyDecision
from treasury_app.domain.assets import find_asset
from treasury_app.domain.errors import InvalidFieldError
from treasury_app.domain.money import format_amount
from treasury_app.ledger import ApprovalRecord, PayoutEvent, PayoutListing, PayoutRecord
from treasury_app.services.payout_views import PayoutDetail, address_note
from treasury_app.services.provider_directory import ProviderConnection

# What execution needs (Pay3's order token) is kept for the workflow, not shown: it is no fact for a person.
HIDDEN_FIELDS = frozenset({"estimate_data"})
LABEL_WIDTH = 17


def json_value(value: Any) -> Any:
    """A value as JSON can carry it exactly: amounts as decimal strings (never floats), times in ISO 8601."""
    if isinstance(value, Decimal):
        return format_amount(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(key): json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_value(item) for item in value]
    return value


def json_object(values: Mapping[str, Any]) -> dict[str, Any]:
    return {str(key): json_value(item) for key, item in values.items()}


def echo_json(value: Any) -> None:
    click.echo(json.dumps(json_value(value), indent=2, ensure_ascii=False))


# --- values as dictionaries ---------------------------------------------------------------------------------


def record_fields(record: Any, hidden: frozenset[str] = frozenset()) -> dict[str, Any]:
    """A ledger record's fields as JSON values (not `dataclasses.asdict`: it would deep-copy read-only maps)."""
    return json_object({f.name: getattr(record, f.name) for f in dataclasses.fields(record) if f.name not in hidden})


def payout_fields(payout: PayoutRecord) -> dict[str, Any]:
    return {**record_fields(payout, HIDDEN_FIELDS), "is_final": payout.status.is_final}


def address_warning_text(note: ChecksumNote) -> str:
    return f"this address carries no checksum; compare it with its checksummed form {note.checksummed}"


def address_note_fields(payout: PayoutRecord) -> dict[str, str | None]:
    """The address warning for scripts: both keys are always there, None when the address carries a checksum."""
    note = address_note(payout)
    return {"address_warning": address_warning_text(note) if note else None,
            "address_checksummed": note.checksummed if note else None}


def connection_fields(connection: ProviderConnection | None) -> dict[str, Any] | None:
    if connection is None:
        return None
    return {"provider": connection.name, "base_url": connection.base_url, "sandbox": connection.is_sandbox,
            "from_profile": connection.from_profile}


def policy_fields(decision: PolicyDecision) -> dict[str, Any]:
    return {"outcome": decision.outcome.value, "needs_approval": decision.needs_approval,
            "refused": decision.is_refused, "reasons": [reason.message for reason in decision.reasons]}


def detail_fields(detail: PayoutDetail) -> dict[str, Any]:
    return {
        "payout": payout_fields(detail.payout),
        **address_note_fields(detail.payout),
        "policy": policy_fields(detail.policy),
        "approvals": [record_fields(a) for a in detail.approvals],
        "timeline": [record_fields(e) for e in detail.events],
        "audit": [{"seq": r.seq, "at": r.at.isoformat(), "operator": r.operator, "action": r.action,
                   "detail": json_value(r.detail), "hash": r.hash} for r in detail.audit_rows],
    }


def listing_fields(row: PayoutListing) -> dict[str, Any]:
    return json_object(row._asdict())


# --- text ---------------------------------------------------------------------------------------------------


def amount_text(amount: Decimal | None, currency: str, places: int | None = None) -> str:
    return "-" if amount is None else f"{format_amount(amount.normalize(), places)} {currency}"


def payout_amount_text(payout: PayoutRecord, amount: Decimal | None) -> str:
    """An amount of this payout's asset, to the asset's decimal places (1500.000000 USDT on TRON), so that a
    fee, a net amount and a paid amount line up; a provider's extra digits are kept, never rounded away."""
    try:
        places: int | None = find_asset(payout.currency, payout.network).decimals
    except InvalidFieldError:
        places = None
    return amount_text(amount, payout.currency, places)


def time_text(moment: datetime | None) -> str:
    return "-" if moment is None else f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def connection_text(connection: ProviderConnection | None, provider: str) -> str:
    if connection is None:
        return f"{provider} (not set up: treasury-app provider set {provider} --help)"
    if not connection.is_sandbox:
        return f"{connection.title} at {connection.base_url}"
    how = "published sandbox credentials" if not connection.from_profile else "its profile"
    return f"{connection.title} — SANDBOX at {connection.base_url} ({how}; no real money moves)"


def echo_line(label: str, value: object) -> None:
    click.echo(f"  {label:<{LABEL_WIDTH}}{value}")


def echo_request(payout: PayoutRecord) -> None:
    """What the payout pays, to whom: the fields an approval binds to."""
    echo_line("asset", f"{payout.currency} on {payout.network}")
    echo_line("address", payout.address)
    note = address_note(payout)
    if note is not None:
        echo_line("address warning", address_warning_text(note))
    echo_line("amount", payout_amount_text(payout, payout.amount))
    echo_line("fee paid", payout.fee_mode.value.replace("_", " "))
    for label, value in (("priority", payout.priority), ("memo", payout.memo), ("reference", payout.reference),
                         ("note", payout.note)):
        if value is not None:
            echo_line(label, value)


def echo_estimate(payout: PayoutRecord) -> None:
    if payout.estimated_at is None:
        echo_line("estimate", "none yet")
        return
    echo_line("fee", payout_amount_text(payout, payout.estimated_fee))
    echo_line("to recipient", payout_amount_text(payout, payout.estimated_net))
    echo_line("total debited", payout_amount_text(payout, payout.estimated_total))
    echo_line("estimated at", time_text(payout.estimated_at))
    echo_line("warnings", "; ".join(payout.estimate_warnings) or "none")


def policy_text(decision: PolicyDecision) -> str:
    if decision.is_refused:
        return f"REFUSED by policy: {decision.explain()}"
    if decision.needs_approval:
        return f"needed: {decision.explain()}"
    return "not needed"


def echo_outcome(payout: PayoutRecord) -> None:
    """What the provider said (or that nothing is known yet)."""
    echo_line("status", payout.status.value)
    for label, value in (("provider status", payout.provider_status), ("provider id", payout.provider_payout_id),
                         ("tx hash", payout.tx_hash), ("reason", payout.failure_reason)):
        if value:
            echo_line(label, value)
    if payout.actual_amount is not None:
        echo_line("paid amount", payout_amount_text(payout, payout.actual_amount))


def echo_detail(detail: PayoutDetail) -> None:
    payout = detail.payout
    click.echo(f"Payout {payout.id}: {payout.status.value} ({payout.provider})")
    echo_request(payout)
    echo_line("idempotency key", payout.idempotency_key)
    echo_line("created", f"{time_text(payout.created_at)} by {payout.created_by}")
    for label, moment in (("submitted", payout.submitted_at), ("finished", payout.finished_at)):
        if moment is not None:
            echo_line(label, time_text(moment))
    click.echo("Estimate")
    echo_estimate(payout)
    click.echo("Provider")
    echo_outcome(payout)
    click.echo(f"Approval: {policy_text(detail.policy)}")
    for approval in detail.approvals:
        click.echo(f"  {approval_text(approval)}")
    click.echo("Timeline")
    for event in detail.events:
        click.echo(f"  {event_text(event)}")
    click.echo("Audit trail")
    for row in detail.audit_rows:
        click.echo(f"  #{row.seq}  {row.at:%Y-%m-%d %H:%M:%S}  {row.operator or '-'}  {row.action}")


def approval_text(approval: ApprovalRecord) -> str:
    text = f"#{approval.id} {approval.decision.value} by {approval.operator} at {time_text(approval.decided_at)}"
    if approval.reason:
        text += f": {approval.reason}"
    if approval.expires_at is not None:
        text += f"; expires {time_text(approval.expires_at)}"
    if approval.is_void:
        text += f"; VOID since {time_text(approval.voided_at)} ({approval.void_reason})"
    return text


def event_text(event: PayoutEvent) -> str:
    source = event.from_status.value if event.from_status is not None else "-"
    raw = f"  [{event.provider_status}]" if event.provider_status else ""
    reason = event.detail.get("reason")
    why = f"  ({reason})" if reason else ""
    return f"{event.at:%Y-%m-%d %H:%M:%S}  {source:>17} → {event.to_status.value:<17} {event.actor}{raw}{why}"


def echo_listing(rows: Sequence[PayoutListing]) -> None:
    if not rows:
        click.echo("No payouts match.")
        return
    click.echo(f"{'ID':>6}  {'CREATED (UTC)':<16}  {'STATUS':<17}  {'PROVIDER':<9}  {'ASSET':<13}  "
               f"{'AMOUNT':>20}  ADDRESS")
    for row in rows:
        click.echo(f"{row.id:>6}  {row.created_at:%Y-%m-%d %H:%M}  {row.status.value:<17}  {row.provider:<9}  "
                   f"{row.currency + ' ' + row.network:<13}  {format_amount(row.amount):>20}  {row.address}"
                   + (f"  ({row.reference})" if row.reference else ""))

