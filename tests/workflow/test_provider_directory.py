"""The providers a desk pays through: a configured profile where there is one, else the local sandbox with its
published credentials, each marked; and a sandbox that is not running is reported with how to start it."""

from __future__ import annotations


import pytest
from provider_fixtures import FAST, btc_testnet, closed_port_url, usdt_tron
from provider_test_keyrings import MemoryKeyring

from treasury_app.domain.errors import InvalidFieldError
from treasury_app.providers.errors import AuthenticationError, ProviderUnavailableError
from treasury_app.providers.kinds import PROVIDER_KINDS
from treasury_app.sandbox import DEFAULT_CRYPTOMUS_MERCHANT
from treasury_app.security.credentials import CredentialStore
from treasury_app.services.provider_directory import (
    DEFAULT_SANDBOX_URL,
    SANDBOX_URL_ENV,
    ProviderDirectory,
    SandboxUnavailableError,
    sandbox_url_from_environment,
)
from treasury_app.services.provider_profiles import ProviderProfiles


async def test_with_no_profile_every_provider_runs_on_the_sandbox_marked_as_such(ledger, sandbox):
    directory = ProviderDirectory(ledger.settings, CredentialStore(MemoryKeyring()), sandbox_url=sandbox.base_url,
                                  http_settings=FAST)
    assert [(c.name, c.base_url, c.is_sandbox, c.from_profile) for c in directory.connections] == [
        ("cryptomus", sandbox.base_url, True, False), ("pay3", sandbox.base_url, True, False)]
    async with directory:
        cryptomus = await directory.providers["cryptomus"].estimate(usdt_tron("150"), "k" * 32)
        pay3 = await directory.providers["pay3"].estimate(btc_testnet(), "p" * 32)
    assert (cryptomus.fee, cryptomus.total_debited) == (1, 151)
    assert pay3.fee > 0
    with pytest.raises(RuntimeError):
        _ = directory.providers  # closed: its clients are gone


async def test_a_configured_profile_is_used_instead_of_the_sandbox_credentials(ledger, sandbox):
    keyring = MemoryKeyring()
    # A profile at the sandbox's address with a key the sandbox does not know: only the profile's key is sent.
    ProviderProfiles(ledger.settings, CredentialStore(keyring)).set_cryptomus(
        merchant=DEFAULT_CRYPTOMUS_MERCHANT, base_url=sandbox.base_url, payout_key="not-the-sandbox-key")
    async with ProviderDirectory(ledger.settings, CredentialStore(keyring), sandbox_url=closed_port_url(),
                                 http_settings=FAST) as directory:
        cryptomus = directory.connection("cryptomus")
        assert cryptomus is not None
        assert (cryptomus.from_profile, cryptomus.is_sandbox, cryptomus.base_url) == (True, True, sandbox.base_url)
        with pytest.raises(AuthenticationError):
            await directory.providers["cryptomus"].verify_credentials()


async def test_only_the_providers_asked_for_are_opened(ledger, sandbox):
    async with ProviderDirectory(ledger.settings, CredentialStore(MemoryKeyring()), only=["PAY3"],
                                 sandbox_url=sandbox.base_url) as directory:
        assert list(directory.providers) == ["pay3"]
        assert directory.connection("cryptomus") is None
    with pytest.raises(InvalidFieldError):
        ProviderDirectory(ledger.settings, only=["paypal"], sandbox_url=sandbox.base_url)


async def test_a_sandbox_that_is_not_running_is_reported_with_how_to_start_it(ledger):
    url = closed_port_url()
    async with ProviderDirectory(ledger.settings, CredentialStore(MemoryKeyring()), sandbox_url=url,
                                 http_settings=FAST) as directory:
        with pytest.raises(SandboxUnavailableError) as raised:
            await directory.providers["cryptomus"].estimate(usdt_tron("150"), "k" * 32)
        with pytest.raises(ProviderUnavailableError) as also:  # still what the workflow and the poller handle
            await directory.providers["pay3"].fetch_states(["p" * 32])
    message = str(raised.value)
    assert "could not connect" in message and url in message and "'treasury-app sandbox'" in message
    assert isinstance(also.value, SandboxUnavailableError)


def test_the_sandbox_address_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv(SANDBOX_URL_ENV, raising=False)
    assert sandbox_url_from_environment() == DEFAULT_SANDBOX_URL == "http://127.0.0.1:8700"
    monkeypatch.setenv(SANDBOX_URL_ENV, "http://localhost:9100/")
    assert sandbox_url_from_environment() == "http://localhost:9100"
    monkeypatch.setenv(SANDBOX_URL_ENV, "http://sandbox.example.org:8700")
    with pytest.raises(InvalidFieldError, match=SANDBOX_URL_ENV):
        sandbox_url_from_environment()



def test_capabilities_come_from_the_profile_without_reading_its_secret(ledger, sandbox):
    keyring = MemoryKeyring()
    ProviderProfiles(ledger.settings, CredentialStore(keyring)).set_pay3(
        base_url=sandbox.base_url, client_id="desk-1", api_secret="a-pay3-secret",
        currencies=["USDT-TRON=USDT:TRON"])
    keyring.secrets.clear()  # no secret to read: capabilities must not need one
    directory = ProviderDirectory(ledger.settings, CredentialStore(keyring), sandbox_url=sandbox.base_url)
    assert [asset.code for asset in directory.capabilities("pay3").paid_assets] == ["USDT-TRON"]
    # Cryptomus has no profile here: it runs on the sandbox, with the kind's own capabilities.
    assert directory.capabilities("cryptomus") is PROVIDER_KINDS["cryptomus"].capabilities
