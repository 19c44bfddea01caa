"""A desk at work for as long as a window is open: the ledger, each provider's client (its profile's, or the
sandbox), the workflow, the approvals and the poller, opened together and closed together.

With no profile for a provider, and no `TREASURY_SANDBOX_URL` saying where a sandbox runs, the session starts
the sandbox inside this process (`start_in_background`: the simulated providers serve on a thread of their
own, as a remote server would; the app's own work stays on its one event loop). Everything the window shows
of a provider says whether it is the sandbox.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from treasury_app.app_paths import ledger_path
from treasury_app.ledger import Ledger, open_ledger
from treasury_app.ledger.timestamps import utc_now
from treasury_app.sandbox import RunningSandbox, SandboxConfig, start_in_background
from treasury_app.security.credentials import CredentialStore

from .approvals import Approvals
from .desk_worker import DeskWorker
from .operator_accounts import OperatorAccounts
from .payout_workflow import PayoutWorkflow
from .poller import Poller
from .provider_directory import SANDBOX_ACCOUNTS, SANDBOX_URL_ENV, ProviderConnection, ProviderDirectory
from .provider_health import ProviderHealth
from .provider_profiles import ProviderProfiles

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
    """Open with `await DeskSession.open(data_dir)`, close with `await session.aclose()`.

    Belongs to the thread (and event loop) that opened it; work on another thread opens its own ledger with
    `open_reader()`.
    """

    def __init__(self, data_dir: Path, ledger: Ledger, directory: ProviderDirectory,
                 sandbox: RunningSandbox | None, clock: Clock) -> None:
        self.data_dir = data_dir
        self.ledger = ledger
        self.directory = directory
        self.sandbox = sandbox
        self.clock = clock
        self.health = ProviderHealth([c.name for c in directory.connections], clock)
        # Every call of the workflow and the poller tells the health record whether the provider answered.
        providers = {name: self.health.watched(client) for name, client in directory.providers.items()}
        self.providers = providers
        self.workflow = PayoutWorkflow(ledger, providers, clock)
        self.approvals = Approvals(ledger, clock=clock)
        self.accounts = OperatorAccounts(ledger, clock=clock)
        self.poller = Poller(ledger, providers, self.workflow, clock=clock)
        self.worker = DeskWorker(ledger.path, clock=clock)
        self._closed = False

    @classmethod
    async def open(cls, data_dir: Path, *, sandbox: SandboxChoice | None = None,
                   credentials: CredentialStore | None = None, clock: Clock = utc_now) -> DeskSession:
        choice = sandbox or SandboxChoice.from_environment()
        ledger = open_ledger(ledger_path(data_dir), clock=clock)
        running: RunningSandbox | None = None
        try:
            url = choice.url
            if url is None and _needs_sandbox(ledger, credentials):
                config = choice.config or SandboxConfig(port=0, speed=EMBEDDED_SANDBOX_SPEED)
                running = await asyncio.to_thread(start_in_background, config)
                url = running.base_url
            directory = ProviderDirectory(ledger.settings, credentials, sandbox_url=url)
            await directory.__aenter__()
        except BaseException:
            if running is not None:
                running.stop()
            ledger.close()
            raise
        # Checkpoints of the write-ahead log must never run in a commit on the event loop's thread.
        ledger.checkpoint_in_background()
        return cls(data_dir, ledger, directory, running, clock)

    @property
    def connections(self) -> Sequence[ProviderConnection]:
        return self.directory.connections

    @property
    def uses_sandbox(self) -> bool:
        return any(c.is_sandbox for c in self.connections)

    def open_reader(self) -> Ledger:
        """A second connection to the same ledger, for a worker thread (read-only use)."""
        return open_ledger(self.ledger.path, clock=self.clock)

    async def aclose(self) -> None:
        """Close everything the session opened; a second call does nothing."""
        if self._closed:
            return
        self._closed = True
        try:
            await asyncio.to_thread(self.worker.close)
            await self.directory.aclose()
        finally:
            if self.sandbox is not None:
                await asyncio.to_thread(self.sandbox.stop)
            self.ledger.close()


def _needs_sandbox(ledger: Ledger, credentials: CredentialStore | None) -> bool:
    """Whether some provider that has a sandbox has no profile (so it would run on the sandbox)."""
    configured = {summary.name for summary in ProviderProfiles(ledger.settings, credentials or CredentialStore())
                  .summaries()}
    return any(name not in configured for name in SANDBOX_ACCOUNTS)
