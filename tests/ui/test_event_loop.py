"""The window's loop (`DeskEventLoop`): a cancelled callback gives its Qt timer back at once, the rest run."""

from __future__ import annotations

import asyncio

import pytest
from ui_loop import ui_run


def test_cancelled_callbacks_free_their_qt_timers(loop) -> None:
    async def story() -> None:
        before = loop.live_timers()  # ui_run's own timeout among them
        handles = [loop.call_later(30, pytest.fail, "a cancelled callback ran") for _ in range(500)]
        assert loop.live_timers() == before + 500
        for handle in handles:
            handle.cancel()
        assert loop.live_timers() == before
        for _ in range(200):  # what httpx does around every read: a timeout armed, then cancelled
            async with asyncio.timeout(20):
                await asyncio.sleep(0)
        assert loop.live_timers() == before

    ui_run(loop, story())


def test_callbacks_still_run_in_order_and_time_out(loop) -> None:
    async def story() -> list[int]:
        ran: list[int] = []
        loop.call_later(0.02, ran.append, 3)
        loop.call_at(loop.time() + 0.01, ran.append, 2)
        loop.call_soon(ran.append, 1)
        cancelled = loop.call_soon(ran.append, 99)
        cancelled.cancel()
        await asyncio.sleep(0.05)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.sleep(5), 0.01)
        assert await loop.run_in_executor(None, sum, [20, 22]) == 42
        return ran

    assert ui_run(loop, story()) == [1, 2, 3]
