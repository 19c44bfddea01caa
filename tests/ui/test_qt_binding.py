"""The Qt binding the window runs on keeps Python's objects alive: PySide6 6.12.0's `emit` gave back True
without owning a reference, and Python 3.11 aborted after some thousands of signals (pyproject excludes it)."""

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    plain = Signal()
    with_value = Signal(int)


def test_emitting_signals_leaves_the_reference_count_of_true_unchanged(qapp):
    emitter = _Emitter()
    seen: list[int] = []
    emitter.with_value.connect(seen.append)
    before = sys.getrefcount(True)
    for n in range(200):
        emitter.plain.emit()
        emitter.with_value.emit(n)
    after = sys.getrefcount(True)  # before any assert: pytest's rewritten asserts hold a True of their own
    assert len(seen) == 200
    assert after == before
