"""The Providers tab with the real keyring: a secret typed in the window ends in the Secret Service (a private
D-Bus and gnome-keyring-daemon, as the keyring test starts them) and nowhere else — not in any file of the data
folder (the SQLite files and the log included), not in any widget's text once saved; "Check connection" then
shows what `provider check` shows. A keyring that cannot be used gets the command line's message, and nothing
is saved."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import SecretService, fail
from PySide6.QtWidgets import QAbstractButton, QLabel, QLineEdit, QWidget
from secret_service_bus import secret_service  # noqa: F401 — the fixture
from ui_loop import drive, until
from window_driver import click, open_administration, sign_in, type_into

from treasury_app.sandbox import DEFAULT_CRYPTOMUS_MERCHANT, DEFAULT_CRYPTOMUS_PAYOUT_KEY
from treasury_app.security.credentials import CredentialStore

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Secret Service is Linux's keyring")


@pytest.fixture
def chosen_keyring() -> Iterator:
    """Select a keyring backend for this process as keyring's own `set_keyring` does; the previous one after."""
    before = keyring.get_keyring()
    yield keyring.set_keyring
    keyring.set_keyring(before)


@pytest.fixture
def log_file(demo_folder: Path) -> Iterator[Path]:
    """Every log record of the test, at every level, in a file of the data folder (as a desk's log would be)."""
    path = demo_folder / "treasury-desk.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield path
    root.removeHandler(handler)
    root.setLevel(level)
    handler.close()


def texts_of(root: QWidget) -> list[str]:
    """Every text a widget under `root` shows or says: contents, tooltips, accessible names."""
    found = []
    for widget in [root, *root.findChildren(QWidget)]:
        if isinstance(widget, QLineEdit | QLabel | QAbstractButton):
            found.append(widget.text())
        found += [widget.toolTip(), widget.accessibleName(), widget.accessibleDescription(), widget.windowTitle()]
    return found


def files_holding(folder: Path, secret: str) -> list[str]:
    return [str(path) for path in folder.rglob("*") if path.is_file() and secret.encode() in path.read_bytes()]


def test_a_secret_typed_in_the_window_is_in_the_secret_service_and_nowhere_else(
        shell, loop, qtbot, sandbox, demo_folder, log_file, secret_service, chosen_keyring):  # noqa: F811
    chosen_keyring(secret_service)
    secret = DEFAULT_CRYPTOMUS_PAYOUT_KEY  # the sandbox's: the check below must be accepted

    async def story() -> None:
        await sign_in(shell, qtbot, "ada")
        admin = await open_administration(shell)
        admin.show_tab(admin.providers)
        form = admin.providers.forms["cryptomus"]
        assert "No profile" in form.state.text() and not form.check_button.isEnabled()
        assert form.secret.echoMode() is QLineEdit.EchoMode.Password
        type_into(qtbot, form.inputs["base_url"], sandbox.base_url)
        type_into(qtbot, form.inputs["merchant"], DEFAULT_CRYPTOMUS_MERCHANT)
        type_into(qtbot, form.secret, secret)
        click(qtbot, form.save)
        await until(lambda: "Saved" in form.result.text() or form.problem.isVisible(), what="the profile saved")
        assert not form.problem.isVisible(), form.problem.text()
        assert form.secret.text() == ""
        assert "stored in the OS keyring" in form.state.text() and "next start" in form.result.text()
        stored = shell.front.ledger.settings.get("provider.cryptomus")
        assert stored["merchant"] == DEFAULT_CRYPTOMUS_MERCHANT
        # In the daemon, read back through a fresh backend object: not a copy held by this process.
        assert CredentialStore(SecretService.Keyring()).read("cryptomus", stored["credential_id"]) == secret
        row = shell.front.ledger.audit.last()
        assert (row.operator, row.action, row.subject) == ("ada", "provider.set", "provider:cryptomus")

        click(qtbot, form.check_button)
        await until(lambda: "Reachable:" in form.result.text() or "Could not" in form.result.text(),
                    what="the connection checked")
        shown = form.result.text()
        assert "Reachable:    yes" in shown and "Credentials:  accepted" in shown, shown
        assert "USDT       25000" in shown and "[SANDBOX]" in shown
        await until(lambda: not shell.operations.busy, what="the window idle")

        for text in texts_of(shell.window) + texts_of(admin):
            assert secret not in text
        logging.getLogger().handlers[-1].flush()
        assert log_file.stat().st_size > 0  # the test's log is written where the search looks
        assert files_holding(demo_folder, secret) == []
        assert files_holding(demo_folder, DEFAULT_CRYPTOMUS_MERCHANT)  # the search does find what is there

    drive(loop, shell, story)


def test_a_keyring_that_cannot_be_used_is_said_as_on_the_command_line_and_nothing_is_saved(
        shell, loop, qtbot, sandbox, demo_folder, chosen_keyring):
    chosen_keyring(fail.Keyring())
    secret = "pay3-secret-that-has-nowhere-to-go"

    async def story() -> None:
        await sign_in(shell, qtbot, "ada")
        admin = await open_administration(shell)
        admin.show_tab(admin.providers)
        form = admin.providers.forms["pay3"]
        type_into(qtbot, form.inputs["base_url"], sandbox.base_url)
        type_into(qtbot, form.inputs["client_id"], "desk-client")
        type_into(qtbot, form.secret, secret)
        rows = len(list(shell.front.ledger.audit.rows()))
        click(qtbot, form.save)
        await until(lambda: form.problem.isVisible(), what="the keyring's refusal")
        said = form.problem.text()
        assert said.startswith("Nothing was saved. No usable keyring:"), said
        assert "PYTHON_KEYRING_BACKEND" in said and "Secret Service" in said
        assert form.secret.text() == "" and "No profile" in form.state.text()
        assert shell.front.ledger.settings.get("provider.pay3") is None
        assert len(list(shell.front.ledger.audit.rows())) == rows
        assert files_holding(demo_folder, secret) == []

    drive(loop, shell, story)
