"""Before Qt is started: is there a screen to open a window on? Qt itself aborts the process when it finds
none, so the window asks first and says in one line what to do instead."""

from __future__ import annotations

import ctypes.util
import os
import sys

HOW_TO = ("run it on a desktop, start it with QT_QPA_PLATFORM=offscreen for a check without a screen, "
          "or use the command line (treasury-app --help)")


def display_problem() -> str | None:
    """One line saying why no window can open here, or None when one can (or Qt was told where to draw)."""
    if os.environ.get("QT_QPA_PLATFORM"):
        return None  # chosen explicitly: offscreen, wayland, xcb…
    if not sys.platform.startswith("linux"):
        return None  # Windows and macOS always have their own platform plugin
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return f"Treasury Desk found no display (neither DISPLAY nor WAYLAND_DISPLAY is set): {HOW_TO}."
    if not os.environ.get("WAYLAND_DISPLAY") and ctypes.util.find_library("xcb-cursor") is None:
        # Qt 6's X11 plugin needs libxcb-cursor, which minimal desktops lack; without it Qt aborts at start.
        return ("Treasury Desk cannot open its window: the X11 library libxcb-cursor is missing (on Debian or "
                f"Ubuntu: sudo apt-get install libxcb-cursor0). Or {HOW_TO}.")
    return None
