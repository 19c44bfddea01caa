"""The window's asyncio loop: qasync's, driven by Qt, except that a cancelled callback gives its Qt timer back.

qasync starts a Qt timer for every `call_soon`, `call_later` and `call_at`, and kills it only when it fires,
cancelled or not. httpx arms a timeout (5 to 20 s, `HttpSettings`) around every connect, write and read and
cancels it moments later, so a poller round over 2,000 payouts left more than 7,000 dead timers in Qt's list.
Starting and killing a timer walks that list, and Qt's coarse timers fire on whole seconds, so every second a
thousand dead ones fired together and held the GUI thread for 20-30 ms (tests/benchmarks/window.py, perf).
Here a cancelled handle kills its Qt timer at once: Qt's list holds only the callbacks still due.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import qasync
from PySide6.QtCore import QObject, QTimerEvent

__all__ = ["DeskEventLoop"]

log = logging.getLogger(__name__)


class _QtTimerHandle(asyncio.TimerHandle):
    """A `TimerHandle` that knows its Qt timer (cancelling a `TimerHandle` tells its loop)."""

    __slots__ = ("timer_id",)


class _Timers(QObject):
    """What qasync's `_SimpleTimer` does (one Qt timer per callback), plus `forget` for a cancelled one."""

    def __init__(self) -> None:
        super().__init__()
        self._handles: dict[int, _QtTimerHandle] = {}
        self._stopped = False
        self._debug = False
        self.slow_callback_duration = 0.1

    def __len__(self) -> int:
        return len(self._handles)

    def add_callback(self, handle: _QtTimerHandle, delay: float = 0) -> _QtTimerHandle:
        handle.timer_id = self.startTimer(int(max(0.0, delay) * 1000))
        self._handles[handle.timer_id] = handle
        return handle

    def forget(self, handle: _QtTimerHandle) -> None:
        if self._handles.pop(handle.timer_id, None) is not None:
            self.killTimer(handle.timer_id)

    def timerEvent(self, event: QTimerEvent) -> None:  # noqa: N802 - Qt's name
        timer_id = event.timerId()
        self.killTimer(timer_id)  # one shot
        handle = self._handles.pop(timer_id, None)
        if handle is None or handle.cancelled() or self._stopped:
            return
        if not self._debug:
            handle._run()
            return
        began = time.monotonic()
        handle._run()
        if (took := time.monotonic() - began) >= self.slow_callback_duration:
            log.warning("Executing %s took %.3f seconds", handle, took)

    def stop(self) -> None:
        self._stopped = True
        for timer_id in list(self._handles):
            self.killTimer(timer_id)
        self._handles.clear()

    def set_debug(self, enabled: bool) -> None:
        self._debug = enabled


class DeskEventLoop(qasync.QEventLoop):  # type: ignore[misc, valid-type] - qasync builds its class at import
    """`qasync.QEventLoop` whose timers go away when their callback is cancelled (see the module's text)."""

    def __init__(self, app: Any = None) -> None:
        super().__init__(app)
        self._timer = _Timers()

    def call_later(self, delay: float, callback: Any, *args: Any, context: Any = None) -> asyncio.TimerHandle:
        if asyncio.iscoroutinefunction(callback):
            raise TypeError("coroutines cannot be used with call_later")
        if not callable(callback):
            raise TypeError(f"callback must be callable: {type(callback).__name__}")
        handle = _QtTimerHandle(self.time() + delay, callback, args, self, context)
        handle._scheduled = True
        self._timer.add_callback(handle, delay)
        return handle

    def _timer_handle_cancelled(self, handle: asyncio.TimerHandle) -> None:
        if isinstance(handle, _QtTimerHandle) and isinstance(self._timer, _Timers):
            self._timer.forget(handle)

    def live_timers(self) -> int:
        """How many Qt timers the loop holds (callbacks due, not cancelled): for tests and benchmarks."""
        return len(self._timer)
