"""Where a report's bytes go: the stream, written and hashed on a thread of its own.

Writing a batch to the file and hashing it release the GIL (in `write` and in `hashlib`'s update of more than
a couple of kilobytes), so on their own thread they run while SQLite makes the next batch on the report's
thread (with the line as the query's only column, that took a million-row export from 5.4 s to 4.7 s,
`tests/benchmarks/export.py`). The thread only ever holds the two batches in flight, however long
the report.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from types import TracebackType
from typing import BinaryIO

IN_FLIGHT = 2  # batches handed over and not yet written: a few megabytes at most


class HashingSink:
    """Writes through to the stream in the order given, keeping the SHA-256 and the size of everything written.
    Use it as a context manager: leaving it waits for the last write (and stops the thread on an error too).
    A write that failed on the thread is raised again by the next `write` or by `finish`."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._hash = hashlib.sha256()
        self._batches: queue.Queue[bytes | None] = queue.Queue(maxsize=IN_FLIGHT)
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._drain, name="report-writer", daemon=True)
        self._thread.start()
        self.size = 0

    def write(self, data: bytes) -> None:
        self._raise_failure()
        self._batches.put(data)
        self.size += len(data)

    def finish(self) -> str:
        """Wait until everything is written; the hex SHA-256 of it."""
        self._stop()
        self._raise_failure()
        return self._hash.hexdigest()

    def __enter__(self) -> HashingSink:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._stop()

    def _stop(self) -> None:
        if self._thread.is_alive():
            self._batches.put(None)
            self._thread.join()

    def _drain(self) -> None:
        # After a failure the thread keeps taking batches (and drops them), so that `write` never waits on a
        # full queue that nobody empties.
        while (data := self._batches.get()) is not None:
            if self._failure is None:
                try:
                    self._stream.write(data)
                    self._hash.update(data)
                except BaseException as failure:  # noqa: BLE001 - handed to the report's thread
                    self._failure = failure

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure
