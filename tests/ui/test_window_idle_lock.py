"""The idle lock in the real window, on a clock the test moves: after the desk's idle time without a key press
or a click, the table, the detail and every dialog are gone behind the sign-in screen (nothing of an amount or
an address left on screen), the poller runs on, and the same operator signs in again to find their dialogs as
they left them, or another operator signs in and finds them closed."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from shiboken6 import isValid
from ui_loop import drive, until
from window_driver import compose, on_dashboard, sign_in

from treasury_app.ui.compose.compose_dialog import ComposeDialog


class MovedClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def signed_in_on_a_moved_clock(shell, qtbot, name: str = "iris") -> MovedClock:
    clock = MovedClock()
    shell.idle_watch.clock = clock
    await sign_in(shell, qtbot, name)
    await until(lambda: shell.idle_watch.armed, what="the idle lock armed")
    return clock


def locked(shell) -> bool:
    return shell.window.screens.currentWidget() is shell.sign_in and shell.sign_in.notice.isVisible()


def test_ten_idle_minutes_put_the_sign_in_screen_over_everything_and_the_same_operator_comes_back(
        shell, loop, qtbot):
    async def story() -> None:
        clock = await signed_in_on_a_moved_clock(shell, qtbot)
        dialog = await compose(shell, qtbot, amount="12.5")
        assert dialog.isVisible()
        clock.now += 599
        shell.idle_watch.check()
        assert not locked(shell) and dialog.isVisible()
        clock.now += 2
        await until(lambda: locked(shell), what="the window locked")
        assert "Locked after 10 minutes without use" in shell.sign_in.notice.text()
        assert not shell.window.table.isVisible() and not shell.window.detail.isVisible()
        assert not any(isinstance(d, ComposeDialog) and d.isVisible() for d in shell.dialogs.shown)
        assert not shell.window.new_payout.isEnabled()  # its shortcut opens nothing behind the lock
        assert shell.sign_in.operator.text() == "iris"
        assert shell._poller_task is not None and not shell._poller_task.done()  # the poller runs on
        await sign_in(shell, qtbot, "iris", to_table=False)
        assert shell.window.table.isVisible() and not shell.sign_in.notice.isVisible()  # the page left: the table
        assert dialog.isVisible() and dialog.amount.text() == "12.5"  # the half-written form, back as it was

    drive(loop, shell, story)


def test_a_key_press_or_a_click_starts_the_count_again(shell, loop, qtbot):
    async def story() -> None:
        clock = await signed_in_on_a_moved_clock(shell, qtbot)
        clock.now += 500
        QTest.keyClick(shell.window.table, Qt.Key.Key_Down)
        clock.now += 500
        shell.idle_watch.check()
        assert not locked(shell)
        QTest.mouseClick(shell.window.table.viewport(), Qt.MouseButton.LeftButton)
        clock.now += 599
        shell.idle_watch.check()
        assert not locked(shell)
        clock.now += 1
        shell.idle_watch.check()
        assert locked(shell)

    drive(loop, shell, story)


def test_another_operator_may_sign_in_at_the_lock(shell, loop, qtbot):
    async def story() -> None:
        clock = await signed_in_on_a_moved_clock(shell, qtbot)
        dialog = await compose(shell, qtbot, amount="12.5")
        clock.now += 600
        shell.idle_watch.check()
        assert locked(shell) and not dialog.isVisible()
        shell.sign_in.operator.clear()
        await sign_in(shell, qtbot, "arno", to_table=False)
        assert on_dashboard(shell)  # another operator starts where everyone starts, not on iris's page
        assert shell.calls is not None and shell.calls.acting.name == "arno"
        assert "arno" in shell.window.status.operator.text()
        assert dialog not in shell.dialogs.shown  # iris's form is not arno's to use: ended, nothing sent from it
        await until(lambda: not isValid(dialog), what="iris's hidden form deleted")

    drive(loop, shell, story)


def test_the_watch_sees_events_only_while_someone_is_signed_in(qapp):
    """Its filter is a Python call for every event of the app: off at the start and behind the sign-in screen."""
    from PySide6.QtCore import QEvent

    from treasury_app.ui.idle_watch import IdleWatch

    clock = MovedClock()
    watch = IdleWatch(clock)
    seen: list[int] = []
    original = watch.eventFilter

    def counting(watched, event):
        seen.append(int(event.type()))
        return original(watched, event)

    watch.eventFilter = counting
    qapp.sendEvent(qapp, QEvent(QEvent.Type.User))
    assert seen == []
    watch.arm(600)
    qapp.sendEvent(qapp, QEvent(QEvent.Type.User))
    assert seen
    watch.disarm()
    seen.clear()
    qapp.sendEvent(qapp, QEvent(QEvent.Type.User))
    assert seen == []
