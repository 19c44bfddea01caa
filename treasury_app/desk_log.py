"""The window's log file: `logs/treasury-desk.log` in the data folder, where an unexpected error's details go
(the window says "the details are in the log file" and names it). Rotated at 1 MB, five files kept.

What is logged is what the app's modules log (errors with their traceback, the poller's problems) and httpx's
one line per request (method, URL and status: the providers' secrets travel in headers and bodies, never in a
URL). The wire-level loggers below httpx, which would print headers, reach the file only from WARNING up.
"""

from __future__ import annotations

import logging
from logging.handlers import RotatingFileHandler
from pathlib import Path

LOG_FILE = Path("logs") / "treasury-desk.log"
_HANDLER_NAME = "treasury-desk-file"
QUIET_LOGGERS = ("httpcore", "hpack", "asyncio", "aiohttp")


def log_file_of(data_dir: Path) -> Path:
    return data_dir / LOG_FILE


def log_to_data_folder(data_dir: Path) -> Path | None:
    """Send the process's log records to the data folder's log file (replacing an earlier desk's); None when the
    folder cannot take one (the window then runs without a file, as before, rather than not at all)."""
    path = log_file_of(data_dir)
    stop_logging_to_file()
    root = logging.getLogger()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = RotatingFileHandler(path, maxBytes=1_000_000, backupCount=5, encoding="utf-8")
    except OSError:
        return None
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_not_wire_level)
    root.addHandler(handler)
    if root.getEffectiveLevel() > logging.INFO:  # Python's default is WARNING: the file wants INFO too
        _levels_before.append(root.level)
        root.setLevel(logging.INFO)
    return path


def _not_wire_level(record: logging.LogRecord) -> bool:
    """The file's own filter (other handlers, a test's capture, see everything as before)."""
    quiet = any(record.name == name or record.name.startswith(name + ".") for name in QUIET_LOGGERS)
    return not quiet or record.levelno >= logging.WARNING


_levels_before: list[int] = []


def stop_logging_to_file() -> None:
    """No more file, and the root logger's level as it was before (for tests, and for a desk switched)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(handler)
        handler.close()
    while _levels_before:
        root.setLevel(_levels_before.pop())
