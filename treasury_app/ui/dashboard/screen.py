"""The Dashboard screen: counts that are buttons into the payouts behind them, the providers' balances with when
they were read, whether each provider answers, and the chart of daily volume with its fees.

It shows what it is given (`show_figures`, `show_balances`, `show_reachability`) and says what the person
chose (`count_chosen`, `balances_wanted`, `chart_days_chosen`); `DashboardFeed` reads the services for it.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QGridLayout,
    QHeaderView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.services.dashboard import CHART_DAYS, DashboardCounts, DeskFigures, EstimateNews, ProviderBalances
from treasury_app.services.provider_status import ProviderStatus, Reachability

from .. import theme
from ..texts import local_time
from ..widgets import button, card, heading, hint
from .chart import VolumeChart
from .figures_text import age_text, currency_amount

# (name, what the button says, tooltip): the names are `DashboardCounts` fields.
COUNTS = (
    ("waiting_for_me", "waiting for my approval", "Open the Approvals queue: the payouts you may decide"),
    ("waiting_for_others", "waiting for others' approval",
     "Open the Approvals queue: payouts waiting for someone else's decision (your own, or when you are no approver)"),
    ("being_paid", "being paid", "Sent to the provider, not final yet (sending, processing): show them"),
    ("unknown", "unknown — needs attention", "Sent, outcome not known: the desk reconciles them by their "
                                              "idempotency key; show them"),
    ("completed_today", "completed today", "Payouts that completed today (local day): show them"),
    ("failed_this_week", "failed in the last 7 days", "Payouts that failed today or in the six days before: show them"),
)
TOTAL_COLUMNS = ("Currency", "Payouts", "Paid", "Fees")


class DashboardScreen(QWidget):
    """`count_chosen(name)` when a count is pressed; `balances_wanted()` for a fresh read of the balances;
    `chart_days_chosen(days)` when 30 or 90 days are chosen."""

    count_chosen = Signal(str)
    balances_wanted = Signal()
    chart_days_chosen = Signal(int)

    def __init__(self, provider_titles: Mapping[str, str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dashboard")
        self._titles = dict(provider_titles)
        self.figures: DeskFigures | None = None
        self._balances: tuple[ProviderBalances, ...] = ()
        self._estimates: tuple[EstimateNews, ...] = ()

        self.updated = hint("Reading the ledger…")
        self.updated.setWordWrap(False)
        self.days_note = hint(_days_note())
        self.counts: dict[str, CountButton] = {}
        grid = QGridLayout()
        grid.setSpacing(theme.GAP)
        for number, (name, words, tip) in enumerate(COUNTS):
            count = CountButton(words, tip)
            count.clicked.connect(lambda _=False, chosen=name: self.count_chosen.emit(chosen))
            self.counts[name] = count
            grid.addWidget(count, number // 3, number % 3)
        self.attention = QLabel()
        self.attention.setWordWrap(True)
        self.attention.setVisible(False)
        self.attention.setAccessibleName("Needs attention")

        self.balances = QLabel("Not read yet.")
        self.balances.setTextFormat(Qt.TextFormat.RichText)
        self.balances.setWordWrap(True)
        self.balances.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.balances.setAccessibleName("Balances")
        self.refresh_balances = button("Refresh balances", "refresh-cw")
        self.refresh_balances.setAccessibleName("Refresh balances")
        self.refresh_balances.setToolTip("Ask the providers for their balances now")
        self.refresh_balances.clicked.connect(self.balances_wanted.emit)
        self.reachability = QLabel("Not asked yet.")
        self.reachability.setTextFormat(Qt.TextFormat.RichText)
        self.reachability.setWordWrap(True)
        self.reachability.setAccessibleName("Provider reachability")

        self.currency = QComboBox()
        self.currency.setAccessibleName("Chart currency")
        self.currency.currentIndexChanged.connect(lambda _: self._show_chart())
        self.period = QButtonGroup(self)
        period_row = QHBoxLayout()
        period_row.addWidget(QLabel("Completed per day, in"))
        period_row.addWidget(self.currency)
        period_row.addStretch(1)
        for days in CHART_DAYS:
            choice = QRadioButton(f"last {days} days")
            choice.setAccessibleName(f"Chart of the last {days} days")
            choice.setChecked(days == CHART_DAYS[0])
            self.period.addButton(choice, days)
            period_row.addWidget(choice)
        self.period.idClicked.connect(self.chart_days_chosen.emit)
        self.chart = VolumeChart()
        self.totals = QTableWidget(0, len(TOTAL_COLUMNS))
        self.totals.setAccessibleName("Totals per currency")
        self.totals.setTabKeyNavigation(False)  # Tab leaves the table: the keyboard alone reaches every control
        self.totals.setHorizontalHeaderLabels(TOTAL_COLUMNS)
        self.totals.horizontalHeader().setAccessibleName("Totals per currency: columns")
        self.totals.verticalHeader().setVisible(False)
        self.totals.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.totals.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.totals.setMaximumHeight(150)
        self.totals_note = hint("")

        side = QHBoxLayout()
        side.setSpacing(theme.GAP)
        side.addWidget(card(heading("Balances", 1.1), self.balances, _left(self.refresh_balances)), 3)
        providers = card(heading("Providers", 1.1), self.reachability)
        providers.layout().addStretch(1)
        side.addWidget(providers, 2)
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(theme.MARGIN, theme.MARGIN, theme.MARGIN, theme.MARGIN)
        layout.setSpacing(theme.GAP_LARGE)
        layout.addWidget(card(_title_row(heading("Dashboard"), self.updated), self.days_note, grid, self.attention))
        layout.addLayout(side)
        layout.addWidget(card(period_row, self.chart, self.totals, self.totals_note))
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(content)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

    @property
    def chart_days(self) -> int:
        return self.period.checkedId()

    # --- what it is given ------------------------------------------------------------------------------------

    def forget(self) -> None:
        """Back to "not read yet" (a new operator signed in: the counts "for me" were the last one's)."""
        self.figures = None
        for count in self.counts.values():
            count.show_count(None)
        self.attention.setVisible(False)
        self.counts["unknown"].setStyleSheet("")
        self.updated.setText("Reading the ledger…")
        self._balances, self._estimates = (), ()
        self.balances.setText("Reading…")

    def show_figures(self, figures: DeskFigures) -> None:
        self.figures = figures
        counts = figures.counts
        for name, _words, _tip in COUNTS:
            self.counts[name].show_count(getattr(counts, name))
        self._show_attention(counts)
        self.updated.setText(f"As of {local_time(figures.read_at, seconds=True)}")
        chosen = self.currency.currentData()
        self.currency.blockSignals(True)
        self.currency.clear()
        for volume in sorted(figures.volume.currencies, key=lambda v: -v.payouts):
            self.currency.addItem(volume.currency, volume.currency)
        self.currency.setCurrentIndex(max(0, self.currency.findData(chosen)))
        self.currency.blockSignals(False)
        self.period.button(len(figures.volume.days)).setChecked(True)
        self._show_chart()
        self._show_totals()
        self._show_estimates(figures.estimates)

    def show_balances(self, read: Sequence[ProviderBalances]) -> None:
        self._balances = tuple(read)
        self._render_balances()

    def show_reachability(self, statuses: Sequence[ProviderStatus]) -> None:
        lines = []
        for status in statuses:
            title = html.escape(self._titles.get(status.name, status.name))
            colour = {Reachability.ANSWERING: theme.OK_COLOUR, Reachability.UNREACHABLE: theme.ERROR_COLOUR,
                      Reachability.BUSY: theme.WARNING_COLOUR}.get(status.reachability)
            state = html.escape(str(status.reachability))
            if colour is not None:
                state = f"<span style='color:{theme.tone(colour).name()}'><b>{state}</b></span>"
            asked = (f" — last asked {local_time(status.last_asked_at, seconds=True)}" if status.last_asked_at
                     else " since the desk opened")
            problem = f"<br>{html.escape(status.problem)}" if status.problem else ""
            lines.append(f"<b>{title}</b>: {state}{asked}{problem}")
        self.reachability.setText("<br>".join(lines) or "No provider is connected.")

    # --- drawing -----------------------------------------------------------------------------------------------

    def _show_attention(self, counts: DashboardCounts) -> None:
        unknown = self.counts["unknown"]
        alarming = counts.unknown > 0
        colour = theme.status_colour(PayoutStatus.UNKNOWN) if alarming else None
        unknown.setStyleSheet(f"QPushButton {{ border: 2px solid {colour.name()}; }} QLabel {{ color: "
                              f"{colour.name()}; font-weight: bold; }}" if colour else "")
        self.attention.setVisible(alarming)
        if alarming:
            self.attention.setText(
                f"<span style='color:{colour.name()}'><b>{counts.unknown:,} payout"
                f"{'s' if counts.unknown != 1 else ''} with an unknown outcome.</b></span> They were sent, and "
                "the desk could not learn what became of them; it asks the provider by their idempotency key and "
                "never sends them blindly again. Press the count to see them.")

    def _show_chart(self) -> None:
        figures = self.figures
        chosen = self.currency.currentData()
        volume = next((v for v in figures.volume.currencies if v.currency == chosen), None) if figures else None
        self.chart.show_volume(volume)

    def _show_totals(self) -> None:
        assert self.figures is not None
        currencies = self.figures.volume.currencies
        self.totals.setRowCount(len(currencies))
        for row_number, volume in enumerate(currencies):
            cells = (volume.currency, f"{volume.payouts:,}", currency_amount(volume.amount, volume.currency),
                     currency_amount(volume.fee, volume.currency))
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.totals.setItem(row_number, column, item)
        days = len(self.figures.volume.days)
        self.totals_note.setText(
            f"Completed payouts of the last {days} local days, by the day each completed; each currency on its "
            "own (amounts of different currencies are never added). Fees: what the provider reported, or, where "
            "it reported none, the fee it estimated before the payout was sent."
            if currencies else f"No payout completed in the last {days} days.")

    def _show_estimates(self, estimates: Sequence[EstimateNews]) -> None:
        self._estimates = tuple(estimates)
        self._render_balances()

    def _render_balances(self) -> None:
        lines = []
        for provider in self._balances:
            title = html.escape(self._titles.get(provider.provider, provider.provider))
            when = local_time(provider.read_at, seconds=True)
            if provider.problem:
                error = theme.tone(theme.ERROR_COLOUR).name()
                lines.append(f"<b>{title}</b>: <span style='color:{error}'>could not be read at {when}: "
                             f"{html.escape(provider.problem)}</span>")
            elif provider.note:
                lines.append(f"<b>{title}</b>: {html.escape(provider.note)}")
                lines += [_estimate_line(news) for news in self._estimates if news.provider == provider.provider]
            else:
                amounts = ", ".join(currency_amount(b.amount, b.currency) for b in provider.balances) or "none held"
                lines.append(f"<b>{title}</b> (read {when}): {html.escape(amounts)}")
        self.balances.setText("<br>".join(lines) or "Not read yet.")


class CountButton(QPushButton):
    """A count as a button: the number large, what it counts under it; a screen reader hears both."""

    def __init__(self, words: str, tip: str) -> None:
        super().__init__()
        self._words = words
        self.setToolTip(tip)
        self.setAutoDefault(False)
        self.setMinimumHeight(72)
        self.number = QLabel("…")
        self.number.setFont(theme.heading_font(self.font(), scale=1.8))
        self.caption = QLabel(words)
        layout = QVBoxLayout(self)
        layout.setSpacing(0)
        for label in (self.number, self.caption):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)  # the button takes the click
            layout.addWidget(label)
        self.setAccessibleName(words.capitalize())

    @property
    def count(self) -> int | None:
        text = self.number.text().replace(",", "")
        return int(text) if text.isdigit() else None

    def show_count(self, count: int | None) -> None:
        """None: not read yet."""
        self.number.setText("…" if count is None else f"{count:,}")
        self.setAccessibleName(self._words.capitalize() if count is None else f"{count:,} {self._words}")


def _estimate_line(news: EstimateNews) -> str:
    said = "; ".join(news.warnings)
    if said:
        warning = theme.tone(theme.WARNING_COLOUR).name()
        text = f"<span style='color:{warning}'>⚠ {html.escape(said)}</span>"
    else:
        text = "no low-balance warning"
    return (f"&nbsp;&nbsp;{html.escape(news.currency)} · {html.escape(news.network)}: {text} "
            f"(latest estimate, payout {news.payout_id}, {age_text(news.age)})")


def _days_note() -> str:
    zone = datetime.now().astimezone().tzname() or "local time"
    return f"Days are local days ({zone}), from midnight to midnight."


def _title_row(title: QLabel, beside: QLabel) -> QHBoxLayout:
    layout = QHBoxLayout()
    layout.addWidget(title)
    layout.addStretch(1)
    layout.addWidget(beside)
    return layout


def _left(widget: QWidget) -> QHBoxLayout:
    layout = QHBoxLayout()
    layout.addWidget(widget)
    layout.addStretch(1)
    return layout
