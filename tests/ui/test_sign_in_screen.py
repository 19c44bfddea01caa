"""The sign-in screen says what the services say: a wrong password, then the lockout with its time; switching
operator empties the form for the next person."""

from __future__ import annotations

from ui_loop import drive, until
from window_driver import click, on_dashboard, sign_in, type_into


def test_wrong_passwords_are_said_then_the_lockout_with_its_time(shell, loop, qtbot):
    async def story() -> None:
        screen = shell.sign_in
        messages = []
        for _ in range(8):
            await sign_in(shell, qtbot, "iris", "not-her-password")
            messages.append(screen.error.text())
            if "locked until" in messages[-1]:
                break
        assert "wrong" in messages[0].lower(), messages[0]
        assert "locked until" in messages[-1], messages
        assert shell.window.screens.currentWidget() is screen  # never in
        assert screen.password.text() == ""  # a refused password is not left in the field
        # The right password is refused too while the lock holds: a guess cannot tell right from wrong.
        await sign_in(shell, qtbot, "iris")
        assert "locked until" in screen.error.text()

    drive(loop, shell, story)


def test_switch_operator_empties_the_form_and_sign_out_keeps_the_name(shell, loop, qtbot):
    async def story() -> None:
        await sign_in(shell, qtbot, "arno")
        shell.window.sign_out.trigger()
        await until(lambda: shell.window.screens.currentWidget() is shell.sign_in)
        assert shell.sign_in.operator.text() == "arno" and shell.sign_in.password.text() == ""
        type_into(qtbot, shell.sign_in.password, "arno-demo-desk")
        click(qtbot, shell.sign_in.submit)
        await until(lambda: on_dashboard(shell), what="the dashboard, the first screen after sign-in")
        shell.window.switch_operator.trigger()
        await until(lambda: shell.window.screens.currentWidget() is shell.sign_in)
        assert shell.sign_in.operator.text() == "" and shell.window.status.operator.text() == "Not signed in"

    drive(loop, shell, story)
