"""The provider sandbox: a local HTTP server that speaks Cryptomus's and Pay3's payout APIs faithfully.

Run it with `treasury-app sandbox` (see `command_line`), or in-process with `start_in_background`. It imports
only `treasury_app.domain`, never services, providers or the window.
"""

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
from .server import RunningSandbox, SandboxRefused, run_forever, start_in_background

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
