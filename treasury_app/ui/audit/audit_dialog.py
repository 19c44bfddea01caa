"""The Audit trail screen: every recorded action, newest first, filtered by operator, action and period, a page
at a time; and Verify, the chain check of `treasury-app audit verify`, run off the GUI thread with a progress
bar, its verdict in the same words, and the chain head to copy for the auditor. The reads and the check are the
services' (`services.audit_trail`); the screen only asks and shows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from treasury_app.services.audit_trail import AuditChoices, AuditFilter, AuditTrail, Progress, VerifyVerdict
from treasury_app.services.operator_accounts import SignedIn

from .. import theme
from ..operations import Failure, Operations
from ..widgets import button, card, date_edit, field_error, heading, hint, primary_button, row, show_field_error
from .model import AuditTableModel

# What runs the chain check: (progress(done, total) on the check's thread) → the verdict in words.
Verify = Callable[[Progress], Awaitable[VerifyVerdict]]
ANYONE, THE_DESK = "Anyone", "The desk itself (no operator)"
EVERY_ACTION = "Every action"
DEFAULT_PERIOD_DAYS = 30


class AuditDialog(QDialog):
    """Non-modal. `progressed` carries the check's thread's news to the GUI thread."""

    progressed = Signal(int, int)

    def __init__(self, operations: Operations, acting: SignedIn, verify: Verify, *, today: date | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Audit trail")
        self.setObjectName("audit")
        self.resize(1180, 720)
        self._operations = operations
        self._acting = acting
        self._verify = verify
        self.verdict: VerifyVerdict | None = None
        self._asked: AuditFilter | None = None  # the filter last asked of the model
        today = today or datetime.now(UTC).date()

        self.operator = _combo("Operator")
        self.action = _combo("Action")
        self.whole_trail = QCheckBox("Any time")
        self.whole_trail.setChecked(True)
        self.start, self.end = date_edit("From (UTC)"), date_edit("To (UTC)")
        self.start.setDate(_qdate(today - timedelta(days=DEFAULT_PERIOD_DAYS)))
        self.end.setDate(_qdate(today))
        self.period_error = field_error()
        self.model = AuditTableModel(operations, acting, parent=self)
        self.table = _table(self.model)
        self.count = hint("Reading the audit trail…")
        # The chosen row whole: the table's Detail column is cut to its width.
        self.chosen = QLabel()
        self.chosen.setWordWrap(True)
        self.chosen.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.chosen.setAccessibleName("The chosen row")
        self.chosen.setVisible(False)

        self.verify_button = primary_button("Verify the chain", "shield-check")
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Verify progress")
        self.progress.setVisible(False)
        self.result = QLabel("Verify walks the whole chain and checks every payout and approval against it, "
                             "as `treasury-app audit verify` does.")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.head = QLineEdit()
        self.head.setReadOnly(True)  # selectable and copyable, never editable
        self.head.setAccessibleName("Chain head")
        self.head.setPlaceholderText("The chain head (row and hash) appears here once verified")
        self.copy_head = button("Copy chain head", "copy")
        self.copy_head.setEnabled(False)
        close = button("Close")

        filters = _line(QLabel("Operator"), self.operator, QLabel("Action"), self.action, QLabel("Period"),
                        self.whole_trail, QLabel("from"), self.start, QLabel("to"), self.end)
        filters.addStretch(1)
        head = _line(QLabel("Chain head"), self.head, self.copy_head, self.verify_button)
        head.setStretchFactor(self.head, 1)
        verdict = card(self.result, self.progress, head)
        layout = QVBoxLayout(self)
        layout.setSpacing(theme.GAP)
        layout.addWidget(heading("Audit trail"))
        layout.addWidget(hint("Every action on this desk, newest first. Each row is chained to the one before it by "
                              "its hash, so an edited, deleted or reordered row shows when the chain is verified."))
        layout.addLayout(filters)
        layout.addWidget(self.period_error)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count)
        layout.addWidget(self.chosen)
        layout.addWidget(verdict)
        layout.addLayout(row(close))

        self.progressed.connect(self._show_progress, Qt.ConnectionType.QueuedConnection)
        self.verify_button.clicked.connect(self.start_verify)
        self.copy_head.clicked.connect(self._copy_head)
        close.clicked.connect(self.close)
        self.model.query_read.connect(self._show_count)
        self.table.selectionModel().currentRowChanged.connect(lambda current, _previous: self._show_chosen())
        self.model.modelReset.connect(self._show_chosen)
        for combo in (self.operator, self.action):
            combo.currentIndexChanged.connect(lambda _=0: self.apply_filter())
        for edit in (self.start, self.end):
            edit.dateChanged.connect(lambda _=None: self.apply_filter())
        self.whole_trail.toggled.connect(self._period_toggled)
        self._period_toggled(True)
        self._load_choices()

    # --- the table ------------------------------------------------------------------------------------------

    def current_filter(self) -> AuditFilter | None:
        """The filter the controls say; None (with the reason shown) when the period ends before it starts."""
        since = until = None
        if not self.whole_trail.isChecked():
            start, end = _day(self.start.date()), _day(self.end.date())
            if end < start:
                show_field_error(self.period_error, "The period ends before it starts: choose a later To date.")
                return None
            since = datetime.combine(start, time(0), tzinfo=UTC)
            until = datetime.combine(end + timedelta(days=1), time(0), tzinfo=UTC)  # the To day included
        show_field_error(self.period_error, None)
        return AuditFilter(operator=self.operator.currentData(), action=self.action.currentData(),
                           since=since, until=until)

    def apply_filter(self) -> None:
        chosen = self.current_filter()
        if chosen is None or chosen == self._asked:
            return
        self._asked = chosen
        self.count.setText("Reading the audit trail…")
        self.model.set_query(chosen)

    def _load_choices(self) -> None:
        acting = self._acting
        self._operations.run_in_worker("read the audit trail's operators and actions",
                                       lambda desk: AuditTrail(desk.ledger).choices(acting),
                                       on_done=self._fill_choices)

    def _fill_choices(self, choices: AuditChoices) -> None:
        for combo in (self.operator, self.action):
            combo.blockSignals(True)  # one query once both are filled, not one per item
        self.operator.addItem(ANYONE, None)
        self.operator.addItem(THE_DESK, "")
        for name in choices.operators:
            self.operator.addItem(name, name)
        self.action.addItem(EVERY_ACTION, None)
        for action in choices.actions:
            self.action.addItem(action, action)
        for combo in (self.operator, self.action):
            combo.blockSignals(False)
        self.apply_filter()

    def _period_toggled(self, whole: bool) -> None:
        self.start.setEnabled(not whole)
        self.end.setEnabled(not whole)
        if self._asked is not None:  # not before the choices are in: the first query waits for them
            self.apply_filter()

    def _show_count(self) -> None:
        count = self.model.rowCount()
        self.count.setText("No audit rows match these filters." if count == 0 else
                           f"{count:,} audit row{'s' if count != 1 else ''} match, newest first.")

    def _show_chosen(self) -> None:
        current = self.table.selectionModel().currentIndex()
        entry = self.model.entry_at(current.row()) if current.isValid() else None
        self.chosen.setVisible(entry is not None)
        if entry is not None:
            who = entry.operator or "the desk itself"
            self.chosen.setText(f"Row {entry.seq}, {entry.at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC, by {who}: "
                                f"{entry.action} {entry.subject or ''} — {entry.detail or 'no detail'}")

    # --- verify ---------------------------------------------------------------------------------------------

    def start_verify(self) -> None:
        self.verify_button.setEnabled(False)
        self.copy_head.setEnabled(False)
        self.progress.setRange(0, 0)  # busy until the check says how many rows it walks
        self.progress.setVisible(True)
        self.result.setText("Verifying the chain…")
        self.head.clear()
        emit = self.progressed.emit  # called on the check's thread; the queued signal brings it here
        self._operations.run("verify the audit trail", lambda: self._verify(emit), on_done=self._verified,
                             on_error=self._verify_failed)

    def _show_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(done)

    def _verified(self, verdict: VerifyVerdict) -> None:
        self.verdict = verdict
        self.progress.setVisible(False)
        self.verify_button.setEnabled(True)
        if verdict.intact:
            self.result.setText(f"The audit trail is intact: {verdict.summary.removeprefix('audit trail intact: ')}. "
                                "Note the chain head somewhere safe: a later verify must reach it or go past it.")
            self.result.setProperty("role", None)
        else:
            words = [f"The audit trail is broken: {verdict.problem_count} problem(s).",
                     f"First broken: {verdict.first_problem}"]
            if verdict.stored_row is not None:
                words.append(f"The row as stored: {verdict.stored_row}")
            words += [f"Also: {problem}" for problem in verdict.also[:3]]
            if len(verdict.also) > 3 or verdict.more:
                words.append(f"… and {len(verdict.also) - 3 + verdict.more} more "
                             "(`treasury-app audit verify` lists them).")
            self.result.setText("\n".join(words))
            self.result.setProperty("role", "field-error")
        self.result.style().unpolish(self.result)
        self.result.style().polish(self.result)
        # A broken chain's last row is no head to write down (`audit verify` prints none then): nothing to copy.
        head = verdict.head_text if verdict.intact else None
        self.head.setText(head or "")
        self.head.setPlaceholderText("No chain head to note: the chain is broken" if not verdict.intact else
                                     "The chain is empty: nothing recorded yet")
        self.head.setCursorPosition(0)
        self.copy_head.setEnabled(head is not None)

    def _verify_failed(self, failure: Failure) -> bool:
        self.progress.setVisible(False)
        self.verify_button.setEnabled(True)
        self.result.setText(f"Could not verify the audit trail. {failure.message}")
        return failure.expected  # a bug still goes to the window's error box (and the log)

    def _copy_head(self) -> None:
        QGuiApplication.clipboard().setText(self.head.text())


def _table(model: AuditTableModel) -> QTableView:
    table = QTableView()
    table.setObjectName("audit-table")
    table.setAccessibleName("Audit trail")
    table.setTabKeyNavigation(False)  # Tab leaves the table; the arrows move along the trail
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    table.verticalHeader().setVisible(False)
    header = table.horizontalHeader()
    for column, width in ((AuditTableModel.Column.SEQ, 60), (AuditTableModel.Column.TIME, 150),
                          (AuditTableModel.Column.OPERATOR, 100), (AuditTableModel.Column.ACTION, 210),
                          (AuditTableModel.Column.SUBJECT, 110)):
        table.setColumnWidth(column, width)
    header.setSectionResizeMode(AuditTableModel.Column.DETAIL, QHeaderView.ResizeMode.Stretch)
    return table


def _line(*widgets: QWidget) -> QHBoxLayout:
    layout = QHBoxLayout()
    layout.setSpacing(theme.GAP)
    for widget in widgets:
        layout.addWidget(widget)
    return layout


def _combo(name: str) -> QComboBox:
    combo = QComboBox()
    combo.setAccessibleName(name)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    return combo



def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _day(day: QDate) -> date:
    return date(day.year(), day.month(), day.day())
