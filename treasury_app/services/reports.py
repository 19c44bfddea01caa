"""CSV reports for finance and auditors: the payouts report (a row per payout) and the summary (count and exact
totals per currency × provider × status, and per currency), written whole or not at all, and audited.

A report file is written beside its target under a temporary name, synced to disk, and only then renamed into
place, in the same commit as the audit row that records who exported what (filters, row count, the file's
SHA-256). A failed or cancelled export leaves neither a file nor an audit row. An existing file is replaced
only when the caller says so. The command line and the window both call `write_report`.
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO

from treasury_app.domain.errors import InvalidFieldError, TreasuryError
from treasury_app.domain.money import format_amount
from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.domain.roles import Permission
from treasury_app.domain.spreadsheet_cells import neutralised
from treasury_app.ledger import Ledger, LedgerLocation, PayoutFilter, open_ledger
from treasury_app.ledger.report_queries import (
    DELIMITERS,
    EXACT,
    LINE_END,
    PAYOUT_REPORT_HEADER,
    SUMMARY_HEADER,
    currency_places,
)
from treasury_app.ledger.timestamps import format_timestamp, utc_now

from . import audit
from .operator_accounts import SignedIn, require_permission
from .report_sink import HashingSink

BOM = b"\xef\xbb\xbf"  # UTF-8's byte-order mark: Excel needs it to read the file as UTF-8
REPORT_EXPORTED = "report.exported"
ALL = "all"


class ReportKind(StrEnum):
    PAYOUTS = "payouts"
    SUMMARY = "summary"


class PeriodBasis(StrEnum):
    CREATED = "created"  # when the payout was composed
    FINAL = "final"  # when it reached its final status (completed, failed, cancelled, rejected)


@dataclass(frozen=True)
class ReportRequest:
    """What to export. The period is [start, end) in UTC, by `basis`; empty filters select everything."""

    kind: ReportKind = ReportKind.PAYOUTS
    basis: PeriodBasis = PeriodBasis.CREATED
    start: datetime | None = None
    end: datetime | None = None
    statuses: tuple[PayoutStatus, ...] = ()
    provider: str | None = None
    currency: str | None = None
    operator: str | None = None  # payouts initiated by this operator
    delimiter: str = ","
    bom: bool = False
    payout_filter: PayoutFilter = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.delimiter not in DELIMITERS:
            shown = ", ".join("tab" if d == "\t" else repr(d) for d in DELIMITERS)
            raise InvalidFieldError("delimiter", f"must be one of {shown}")
        for name in ("start", "end"):
            moment = getattr(self, name)
            if moment is not None and moment.utcoffset() is None:
                raise InvalidFieldError(_option(name), "must be a date and time with a time zone")
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise InvalidFieldError("to", f"must be later than the start ({format_timestamp(self.start)})")
        bounds = {"created_from": self.start, "created_to": self.end} if self.basis is PeriodBasis.CREATED \
            else {"finished_from": self.start, "finished_to": self.end}
        object.__setattr__(self, "payout_filter", PayoutFilter(
            statuses=self.statuses, provider=self.provider, currency=self.currency, created_by=self.operator,
            **bounds))

    def filters(self) -> dict[str, str]:
        """The filters in words, as the file's first line and the audit row say them."""
        chosen = self.payout_filter
        return {
            "period": f"by {self.basis.value} time (UTC), from "
                      f"{format_timestamp(self.start) if self.start else 'the first payout'} (inclusive) to "
                      f"{format_timestamp(self.end) if self.end else 'the export'} (exclusive)",
            "statuses": ", ".join(s.value for s in chosen.statuses) or ALL,
            "provider": chosen.provider or ALL,
            "currency": chosen.currency or ALL,
            "initiator": chosen.created_by or ALL,
        }


@dataclass(frozen=True)
class ReportWritten:
    path: Path | None  # None: written to standard output
    rows: int  # data rows (the two heading lines not counted)
    sha256: str
    size: int  # bytes


class ReportCancelledError(TreasuryError):
    def __init__(self) -> None:
        super().__init__("the export was cancelled; no file was written")


Progress = Callable[[int, int], None]  # (rows written, rows in all)


def write_report(ledger: Ledger, request: ReportRequest, target: Path | BinaryIO, *, acting: SignedIn,
                 replace: bool = False, progress: Progress | None = None,
                 cancelled: Callable[[], bool] | None = None, clock: Callable[[], datetime] = utc_now) -> ReportWritten:
    """Write the report to `target` (a file path, or an open binary stream such as standard output) and audit
    it. `progress` hears after each batch; `cancelled()` is asked between batches."""
    operator = require_permission(ledger, acting, Permission.EXPORT, "export reports")
    heading = _heading(request, operator.name, clock())
    if not isinstance(target, Path):
        with HashingSink(target) as sink:
            rows = _write(ledger, request, heading, sink, progress, cancelled)
            written = ReportWritten(None, rows, sink.finish(), sink.size)
        _audit(ledger, request, written, operator.name, clock)
        return written
    path = _checked_target(target, replace)
    temporary = _temporary_beside(path)
    renamed = False
    try:
        with open(temporary, "wb") as stream, HashingSink(stream) as sink:
            rows = _write(ledger, request, heading, sink, progress, cancelled)
            sha256 = sink.finish()
            stream.flush()
            os.fsync(stream.fileno())
        written = ReportWritten(path, rows, sha256, sink.size)
        try:
            with ledger.transaction():  # the audit row and the file: both or neither
                _audit(ledger, request, written, operator.name, clock)
                _move_into_place(temporary, path, replace)
                renamed = True
        except BaseException:
            if renamed:  # the commit failed after the rename: no audit row, so no file either
                path.unlink(missing_ok=True)
            raise
        _sync_folder(path.parent)
        return written
    except OSError as error:
        raise InvalidFieldError("output", f"could not write {path}: {error.strerror or error}; "
                                          "no file was left") from error
    finally:
        if not renamed:
            temporary.unlink(missing_ok=True)


async def write_report_in_background(ledger_file: LedgerLocation | Path, request: ReportRequest, target: Path, *,
                                     acting: SignedIn, replace: bool = False, progress: Progress | None = None,
                                     cancelled: Callable[[], bool] | None = None,
                                     clock: Callable[[], datetime] = utc_now) -> ReportWritten:
    """`write_report` on a thread of its own, over its own connection to the ledger, so that the window's loop
    (and the desk's worker, which reads the table's pages) stay free however long the export takes.
    `progress` and `cancelled` are called on that thread."""
    import asyncio  # here: the command line's export has no event loop, and asyncio is a sixtieth of a second

    def export() -> ReportWritten:
        with open_ledger(ledger_file, clock=clock) as ledger:
            return write_report(ledger, request, target, acting=acting, replace=replace, progress=progress,
                                cancelled=cancelled, clock=clock)

    return await asyncio.to_thread(export)


def _write(ledger: Ledger, request: ReportRequest, heading: Sequence[str], sink: HashingSink,
           progress: Progress | None, cancelled: Callable[[], bool] | None) -> int:
    if request.bom:
        sink.write(BOM)
    with ledger.snapshot():  # one state of the file, however long the export takes
        if request.kind is ReportKind.SUMMARY:
            lines = summary_lines(ledger, request)
            sink.write(_csv_text([heading, SUMMARY_HEADER, *lines], request.delimiter))
            return len(lines)
        total = ledger.reports.count(request.payout_filter)
        sink.write(_csv_text([heading, PAYOUT_REPORT_HEADER], request.delimiter))
        done = 0
        if progress is not None:
            progress(0, total)
        for batch in ledger.reports.payout_lines(request.payout_filter, request.delimiter):
            if cancelled is not None and cancelled():
                raise ReportCancelledError()
            sink.write(batch.text)
            done += batch.rows
            if progress is not None:
                progress(done, max(total, done))
        return done


def summary_lines(ledger: Ledger, request: ReportRequest) -> list[tuple[str, ...]]:
    """The summary's rows: each currency's groups, then that currency's total over every provider and status
    (amounts in one currency are never added to another's)."""
    lines: list[tuple[str, ...]] = []
    groups = ledger.reports.summary(request.payout_filter)
    for currency in sorted({g.currency for g in groups}):
        mine = [g for g in groups if g.currency == currency]
        places = currency_places(currency)
        for g in mine:
            lines.append(_summary_row(currency, g.provider, g.status, g.payouts,
                                      (g.amount, g.fees, g.net_amount, g.total_debited), places))
        totals = tuple(_exact_sum(getattr(g, name) for g in mine)
                       for name in ("amount", "fees", "net_amount", "total_debited"))
        lines.append(_summary_row(currency, f"{ALL} providers", f"{ALL} statuses", sum(g.payouts for g in mine),
                                  totals, places))
    return lines


def _summary_row(currency: str, provider: str, status: str, count: int, figures: Iterable[Decimal | None],
                 places: int) -> tuple[str, ...]:
    return (currency, provider, status, str(count),
            *("" if value is None else format_amount(value, places) for value in figures))


def _exact_sum(values: Iterable[Decimal | None]) -> Decimal | None:
    known = [v for v in values if v is not None]
    total = Decimal(0)
    for value in known:
        total = EXACT.add(total, value)
    return total if known else None


def _heading(request: ReportRequest, operator: str, now: datetime) -> tuple[str, ...]:
    """The file's first line: what it is, its period and filters, who wrote it when."""
    words = request.filters()
    cells = [f"Treasury Desk {request.kind.value} report", f"period {words.pop('period')}",
             *(f"{name}: {value}" for name, value in words.items()),
             f"written {format_timestamp(now)} by {operator}"]
    return tuple(neutralised(cell) or "" for cell in cells)


def _csv_text(rows: Iterable[Sequence[str]], delimiter: str) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator=LINE_END).writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _audit(ledger: Ledger, request: ReportRequest, written: ReportWritten, operator: str,
           clock: Callable[[], datetime]) -> None:
    audit.record(ledger, operator, REPORT_EXPORTED, f"report:{request.kind.value}",
                 {"report": request.kind.value, "filters": request.filters(), "rows": written.rows,
                  "sha256": written.sha256, "bytes": written.size,
                  "file": str(written.path) if written.path is not None else "standard output"}, clock=clock)


def _checked_target(target: Path, replace: bool) -> Path:
    path = target.expanduser().absolute()
    if path.is_dir():
        raise InvalidFieldError("output", f"{path} is a folder; give the report's file name")
    if not path.parent.is_dir():
        raise InvalidFieldError("output", f"the folder {path.parent} does not exist")
    if path.exists() and not replace:
        raise InvalidFieldError("output", f"{path} exists; it is replaced only when you say so")
    return path


def _temporary_beside(path: Path) -> Path:
    """An empty file in the target's folder (the rename that finishes the export cannot cross file systems)."""
    try:
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    except OSError as error:
        raise InvalidFieldError("output", f"cannot write in {path.parent}: {error.strerror or error}") from error
    os.close(handle)
    return Path(name)


def _move_into_place(temporary: Path, path: Path, replace: bool) -> None:
    if replace:
        os.replace(temporary, path)
        return
    # Not replacing: a link fails if the name appeared meanwhile, where a rename would silently overwrite it.
    try:
        os.link(temporary, path)
    except FileExistsError as error:
        raise InvalidFieldError("output", f"{path} appeared during the export; nothing was replaced") from error
    except OSError:  # a file system without hard links: the check before the export has to do
        if path.exists():
            raise InvalidFieldError("output", f"{path} appeared during the export; nothing was replaced") from None
        os.replace(temporary, path)
        return
    temporary.unlink()


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX; Windows has no directory handles to sync)."""
    if os.name == "nt":
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _option(name: str) -> str:
    return {"start": "from", "end": "to"}[name]
