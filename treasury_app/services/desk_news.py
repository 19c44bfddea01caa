"""What the desk tells each operator without being asked: a payout of theirs that completed, failed or became
unknown, and a payout that started waiting for their approval. The window shows these as desktop
notifications (ui/notices.py); this module decides who is told what, and when several are one summary.

News for an operator who is not signed in is kept until they sign in, and then given as one summary: after a
weekend away the first rounds settle dozens of payouts, and nobody wants dozens of pop-ups. So is a burst
while signed in (more than `MOST_SINGLE_NOTICES` at once). Kept in memory for the window's life: what happened
before the window opened is in the table, coloured, like everything else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from treasury_app.domain.approval_binding import same_operator
from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.ledger import PayoutRecord

# More than this many notices at once are given as one summary.
MOST_SINGLE_NOTICES = 3


class NoticeKind(StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"  # failed, or cancelled by the provider
    UNKNOWN = "unknown"  # nobody knows yet whether it left: needs attention
    WAITING = "waiting"  # waits for this operator's approval
    SUMMARY = "summary"


# Which status an initiator hears about, as which kind.
_TOLD: Mapping[PayoutStatus, NoticeKind] = {
    PayoutStatus.COMPLETED: NoticeKind.COMPLETED,
    PayoutStatus.FAILED: NoticeKind.FAILED,
    PayoutStatus.CANCELLED: NoticeKind.FAILED,
    PayoutStatus.UNKNOWN: NoticeKind.UNKNOWN,
}


@dataclass(frozen=True)
class Notice:
    """One notification: about one payout (`payout`), or a summary (`counts` per kind, no payout)."""

    kind: NoticeKind
    payout: PayoutRecord | None = None
    counts: Mapping[NoticeKind, int] = field(default_factory=dict)
    while_away: bool = False  # a summary of what happened while the operator was not signed in

    @property
    def needs_attention(self) -> bool:
        if self.kind is NoticeKind.SUMMARY:
            return bool(self.counts.get(NoticeKind.UNKNOWN) or self.counts.get(NoticeKind.FAILED))
        return self.kind in (NoticeKind.UNKNOWN, NoticeKind.FAILED)


class DeskNews:
    """Fed with the poller's changes and the waiting payouts; `take(operator)` gives what to show them now."""

    def __init__(self) -> None:
        self._held: dict[str, list[Notice]] = {}  # by initiator (casefolded), until they are told
        self._away: set[str] = set()  # operators whose held news was gathered while they were signed out
        self._waiting_seen: dict[str, frozenset[int]] = {}  # per approver: the waiting payouts already known

    def payouts_moved(self, changes: Iterable[tuple[PayoutStatus, PayoutRecord]],
                      signed_in: str | None) -> None:
        """Record each change (status before, record after) that its initiator is to hear about."""
        for before, after in changes:
            kind = _TOLD.get(after.status)
            if kind is None or before is after.status:
                continue
            initiator = _key(after.created_by)
            self._held.setdefault(initiator, []).append(Notice(kind, after))
            if signed_in is None or not same_operator(signed_in, after.created_by):
                self._away.add(initiator)

    def known_waiting(self, approver: str) -> frozenset[int] | None:
        """The waiting payouts `approver` knows of (None before the first `waiting_now` of their sign-in)."""
        return self._waiting_seen.get(_key(approver))

    def waiting_now(self, approver: str, waiting: frozenset[int], records: Mapping[int, PayoutRecord]) -> None:
        """The payouts waiting for `approver`'s decision now (ids), with the records of those newly waiting
        (as many as were read: beyond a few, the summary only counts them).

        The first call after a sign-in only learns what waits (the toolbar's count shows it); later calls tell of
        the payouts that started waiting since."""
        key = _key(approver)
        seen = self._waiting_seen.get(key)
        self._waiting_seen[key] = waiting
        if seen is None:
            return
        self._held.setdefault(key, []).extend(Notice(NoticeKind.WAITING, records.get(i)) for i in sorted(waiting - seen))

    def signed_out(self, operator: str) -> None:
        """From now on, news for `operator` waits for their next sign-in (where it is a summary)."""
        key = _key(operator)
        self._waiting_seen.pop(key, None)
        self._away.add(key)

    def take(self, operator: str) -> tuple[Notice, ...]:
        """What to show `operator` now, and forget: each notice, or one summary when there are many or they
        were away."""
        key = _key(operator)
        notices = self._held.pop(key, [])
        away = key in self._away
        self._away.discard(key)
        if not notices:
            return ()
        if len(notices) <= (1 if away else MOST_SINGLE_NOTICES) and all(n.payout for n in notices):
            return tuple(notices)
        counts: dict[NoticeKind, int] = {}
        for notice in notices:
            counts[notice.kind] = counts.get(notice.kind, 0) + 1
        return (Notice(NoticeKind.SUMMARY, counts=counts, while_away=away),)


def _key(name: str) -> str:
    return name.strip().casefold()
