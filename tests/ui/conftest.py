"""Window tests run real Qt widgets on the offscreen platform, on the qasync loop the app itself uses, over a
real desk: a demo ledger in a real SQLite file, and a sandbox on loopback whose clock the test moves.

A test drives the window from a coroutine (`ui_run(loop, story())`): clicks and typing are pytest-qt's, and
waiting is `await until(condition)`, never a sleep.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

# Before pytest-qt makes the QApplication; a developer's own display is never used by the tests.
os.environ["QT_QPA_PLATFORM"] = "offscreen"

import sys  # noqa: E402

# The provider tests' keyring helpers (the private Secret Service, the test keyrings) are shared, not copied.
# So are the ledger tests' throwaway PostgreSQL server and payout requests.
for _folder in ("providers", "ledger"):
    _helpers = str(Path(__file__).resolve().parents[1] / _folder)
    if _helpers not in sys.path:
        sys.path.insert(0, _helpers)

import pytest  # noqa: E402
from ui_desk import MovedClock, SandboxUnderTest, open_shell  # noqa: E402
from ui_loop import ui_run  # noqa: E402

from treasury_app.sandbox import SandboxConfig, start_in_background  # noqa: E402
from treasury_app.sandbox.clock import SystemClock  # noqa: E402
from treasury_app.services.demo_data import write_demo_desk  # noqa: E402
from treasury_app.ui.event_loop import DeskEventLoop  # noqa: E402
from treasury_app.ui.shell import Shell  # noqa: E402
from treasury_app.security.passwords import TEST_HASHING_ENV  # noqa: E402

DEMO_HISTORY = 40  # past payouts: enough for every status, quick to write


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TEST_HASHING_ENV, "1")


@pytest.fixture
def loop(qapp) -> Iterator[asyncio.AbstractEventLoop]:
    """The app's own loop: asyncio driven by Qt's event loop (qasync's, as `DeskEventLoop`), one per test;
    closing the window leaves the loop running, as `run_window` sets it (the shell then closes the desk)."""
    qapp.setQuitOnLastWindowClosed(False)
    event_loop = DeskEventLoop(qapp)
    asyncio.set_event_loop(event_loop)
    yield event_loop
    asyncio.set_event_loop(None)
    event_loop.close()


@pytest.fixture
def sandbox() -> Iterator[SandboxUnderTest]:
    sandbox_clock = SystemClock()
    running = start_in_background(SandboxConfig(port=0), clock=sandbox_clock)
    yield SandboxUnderTest(running, MovedClock(sandbox_clock))
    running.stop()


@pytest.fixture
def demo_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "desk"
    write_demo_desk(folder, payouts=DEMO_HISTORY)
    return folder


@pytest.fixture
def shell(loop, qtbot, demo_folder: Path, sandbox: SandboxUnderTest) -> Iterator[Shell]:
    """The window on the demo desk, not yet shown: `drive(loop, shell, story)` shows it and runs the story."""
    opened = ui_run(loop, open_shell(demo_folder, sandbox))
    qtbot.addWidget(opened.window)
    yield opened
    ui_run(loop, opened.session.aclose())
