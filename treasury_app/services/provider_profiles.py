"""Provider profiles: the account settings in the ledger, the secret in the OS keyring, and the checks on them.

A profile is stored under the setting `provider.<name>` (base URL, account, options, and a random
`credential_id`); its secret is stored in the keyring under "<name>:<credential_id>". The random id keeps two
data folders on one computer (a sandbox desk and a real one) from overwriting each other's secrets.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from treasury_app.domain.errors import TreasuryError
from treasury_app.domain.money import format_amount
from treasury_app.providers.cryptomus import DEFAULT_BASE_URL, CryptomusProfile
from treasury_app.providers.errors import (
    AuthenticationError,
    ProviderError,
    ProviderUnavailableError,
)
from treasury_app.providers.http_transport import HttpSettings, is_loopback_host
from treasury_app.providers.interface import Balance, PayoutOption, PayoutProvider
from treasury_app.providers.kinds import PROVIDER_KINDS, ProviderKind, ProviderProfile, provider_kind
from treasury_app.providers.pay3 import DEFAULT_PAYER_EMAIL, Pay3Currency, Pay3Profile, default_currencies
from treasury_app.providers.pay3_protocol import Pay3Decisions
from treasury_app.security.credentials import CredentialStore, StoredCredential

SETTING_PREFIX = "provider."
# A secret, or a way to ask for it (a prompt) once everything else has been checked.
Secret = str | Callable[[], str]
CREDENTIAL_ID = "credential_id"

# Cryptomus's public API, the base URL a new profile starts from (the window's form shows it).
CRYPTOMUS_BASE_URL = DEFAULT_BASE_URL


class SettingsStore(Protocol):
    """The part of the ledger's settings repository this service uses."""

    def get(self, key: str, default: Any = None) -> Any: ...

    def set(self, key: str, value: Any) -> None: ...

    def delete(self, key: str) -> bool: ...


class ProfileNotFoundError(TreasuryError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"no {name} profile is set up; run 'treasury-app provider set {name} …' first")


@dataclass(frozen=True)
class ProfileSummary:
    """A profile as `provider show` lists it: never the secret, only where it is kept."""

    name: str
    title: str
    base_url: str
    account: str
    is_sandbox: bool  # plain http to this computer: the local sandbox
    settings: Mapping[str, Any]
    secret: StoredCredential
    secret_label: str


@dataclass(frozen=True)
class ProviderCheck:
    """What `provider check` found: reachability, whether the credentials were accepted, balances."""

    name: str
    title: str
    base_url: str
    is_sandbox: bool
    reachable: bool
    credentials_accepted: bool | None  # None when the provider could not be asked
    balances: tuple[Balance, ...]
    balances_note: str | None
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.reachable and bool(self.credentials_accepted) and self.problem is None

    def report_lines(self) -> list[str]:
        """The check as `provider check` prints it and the window shows it (the problem, if any, apart)."""
        accepted = {True: "accepted", False: "refused", None: "not known"}[self.credentials_accepted]
        lines = [f"{self.title} at {self.base_url}{'  [SANDBOX]' if self.is_sandbox else ''}",
                 f"Reachable:    {'yes' if self.reachable else 'no'}", f"Credentials:  {accepted}",
                 "Balances:" + ("" if self.balances else "     none reported")]
        lines += [f"  {balance.currency:<10} {format_amount(balance.amount)}" for balance in self.balances]
        if self.balances_note:
            lines.append(f"  ({self.balances_note})")
        return lines


class ProviderProfiles:
    """Set up, list, remove and check provider profiles; open a provider client from one."""

    def __init__(self, settings: SettingsStore, credentials: CredentialStore, *,
                 http_settings: HttpSettings | None = None,
                 transport_factory: Callable[[], httpx.AsyncBaseTransport] | None = None) -> None:
        self._settings = settings
        self._credentials = credentials
        self._http_settings = http_settings
        self._transport_factory = transport_factory

    # --- setting up ----------------------------------------------------------------------------------

    def set_cryptomus(self, *, merchant: str, payout_key: Secret, base_url: str = DEFAULT_BASE_URL) -> ProfileSummary:
        """Save the profile and its payout key. A callable key is asked for only once the profile is valid."""
        profile = CryptomusProfile(merchant=merchant, base_url=base_url)
        return self._save("cryptomus", profile, payout_key)

    def set_pay3(self, *, base_url: str, client_id: str, api_secret: Secret,
                 currencies: Iterable[str] | None = None, payer_email: str | None = None,
                 protocol: Mapping[str, Any] | None = None) -> ProfileSummary:
        """`currencies` as `CODE=CURRENCY:NETWORK` replace the defaults when given; `protocol` overrides
        `Pay3Decisions`. Both, and the payer e-mail, keep their earlier values when not given."""
        previous = self._stored("pay3") or {}
        if currencies:
            chosen = tuple(Pay3Currency.parse(text) for text in currencies)
        elif previous.get("currencies"):
            chosen = Pay3Profile.from_settings(previous).currencies
        else:
            chosen = default_currencies()
        overrides = protocol if protocol is not None else previous.get("protocol") or {}
        profile = Pay3Profile(base_url=base_url, client_id=client_id, currencies=chosen,
                              payer_email=payer_email or previous.get("payer_email") or DEFAULT_PAYER_EMAIL,
                              decisions=Pay3Decisions.from_settings(overrides))
        return self._save("pay3", profile, api_secret)

    def remove(self, name: str) -> bool:
        """Forget the profile and delete its secret from the keyring; False when there was none."""
        kind = provider_kind(name)
        stored = self._stored(kind.name)
        if stored is None:
            return False
        if stored.get(CREDENTIAL_ID):
            self._credentials.delete(kind.name, str(stored[CREDENTIAL_ID]))
        self._settings.delete(SETTING_PREFIX + kind.name)
        return True

    # --- reading -------------------------------------------------------------------------------------

    def profile(self, name: str) -> ProviderProfile:
        kind = provider_kind(name)
        stored = self._stored(kind.name)
        if stored is None:
            raise ProfileNotFoundError(kind.name)
        return kind.load_profile(stored)

    def summaries(self) -> list[ProfileSummary]:
        return [self._summary(kind, stored) for kind in PROVIDER_KINDS.values()
                if (stored := self._stored(kind.name)) is not None]

    def open_provider(self, name: str) -> PayoutProvider:
        """A client for the profile, with its secret read from the keyring. Close it (`aclose`) when done."""
        kind = provider_kind(name)
        profile = self.profile(kind.name)
        return self._client(kind, profile, self._credentials.read(kind.name, self._credential_id(kind.name)))

    async def _open_provider_off_the_loop(self, kind: ProviderKind, profile: ProviderProfile) -> PayoutProvider:
        """As `open_provider`, with the keyring asked on a thread: a Secret Service over D-Bus, or a keyring
        that asks to be unlocked, must not hold up the window's loop (the settings are read here, on the
        loop's own thread, whose ledger connection they are)."""
        credential_id = self._credential_id(kind.name)
        secret = await asyncio.to_thread(self._credentials.read, kind.name, credential_id)
        return self._client(kind, profile, secret)

    def _client(self, kind: ProviderKind, profile: ProviderProfile, secret: str) -> PayoutProvider:
        transport = self._transport_factory() if self._transport_factory else None
        return kind.open_client(profile, secret, settings=self._http_settings, transport=transport)

    # --- asking the provider -------------------------------------------------------------------------

    async def check(self, name: str) -> ProviderCheck:
        """Reachable? Credentials accepted? Balances. Provider errors are reported, not raised."""
        kind = provider_kind(name)
        profile = self.profile(kind.name)
        provider = await self._open_provider_off_the_loop(kind, profile)
        base_url = profile.base_url

        def report(reachable: bool, accepted: bool | None, balances: tuple[Balance, ...] = (),
                   problem: ProviderError | None = None) -> ProviderCheck:
            return ProviderCheck(kind.name, kind.title, base_url, _is_local_http(base_url), reachable, accepted,
                                 balances, provider.balances_note, str(problem) if problem else None)

        try:
            try:
                await provider.verify_credentials()
            except AuthenticationError as error:
                return report(True, False, problem=error)
            except ProviderUnavailableError as error:
                return report(False, None, problem=error)
            except ProviderError as error:  # it answered, but not so that the credentials could be judged
                return report(True, None, problem=error)
            try:
                return report(True, True, tuple(await provider.balances()))
            except ProviderError as error:
                return report(True, True, problem=error)
        finally:
            await provider.aclose()

    async def assets(self, name: str) -> Sequence[PayoutOption]:
        """What the profile can pay out, with limits and fee rules where the provider publishes them."""
        provider = self.open_provider(name)
        try:
            return await provider.payout_options()
        finally:
            await provider.aclose()

    # --- inside --------------------------------------------------------------------------------------

    def _save(self, name: str, profile: ProviderProfile, secret: Secret) -> ProfileSummary:
        kind = provider_kind(name)
        credential_id = self._credential_id(name, create=True)
        self._credentials.backend()  # no keyring: say so before anyone types a secret
        # The keyring first: if it refuses, nothing is written to the ledger.
        self._credentials.store(name, credential_id, secret() if callable(secret) else secret)
        values = {**profile.to_settings(), CREDENTIAL_ID: credential_id}
        self._settings.set(SETTING_PREFIX + name, values)
        return self._summary(kind, values)

    def _stored(self, name: str) -> dict[str, Any] | None:
        value = self._settings.get(SETTING_PREFIX + name)
        return _plain(value) if value is not None else None

    def _credential_id(self, name: str, *, create: bool = False) -> str:
        stored = self._stored(name) or {}
        found = stored.get(CREDENTIAL_ID)
        if found:
            return str(found)
        if not create:
            raise ProfileNotFoundError(name)
        return secrets.token_hex(8)

    def _summary(self, kind: ProviderKind, stored: Mapping[str, Any]) -> ProfileSummary:
        profile = kind.load_profile(stored)
        shown = {k: v for k, v in profile.to_settings().items() if k not in ("base_url", kind.account_field)}
        return ProfileSummary(
            name=kind.name, title=kind.title, base_url=profile.base_url,
            account=str(profile.to_settings().get(kind.account_field, "")),
            is_sandbox=_is_local_http(profile.base_url), settings=shown,
            secret=self._credentials.location(kind.name, str(stored.get(CREDENTIAL_ID, "?"))),
            secret_label=kind.secret_label,
        )


def _is_local_http(base_url: str) -> bool:
    url = httpx.URL(base_url)
    return url.scheme == "http" and is_loopback_host(url.host)


def _plain(value: Any) -> Any:
    """Settings come back as read-only mappings and tuples; profiles are built from plain values."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
