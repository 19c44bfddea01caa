"""Desktop notifications of the desk's news (services/desk_news.py decides who is told what): in the system
tray where the platform has one, and always in a bar across the top of the window, which stays until it is
read (a tray message vanishes after seconds; a failed payout must not).

The words name the payout, its amount with its currency and where it went, and what to do next.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSystemTrayIcon, QToolButton, QWidget

from treasury_app.identity import APP_TITLE
from treasury_app.services.desk_news import Notice, NoticeKind

from . import theme
from .texts import amount_text, short_address
from .widgets import button

TRAY_SECONDS = 8


def notice_words(notice: Notice) -> tuple[str, str]:
    """(title, text) of a notice."""
    payout = notice.payout
    if notice.kind is NoticeKind.SUMMARY or payout is None:
        return _summary_words(notice.counts, notice.while_away)
    sent = f"{amount_text(payout.amount, payout.currency, payout.network)} to {short_address(payout.address)}"
    if notice.kind is NoticeKind.COMPLETED:
        return f"Payout {payout.id} completed", f"{sent} has been paid."
    if notice.kind is NoticeKind.FAILED:
        why = f": {payout.failure_reason}" if payout.failure_reason else ""
        verb = "was cancelled by the provider" if payout.status == "cancelled" else "failed"
        return f"Payout {payout.id} {verb}", f"{sent} was not paid{why}."
    if notice.kind is NoticeKind.UNKNOWN:
        return (f"Payout {payout.id} needs attention",
                f"It is not known yet whether {sent} left. The desk keeps asking the provider; do not send it again.")
    return f"Payout {payout.id} waits for your approval", f"{sent}, composed by {payout.created_by}."


def _summary_words(counts: Mapping[NoticeKind, int], while_away: bool) -> tuple[str, str]:
    parts = []
    for kind, one, many in ((NoticeKind.COMPLETED, "payout completed", "payouts completed"),
                            (NoticeKind.FAILED, "payout failed", "payouts failed"),
                            (NoticeKind.UNKNOWN, "payout needs attention", "payouts need attention"),
                            (NoticeKind.WAITING, "payout waits for your approval", "payouts wait for your approval")):
        if (count := counts.get(kind, 0)):
            parts.append(f"{count} {one if count == 1 else many}")
    text = ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1] + "." if parts else ""
    return ("While you were away" if while_away else "Several payouts changed"), text


class NoticeBar(QFrame):
    """The latest notice across the top of the window: its words, "Show" (the payout, or the payouts that
    need attention), and a close button. `show_requested(Notice)` when "Show" is pressed."""

    show_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("notice-bar")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName("Notification")
        self.icon = QLabel()
        self.title = QLabel()
        self.title.setAccessibleName("Notification title")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.text = QLabel()
        self.text.setAccessibleName("Notification text")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.show_button = button("Show")
        self.show_button.setAccessibleName("Show what the notification is about")
        self.show_button.clicked.connect(lambda: self._notice and self.show_requested.emit(self._notice))
        self.close_button = QToolButton()
        self.close_button.setIcon(theme.icon("x"))
        self.close_button.setAccessibleName("Dismiss the notification")
        self.close_button.setToolTip("Dismiss")
        self.close_button.clicked.connect(self.dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(theme.MARGIN, theme.GAP, theme.GAP, theme.GAP)
        layout.setSpacing(theme.GAP)
        layout.addWidget(self.icon)
        layout.addWidget(self.title)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.show_button)
        layout.addWidget(self.close_button)
        self._notice: Notice | None = None
        self.setVisible(False)

    @property
    def notice(self) -> Notice | None:
        return self._notice

    def present(self, notice: Notice) -> None:
        title, text = notice_words(notice)
        self._notice = notice
        colour = _colour(notice)
        self.icon.setPixmap(theme.icon(_icon_name(notice), theme.tone(colour).name()).pixmap(theme.ICON_SIZE))
        self.title.setText(title)
        self.text.setText(text)
        self.setStyleSheet(f"#notice-bar {{ border: 1px solid {theme.tone(colour).name()}; border-radius: 4px; "
                           f"margin: {theme.GAP}px {theme.MARGIN}px 0 {theme.MARGIN}px; }}")
        self.setVisible(True)

    def dismiss(self) -> None:
        """Gone, words and all (at sign-out too: amounts and addresses are not left on a locked screen)."""
        self._notice = None
        self.title.clear()
        self.text.clear()
        self.setVisible(False)


class Notifier:
    """Shows each notice in the bar, and in the tray too when there is one."""

    def __init__(self, bar: NoticeBar, window_icon: QIcon, parent: QWidget) -> None:
        self.bar = bar
        self.tray: QSystemTrayIcon | None = None
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(window_icon, parent)
            self.tray.setToolTip(APP_TITLE)
            self.tray.messageClicked.connect(self._tray_clicked)
            self.tray.show()
        self.shown: list[Notice] = []  # every notice shown, newest last (for tests and a later history)

    def notify(self, notices: tuple[Notice, ...]) -> None:
        for notice in notices:
            self.shown.append(notice)
            self.bar.present(notice)
            if self.tray is not None:
                title, text = notice_words(notice)
                kind = QSystemTrayIcon.MessageIcon.Warning if notice.needs_attention else \
                    QSystemTrayIcon.MessageIcon.Information
                self.tray.showMessage(title, text, kind, TRAY_SECONDS * 1000)

    def clear(self) -> None:
        self.bar.dismiss()

    def _tray_clicked(self) -> None:
        window = self.bar.window()
        window.showNormal()
        window.raise_()
        window.activateWindow()
        if self.bar.notice is not None:
            self.bar.show_requested.emit(self.bar.notice)


def _colour(notice: Notice) -> tuple[str, str]:
    if notice.needs_attention:
        failed = notice.kind is NoticeKind.FAILED or notice.counts.get(NoticeKind.FAILED)
        return theme.ERROR_COLOUR if failed else theme.WARNING_COLOUR
    return theme.OK_COLOUR if notice.kind is NoticeKind.COMPLETED else theme.WARNING_COLOUR


def _icon_name(notice: Notice) -> str:
    return {NoticeKind.COMPLETED: "circle-check-big", NoticeKind.FAILED: "circle-x", NoticeKind.UNKNOWN: "circle-help",
            NoticeKind.WAITING: "hourglass"}.get(notice.kind, "inbox")
