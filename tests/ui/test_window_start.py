"""The window starts in two steps: it paints the ledger's first page from a `DeskFront` (ledger, operators,
worker), then opens the providers and the sandbox behind it (`DeskSession.connect`). What the first step must
not load, and a sign-in that is quicker than the providers."""

from __future__ import annotations

import os
import subprocess
import sys

from ui_loop import ui_run, until
from window_driver import click, on_dashboard, type_into

from treasury_app.services.desk_front import DeskFront
from treasury_app.services.desk_session import DeskSession, SandboxChoice
from treasury_app.ui.shell import Shell

# What the first paint must do without: the providers' clients and their HTTP stack, the sandbox's server, the
# keyring, the command groups' desk, the operator accounts with their password hashing, the approvals with the
# audit chain, the payout workflow. Each was once on the way and cost the start milliseconds to tens of them.
LOADED_AFTER_THE_FIRST_PAINT = ("aiohttp", "httpx", "jwt", "keyring", "sqlite_utils", "Crypto", "argon2",
                                "treasury_app.sandbox.server", "treasury_app.providers.kinds",
                                "treasury_app.providers.interface", "treasury_app.security.audit_chain",
                                "treasury_app.security.passwords", "treasury_app.services.approvals",
                                "treasury_app.services.operator_accounts", "treasury_app.services.payout_workflow",
                                "treasury_app.services.provider_health", "treasury_app.services.desk_session",
                                "treasury_app.services.demo_data", "treasury_app.services.desk",
                                "treasury_app.services.reports", "treasury_app.ledger.report_queries",
                                "treasury_app.ui.export_dialog", "treasury_app.services.dashboard",
                                "treasury_app.ui.dashboard.screen", "treasury_app.ui.dashboard.chart")
# `treasury-app --smoke` as it runs, with a look at what is loaded the moment it says the window painted.
PAINT_PROBE = """
import builtins, sys
said = builtins.print
def print(*args, **kwargs):
    if args and str(args[0]).startswith("main window painted"):
        said("loaded at the paint:", sorted(n for n in {names!r} if n in sys.modules), flush=True)
    said(*args, **kwargs)
builtins.print = print
from treasury_app.cli import main
main(["--data-dir", {folder!r}, "--smoke"], prog_name="treasury-app")
"""


def test_the_window_paints_its_first_page_before_it_loads_a_provider_client_the_sandbox_or_the_approvals(
        demo_folder):
    probe = PAINT_PROBE.format(names=LOADED_AFTER_THE_FIRST_PAINT, folder=str(demo_folder))
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "loaded at the paint: []", done.stdout
    assert lines[1].startswith("main window painted its first page of payouts")
    assert lines[2] == "providers open: Cryptomus (sandbox), Pay3 (sandbox)"  # all of it, after the paint


def test_a_sign_in_before_the_providers_are_open_finishes_once_they_are(loop, qtbot, demo_folder, sandbox):
    front = DeskFront.open(demo_folder, clock=sandbox.clock)
    shell = Shell(front)
    qtbot.addWidget(shell.window)
    session = None

    async def story() -> None:
        nonlocal session
        painted = shell.first_page_painted()
        shell.show()
        await painted
        assert shell.model.rowCount() > 0  # the ledger's payouts, with no provider open yet
        assert not shell.attached and not shell.sign_in.badge.isVisibleTo(shell.sign_in)
        type_into(qtbot, shell.sign_in.operator, "arno")
        type_into(qtbot, shell.sign_in.password, "arno-demo-desk")
        click(qtbot, shell.sign_in.submit)
        await until(lambda: "arno signed in; connecting to the providers" in shell.window.status.poller.text(),
                    what="the sign-in held until the providers are open")
        assert shell.window.screens.currentWidget() is shell.sign_in and shell.calls is None

        session = await DeskSession.connect(front, sandbox=SandboxChoice(url=sandbox.base_url))
        shell.attach(session)
        await until(lambda: on_dashboard(shell), what="the dashboard, the first screen after sign-in")
        assert shell.calls is not None and shell.calls.acting.name == "arno"
        assert shell.sign_in.badge.isVisibleTo(shell.sign_in)  # the sandbox, now that the session knows
        status = shell.window.status  # (a passing "Working…" message hides the bar's badge for a moment)
        await until(lambda: status.badge.isVisibleTo(status), what="the status bar's SANDBOX badge")
        assert status.badge.toolTip().startswith("Cryptomus, Pay3: the local sandbox")
        assert set(shell.window.status.providers) == {"cryptomus", "pay3"}
        await shell.close()

    try:
        ui_run(loop, story())
    finally:
        ui_run(loop, session.aclose() if session is not None else front.aclose())
