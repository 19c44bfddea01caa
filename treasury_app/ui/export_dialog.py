"""The export dialog: a CSV report of the payouts (or their summary) with the table's filter as its start, a
progress bar and Cancel while it is written, and the file with its SHA-256 (as the audit trail has it) when done.
The report itself is the services' (`services.reports`): the dialog only builds the request and shows what
became of it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, time
from pathlib import Path

from PySide6.QtCore import QDate, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from treasury_app.domain.assets import currencies
from treasury_app.domain.errors import InvalidFieldError
from treasury_app.services.reports import PeriodBasis, ReportKind, ReportRequest, ReportWritten

from . import theme
from .operations import Failure, Operations
from .payouts.filters import STATUS_GROUPS, FilterChoice, status_choice
from .widgets import button, date_edit, field_error, heading, hint, primary_button, row, show_field_error

# What runs the export: (request, target, replace, progress(done, total), cancelled()) → what was written.
Export = Callable[[ReportRequest, Path, bool, Callable[[int, int], None], Callable[[], bool]],
                  Awaitable[ReportWritten]]
DELIMITER_CHOICES = (("Comma ( , )", ","), ("Semicolon ( ; ), for decimal-comma locales", ";"),
                     ("Tab", "\t"), ("Vertical bar ( | )", "|"))
KIND_CHOICES = (("Payouts: a row per payout", ReportKind.PAYOUTS),
                ("Summary: totals per currency, provider and status", ReportKind.SUMMARY))
BASIS_CHOICES = (("when composed", PeriodBasis.CREATED), ("when final (completed, failed…)", PeriodBasis.FINAL))


class ExportDialog(QDialog):
    """Non-modal. `progressed` carries the export thread's news to the GUI thread."""

    progressed = Signal(int, int)

    def __init__(self, operations: Operations, export: Export, *, providers: Sequence[tuple[str, str]],
                 choice: FilterChoice, today: date | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export a report")
        self.setObjectName("export")
        self.resize(620, 560)
        self._operations = operations
        self._export = export
        self._cancel = threading.Event()
        self._task: asyncio.Task[object] | None = None
        self.written: ReportWritten | None = None
        today = today or datetime.now().astimezone().date()

        self.kind = _combo("Report", KIND_CHOICES)
        self.basis = _combo("Period by", BASIS_CHOICES)
        self.whole_ledger = QCheckBox("Every payout, whatever its date")
        self.start, self.end = date_edit("From (UTC)"), date_edit("To (UTC)")
        self.period_words = hint("")
        self.period_error = field_error()
        self.status = QComboBox()
        self.status.setAccessibleName("Status")
        for number, (label, _statuses) in enumerate(STATUS_GROUPS):
            self.status.addItem(label, number)
        self.provider = _combo("Provider", (("All providers", None), *((title, name) for name, title in providers)))
        self.currency = _combo("Currency", (("All currencies", None), *((code, code) for code in currencies())))
        self.operator = QLineEdit()
        self.operator.setAccessibleName("Initiated by")
        self.operator.setPlaceholderText("Anyone (or an operator's name)")
        self.delimiter = _combo("Between cells", DELIMITER_CHOICES)
        self.bom = QCheckBox("Add the byte-order mark Excel needs to read UTF-8")
        self.file = QLineEdit()
        self.file.setAccessibleName("File")
        self.choose_file = button("Choose…")
        self.file_error = field_error()
        self.error = field_error()
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Export progress")
        self.progress.setVisible(False)
        self.outcome = QLabel()
        self.outcome.setWordWrap(True)
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.outcome.setVisible(False)
        self.open_folder = button("Open the folder", "folder-open")
        self.open_folder.setVisible(False)
        self.export_button = primary_button("Export", "file-down")
        self.close_button = button("Close")

        form = QFormLayout()
        form.setSpacing(theme.GAP)
        form.addRow("Report", self.kind)
        form.addRow("Period", self.whole_ledger)
        form.addRow("", row(QLabel("from"), self.start, QLabel("to"), self.end, QLabel("by time"), self.basis))
        form.addRow("", self.period_words)
        form.addRow("", self.period_error)
        form.addRow("Status", self.status)
        form.addRow("Provider", self.provider)
        form.addRow("Currency", self.currency)
        form.addRow("Initiated by", self.operator)
        form.addRow("Between cells", self.delimiter)
        form.addRow("", self.bom)
        file_row = QHBoxLayout()
        file_row.setSpacing(theme.GAP)
        file_row.addWidget(self.file, 1)  # the whole path in sight: which file is written must be unmistakable
        file_row.addWidget(self.choose_file)
        form.addRow("File", file_row)
        form.addRow("", self.file_error)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(theme.MARGIN, theme.MARGIN, theme.MARGIN, theme.MARGIN)
        layout.setSpacing(theme.GAP)
        layout.addWidget(heading("Export a report"))
        layout.addWidget(hint("Amounts exactly as the ledger holds them; cells a spreadsheet would run as a formula "
                              "are made text. The file is written whole or not at all, and the export is recorded "
                              "in the audit trail with the file's SHA-256."))
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.progress)
        layout.addWidget(self.outcome)
        layout.addStretch(1)
        layout.addLayout(row(self.open_folder, QWidget(), self.close_button, self.export_button, stretch_first=False))

        self._choose(choice, today)
        for widget in (self.kind, self.basis, self.start, self.end, self.whole_ledger):
            signal = widget.toggled if isinstance(widget, QCheckBox) else (
                widget.currentIndexChanged if isinstance(widget, QComboBox) else widget.dateChanged)
            signal.connect(self._period_changed)
        self.choose_file.clicked.connect(self._pick_file)
        self.export_button.clicked.connect(self.start_export)
        self.close_button.clicked.connect(self._close_or_cancel)
        self.open_folder.clicked.connect(self._open_folder)
        self.progressed.connect(self._show_progress)
        self._period_changed()

    # --- the request ---------------------------------------------------------------------------------------

    def request(self) -> ReportRequest:
        """What the form says; `InvalidFieldError` naming the field when the services refuse it."""
        start = end = None
        if not self.whole_ledger.isChecked():
            start, end = _utc_midnight(self.start.date()), _utc_midnight(self.end.date())
        return ReportRequest(kind=self._kind(), basis=self._basis(), start=start, end=end,
                             statuses=STATUS_GROUPS[max(0, self.status.currentIndex())][1],
                             provider=self.provider.currentData(), currency=self.currency.currentData(),
                             operator=self.operator.text().strip() or None, delimiter=self.delimiter.currentData(),
                             bom=self.bom.isChecked())

    def _kind(self) -> ReportKind:
        return ReportKind(self.kind.currentData())  # Qt hands a StrEnum back as its text

    def _basis(self) -> PeriodBasis:
        return PeriodBasis(self.basis.currentData())

    def target(self) -> Path | None:
        text = self.file.text().strip()
        return Path(text).expanduser() if text else None

    def _ask_to_replace(self, path: Path, then: Callable[[], None]) -> None:
        """Ask whether `path` may be replaced; `then()` on yes. Window-modal, and no nested event loop: the
        answer comes through the box's `finished` signal while the window's loop runs on."""
        box = QMessageBox(QMessageBox.Icon.Question, "Replace the file?", f"{path.name} exists in {path.parent}.",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setObjectName("replace-question")
        box.setInformativeText("Replace it with this report? The file there now is lost.")
        box.setDefaultButton(QMessageBox.StandardButton.No)

        def answered(result: int) -> None:
            box.deleteLater()
            if result == QMessageBox.StandardButton.Yes:
                then()
            else:
                show_field_error(self.file_error, "Nothing was written: choose another file, or say yes to "
                                                  "replace it.")

        box.finished.connect(answered)
        box.open()

    # --- running -------------------------------------------------------------------------------------------

    def start_export(self) -> None:
        for label in (self.period_error, self.file_error, self.error):
            show_field_error(label, None)
        try:
            request = self.request()
        except InvalidFieldError as refused:
            self._show_refusal(refused)
            return
        target = self.target()
        if target is None:
            show_field_error(self.file_error, "Choose the file to write.")
            return
        if target.exists() and not target.is_dir():
            self._ask_to_replace(target, lambda: self._run(request, target, replace=True))
            return
        self._run(request, target, replace=False)

    def _run(self, request: ReportRequest, target: Path, *, replace: bool) -> None:
        self._cancel.clear()
        self._running(True)
        self._task = self._operations.run(
            "export the report",
            lambda: self._export(request, target, replace, self._progress_from_thread, self._cancel.is_set),
            on_done=self._done, on_error=self._failed)

    def cancel_export(self) -> None:
        self._cancel.set()
        self.progress.setFormat("Cancelling…")

    def _progress_from_thread(self, done: int, total: int) -> None:
        self.progressed.emit(done, total)  # queued to the GUI thread: the dialog lives there

    def _show_progress(self, done: int, total: int) -> None:
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"{done:,} of {total:,} payouts written")

    def _done(self, written: object) -> None:
        assert isinstance(written, ReportWritten)
        self.written = written
        self._running(False)
        what = "payouts" if self._kind() is ReportKind.PAYOUTS else "summary rows"
        self.outcome.setText(f"<b>Written:</b> {written.rows:,} {what} to {written.path}<br>"
                             f"{written.size:,} bytes · SHA-256 <tt>{written.sha256}</tt><br>"
                             "The export is in the audit trail with this hash.")
        self.outcome.setVisible(True)
        self.open_folder.setVisible(True)

    def _failed(self, failure: Failure) -> bool:
        self._running(False)
        if isinstance(failure.error, InvalidFieldError):
            self._show_refusal(failure.error)
        else:
            show_field_error(self.error, failure.message)
        return True

    def _running(self, running: bool) -> None:
        self.progress.setVisible(running)
        if running:
            self.progress.setRange(0, 0)  # until the count is in
            self.progress.setFormat("Counting the payouts…")
            self.outcome.setVisible(False)
            self.open_folder.setVisible(False)
        self.export_button.setEnabled(not running)
        self.close_button.setText("Cancel" if running else "Close")

    def _close_or_cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self.cancel_export()
        else:
            self.close()

    def _show_refusal(self, refused: InvalidFieldError) -> None:
        where = {"from": self.period_error, "to": self.period_error, "output": self.file_error}
        show_field_error(where.get(refused.field, self.error), _sentence(refused.message, refused.field))

    # --- the form ------------------------------------------------------------------------------------------

    def _choose(self, choice: FilterChoice, today: date) -> None:
        self.status.setCurrentIndex(status_choice(choice.statuses))
        self.provider.setCurrentIndex(max(0, self.provider.findData(choice.provider)))
        self.currency.setCurrentIndex(max(0, self.currency.findData(choice.currency)))
        self.basis.setCurrentIndex(max(0, self.basis.findData((PeriodBasis.FINAL if choice.by_final_time
                                                               else PeriodBasis.CREATED).value)))
        days = choice.period_days
        self.whole_ledger.setChecked(days is None)
        first = today if days is None else date.fromordinal(today.toordinal() - days)
        self.start.setDate(QDate(first.year, first.month, first.day))
        after = date.fromordinal(today.toordinal() + 1)
        self.end.setDate(QDate(after.year, after.month, after.day))
        self.file.setText(str(_default_folder() / self.file_name()))

    def _period_changed(self) -> None:
        whole = self.whole_ledger.isChecked()
        for widget in (self.start, self.end):
            widget.setEnabled(not whole)
        basis = "composed" if self._basis() is PeriodBasis.CREATED else "that reached their final status"
        if whole:
            self.period_words.setText("All payouts in the ledger (filtered as below).")
        else:
            start, end = _utc_midnight(self.start.date()), _utc_midnight(self.end.date())
            self.period_words.setText(f"Payouts {basis} from {start:%d %b %Y} 00:00 UTC up to, not including, "
                                      f"{end:%d %b %Y} 00:00 UTC.")
        name = self.target().name if self.target() else ""
        if name.startswith(("payouts-", "summary-")):  # still the name the dialog made: follow the choice
            self.file.setText(str((self.target() or Path()).with_name(self.file_name())))

    def file_name(self) -> str:
        kind = self._kind().value
        if self.whole_ledger.isChecked():
            return f"{kind}-all-{datetime.now(UTC):%Y-%m-%d}.csv"
        return f"{kind}-{self.start.date().toString('yyyy-MM-dd')}-to-{self.end.date().toString('yyyy-MM-dd')}.csv"

    def _pick_file(self) -> None:
        chosen, _ = QFileDialog.getSaveFileName(self, "Export to", self.file.text(), "CSV files (*.csv)",
                                                options=QFileDialog.Option.DontConfirmOverwrite)
        if chosen:  # the dialog asks about an existing file itself, at export time
            self.file.setText(chosen)

    def _open_folder(self) -> None:
        if self.written is not None and self.written.path is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.written.path.parent)))

    def closeEvent(self, event) -> None:  # noqa: N802 — Qt's name
        self._cancel.set()  # closing the dialog never leaves an export writing behind it
        super().closeEvent(event)


def _combo(name: str, choices: Sequence[tuple[str, object]]) -> QComboBox:
    combo = QComboBox()
    combo.setAccessibleName(name)
    for label, data in choices:
        combo.addItem(label, data)
    return combo



def _utc_midnight(day: QDate) -> datetime:
    return datetime.combine(date(day.year(), day.month(), day.day()), time(0), tzinfo=UTC)


def _default_folder() -> Path:
    documents = Path.home() / "Documents"
    return documents if documents.is_dir() else Path.home()


def _sentence(message: str, field: str) -> str:
    text = message
    named = {"to": "To", "from": "From", "output": "The file", "delimiter": "The delimiter"}.get(field, "")
    text = f"{named} {text}" if named and not text[:1].isupper() else text
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
