"""Closing the window of a real `treasury-app` process: the desk closes cleanly (exit 0, no traceback) and the
layout is saved. Qt's default — quit when the last window closes — stopped the event loop under the shell's
closing work, and the process ended in "Event loop stopped before Future completed"."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from treasury_app.ui.window_state import STATE_FILE

# The real entry point, with a Qt timer that closes the main window as a person would, once it is shown.
CLOSER = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication([sys.argv[0]])
def close_when_shown():
    shown = [w for w in app.topLevelWidgets() if w.isVisible() and w.objectName() == "main-window"]
    if shown:
        print("closing the window", flush=True)
        shown[0].close()
    else:
        QTimer.singleShot(50, close_when_shown)
QTimer.singleShot(50, close_when_shown)
from treasury_app.cli import main
main(["--data-dir", {folder!r}], prog_name="treasury-app")
"""


def test_closing_the_window_ends_the_process_cleanly_and_keeps_its_layout(tmp_path):
    folder = tmp_path / "desk"
    folder.mkdir()
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-c", CLOSER.format(folder=str(folder))], capture_output=True, text=True,
                          timeout=120, env=env)
    assert "closing the window" in done.stdout, (done.stdout, done.stderr)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    saved = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
    assert saved["format"] == 1 and saved["geometry"]
    assert (folder / "logs" / "treasury-desk.log").is_file()  # where an unexpected error's details would go


def test_nothing_asked_after_the_window_closed_reaches_its_widgets_or_the_worker(shell, loop, qtbot):
    """A timer or a late answer (the dashboard's re-read, a count) may ask for work while the window closes:
    it is not started, so no callback touches a widget being deleted and no job reaches a closed worker."""
    from ui_loop import drive, ui_run
    from window_driver import sign_in

    async def story() -> None:
        await sign_in(shell, qtbot, "iris")

    drive(loop, shell, story)  # ends with shell.close()
    done, busy = [], []
    shell.operations.busy_changed.connect(busy.append)

    async def late() -> None:
        await shell.operations.run_in_worker("a late read", lambda desk: 1, on_done=done.append)
        await shell.operations.run("a late call", _one, on_done=done.append)

    ui_run(loop, late())
    assert done == [] and busy == []


async def _one() -> int:
    return 1
