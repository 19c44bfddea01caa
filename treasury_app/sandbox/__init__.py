"""The provider sandbox: a local HTTP server that speaks Cryptomus's and Pay3's payout APIs faithfully.

Run it with `treasury-app sandbox` (see `command_line`), or in-process with `start_in_background`. It imports
only `treasury_app.domain`, never services, providers or the window.
"""

from typing import TYPE_CHECKING

from .clock import ManualClock, SystemClock
from .config import (
    DEFAULT_CRYPTOMUS_MERCHANT,
    DEFAULT_CRYPTOMUS_PAYOUT_KEY,
    DEFAULT_HOST,
    DEFAULT_PAY3_API_SECRET,
    DEFAULT_PAY3_CLIENT_ID,
    DEFAULT_PORT,
    CryptomusService,
    Pay3Currency,
    SandboxConfig,
)
from .faults import FaultKind, FaultRule, FaultSpecError, parse_fault

# The server (and aiohttp under it) loads on first use: the window paints its first page before it starts the
# embedded sandbox, and the providers' clients need only the published credentials in `config`.
if TYPE_CHECKING:
    from .server import RunningSandbox, SandboxRefused, run_forever, start_in_background
_SERVER_NAMES = frozenset({"RunningSandbox", "SandboxRefused", "run_forever", "start_in_background"})


def __getattr__(name: str) -> object:
    if name in _SERVER_NAMES:
        from . import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_CRYPTOMUS_MERCHANT",
    "DEFAULT_CRYPTOMUS_PAYOUT_KEY",
    "DEFAULT_HOST",
    "DEFAULT_PAY3_API_SECRET",
    "DEFAULT_PAY3_CLIENT_ID",
    "DEFAULT_PORT",
    "CryptomusService",
    "FaultKind",
    "FaultRule",
    "FaultSpecError",
    "ManualClock",
    "Pay3Currency",
    "RunningSandbox",
    "SandboxConfig",
    "SandboxRefused",
    "SystemClock",
    "parse_fault",
    "run_forever",
    "start_in_background",
]
