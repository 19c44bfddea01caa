"""The audit log as stored: rows appended with hashes computed by `security/`, read back in order.

The ledger keeps the chain linear: a row is appended only if its `prev_hash` is the hash of the row that is
last when it is written, checked under the write lock, so two processes can never fork the chain.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime

from treasury_app.domain.errors import InvalidFieldError

from .connection import LedgerConnection
from .errors import ConstraintViolation, DuplicateRecordError, StaleRecordError
from .records import AuditRow
from .timestamps import format_timestamp

_BATCH = 1000


class AuditLogRepository:
    def __init__(self, link: LedgerConnection) -> None:
        self._link = link

    def append(self, *, at: datetime, operator: str | None, action: str, subject: str | None,
               detail_json: str | None, prev_hash: str, hash: str) -> AuditRow:
        """Store one row exactly as hashed. `at` and `detail_json` are given, not made here: the hash covers them.

        `StaleRecordError` when another row was appended since `prev_hash` was read: recompute and try again.
        """
        if not action or not hash or prev_hash is None:
            raise InvalidFieldError("audit", "a row needs an action, its hash and the previous row's hash")
        if detail_json is not None:
            json.loads(detail_json)  # must be JSON; stored byte for byte as given
        row = (format_timestamp(at), operator, action, subject, detail_json, prev_hash, hash)
        with self._link.transaction():
            last = self.last()
            if last is not None and last.hash != prev_hash:
                raise StaleRecordError(
                    f"the audit log moved on (its last row is now {last.seq}); recompute the row's hash and append "
                    "again"
                )
            try:
                seq = self._link.insert(
                    "INSERT INTO audit_log (at, operator, action, subject, detail, prev_hash, hash) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    row, key="seq",
                )
            except ConstraintViolation as error:
                if "audit_log.hash" not in str(error):
                    raise
                raise DuplicateRecordError(f"an audit row with hash {hash} is already in the log") from None
            found = self._link.row("SELECT * FROM audit_log WHERE seq = ?", (seq,))
        assert found is not None
        return AuditRow.from_row(found)

    def last(self) -> AuditRow | None:
        row = self._link.row("SELECT * FROM audit_log ORDER BY seq DESC LIMIT 1")
        return None if row is None else AuditRow.from_row(row)

    def rows_about(self, subject: str) -> list[AuditRow]:
        """Every row about one subject (e.g. "payout:17"), in chain order; served by an index."""
        if not isinstance(subject, str) or not subject:
            raise InvalidFieldError("subject", "is empty")
        found = self._link.rows("SELECT * FROM audit_log WHERE subject = ? ORDER BY seq", (subject,))
        return [AuditRow.from_row(row) for row in found]

    def rows(self, since: datetime | None = None) -> Iterator[AuditRow]:
        """Every row in chain order (optionally from a time on), read in batches so memory stays flat."""
        after = 0
        since_text = format_timestamp(since) if since is not None else ""
        while True:
            batch = self._link.rows(
                "SELECT * FROM audit_log WHERE seq > ? AND at >= ? ORDER BY seq LIMIT ?", (after, since_text, _BATCH)
            )
            yield from (AuditRow.from_row(row) for row in batch)
            if len(batch) < _BATCH:
                return
            after = batch[-1]["seq"]
