"""The desk a window test runs on: a sandbox on loopback whose clock the test moves, the desk's clock read
from it, and a shell opened over a data folder."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from treasury_app.sandbox import RunningSandbox
from treasury_app.sandbox.clock import SystemClock
from treasury_app.services.demo_data import DEMO_OPERATORS
from treasury_app.services.desk_session import DeskSession, SandboxChoice
from treasury_app.ui.shell import Shell


class MovedClock:
    """The desk's clock read from the sandbox's (real time plus what the test skipped): both move together."""

    def __init__(self, sandbox_clock: SystemClock) -> None:
        self._sandbox_clock = sandbox_clock

    def __call__(self) -> datetime:
        return datetime.fromtimestamp(self._sandbox_clock.now(), UTC)

    def advance(self, seconds: float) -> None:
        self._sandbox_clock.advance(seconds)


@dataclass
class SandboxUnderTest:
    running: RunningSandbox
    clock: MovedClock

    @property
    def base_url(self) -> str:
        return self.running.base_url


async def open_shell(data_dir: Path, sandbox: SandboxUnderTest, *, demo: bool = True) -> Shell:
    session = await DeskSession.open(data_dir, sandbox=SandboxChoice(url=sandbox.base_url), clock=sandbox.clock)
    return Shell(session, demo_operators=DEMO_OPERATORS if demo else (), demo=demo)
