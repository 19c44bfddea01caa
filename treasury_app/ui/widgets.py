"""Small widgets every screen uses the same way: the primary button, a field with its error below it,
a card, the SANDBOX badge, a hint line. Kept here so that screens look alike and say things alike."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDateEdit,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLayout,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from . import theme


def primary_button(text: str, icon_name: str | None = None, parent: QWidget | None = None) -> QPushButton:
    """The one button of a screen that does what the screen is for; Enter presses it."""
    button = QPushButton(text, parent)
    button.setProperty("primary", True)
    button.setDefault(True)
    button.setAutoDefault(True)
    if icon_name:
        button.setIcon(theme.icon(icon_name, "#ffffff"))
    return button


def button(text: str, icon_name: str | None = None, parent: QWidget | None = None) -> QPushButton:
    result = QPushButton(text, parent)
    result.setAutoDefault(False)
    if icon_name:
        result.setIcon(theme.icon(icon_name))
    return result


def field_error() -> QLabel:
    """The line under a field that says what is wrong with it; empty (and taking no room) when nothing is."""
    label = QLabel()
    label.setProperty("role", "field-error")
    label.setWordWrap(True)
    label.setVisible(False)
    return label


def show_field_error(label: QLabel, message: str | None) -> None:
    label.setText(message or "")
    label.setVisible(bool(message))
    label.setAccessibleDescription(message or "")


def hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setProperty("role", "hint")
    label.setWordWrap(True)
    return label


def heading(text: str, scale: float = 1.35) -> QLabel:
    label = QLabel(text)
    label.setFont(theme.heading_font(label.font(), scale=scale))
    label.setAccessibleName(text)
    return label


def sandbox_badge(text: str = "SANDBOX") -> QLabel:
    """Says that no real money moves: on every screen that shows providers while any of them is the sandbox."""
    badge = QLabel(text)
    badge.setProperty("role", "sandbox-badge")
    badge.setToolTip("Providers without a profile run on the local sandbox: nothing you do here moves real money.")
    badge.setAccessibleName("Sandbox: no real money moves")
    badge.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
    return badge


def card(*children: QWidget | QLayout, spacing: int = theme.GAP) -> QFrame:
    frame = QFrame()
    frame.setProperty("role", "card")
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(theme.MARGIN + 4, theme.MARGIN, theme.MARGIN + 4, theme.MARGIN)
    layout.setSpacing(spacing)
    for child in children:
        if isinstance(child, QLayout):
            layout.addLayout(child)
        else:
            layout.addWidget(child)
    return frame


def row(*children: QWidget, stretch_first: bool = False, spacing: int = theme.GAP) -> QHBoxLayout:
    layout = QHBoxLayout()
    layout.setSpacing(spacing)
    if not stretch_first:
        layout.addStretch(1)
    for child in children:
        layout.addWidget(child)
    if stretch_first:
        layout.insertStretch(1, 1)
    return layout


def centred(content: QWidget, width: int = 420) -> QWidget:
    """A screen whose content is a column of fixed width in the middle (sign-in, first run)."""
    holder = QWidget()
    outer = QVBoxLayout(holder)
    outer.addStretch(1)
    middle = QHBoxLayout()
    middle.addStretch(1)
    content.setFixedWidth(width)
    middle.addWidget(content)
    middle.addStretch(1)
    outer.addLayout(middle)
    outer.addStretch(2)
    outer.setAlignment(Qt.AlignmentFlag.AlignCenter)
    return holder


def date_edit(name: str) -> QDateEdit:
    """A date field with a calendar, in ISO order (no locale's day/month guessing on a financial screen)."""
    edit = QDateEdit()
    edit.setAccessibleName(name)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    return edit


def stacked(*widgets: QWidget) -> QWidget:
    """Widgets one under the other with no margin: a field with its hint and its error line below it."""
    holder = QWidget()
    layout = QVBoxLayout(holder)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    for widget in widgets:
        layout.addWidget(widget)
    return holder


def record_table(columns: Sequence[str], name: str, *, stretch: int) -> QTableWidget:
    """A read-only table of records, one chosen at a time (the Address book's entries, the operators); the
    column `stretch` takes the width left."""
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(list(columns))
    table.setAccessibleName(name)
    table.setTabKeyNavigation(False)  # Tab leaves the table (the arrows choose the row): keyboard alone
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    header = table.horizontalHeader()
    header.setAccessibleName(f"{name}: columns")
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return table


def question(parent: QWidget, title: str, text: str, consequence: str, name: str) -> QMessageBox:
    """Yes or Cancel (Cancel the default) before something that cannot be undone; open it with `open()`,
    never `exec()`: the window's loop stays single."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text,
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, parent)
    box.setInformativeText(consequence)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.setObjectName(name)
    return box


class ElidedLabel(QLabel):
    """Plain text that gives way to its neighbours: cut with "…" when there is no room, so that a long line (the
    poller's) never makes the window wider than the screen."""

    def minimumSizeHint(self) -> QSize:  # noqa: N802 — Qt's name
        hint = super().minimumSizeHint()
        return QSize(min(hint.width(), self.fontMetrics().horizontalAdvance("M") * 8), hint.height())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 — Qt's name
        rect = self.contentsRect()
        shown = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        painter = QPainter(self)
        self.style().drawItemText(painter, rect, int(self.alignment() | Qt.AlignmentFlag.AlignVCenter),
                                  self.palette(), self.isEnabled(), shown, QPalette.ColorRole.WindowText)
        painter.end()
