"""The providers a desk pays through: each provider's configured profile, or else the local sandbox.

A provider kind with no profile set up runs against the sandbox (`treasury-app sandbox`) with the sandbox's
published credentials, so a desk can try the whole workflow without an account. Those credentials are not
secrets: they are printed by the sandbox and in the README, and they move no money. Every connection says
whether it is the sandbox, so each face can mark it SANDBOX.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Awaitable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType, TracebackType
from typing import Any, Self, TypeVar

from treasury_app.domain.payout_request import PayoutRequest
from treasury_app.domain.provider_capabilities import ProviderCapabilities
from treasury_app.providers.errors import ProviderUnavailableError, RequestNotSentError
from treasury_app.providers.http_transport import HttpSettings, validate_base_url
from treasury_app.providers.interface import (
    Balance,
    Estimate,
    PayoutOption,
    PayoutProvider,
    ProviderPayoutState,
)
from treasury_app.providers.kinds import PROVIDER_KINDS, ProviderKind, provider_kind
from treasury_app.sandbox.config import (
    DEFAULT_CRYPTOMUS_MERCHANT,
    DEFAULT_CRYPTOMUS_PAYOUT_KEY,
    DEFAULT_HOST,
    DEFAULT_PAY3_API_SECRET,
    DEFAULT_PAY3_CLIENT_ID,
    DEFAULT_PORT,
)
from treasury_app.security.credentials import CredentialStore

from .provider_profiles import ProviderProfiles, SettingsStore

T = TypeVar("T")
log = logging.getLogger(__name__)

SANDBOX_URL_ENV = "TREASURY_SANDBOX_URL"
DEFAULT_SANDBOX_URL = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"
# The sandbox's published credentials per provider kind: (account, secret). A kind missing here has no
# sandbox and must be set up with a profile before it can be used.
SANDBOX_ACCOUNTS: Mapping[str, tuple[str, str]] = MappingProxyType({
    "cryptomus": (DEFAULT_CRYPTOMUS_MERCHANT, DEFAULT_CRYPTOMUS_PAYOUT_KEY),
    "pay3": (DEFAULT_PAY3_CLIENT_ID, DEFAULT_PAY3_API_SECRET),
})


def sandbox_url_from_environment() -> str:
    """Where the sandbox runs: `TREASURY_SANDBOX_URL`, else the sandbox's default address."""
    return validate_base_url(os.environ.get(SANDBOX_URL_ENV) or DEFAULT_SANDBOX_URL, SANDBOX_URL_ENV)


@dataclass(frozen=True)
class ProviderConnection:
    """Where one provider is reached, and whether that is the local sandbox."""

    name: str
    title: str
    base_url: str
    is_sandbox: bool  # the local simulator: no real money moves
    from_profile: bool  # False: no profile is set up, the sandbox's published credentials are used


class SandboxUnavailableError(ProviderUnavailableError):
    """A provider that runs on the local sandbox could not be reached: say how to start it.

    A subclass, so that whoever handles `ProviderUnavailableError` (the workflow, the poller) still does.
    """

    def __init__(self, error: ProviderUnavailableError, connection: ProviderConnection) -> None:
        self.connection = connection
        where = ("no profile is set up, so it runs on the local sandbox" if not connection.from_profile
                 else "its profile points to the local sandbox")
        super().__init__(error.provider, f"{error.message}. {connection.title}: {where} at {connection.base_url}; "
                                         "if the sandbox is not running, start it in another terminal with "
                                         f"'treasury-app sandbox' (or set {SANDBOX_URL_ENV} to where it runs)")


class SandboxNotReachedError(SandboxUnavailableError, RequestNotSentError):
    """The sandbox could not even be connected to: nothing was sent (the workflow relies on the difference)."""


class ProviderDirectory:
    """Opens a client per provider (a profile's, or the sandbox's) and closes them all: `async with`.

    `only` limits which providers are opened (a configured profile reads its secret from the keyring, which
    a command about one payout should not need for the others).
    """

    def __init__(self, settings: SettingsStore, credentials: CredentialStore | None = None, *,
                 only: Iterable[str] | None = None, sandbox_url: str | None = None,
                 http_settings: HttpSettings | None = None) -> None:
        self._profiles = ProviderProfiles(settings, credentials or CredentialStore(), http_settings=http_settings)
        self._http_settings = http_settings
        self._sandbox_url = validate_base_url(sandbox_url, SANDBOX_URL_ENV) if sandbox_url \
            else sandbox_url_from_environment()
        names = PROVIDER_KINDS if only is None else {provider_kind(n).name for n in only}
        configured = {summary.name: summary for summary in self._profiles.summaries()}
        connections: dict[str, ProviderConnection] = {}
        for kind in PROVIDER_KINDS.values():
            if kind.name not in names:
                continue
            if (summary := configured.get(kind.name)) is not None:
                connections[kind.name] = ProviderConnection(kind.name, kind.title, summary.base_url,
                                                            summary.is_sandbox, True)
            elif kind.name in SANDBOX_ACCOUNTS:
                connections[kind.name] = ProviderConnection(kind.name, kind.title, self._sandbox_url, True, False)
        self._connections = connections
        self._providers: dict[str, PayoutProvider] | None = None

    @property
    def connections(self) -> Sequence[ProviderConnection]:
        return tuple(self._connections.values())

    def connection(self, name: str) -> ProviderConnection | None:
        return self._connections.get(provider_kind(name).name)

    def capabilities(self, name: str) -> ProviderCapabilities:
        """What the provider accepts and defaults to, from its profile (no secret is read, nothing is opened):
        so a payout's choices can be checked before anyone signs in."""
        kind = provider_kind(name)
        connection = self._connections.get(kind.name)
        if connection is not None and connection.from_profile:
            return self._profiles.profile(kind.name).capabilities
        return kind.capabilities  # the sandbox's profile is the kind's default one

    @property
    def providers(self) -> Mapping[str, PayoutProvider]:
        if self._providers is None:
            raise RuntimeError("open the directory first: async with ProviderDirectory(...) as directory")
        return MappingProxyType(self._providers)

    async def __aenter__(self) -> Self:
        opened: dict[str, PayoutProvider] = {}
        try:
            for connection in self._connections.values():
                opened[connection.name] = self._open(connection)
        except BaseException:
            await _close_all(opened.values())
            raise
        self._providers = opened
        return self

    async def __aexit__(self, kind: type[BaseException] | None, error: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        providers, self._providers = self._providers, None
        if providers:
            await _close_all(providers.values())

    def _open(self, connection: ProviderConnection) -> PayoutProvider:
        kind = provider_kind(connection.name)
        client = self._profiles.open_provider(kind.name) if connection.from_profile \
            else self._open_sandbox_client(kind)
        return SandboxClient(client, connection) if connection.is_sandbox else client

    def _open_sandbox_client(self, kind: ProviderKind) -> PayoutProvider:
        account, secret = SANDBOX_ACCOUNTS[kind.name]
        # The kind's own defaults fill the rest (Pay3's currencies are the sandbox's).
        profile = kind.load_profile({"base_url": self._sandbox_url, kind.account_field: account})
        return kind.open_client(profile, secret, settings=self._http_settings)


class SandboxClient:
    """A sandbox provider's client whose "unavailable" errors say how to start the sandbox; all else as is."""

    def __init__(self, inner: PayoutProvider, connection: ProviderConnection) -> None:
        self._inner = inner
        self.connection = connection
        self.name = inner.name
        self.balances_note = inner.balances_note
        self.estimate_registers_order = inner.estimate_registers_order
        self.capabilities = inner.capabilities

    def __getattr__(self, attribute: str) -> Any:
        if attribute == "_inner":  # not set yet (a copy being built): no recursion
            raise AttributeError(attribute)
        return getattr(self._inner, attribute)  # e.g. a client's `profile`, for code that looks at it

    async def verify_credentials(self) -> None:
        await self._explained(self._inner.verify_credentials())

    async def payout_options(self) -> Sequence[PayoutOption]:
        return await self._explained(self._inner.payout_options())

    async def estimate(self, request: PayoutRequest, idempotency_key: str) -> Estimate:
        return await self._explained(self._inner.estimate(request, idempotency_key))

    async def submit(self, request: PayoutRequest, idempotency_key: str,
                     execution_data: Mapping[str, Any]) -> ProviderPayoutState:
        return await self._explained(self._inner.submit(request, idempotency_key, execution_data))

    async def fetch_states(self, idempotency_keys: Sequence[str], *,
                           sent_since: datetime | None = None) -> Mapping[str, ProviderPayoutState | None]:
        return await self._explained(self._inner.fetch_states(idempotency_keys, sent_since=sent_since))

    async def balances(self) -> Sequence[Balance]:
        return await self._explained(self._inner.balances())

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def _explained(self, call: Awaitable[T]) -> T:
        try:
            return await call
        except SandboxUnavailableError:
            raise
        except ProviderUnavailableError as error:
            explained = SandboxNotReachedError if isinstance(error, RequestNotSentError) else SandboxUnavailableError
            raise explained(error, self.connection) from error


async def _close_all(providers: Iterable[PayoutProvider]) -> None:
    for provider in providers:
        try:
            await provider.aclose()
        except Exception:  # a client that fails to close must not hide why it is being closed
            log.warning("%s: its client did not close cleanly", provider.name, exc_info=True)

