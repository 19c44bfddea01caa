"""Watches for a person at the desk: every key press, click or wheel turn in any of the app's windows counts,
and `idle` is emitted once when none came for the desk's idle time (`services/idle_lock.py`).

It only says that nobody is there; the shell decides what locking means (it signs the operator out, which
closes the dialogs and puts the sign-in screen over the table). The clock is a parameter so that a test can
move it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

CHECK_EVERY_MS = 1000  # a lock at most a second late; the check itself is a subtraction
ACTIVITY = frozenset({QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick,
                      QEvent.Type.Wheel, QEvent.Type.TouchBegin})


class IdleWatch(QObject):
    idle = Signal()

    def __init__(self, clock: Callable[[], float] = time.monotonic, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.clock = clock
        self._after: float | None = None  # seconds; None: not armed (nobody signed in)
        self._last = clock()
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_EVERY_MS)
        self._timer.timeout.connect(self.check)

    @property
    def armed(self) -> bool:
        return self._after is not None

    def arm(self, after_seconds: float) -> None:
        """Start counting from now (a sign-in is activity)."""
        if self._after is None:
            # Watching costs a Python call for every event of the app (paints, timers, the poller's repaints):
            # only while someone is signed in, never at the start or behind the sign-in screen.
            app = QApplication.instance()
            if app is not None:
                app.installEventFilter(self)
        self._after = after_seconds
        self._last = self.clock()
        self._timer.start()

    def disarm(self) -> None:
        if self._after is not None:
            app = QApplication.instance()
            if app is not None:
                app.removeEventFilter(self)
        self._after = None
        self._timer.stop()

    def check(self) -> None:
        if self._after is not None and self.clock() - self._last >= self._after:
            self.disarm()
            self.idle.emit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 — Qt's name
        if event.type() in ACTIVITY:
            self._last = self.clock()
        return False  # only watching: every event goes on to its widget
