"""What the faces show of payouts: one payout with its whole history, and pages of the payout table.

Read-only; the window's detail panel and `treasury-app payout show|list` read the same values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from treasury_app.domain.addresses import ChecksumNote, address_checksum_note
from treasury_app.domain.approval_policy import PolicyDecision
from treasury_app.domain.assets import NETWORKS
from treasury_app.domain.errors import InvalidFieldError
from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.ledger import (
    ApprovalDecision,
    ApprovalRecord,
    AuditRow,
    Ledger,
    PayoutEvent,
    PayoutFilter,
    PayoutListing,
    PayoutRecord,
)
from treasury_app.ledger.timestamps import utc_now
from treasury_app.security.audit_chain import payout_subject

from .approvals import Approvals

# A command-line listing is read by a person: a page, not the whole ledger.
DEFAULT_LISTING_LIMIT = 50
MAX_LISTING_LIMIT = 10_000


@dataclass(frozen=True)
class PayoutDetail:
    """A payout, its status timeline, the decisions on it, its audit rows, and what the policy says of it."""

    payout: PayoutRecord
    events: tuple[PayoutEvent, ...]
    approvals: tuple[ApprovalRecord, ...]
    audit_rows: tuple[AuditRow, ...]
    policy: PolicyDecision

    @property
    def approved_by(self) -> tuple[str, ...]:
        """Who approved it, in order; an approval since voided (the payout changed after it) does not count."""
        return tuple(a.operator for a in self.approvals
                     if a.decision is ApprovalDecision.APPROVED and a.voided_at is None)


def payout_detail(ledger: Ledger, payout_id: int, *,
                  clock: Callable[[], datetime] = utc_now) -> PayoutDetail:
    """Everything recorded about one payout (`PayoutNotFoundError` if there is none), from one snapshot, so
    that the status, the timeline and the audit rows shown together agree with each other."""
    with ledger.snapshot():
        payout = ledger.payouts.get(payout_id)
        return PayoutDetail(
            payout=payout,
            events=tuple(ledger.payouts.events(payout.id)),
            approvals=tuple(ledger.approvals.for_payout(payout.id)),
            audit_rows=tuple(ledger.audit.rows_about(payout_subject(payout.id))),
            policy=Approvals(ledger, clock=clock).policy_decision(payout),
        )


def address_note(payout: PayoutRecord) -> ChecksumNote | None:
    """What a person should be told of the payout's address before it is estimated, approved or sent: today,
    that an EVM address written in one case carries no checksum, with its checksummed spelling to compare."""
    network = NETWORKS.get(payout.network)
    if network is None:
        return None
    try:
        return address_checksum_note(network, payout.address)
    except InvalidFieldError:
        return None  # a stored address that is no address is refused where it matters: at execute


def payout_listing(ledger: Ledger, *, statuses: Iterable[PayoutStatus] = (), provider: str | None = None,
                   currency: str | None = None, limit: int = DEFAULT_LISTING_LIMIT) -> list[PayoutListing]:
    """The newest payouts matching the filter, at most `limit` of them."""
    chosen = PayoutFilter(statuses=tuple(statuses), provider=provider, currency=currency)
    return ledger.payouts.listing(chosen, limit=max(1, min(limit, MAX_LISTING_LIMIT)))
