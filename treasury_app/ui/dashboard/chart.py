"""The dashboard's chart: one bar a day of one currency's completed payouts, painted with QPainter.

Painted rather than QtCharts: QtCharts comes only with PySide6's add-ons (a second, much larger wheel) and
adds start time; a bar a day needs a few dozen lines (the figures are in the README, "Dashboard"). The
amounts stay `Decimal` until the very moment a bar's height is worked out, and a bar's tooltip says the exact
amount, fee and count.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QHelpEvent, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from .. import theme
from .figures_text import currency_amount

if TYPE_CHECKING:
    from treasury_app.services.dashboard import CurrencyVolume

AXIS_WIDTH = 96  # room for the largest day's amount at the left
LABEL_HEIGHT = 22  # room for the dates under the bars


class VolumeChart(QWidget):
    """`show_volume(volume)` paints it; None: nothing completed in the period (the chart says so)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Daily payout volume chart")
        self.setMinimumHeight(160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.volume: CurrencyVolume | None = None

    def show_volume(self, volume: CurrencyVolume | None) -> None:
        self.volume = volume
        if volume is None:
            self.setAccessibleDescription("No completed payouts in this period.")
        else:
            self.setAccessibleDescription(
                f"{volume.currency}: {currency_amount(volume.amount, volume.currency)} paid in "
                f"{volume.payouts} payouts over {len(volume.days)} days, fees "
                f"{currency_amount(volume.fee, volume.currency)}.")
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 — Qt's name
        return QSize(640, 220)

    def bar_rect(self, index: int) -> QRect:
        """Where day `index`'s column lies (the whole height of the plot: a tooltip for a day of zero too)."""
        plot = self._plot()
        count = len(self.volume.days) if self.volume else 1
        step = plot.width() / max(count, 1)
        return QRect(int(plot.left() + index * step), plot.top(), max(int(step), 1), plot.height())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.Text)
        plot = self._plot()
        volume = self.volume
        if volume is None or not volume.payouts:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No completed payouts in this period.")
            return
        highest = max(day.amount for day in volume.days)
        painter.setPen(palette.color(QPalette.ColorRole.Mid))
        painter.drawLine(plot.bottomLeft(), plot.bottomRight())
        painter.drawLine(plot.topLeft(), plot.bottomLeft())
        painter.setPen(text)
        painter.drawText(QRect(0, plot.top() - 8, AXIS_WIDTH - 6, 16),
                         Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                         currency_amount(highest, volume.currency, short=True))
        painter.drawText(QRect(0, plot.bottom() - 8, AXIS_WIDTH - 6, 16),
                         Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, "0")
        bar_colour = theme.tone(theme.OK_COLOUR)
        every = max(1, len(volume.days) // 6)  # a date under every few bars: never crowded
        for index, day in enumerate(volume.days):
            column = self.bar_rect(index)
            if day.amount:
                # Float only here, for the pixel height: a bar's height is a picture of the amount, never the
                # amount itself (the tooltip and the table below say it exactly, from the Decimal).
                share = float(day.amount / highest) if highest else 0.0
                height = max(1, round(share * plot.height()))
                painter.fillRect(column.left() + 1, plot.bottom() - height, max(column.width() - 2, 1), height,
                                 bar_colour)
            if index % every == 0 or index == len(volume.days) - 1:
                painter.setPen(text)
                painter.drawText(QRect(column.center().x() - 30, plot.bottom() + 4, 60, LABEL_HEIGHT - 4),
                                 Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                                 day.day.strftime("%d %b"))

    def event(self, event: object) -> bool:
        if isinstance(event, QHelpEvent) and event.type() == QHelpEvent.Type.ToolTip:
            self._tooltip_at(event.pos(), event.globalPos())
            return True
        return super().event(event)

    def tooltip_of(self, index: int) -> str:
        """The exact figures of day `index`."""
        assert self.volume is not None
        day = self.volume.days[index]
        currency = self.volume.currency
        return (f"{day.day:%A %d %b %Y}: {currency_amount(day.amount, currency)} paid in {day.payouts} "
                f"payout{'s' if day.payouts != 1 else ''}; fees {currency_amount(day.fee, currency)}")

    def _tooltip_at(self, position: QPoint, global_position: QPoint) -> None:
        if self.volume is None:
            QToolTip.hideText()
            return
        for index in range(len(self.volume.days)):
            if self.bar_rect(index).contains(position):
                QToolTip.showText(global_position, self.tooltip_of(index), self)
                return
        QToolTip.hideText()

    def _plot(self) -> QRect:
        return self.rect().adjusted(AXIS_WIDTH, 10, -theme.GAP, -LABEL_HEIGHT)
