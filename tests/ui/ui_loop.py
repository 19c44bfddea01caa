"""Running window code in tests: a coroutine on the qasync loop, and waiting for a condition (never a sleep)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


def ui_run(loop: asyncio.AbstractEventLoop, work: Awaitable[T], timeout: float = 60) -> T:
    """Run a coroutine on the qasync loop: Qt paints and delivers signals meanwhile."""
    return loop.run_until_complete(asyncio.wait_for(work, timeout))


async def until(condition: Callable[[], Any], timeout: float = 15, what: str | None = None) -> Any:
    """Wait for `condition()` to be true while the loop runs; fail saying what was awaited."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what or condition}")
        await asyncio.sleep(0.02)


def drive(loop: asyncio.AbstractEventLoop, shell: Any, story: Callable[[], Awaitable[None]],
          timeout: float = 90) -> None:
    """Show the window with its poller, run the story, and close the window again within the same run of the
    loop (a poller left running would be woken by Qt's events after the loop stopped)."""

    async def whole() -> None:
        shell.show()
        shell.start_poller()
        try:
            await story()
        finally:
            await shell.close()

    ui_run(loop, whole(), timeout)
