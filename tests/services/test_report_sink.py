"""The report's sink writes and hashes on a thread of its own: the bytes and the hash must be exactly the
batches in the order given, and a failed write must reach the report's thread, never hang it."""

from __future__ import annotations

import errno
import hashlib
import io

import pytest

from treasury_app.services.report_sink import IN_FLIGHT, HashingSink


def test_the_file_and_the_hash_hold_every_batch_in_the_order_written(tmp_path):
    batches = [f"line {n:06d},{'x' * (n % 4000)}\r\n".encode() for n in range(3000)]
    target = tmp_path / "out.csv"
    with open(target, "wb") as stream, HashingSink(stream) as sink:
        for batch in batches:
            sink.write(batch)
        digest = sink.finish()
    written = target.read_bytes()
    assert written == b"".join(batches)
    assert digest == hashlib.sha256(written).hexdigest()
    assert sink.size == len(written)


class _FullDisk(io.RawIOBase):
    """A stream that takes `room` bytes and then fails as a full disk does."""

    def __init__(self, room: int) -> None:
        self.room = room
        self.taken = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        if self.taken + len(data) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.taken += len(data)
        return len(data)


def test_a_write_that_fails_on_the_thread_is_raised_on_the_reports_thread_and_nothing_hangs():
    stream = _FullDisk(room=10_000)
    with pytest.raises(OSError) as raised:
        with HashingSink(stream) as sink:
            for _ in range(IN_FLIGHT * 50):  # far more than the queue holds: a stuck thread would block here
                sink.write(b"y" * 1000)
            sink.finish()
    assert raised.value.errno == errno.ENOSPC
    assert stream.taken == 10_000


def test_leaving_early_stops_the_thread():
    stream = io.BytesIO()
    with pytest.raises(RuntimeError):
        with HashingSink(stream) as sink:
            sink.write(b"first")
            raise RuntimeError("the export was cancelled")
    assert not sink._thread.is_alive()  # noqa: SLF001 - the thread itself is what is checked
    assert stream.getvalue() == b"first"
