"""The one way a widget calls the services: as a coroutine on the window's event loop (provider calls), or as
a job on the desk's worker thread (password hashing, large reads). Either way the same busy state, the same
errors in words, and the views told what changed.

After Anki's `CollectionOp`/`QueryOp`: a widget says what it is doing ("approve payout 17"), what to run,
what to do with the result, and which payouts the result changed; it never catches a service error itself
unless it wants to show it beside a field.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Signal

from treasury_app.domain.errors import TreasuryError
from treasury_app.services.ledger_outage import is_ledger_outage
from treasury_app.services.desk_worker import WorkerDesk

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Changed:
    """What an operation changed, so that only the affected views refresh."""

    payouts: frozenset[int] = frozenset()
    new_payout: bool = False  # the table must re-read its query: a row was added
    operators: bool = False
    address_book: bool = False  # an entry was added or removed

    @classmethod
    def payout(cls, *ids: int, new: bool = False) -> Changed:
        return cls(payouts=frozenset(ids), new_payout=new)


@dataclass(frozen=True)
class Failure:
    """An operation that did not succeed, said in words: what was being done, and why it did not happen."""

    doing: str
    message: str
    error: BaseException
    expected: bool  # a refusal or condition the services name (TreasuryError), not a bug
    ledger_away: bool = False  # it failed because the team ledger's server could not be reached


class Operations(QObject):
    """One per window. `busy_changed(True)` while anything runs; `failed(Failure)` for every error nobody
    handled; `changed(Changed)` after every operation that changed something."""

    busy_changed = Signal(bool)
    failed = Signal(object)
    changed = Signal(object)

    def __init__(self, run_in_worker: Callable[[Callable[[WorkerDesk], Any]], Any],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._submit = run_in_worker
        self._running: set[asyncio.Task[Any]] = set()
        self._refusing = False

    @property
    def busy(self) -> bool:
        return bool(self._running)

    def run(self, doing: str, work: Callable[[], Awaitable[T]], *, on_done: Callable[[T], None] | None = None,
            on_error: Callable[[Failure], bool] | None = None,
            changed: Callable[[T], Changed | None] | None = None) -> asyncio.Task[T | None]:
        """Run a service coroutine on the event loop. `on_error` returns True when it showed the error itself."""
        return self._start(doing, work, on_done, on_error, changed)

    def run_in_worker(self, doing: str, job: Callable[[WorkerDesk], T], *,
                      on_done: Callable[[T], None] | None = None,
                      on_error: Callable[[Failure], bool] | None = None,
                      changed: Callable[[T], Changed | None] | None = None) -> asyncio.Task[T | None]:
        """Run `job(worker_desk)` on the desk's worker thread; the callbacks run on the GUI thread."""

        async def in_worker() -> T:
            return await asyncio.wrap_future(self._submit(job))

        return self._start(doing, in_worker, on_done, on_error, changed)

    def announce(self, change: Changed) -> None:
        """Tell the views of a change that did not come through `run` (the poller's)."""
        self.changed.emit(change)

    def refuse_new(self) -> None:
        """The window is closing: from now on an operation asked for is not started (its callbacks never run),
        so nothing reaches widgets being deleted or a worker being closed."""
        self._refusing = True

    async def wait_idle(self) -> None:
        """Until every operation started so far has ended (for closing the window, and for tests)."""
        while self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)

    async def cancel_running(self) -> None:
        """Cancel what still runs (closing the window after its grace): a payout being sent stays `submitting`
        in the ledger, and the next start's recovery asks its provider what became of it."""
        running = list(self._running)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    def _start(self, doing: str, work: Callable[[], Awaitable[T]], on_done: Callable[[T], None] | None,
               on_error: Callable[[Failure], bool] | None,
               changed: Callable[[T], Changed | None] | None) -> asyncio.Task[T | None]:
        if self._refusing:  # nothing started, nothing told: no busy state, no callbacks
            return asyncio.get_running_loop().create_task(_nothing())
        task = asyncio.get_running_loop().create_task(self._guarded(doing, work, on_done, on_error, changed))
        self._running.add(task)
        if len(self._running) == 1:
            self.busy_changed.emit(True)
        task.add_done_callback(self._ended)
        return task

    async def _guarded(self, doing: str, work: Callable[[], Awaitable[T]], on_done: Callable[[T], None] | None,
                       on_error: Callable[[Failure], bool] | None,
                       changed: Callable[[T], Changed | None] | None) -> T | None:
        try:
            result = await work()
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 — every error is shown, none kills the window
            failure = failure_of(doing, error)
            if not failure.expected:
                log.error("%s failed", doing, exc_info=error)
            if on_error is None or not on_error(failure):
                self.failed.emit(failure)
            return None
        if changed is not None and (change := changed(result)) is not None:
            self.changed.emit(change)
        if on_done is not None:
            on_done(result)
        return result

    def _ended(self, task: asyncio.Task[Any]) -> None:
        self._running.discard(task)
        if not self._running:
            self.busy_changed.emit(False)


async def _nothing() -> None:
    return None


def failure_of(doing: str, error: BaseException) -> Failure:
    """The words for an error: the services' own message, or, for a bug, what happened and where to look."""
    if isinstance(error, TreasuryError):
        return Failure(doing, _sentence(str(error)), error, True, ledger_away=is_ledger_outage(error))
    return Failure(doing, f"An unexpected problem stopped this ({type(error).__name__}). Nothing more was done; "
                          "the details are in the log file.", error, False)


def payout_ids(records: Iterable[Any]) -> frozenset[int]:
    return frozenset(record.id for record in records)


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return "The request was refused."
    return text[0].upper() + text[1:] + ("" if text.endswith((".", "!", "?")) else ".")
