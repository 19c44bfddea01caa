"""Reading and verifying the audit trail for people: the trail newest first, a page at a time, each row's
detail in words; and the chain check's verdict in the words both faces give (`audit verify` and the window).

Any active operator may read the trail and verify it, as on the command line: every role holds VIEW, and an
auditor's first question ("is the record intact?") must not need an admin.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from treasury_app.domain.roles import Permission
from treasury_app.ledger import AuditRow, Ledger, LedgerLocation, open_ledger
from treasury_app.ledger.audit_trail_reads import AuditFilter
from treasury_app.ledger.timestamps import utc_now
from treasury_app.security.audit_chain import Progress, VerifyReport, verify

from .audit import detail_for_people
from .operator_accounts import SignedIn, require_permission

__all__ = ["AuditChoices", "AuditEntry", "AuditFilter", "AuditQuery", "AuditTrail", "Progress", "VerifyVerdict",
           "detail_words", "entry_of", "row_line", "verdict_of", "verify_in_background"]
# Problems listed after the first one; `verify` counts them all.
SHOWN_PROBLEMS = 20
READ_TRAIL = "read the audit trail"


@dataclass(frozen=True)
class AuditEntry:
    """One audit row as a person reads it: the chain's own digests left out, the detail in words."""

    seq: int
    at: datetime
    operator: str | None
    action: str
    subject: str | None
    detail: str


@dataclass(frozen=True)
class AuditQuery:
    """A filter's rows as a view starts to show them: how many, and the first page."""

    audit_filter: AuditFilter
    count: int
    first_page: tuple[AuditEntry, ...]


@dataclass(frozen=True)
class AuditChoices:
    operators: tuple[str, ...]
    actions: tuple[str, ...]


def entry_of(row: AuditRow) -> AuditEntry:
    return AuditEntry(row.seq, row.at, row.operator, row.action, row.subject, detail_words(row))


def detail_words(row: AuditRow) -> str:
    """ "from estimated to approved; reason: …": the detail's keys and values, as short as they can be read."""
    detail = dict(detail_for_people(row))
    parts: list[str] = []
    if "from" in detail and "to" in detail:
        parts.append(f"from {_value_words(detail.pop('from'))} to {_value_words(detail.pop('to'))}")
    parts.extend(f"{key.replace('_', ' ')}: {_value_words(value)}" for key, value in detail.items())
    return "; ".join(parts)


def _value_words(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{key.replace('_', ' ')} {_value_words(item)}" for key, item in value.items()) or "—"
    if isinstance(value, list | tuple):
        return ", ".join(_value_words(item) for item in value) or "—"
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


class AuditTrail:
    """The trail's reads for one operator, over a ledger of the calling thread (the desk's worker's)."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger

    def choices(self, acting: SignedIn) -> AuditChoices:
        require_permission(self._ledger, acting, Permission.VIEW, READ_TRAIL)
        reads = self._ledger.audit_trail
        return AuditChoices(tuple(reads.operators()), tuple(reads.actions()))

    def query(self, acting: SignedIn, audit_filter: AuditFilter, page_size: int) -> AuditQuery:
        """The count and the first page from one state of the ledger (they must agree). Where the other pages
        start comes after (`page_starts`): on a long trail that is the slow read, and the first page needs it not."""
        require_permission(self._ledger, acting, Permission.VIEW, READ_TRAIL)
        reads = self._ledger.audit_trail
        with self._ledger.snapshot():
            count = reads.count(audit_filter)
            first = reads.page(audit_filter, page_size)
        return AuditQuery(audit_filter, count, tuple(entry_of(row) for row in first))

    def page_starts(self, acting: SignedIn, query: AuditQuery, page_size: int) -> tuple[int, ...]:
        """Where each page of `query` starts, newest first, counted among the rows it counted: rows appended
        since come after its newest (the trail only grows at its head), so they are left out and the pages
        agree with its count."""
        require_permission(self._ledger, acting, Permission.VIEW, READ_TRAIL)
        if not query.first_page:
            return ()
        newest = query.first_page[0].seq
        return tuple(self._ledger.audit_trail.page_starts(query.audit_filter, page_size, at_or_before=newest))

    def page(self, acting: SignedIn, audit_filter: AuditFilter, page_size: int,
             at_or_before: int) -> tuple[AuditEntry, ...]:
        require_permission(self._ledger, acting, Permission.VIEW, READ_TRAIL)
        rows = self._ledger.audit_trail.page(audit_filter, page_size, at_or_before=at_or_before)
        return tuple(entry_of(row) for row in rows)


@dataclass(frozen=True)
class VerifyVerdict:
    """`verify`'s report in words; `lines()` is what `treasury-app audit verify` prints."""

    intact: bool
    summary: str
    head_seq: int | None
    head_hash: str | None
    first_problem: str | None = None
    stored_row: str | None = None  # the first broken row as stored, one line
    also: tuple[str, ...] = ()
    more: int = 0  # problems beyond those in `also`
    problem_count: int = 0

    @property
    def head_text(self) -> str | None:
        """What an auditor writes down: "row N, hash H"."""
        return None if self.head_seq is None else f"row {self.head_seq}, hash {self.head_hash}"

    def lines(self) -> list[str]:
        if self.intact:
            lines = [self.summary]
            if self.head_text is not None:
                lines += [f"head: {self.head_text}",
                          "(note the head somewhere safe: a later verify must reach it or go past it)"]
            return lines
        lines = [self.summary, f"first broken: {self.first_problem}"]
        if self.stored_row is not None:
            lines.append(f"  the row as stored: {self.stored_row}")
        lines += [f"also: {problem}" for problem in self.also]
        if self.more:
            lines.append(f"… and {self.more} more")
        return lines


def verdict_of(report: VerifyReport) -> VerifyVerdict:
    checked = (f"{report.rows_checked} rows, {report.payouts_checked} payouts, {report.approvals_checked} "
               "approvals checked")
    if report.intact:
        return VerifyVerdict(True, f"audit trail intact: {checked}", report.head_seq, report.head_hash)
    first = report.first_problem
    assert first is not None  # a report that is not intact has at least one problem kept
    also = tuple(problem.message for problem in report.problems[1:SHOWN_PROBLEMS + 1])
    stored = row_line(report.first_broken_row) if report.first_broken_row is not None else None
    return VerifyVerdict(False, f"AUDIT TRAIL BROKEN ({checked}); {report.problem_count} problem(s).",
                         report.head_seq, report.head_hash, first.message, stored, also,
                         max(0, report.problem_count - SHOWN_PROBLEMS - 1), report.problem_count)


def row_line(row: AuditRow) -> str:
    """One stored row on one line, as `audit show` lists it."""
    return (f"#{row.seq}  {row.at:%Y-%m-%d %H:%M:%S}  {row.operator or '-'}  {row.action}  {row.subject or '-'}  "
            f"{row.detail_json or ''}").rstrip()


async def verify_in_background(ledger_file: LedgerLocation | Path, acting: SignedIn, *, progress: Progress | None = None,
                               clock: Callable[[], datetime] = utc_now) -> VerifyVerdict:
    """The whole chain check on a thread of its own, over its own connection to the ledger: the window's loop
    and the desk's worker (which reads the table's pages) stay free however long the trail is. `progress` is
    called on that thread."""

    def check() -> VerifyVerdict:
        with open_ledger(ledger_file, clock=clock) as ledger:
            require_permission(ledger, acting, Permission.VIEW, "verify the audit trail")
            return verdict_of(verify(ledger, progress))

    return await asyncio.to_thread(check)
