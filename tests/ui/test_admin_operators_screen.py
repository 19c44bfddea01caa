"""The Operators tab as an admin uses it: an operator added in the window signs in; disabling asks first, and
the last active admin can be neither disabled nor stripped of the admin role (the service's words shown);
a password reset lifts a lock left by wrong passwords, and says so."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox
from ui_loop import drive, until
from window_driver import click, open_administration, sign_in, sign_out, type_into

from treasury_app.security.errors import AccountLockedError, AuthenticationError
from treasury_app.ui.admin.operator_form import FormKind, OperatorDialog

CAROL_PASSWORD = "carol's first password"


async def open_form(tab, qtbot, button, kind: FormKind) -> OperatorDialog:
    click(qtbot, button)
    return await until(lambda: next((f for f in tab.forms if isinstance(f, OperatorDialog) and f.kind is kind
                                     and f.isVisible()), None), what=f"the {kind.value} form")


async def question(tab) -> QMessageBox:
    return await until(lambda: next((f for f in tab.forms if isinstance(f, QMessageBox) and f.isVisible()), None),
                       what="the question")


def state_of(tab, name: str) -> tuple[str, ...]:
    index = next(i for i, o in enumerate(tab.operators) if o.name == name)
    return tuple(tab.table.item(index, column).text() for column in range(tab.table.columnCount()))


def test_an_operator_added_in_the_window_signs_in_with_the_roles_given(shell, loop, qtbot):
    async def story() -> None:
        await sign_in(shell, qtbot, "ada")
        admin = await open_administration(shell)
        tab = admin.operators
        assert [o.name for o in tab.operators] == ["ada", "arno", "iris"]
        form = await open_form(tab, qtbot, tab.add_button, FormKind.ADD)
        type_into(qtbot, form.name, "carol")
        form.roles["viewer"].setChecked(True)
        type_into(qtbot, form.password, CAROL_PASSWORD)
        type_into(qtbot, form.repeat, CAROL_PASSWORD + "!")
        click(qtbot, form.save)
        assert form.errors["password"].text() == "The two passwords differ; type the same one twice."
        type_into(qtbot, form.repeat, CAROL_PASSWORD)
        click(qtbot, form.save)
        await until(lambda: "carol" in [o.name for o in tab.operators], what="carol in the list")
        assert state_of(tab, "carol") == ("carol", "viewer", "active", "—", "0")
        assert "Operator carol added with roles: viewer" in tab.notice.text()
        assert not form.isVisible() and form.password.text() == ""
        row = shell.front.ledger.audit.last()
        assert (row.operator, row.action, row.subject) == ("ada", "operator.added", "operator:carol")
        admin.close()

        await sign_out(shell, qtbot)
        await sign_in(shell, qtbot, "carol", CAROL_PASSWORD)
        assert shell.window.screens.currentWidget() is shell.window.desk, shell.sign_in.error.text()
        assert not shell.window.new_payout.isVisible() and not shell.window.administration.isVisible()

    drive(loop, shell, story)


def test_disabling_asks_first_and_the_last_admin_is_protected_in_the_service_s_words(shell, loop, qtbot):
    async def story() -> None:
        await sign_in(shell, qtbot, "ada")
        tab = (await open_administration(shell)).operators
        assert tab.select_operator("arno")
        click(qtbot, tab.disable_button)
        box = await question(tab)
        assert box.text() == "Disable arno for good?"
        click(qtbot, box.button(QMessageBox.StandardButton.Cancel))
        await until(lambda: not box.isVisible(), what="the question answered")
        assert shell.front.ledger.operators.get("arno").active  # cancelled: nothing done

        click(qtbot, tab.disable_button)
        box = await question(tab)
        click(qtbot, box.button(QMessageBox.StandardButton.Yes))
        await until(lambda: state_of(tab, "arno")[2] == "disabled", what="arno disabled in the list")
        assert "arno is disabled." in tab.notice.text()
        assert not tab.disable_button.isEnabled() and not tab.roles_button.isEnabled()  # arno is still chosen

        assert tab.select_operator("ada")
        click(qtbot, tab.disable_button)
        box = await question(tab)
        click(qtbot, box.button(QMessageBox.StandardButton.Yes))
        await until(lambda: tab.problem.isVisible(), what="the refusal")
        assert tab.problem.text() == ("Could not disable ada. 'ada' is the last active admin; add another admin "
                                      "before disabling this one.")
        assert shell.front.ledger.operators.get("ada").active

        roles = await open_form(tab, qtbot, tab.roles_button, FormKind.ROLES)
        assert roles.chosen_roles() == ["admin"]
        roles.roles["admin"].setChecked(False)
        roles.roles["approver"].setChecked(True)
        click(qtbot, roles.save)
        await until(lambda: roles.problem.isVisible(), what="the refusal in the roles form")
        assert "last active admin and keeps the admin role" in roles.problem.text()
        assert shell.front.ledger.operators.get("ada").roles == frozenset({"admin"})

    drive(loop, shell, story)


def test_roles_changed_in_the_window_are_audited_before_and_after(shell, loop, qtbot):
    async def story() -> None:
        await sign_in(shell, qtbot, "ada")
        tab = (await open_administration(shell)).operators
        assert tab.select_operator("iris")
        form = await open_form(tab, qtbot, tab.roles_button, FormKind.ROLES)
        form.roles["approver"].setChecked(True)
        click(qtbot, form.save)
        await until(lambda: state_of(tab, "iris")[1] == "approver, initiator", what="iris's new roles")
        row = shell.front.ledger.audit.last()
        assert (row.operator, row.action, row.subject) == ("ada", "operator.roles_changed", "operator:iris")
        assert (list(row.detail["before"]), list(row.detail["after"])) == (["initiator"], ["approver", "initiator"])

    drive(loop, shell, story)


def test_a_password_reset_lifts_a_lock_and_says_so(shell, loop, qtbot):
    for _ in range(5):
        with pytest.raises((AuthenticationError, AccountLockedError)):
            shell.front.accounts.authenticate("iris", "not iris's password")
    with pytest.raises(AccountLockedError):
        shell.front.accounts.authenticate("iris", "iris-demo-desk")

    async def story() -> None:
        await sign_in(shell, qtbot, "ada")
        tab = (await open_administration(shell)).operators
        name, _roles, state, locked_until, failures = state_of(tab, "iris")
        assert (state, failures) == ("active", "5") and locked_until != "—"
        assert tab.select_operator("iris")
        assert tab.unlock_button.isEnabled()
        form = await open_form(tab, qtbot, tab.reset_button, FormKind.PASSWORD)
        assert "also lifts a lock" in form.explanation.text()
        type_into(qtbot, form.password, "iris gets a new one")
        type_into(qtbot, form.repeat, "iris gets a new one")
        click(qtbot, form.save)
        await until(lambda: state_of(tab, "iris")[3:] == ("—", "0"), what="the lock lifted in the list")
        assert "any lock on the account is lifted" in tab.notice.text()
        assert not tab.unlock_button.isEnabled()

        await sign_out(shell, qtbot)
        await sign_in(shell, qtbot, "iris", "iris gets a new one")
        assert shell.window.screens.currentWidget() is shell.window.desk, shell.sign_in.error.text()

    drive(loop, shell, story)


def test_unlock_lifts_a_lock_keeping_the_password(shell, loop, qtbot):
    for _ in range(5):
        with pytest.raises((AuthenticationError, AccountLockedError)):
            shell.front.accounts.authenticate("arno", "not arno's password")

    async def story() -> None:
        await sign_in(shell, qtbot, "ada")
        tab = (await open_administration(shell)).operators
        assert tab.select_operator("arno")
        click(qtbot, tab.unlock_button)
        await until(lambda: state_of(tab, "arno")[3:] == ("—", "0"), what="arno unlocked in the list")
        assert "same password" in tab.notice.text()
        assert shell.front.ledger.audit.last().action == "operator.unlocked"
        await sign_out(shell, qtbot)
        await sign_in(shell, qtbot, "arno")
        assert shell.window.screens.currentWidget() is shell.window.desk, shell.sign_in.error.text()

    drive(loop, shell, story)
