"""Starting the window: a QApplication and one asyncio event loop driven by Qt (qasync), the desk's session,
then first run or sign-in, then the main window; `--demo` and `--smoke` variants of the same start.

The app's own work — services, provider calls, the poller — runs on that one loop; only password hashing and
large reads go to the desk's worker thread, and the embedded sandbox serves from a thread of its own, as a
remote server would.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMessageBox

from treasury_app.identity import APP_ID, APP_TITLE, VERSION
from treasury_app.services.desk_front import DeskFront
from treasury_app.services.ledger_outage import LedgerUnavailableError

from . import theme
from .display_check import display_problem
from .shell import Shell, ShellOutcome

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LaunchOptions:
    data_dir: Path
    ledger: str | None = None  # --ledger: a team ledger's URL (or a file); else the data folder's choice
    demo: bool = False
    smoke: bool = False
    started_at: float = 0.0  # time.perf_counter() when the process began its work (for --smoke)


def run_window(options: LaunchOptions) -> int:
    """Open the window and run until it is closed; the process's exit code."""
    problem = display_problem()
    if problem is not None:
        print(problem, file=sys.stderr)
        return 1
    from .event_loop import DeskEventLoop  # only the window needs qasync; the command line starts faster without

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName(APP_TITLE)
    app.setApplicationDisplayName(APP_TITLE)
    app.setApplicationVersion(VERSION)
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(theme.app_icon())
    # Closing the window ends `run_desk` (the shell hears it), which then closes the desk cleanly: the poller
    # stopped between two answers, a send in flight given its grace, the session closed. Qt's default, quitting
    # on the last window, stopped the loop under that work ("Event loop stopped before Future completed").
    app.setQuitOnLastWindowClosed(False)
    theme.apply(app)
    loop = DeskEventLoop(app)
    asyncio.set_event_loop(loop)
    try:
        with loop:
            return loop.run_until_complete(run_desk(options))
    except LedgerUnavailableError as error:
        if not options.smoke:  # a person started it, perhaps from a menu, where no one reads stderr
            _say_the_ledger_is_away(error)
        raise  # and the command line says it too, and exits 5
    finally:
        asyncio.set_event_loop(None)


def _say_the_ledger_is_away(error: LedgerUnavailableError) -> None:
    box = QMessageBox(QMessageBox.Icon.Critical, APP_TITLE, "Treasury Desk cannot open: the team ledger cannot be "
                      "reached.", QMessageBox.StandardButton.Ok)
    box.setObjectName("ledger-away")
    box.setInformativeText(f"The server {error.where.removeprefix('postgresql://')} is not answering "
                           f"({error.problem}). Nothing was changed. Start Treasury Desk again once it answers.")
    box.exec()  # the desk's loop has ended: this box is all that is left of the window


async def run_desk(options: LaunchOptions) -> int:
    """The window's life on the running loop: open the desk, show it, close it; repeat once for the demo
    when the first-run screen asked for it."""
    demo = options.demo
    data_dir = options.data_dir
    while True:
        if demo:
            from treasury_app.services.demo_data import create_demo_folder, write_demo_desk

            data_dir = create_demo_folder()
            await asyncio.to_thread(write_demo_desk, data_dir)
        outcome = await _one_session(data_dir, demo=demo, options=options)
        if outcome is ShellOutcome.START_DEMO and not demo:
            demo = True
            continue
        return 0


def freeze_start_up() -> None:
    """What start-up made (the open desk session) lives as long as the window: keep it out of the garbage
    collector's full passes, which otherwise stall the loop for tens of milliseconds
    (tests/benchmarks/polling.py --gc-freeze). Called once the session is open."""
    gc.collect()
    gc.freeze()


async def _one_session(data_dir: Path, *, demo: bool, options: LaunchOptions) -> ShellOutcome:
    """The window paints from the ledger first (`DeskFront`); the providers' clients and the embedded sandbox
    load behind it (`DeskSession.connect`), while the person reads the sign-in screen."""
    from treasury_app.desk_log import log_to_data_folder

    log_to_data_folder(data_dir)  # before the desk opens: a failure to open it is logged there too
    from treasury_app.services.ledger_choice import choose_ledger, demo_ledger

    # The demo desk is a throwaway file, whatever team ledger the desk is set to: it must never write there.
    front = DeskFront.open(data_dir, ledger=demo_ledger(data_dir) if demo else choose_ledger(data_dir, options.ledger))
    session = None
    try:
        demo_operators = ()
        if demo:
            from treasury_app.services.demo_data import DEMO_OPERATORS

            demo_operators = DEMO_OPERATORS
        shell = Shell(front, demo_operators=demo_operators, demo=demo)
        if options.smoke:
            painted_after = await shell.smoke()
            since = time.perf_counter() - options.started_at if options.started_at else painted_after
            print(f"main window painted its first page of payouts {since * 1000:.0f} ms after start", flush=True)
        else:
            painted = shell.first_page_painted()
            shell.show()
            await painted
        from treasury_app.services.desk_session import DeskSession

        session = await DeskSession.connect(front)
        shell.attach(session)
        freeze_start_up()
        if options.smoke:  # the providers opened too (the packaged build's check): done
            opened = ", ".join(c.title + (" (sandbox)" if c.is_sandbox else "") for c in session.connections)
            print(f"providers open: {opened}", flush=True)
            await shell.close()
            return ShellOutcome.CLOSED
        if demo:
            shell.start_live_demo()
        outcome = await shell.run()
        await shell.close()  # the poller stopped between two answers, a send in flight given its grace
        return outcome
    finally:
        if session is not None:
            await session.aclose()
        else:
            await front.aclose()

