"""The providers this app can talk to, by name: how to read a profile from settings and open a client.

Services look a provider up here and never name a provider module themselves; adding a provider means adding
its line below (see the package docstring for the rest).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from treasury_app.domain.errors import InvalidFieldError
from treasury_app.domain.provider_capabilities import ProviderCapabilities
from treasury_app.domain.provider_names import PROVIDER_TITLES

from .cryptomus import CRYPTOMUS_CAPABILITIES, CryptomusProfile, CryptomusProvider
from .http_transport import HttpSettings
from .interface import PayoutProvider
from .pay3 import Pay3Profile, Pay3Provider, default_currencies, pay3_capabilities


class ProviderProfile(Protocol):
    """The non-secret part of a provider account: safe for the ledger's settings and for the screen."""

    @property
    def base_url(self) -> str: ...

    @property
    def capabilities(self) -> ProviderCapabilities: ...

    def to_settings(self) -> dict[str, Any]: ...


class OpenClient(Protocol):
    def __call__(self, profile: Any, secret: str, /, *, settings: HttpSettings | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> PayoutProvider: ...


@dataclass(frozen=True)
class ProviderKind:
    name: str
    title: str
    secret_label: str  # what the secret is called in the provider's own dashboard
    account_field: str  # the profile field that names the account (shown, never secret)
    load_profile: Callable[[Mapping[str, Any]], ProviderProfile]
    open_client: OpenClient
    # The choices of a profile with the kind's defaults (Pay3's default currencies; the sandbox's): for help
    # texts, and where no profile can be read. A profile's own are its `capabilities`.
    capabilities: ProviderCapabilities


PROVIDER_KINDS: dict[str, ProviderKind] = {
    kind.name: kind
    for kind in (
        ProviderKind("cryptomus", PROVIDER_TITLES["cryptomus"], "payout API key", "merchant",
                     CryptomusProfile.from_settings, CryptomusProvider, CRYPTOMUS_CAPABILITIES),
        ProviderKind("pay3", PROVIDER_TITLES["pay3"], "API secret", "client_id",
                     Pay3Profile.from_settings, Pay3Provider, pay3_capabilities(default_currencies())),
    )
}


def provider_kind(name: str) -> ProviderKind:
    kind = PROVIDER_KINDS.get((name or "").strip().lower())
    if kind is None:
        raise InvalidFieldError("provider", f"'{name}' is not a provider; choose one of {', '.join(PROVIDER_KINDS)}")
    return kind
