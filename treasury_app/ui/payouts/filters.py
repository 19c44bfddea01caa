"""The filter bar above the payouts table: status, provider, currency, period (of composing, or of reaching the
final status) and free text.

It only says what a person chose (`filter_changed` with the services' filter value); the ledger query does
the filtering. Periods are the person's local days, handed over as exact moments with their time zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from treasury_app.domain.assets import currencies
from treasury_app.domain.errors import InvalidFieldError
from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.services.local_days import period_bounds
from treasury_app.services.payout_table import PayoutFilter

from .. import theme
from ..widgets import field_error, show_field_error

S = PayoutStatus
# Status choices: each status alone, and the groups a treasury clerk asks for.
STATUS_GROUPS: tuple[tuple[str, tuple[PayoutStatus, ...]], ...] = (
    ("All statuses", ()),
    ("Needs attention (unknown, failed)", (S.UNKNOWN, S.FAILED)),
    ("In flight", (S.SUBMITTING, S.PROCESSING, S.UNKNOWN)),
    ("Being paid (submitting, processing)", (S.SUBMITTING, S.PROCESSING)),
    ("Not sent yet", (S.DRAFT, S.ESTIMATED, S.AWAITING_APPROVAL, S.APPROVED)),
    *((theme.status_label(status), (status,)) for status in PayoutStatus),
)
PERIODS: tuple[tuple[str, int | None], ...] = (
    ("All time", None), ("Today", 0), ("Last 7 days", 6), ("Last 30 days", 29), ("Last 90 days", 89),
)
SEARCH_DELAY_MS = 250  # typing pauses this long before the table asks the ledger


@dataclass(frozen=True)
class FilterChoice:
    """What the bar shows, for callers that pre-fill it (a dashboard count, a report)."""

    statuses: tuple[PayoutStatus, ...] = ()
    provider: str | None = None
    currency: str | None = None
    period_days: int | None = None
    text: str = ""
    by_final_time: bool = False  # the period is when payouts reached their final status, not when composed


class FilterBar(QWidget):
    """Emits `filter_changed(PayoutFilter)` whenever the choice changes (the text after a short pause)."""

    filter_changed = Signal(object)

    def __init__(self, providers: Sequence[tuple[str, str]], parent: QWidget | None = None) -> None:
        """`providers`: (name, title) of each provider the desk pays through."""
        super().__init__(parent)
        self.status = QComboBox()
        self.status.setAccessibleName("Status filter")
        # As wide as a usual choice, not the longest group's words (the list shows them whole): the bar fits the
        # 800-pixel screen with the period's "composed / finished" beside it.
        self.status.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.status.setMinimumContentsLength(15)
        # The choice's number, not its statuses: Qt hands a tuple back as a list, which findData never matches.
        for number, (label, _statuses) in enumerate(STATUS_GROUPS):
            self.status.addItem(label, number)
        self.provider = QComboBox()
        self.provider.setAccessibleName("Provider filter")
        self.provider.addItem("All providers", None)
        for name, title in providers:
            self.provider.addItem(title, name)
        self.currency = QComboBox()
        self.currency.setAccessibleName("Currency filter")
        self.currency.addItem("All currencies", None)
        for code in currencies():
            self.currency.addItem(code, code)
        self.period = QComboBox()
        self.period.setAccessibleName("Period filter")
        for label, days in PERIODS:
            self.period.addItem(label, days)
        self.period_basis = QComboBox()
        self.period_basis.setAccessibleName("Period of")
        self.period_basis.setToolTip("Whether the period is when payouts were composed, or when they reached "
                                     "their final status (completed, failed, cancelled, rejected)")
        self.period_basis.addItem("by composing", False)  # "Today by composing", "Last 7 days by final status"
        self.period_basis.addItem("by final status", True)
        self.search = QLineEdit()
        self.search.setAccessibleName("Search payouts")
        self.search.setPlaceholderText("Search address, reference, key, provider id, tx hash  (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        magnifier = self.search.addAction(theme.icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        magnifier.setText("Search")  # what a screen reader says for the icon
        magnifier.triggered.connect(self._announce)
        self.error = field_error()

        self._typing = QTimer(self)
        self._typing.setSingleShot(True)
        self._typing.setInterval(SEARCH_DELAY_MS)
        self._typing.timeout.connect(self._announce)
        self.search.textChanged.connect(lambda _: self._typing.start())
        self.search.returnPressed.connect(self._announce)
        for combo in (self.status, self.provider, self.currency, self.period, self.period_basis):
            combo.currentIndexChanged.connect(self._announce)
        self.period.currentIndexChanged.connect(self._period_chosen)

        bar = QHBoxLayout()
        bar.setSpacing(theme.GAP)
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(QLabel("Show"))
        for widget in (self.status, self.provider, self.currency, self.period, self.period_basis):
            bar.addWidget(widget)
        bar.addWidget(self.search, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(theme.GAP_SMALL)
        layout.addLayout(bar)
        layout.addWidget(self.error)
        self._last: PayoutFilter | None = None
        self._period_chosen()

    def current_filter(self) -> PayoutFilter:
        """The filter for what the bar shows; `InvalidFieldError` when the search text is not searchable."""
        start, end = period_bounds(self.period.currentData(), datetime.now().astimezone())
        by_final_time = bool(self.period_basis.currentData())
        return PayoutFilter(statuses=STATUS_GROUPS[max(0, self.status.currentIndex())][1], provider=self.provider.currentData(),
                            currency=self.currency.currentData(),
                            created_from=None if by_final_time else start, created_to=None if by_final_time else end,
                            finished_from=start if by_final_time else None, finished_to=end if by_final_time else None,
                            text=self.search.text() or None)

    def current_choice(self) -> FilterChoice:
        """What the bar shows, as a choice another screen can start from (the export dialog)."""
        return FilterChoice(statuses=STATUS_GROUPS[max(0, self.status.currentIndex())][1],
                            provider=self.provider.currentData(), currency=self.currency.currentData(),
                            period_days=self.period.currentData(), text=self.search.text(),
                            by_final_time=bool(self.period_basis.currentData()))

    def choose(self, choice: FilterChoice, *, announce: bool = True) -> None:
        """Show `choice` (one announcement for the whole change; none with `announce=False`, for a caller that
        asks the ledger itself, and then a search text the ledger cannot take is shown as "All")."""
        self._typing.stop()
        combos = (self.status, self.provider, self.currency, self.period, self.period_basis)
        for combo in combos:
            combo.blockSignals(True)
        self.search.blockSignals(True)
        try:
            self.status.setCurrentIndex(status_choice(choice.statuses))
            self.provider.setCurrentIndex(max(0, self.provider.findData(choice.provider)))
            self.currency.setCurrentIndex(max(0, self.currency.findData(choice.currency)))
            self.period.setCurrentIndex(max(0, self.period.findData(choice.period_days)))
            self.period_basis.setCurrentIndex(1 if choice.by_final_time else 0)
            self._period_chosen()
            self.search.setText(choice.text)
        finally:
            for combo in combos:
                combo.blockSignals(False)
            self.search.blockSignals(False)
        if announce:
            self._announce()
            return
        try:
            self._last = self.current_filter()
        except InvalidFieldError:
            self.search.clear()
            self._last = self.current_filter()

    def _period_chosen(self) -> None:
        # "All time" is the same whichever moment it is of.
        self.period_basis.setEnabled(self.period.currentData() is not None)

    def _announce(self) -> None:
        self._typing.stop()
        try:
            chosen = self.current_filter()
        except InvalidFieldError as error:
            show_field_error(self.error, f"Search {error.message}.")
            return
        show_field_error(self.error, None)
        if chosen != self._last:
            self._last = chosen
            self.filter_changed.emit(chosen)


def status_choice(statuses: tuple[PayoutStatus, ...]) -> int:
    """The status combo's entry for these statuses (in any order); "All statuses" when none matches."""
    wanted = set(statuses)
    return next((number for number, (_, group) in enumerate(STATUS_GROUPS) if set(group) == wanted), 0)
