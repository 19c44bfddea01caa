"""Administration is for admins only: an initiator, an approver and a viewer see no Administration action, its
shortcut opens nothing, and the services refuse the same changes anyway when called for them directly. An
admin sees it, and the shortcut opens it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from ui_loop import drive, until
from window_driver import open_dialog, sign_in, sign_out

from treasury_app.security.credentials import CredentialStore
from treasury_app.security.errors import PermissionDeniedError
from treasury_app.services.approval_policies import ApprovalPolicies
from treasury_app.services.idle_lock import set_idle_lock
from treasury_app.services.provider_administration import ProviderAdministration
from treasury_app.services.workflow_settings import save_workflow_settings
from treasury_app.ui.admin.admin_dialog import AdministrationDialog

VIEWER, VIEWER_PASSWORD = "vera", "vera reads the ledger"


def press_shortcut(qtbot, shell) -> None:
    window = shell.window
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)


def administration_open(shell) -> bool:
    return any(isinstance(d, AdministrationDialog) for d in shell.dialogs.shown)


def refused_changes(shell, acting) -> list:
    ledger = shell.front.ledger
    return [
        lambda: shell.front.accounts.add("mallory", ["admin"], "mallory's long password", acting=acting),
        lambda: shell.front.accounts.set_roles(acting.name, ["admin"], acting=acting),
        lambda: shell.front.accounts.disable("ada", acting=acting),
        lambda: ApprovalPolicies(ledger).set("USDT", acting=acting, approval_threshold="1"),
        lambda: ApprovalPolicies(ledger).set_approval_expiry(1, acting=acting),
        lambda: save_workflow_settings(ledger, acting=acting, fee_tolerance="1"),
        lambda: set_idle_lock(ledger, acting=acting, after=timedelta(hours=8)),
        lambda: ProviderAdministration(ledger, CredentialStore()).set_cryptomus(
            acting=acting, merchant="m", payout_key="never-stored-key", base_url="http://127.0.0.1:9"),
    ]


def test_the_shortcut_is_free_and_opens_administration_for_an_admin(shell, loop, qtbot):
    taken = [a.shortcut() for a in shell.window.findChildren(type(shell.window.administration))
             if a is not shell.window.administration]
    assert QKeySequence("Ctrl+Shift+D") not in taken

    async def story() -> None:
        await sign_in(shell, qtbot, "ada")
        assert shell.window.administration.isVisible() and shell.window.administration.isEnabled()
        press_shortcut(qtbot, shell)
        dialog = await open_dialog(shell, AdministrationDialog)
        assert [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())] == ["Operators", "Policy", "Providers"]

    drive(loop, shell, story)


def test_no_one_but_an_admin_sees_administration_or_opens_it_and_the_services_refuse_them(shell, loop, qtbot):
    ada = shell.front.accounts.authenticate("ada", "ada-demo-desk")
    shell.front.accounts.add(VIEWER, ["viewer"], VIEWER_PASSWORD, acting=ada)
    passwords = {VIEWER: VIEWER_PASSWORD}

    async def story() -> None:
        for name in ("iris", "arno", VIEWER):
            await sign_in(shell, qtbot, name, passwords.get(name))
            assert shell.window.screens.currentWidget() is shell.window.desk, shell.sign_in.error.text()
            action = shell.window.administration
            assert not action.isVisible() and not action.isEnabled(), name
            press_shortcut(qtbot, shell)
            action.trigger()  # as a shortcut or a menu would; a disabled action does nothing
            shell.dialogs.administration()  # and the opening itself asks the roles again
            await until(lambda: not shell.operations.busy, what="the window idle")
            assert not administration_open(shell), f"{name} opened Administration"
            acting = shell.calls.acting
            rows = len(list(shell.front.ledger.audit.rows()))
            for change in refused_changes(shell, acting):
                with pytest.raises(PermissionDeniedError):
                    change()
            assert len(list(shell.front.ledger.audit.rows())) == rows, f"a refused change of {name} was recorded"
            await sign_out(shell, qtbot)

    drive(loop, shell, story)
