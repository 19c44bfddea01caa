"""A desk at work for as long as a window is open: the ledger, each provider's client (its profile's, or the
sandbox), the workflow, the approvals and the poller, opened together and closed together.

With no profile for a provider, and no `TREASURY_SANDBOX_URL` saying where a sandbox runs, the session starts
the sandbox inside this process (`start_in_background`: the simulated providers serve on a thread of their
own, as a remote server would; the app's own work stays on its one event loop). Everything the window shows
of a provider says whether it is the sandbox.

The window opens in two steps: a `DeskFront` (ledger, operators, worker: light) paints the first page, then
`DeskSession.connect(front)` loads the providers' clients and starts the sandbox behind it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from treasury_app.ledger import FollowedChanges, Ledger, LedgerChange, LedgerReachability, open_ledger
from treasury_app.ledger.timestamps import utc_now
from treasury_app.sandbox.config import SandboxConfig
from treasury_app.security.credentials import CredentialStore

from .approvals import Approvals
from .desk_front import DeskFront
from .desk_worker import DeskWorker
from .operator_accounts import OperatorAccounts
from .payout_workflow import PayoutWorkflow
from .poller import Poller
from .provider_directory import SANDBOX_ACCOUNTS, SANDBOX_URL_ENV, ProviderConnection, ProviderDirectory
from .provider_health import ProviderHealth
from .provider_profiles import ProviderProfiles

if TYPE_CHECKING:
    from treasury_app.sandbox import RunningSandbox

    from .ledger_choice import LedgerChoice

Clock = Callable[[], datetime]
# A provider minute in a quarter of one: a payout made in the embedded sandbox completes in 10 to 20 seconds,
# slow enough to watch it move, fast enough to try the whole story in a minute.
EMBEDDED_SANDBOX_SPEED = 4.0


@dataclass(frozen=True)
class SandboxChoice:
    """Where providers without a profile are reached: an embedded sandbox (with this config) or a URL."""

    url: str | None = None
    config: SandboxConfig | None = None

    @classmethod
    def from_environment(cls) -> SandboxChoice:
        return cls(url=os.environ.get(SANDBOX_URL_ENV) or None)


class DeskSession:
    """Open with `await DeskSession.open(data_dir)` (or `connect` a `DeskFront` already open), close with
    `await session.aclose()`, which closes the front too.

    Belongs to the thread (and event loop) that opened it; work on another thread opens its own ledger with
    `open_reader()`.
    """

    def __init__(self, front: DeskFront, directory: ProviderDirectory, sandbox: RunningSandbox | None) -> None:
        self.front = front
        self.directory = directory
        self.sandbox = sandbox
        clock = front.clock
        self.health = ProviderHealth([c.name for c in directory.connections], clock)
        # Every call of the workflow and the poller tells the health record whether the provider answered.
        providers = {name: self.health.watched(client) for name, client in directory.providers.items()}
        self.providers = providers
        self.workflow = PayoutWorkflow(front.ledger, providers, clock)
        self.poller = Poller(front.ledger, providers, self.workflow, clock=clock)
        self._closed = False
        self._ledger_listeners: list[Callable[[LedgerChange], None]] = []
        self._reachability_listeners: list[Callable[[LedgerReachability], None]] = []
        self._feed: FollowedChanges | None = None

    @classmethod
    async def open(cls, data_dir: Path, *, ledger: LedgerChoice | None = None, sandbox: SandboxChoice | None = None,
                   credentials: CredentialStore | None = None, clock: Clock = utc_now) -> DeskSession:
        front = DeskFront.open(data_dir, ledger=ledger, clock=clock)
        try:
            return await cls.connect(front, sandbox=sandbox, credentials=credentials)
        except BaseException:
            await front.aclose()
            raise

    @classmethod
    async def connect(cls, front: DeskFront, *, sandbox: SandboxChoice | None = None,
                      credentials: CredentialStore | None = None) -> DeskSession:
        """The providers (the embedded sandbox for those without a profile) over a front already open; the
        front stays open if this fails."""
        choice = sandbox or SandboxChoice.from_environment()
        ledger = front.ledger
        running: RunningSandbox | None = None
        try:
            url = choice.url
            if url is None and _needs_sandbox(ledger, credentials):
                from treasury_app.sandbox import start_in_background  # aiohttp loads here, after the first paint

                config = choice.config or SandboxConfig(port=0, speed=EMBEDDED_SANDBOX_SPEED)
                running = await asyncio.to_thread(start_in_background, config)
                url = running.base_url
            directory = ProviderDirectory(ledger.settings, credentials, sandbox_url=url)
            await directory.__aenter__()
        except BaseException:
            if running is not None:
                await asyncio.to_thread(running.stop)
            raise
        # Checkpoints of the write-ahead log must never run in a commit on the event loop's thread.
        ledger.checkpoint_in_background()
        return cls(front, directory, running)

    @property
    def data_dir(self) -> Path:
        return self.front.data_dir

    @property
    def ledger(self) -> Ledger:
        return self.front.ledger

    @property
    def clock(self) -> Clock:
        return self.front.clock

    @property
    def accounts(self) -> OperatorAccounts:
        return self.front.accounts

    @property
    def approvals(self) -> Approvals:
        return self.front.approvals

    @property
    def worker(self) -> DeskWorker:
        return self.front.worker

    @property
    def connections(self) -> Sequence[ProviderConnection]:
        return self.directory.connections

    @property
    def uses_sandbox(self) -> bool:
        return any(c.is_sandbox for c in self.connections)

    def subscribe_ledger_changes(self, listener: Callable[[LedgerChange], None]) -> Callable[[], None]:
        """Call `listener` on the loop's thread whenever another desk commits a change to payouts or approvals
        (a team ledger's LISTEN/NOTIFY; a desk's own file has no other writer). The unsubscriber."""
        self._ledger_listeners.append(listener)
        self._follow()
        return lambda: self._ledger_listeners.remove(listener) if listener in self._ledger_listeners else None

    def subscribe_ledger_reachability(self, listener: Callable[[LedgerReachability], None]) -> Callable[[], None]:
        """Call `listener` on the loop's thread when the team ledger's server stops answering, and when it
        answers again (after which every listener of changes hears "everything changed"). The unsubscriber."""
        self._reachability_listeners.append(listener)
        self._follow()
        return lambda: (self._reachability_listeners.remove(listener)
                        if listener in self._reachability_listeners else None)

    def _follow(self) -> None:
        if self._feed is None and self.ledger.is_team_ledger:
            loop = asyncio.get_running_loop()
            self._feed = self.ledger.follow_changes(
                lambda change: loop.call_soon_threadsafe(self._tell, self._ledger_listeners, change),
                lambda reachability: loop.call_soon_threadsafe(self._reachability_changed, reachability))

    def _reachability_changed(self, reachability: LedgerReachability) -> None:
        if reachability.reachable:
            self.poller.wake()  # its rounds failed meanwhile and it sleeps its longest: go on now
        self._tell(self._reachability_listeners, reachability)

    def _tell(self, listeners: list[Callable[[object], None]], news: object) -> None:
        for listener in list(listeners):
            listener(news)

    def open_reader(self) -> Ledger:
        """A second connection to the same ledger, for a worker thread (read-only use)."""
        return open_ledger(self.ledger.location, clock=self.clock)

    async def aclose(self) -> None:
        """Close everything the session opened, and its front; a second call does nothing."""
        if self._closed:
            return
        self._closed = True
        if self._feed is not None:
            feed, self._feed = self._feed, None
            await asyncio.to_thread(feed.stop)
        try:
            await self.directory.aclose()
        finally:
            try:
                if self.sandbox is not None:
                    await asyncio.to_thread(self.sandbox.stop)
            finally:
                await self.front.aclose()


def _needs_sandbox(ledger: Ledger, credentials: CredentialStore | None) -> bool:
    """Whether some provider that has a sandbox has no profile (so it would run on the sandbox)."""
    configured = {summary.name for summary in ProviderProfiles(ledger.settings, credentials or CredentialStore())
                  .summaries()}
    return any(name not in configured for name in SANDBOX_ACCOUNTS)
