"""WAL checkpoints on a thread of their own, so that a long-running process's event loop never runs one.

SQLite checkpoints automatically in the connection whose commit takes the log past 1,000 pages: that commit
then copies the log into the database file and fsyncs it, which on a busy disk takes hundreds of milliseconds.
In the window (and `refresh --watch`) that commit runs on the event loop's thread. There the ledger's own
connection stops checkpointing, and this thread, with a connection of its own, checkpoints instead: PASSIVE,
so it never waits for a reader or blocks a writer.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

# Often enough that the log stays short (a checkpoint then copies little), rarely enough to cost nothing.
DEFAULT_INTERVAL_SECONDS = 2.0


@dataclass(frozen=True)
class CheckpointReport:
    """What one checkpoint found: frames in the log, and how many of them are now in the database file."""

    busy: bool
    log_frames: int
    checkpointed_frames: int


class BackgroundCheckpoints:
    """A daemon thread that checkpoints one ledger file every `interval` seconds until `stop()`."""

    def __init__(self, path: Path, *, interval: float = DEFAULT_INTERVAL_SECONDS) -> None:
        self._path = Path(path)
        self._interval = interval
        self._stopping = threading.Event()
        self._finished = threading.Condition()
        self.checkpoints = 0
        self.last: CheckpointReport | None = None
        self._begun = 0  # checkpoints started, numbered in order
        self._last_done = 0  # the number of the latest one finished
        self._thread = threading.Thread(target=self._run, name="ledger-checkpoints", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End the thread (it finishes the checkpoint under way, if any)."""
        self._stopping.set()
        self._thread.join()

    def wait_for_checkpoint(self, timeout: float) -> bool:
        """Whether a checkpoint that starts after this call completes within `timeout` seconds (for tests and
        benchmarks). One already under way does not count: it copies only what was committed before it began,
        and a caller waiting for its latest commit to be copied would be told too soon."""
        with self._finished:
            begun = self._begun
            return self._finished.wait_for(lambda: self._last_done > begun, timeout)

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(self._path, isolation_level=None)
        except sqlite3.Error:
            log.warning("ledger checkpoints: cannot open %s; SQLite will checkpoint on close", self._path,
                        exc_info=True)
            return
        try:
            conn.execute("PRAGMA busy_timeout = 1000")
            while not self._stopping.wait(self._interval):
                self._checkpoint(conn)
        finally:
            conn.close()

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        with self._finished:
            self._begun += 1
            number = self._begun
        try:
            busy, frames, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error:
            log.warning("ledger checkpoints: a checkpoint failed; the next one tries again", exc_info=True)
            return
        with self._finished:
            self.last = CheckpointReport(bool(busy), int(frames), int(done))
            self.checkpoints += 1
            self._last_done = number
            self._finished.notify_all()
