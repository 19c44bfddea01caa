"""The window while the team ledger's server cannot be reached: a bar across the top saying what happened,
what it means for the work on the screen, and that the desk is reconnecting by itself, and the status bar in
the error colour. No close button: it goes when the server answers again (`services/desk_session.py` hears both
from the ledger's change feed, whose "everything changed" then re-reads what the window shows). Nothing on the
screen is closed meanwhile: a half-written payout stays in its dialog."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from . import theme

if TYPE_CHECKING:
    from treasury_app.services.ledger_outage import LedgerReachability

    from .main_window import DeskWindow
    from .operations import Failure

log = logging.getLogger(__name__)

TITLE = "The team ledger cannot be reached"


def lost_words(reachability: LedgerReachability) -> str:
    return (f"The server {reachability.where} is not answering. Nothing can be saved, approved or sent until it "
            "is back. What you have open stays open: finish it when this message goes. The desk reconnects by "
            "itself.")


class LedgerLostBanner(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ledger-lost")
        self.setAccessibleName("Team ledger connection")
        self.icon = QLabel()
        self.title = QLabel(TITLE)
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.title.setFont(font)
        self.text = QLabel()
        self.text.setAccessibleName("Team ledger connection problem")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        words = QVBoxLayout()
        words.setSpacing(2)
        words.addWidget(self.title)
        words.addWidget(self.text)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(theme.MARGIN, theme.GAP, theme.MARGIN, theme.GAP)
        layout.setSpacing(theme.MARGIN)
        layout.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(words, 1)
        self.setVisible(False)

    def show_reachability(self, reachability: LedgerReachability) -> None:
        if reachability.reachable:
            self.text.clear()
            self.setVisible(False)
            return
        colour = theme.tone(theme.ERROR_COLOUR).name()
        self.icon.setPixmap(theme.icon("wifi-off", colour).pixmap(32, 32))
        self.title.setStyleSheet(f"color: {colour};")
        self.text.setText(lost_words(reachability))
        self.setToolTip(f"What the server said: {reachability.problem}" if reachability.problem else "")
        self.setStyleSheet(f"#ledger-lost {{ border: 2px solid {colour}; border-radius: 4px; "
                           f"margin: {theme.GAP}px {theme.MARGIN}px 0 {theme.MARGIN}px; }}")
        self.setVisible(True)


class LedgerWatch:
    """The banner (above the notices: nothing else works meanwhile) and the status bar, told by `show`."""

    def __init__(self, window: DeskWindow, where: str) -> None:
        self.banner = LedgerLostBanner()
        window.add_notice_bar(self.banner)
        self._status = window.status
        self._where = where
        self.lost = False

    def show(self, reachability: LedgerReachability) -> None:
        self.lost = not reachability.reachable
        self.banner.show_reachability(reachability)
        if reachability.reachable:
            self._status.show_ledger(self._where, team=True)
        else:
            self._status.show_ledger_lost(reachability.where, reachability.problem)

    def says_already(self, failure: Failure) -> bool:
        """Whether the banner already says why `failure` happened (the server is away), so that no box need:
        a box for every read the window makes meanwhile would bury the screen. A dialog that shows its own
        errors (a form's Estimate) still says it there."""
        if self.lost and failure.ledger_away:
            log.info("not done while the team ledger is away: %s", failure.doing)
            return True
        return False
