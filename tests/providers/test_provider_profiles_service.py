"""Provider profiles: account settings in the ledger, the secret in the keyring, and the checks made with them."""

from decimal import Decimal

import keyring
import pytest
from keyring.backends import fail

from treasury_app.domain.errors import InvalidFieldError
from treasury_app.ledger import open_ledger
from treasury_app.providers.cryptomus import CryptomusProfile
from treasury_app.providers.pay3 import Pay3Profile
from treasury_app.sandbox import (
    DEFAULT_CRYPTOMUS_MERCHANT,
    DEFAULT_CRYPTOMUS_PAYOUT_KEY,
    DEFAULT_PAY3_API_SECRET,
    DEFAULT_PAY3_CLIENT_ID,
)
from treasury_app.security.credentials import CredentialStore, KeyringUnavailableError
from treasury_app.services.provider_profiles import ProfileNotFoundError, ProviderProfiles


@pytest.fixture
def ledger(tmp_path):
    with open_ledger(tmp_path / "ledger.sqlite3") as opened:
        yield opened


@pytest.fixture
def profiles(ledger):
    return ProviderProfiles(ledger.settings, CredentialStore())


def set_sandbox_cryptomus(profiles, box, key=DEFAULT_CRYPTOMUS_PAYOUT_KEY):
    return profiles.set_cryptomus(merchant=DEFAULT_CRYPTOMUS_MERCHANT, base_url=box.base_url, payout_key=key)


def test_the_profile_goes_to_the_settings_and_the_secret_to_the_keyring(profiles, ledger, memory_keyring):
    summary = profiles.set_cryptomus(merchant=DEFAULT_CRYPTOMUS_MERCHANT, payout_key="secret-payout-key-123")
    stored = ledger.settings.get("provider.cryptomus")
    assert stored["merchant"] == DEFAULT_CRYPTOMUS_MERCHANT and stored["base_url"] == "https://api.cryptomus.com"
    assert "secret-payout-key-123" not in repr(dict(stored))
    ((service, username), secret), = memory_keyring.secrets.items()
    assert (service, username, secret) == ("treasury-desk", f"cryptomus:{stored['credential_id']}",
                                           "secret-payout-key-123")
    assert (summary.account, summary.secret.username, summary.is_sandbox) == (DEFAULT_CRYPTOMUS_MERCHANT, username,
                                                                              False)


def test_setting_a_profile_again_replaces_its_secret_in_place(profiles, memory_keyring):
    profiles.set_cryptomus(merchant=DEFAULT_CRYPTOMUS_MERCHANT, payout_key="first-payout-key-1")
    profiles.set_cryptomus(merchant=DEFAULT_CRYPTOMUS_MERCHANT, payout_key="second-payout-key-2")
    assert list(memory_keyring.secrets.values()) == ["second-payout-key-2"]


@pytest.mark.parametrize(("url", "why"), [
    ("http://api.cryptomus.com", "must use https"),
    ("ftp://api.cryptomus.com", "https://"),
    ("https://user:pw@api.cryptomus.com", "user name or password"),
    ("https://api.cryptomus.com/?x=1", "query"),
    ("not a url", "https://"),
])
def test_a_base_url_must_be_https_except_to_this_computer(profiles, memory_keyring, url, why):
    with pytest.raises(InvalidFieldError, match=why) as caught:
        profiles.set_cryptomus(merchant=DEFAULT_CRYPTOMUS_MERCHANT, base_url=url, payout_key="payout-key-12345")
    assert caught.value.field == "base_url"
    assert memory_keyring.secrets == {}


@pytest.mark.parametrize("url", ["http://127.0.0.1:8700", "http://localhost:8700/", "http://[::1]:8700"])
def test_plain_http_is_allowed_to_the_local_sandbox(url):
    assert CryptomusProfile(merchant=DEFAULT_CRYPTOMUS_MERCHANT, base_url=url).base_url == url.rstrip("/")


def test_the_secret_is_not_even_asked_for_when_the_profile_is_wrong(profiles):
    def ask() -> str:
        raise AssertionError("asked for the secret of an invalid profile")

    with pytest.raises(InvalidFieldError, match="merchant"):
        profiles.set_cryptomus(merchant="not-a-uuid", payout_key=ask)


def test_without_a_usable_keyring_nothing_is_saved_and_nobody_is_asked(profiles, ledger):
    keyring.set_keyring(fail.Keyring())

    def ask() -> str:
        raise AssertionError("asked for a secret that could not be kept")

    with pytest.raises(KeyringUnavailableError):
        profiles.set_cryptomus(merchant=DEFAULT_CRYPTOMUS_MERCHANT, payout_key=ask)
    assert ledger.settings.get("provider.cryptomus") is None


def test_pay3_currencies_are_written_code_equals_currency_colon_network(profiles, ledger):
    profiles.set_pay3(base_url="https://acme.pay3.app", client_id="acme", api_secret="pay3-secret-123",
                      currencies=["USDT-TRON=USDT:TRON", "USDC-POLY=usdc:polygon"], payer_email="ops@acme.test")
    profile = profiles.profile("pay3")
    assert isinstance(profile, Pay3Profile)
    assert {c.code: c.asset.code for c in profile.currencies} == {"USDT-TRON": "USDT-TRON",
                                                                  "USDC-POLY": "USDC-POLYGON"}
    assert profile.payer_email == "ops@acme.test"


@pytest.mark.parametrize("text", ["USDT-TRON", "USDT-TRON=USDT", "=USDT:TRON", "X=DOGE:TRON"])
def test_a_currency_mapping_that_cannot_be_read_is_refused(profiles, text):
    with pytest.raises(InvalidFieldError):
        profiles.set_pay3(base_url="https://acme.pay3.app", client_id="acme", api_secret="pay3-secret-123",
                          currencies=[text])


def test_pay3_protocol_decisions_can_be_overridden_and_survive_a_new_secret(profiles):
    profiles.set_pay3(base_url="https://acme.pay3.app", client_id="acme", api_secret="pay3-secret-123",
                      protocol={"token_path": "/v2/token", "create_signed_fields": ["amount", "requestId"]})
    profiles.set_pay3(base_url="https://acme.pay3.app", client_id="acme", api_secret="pay3-secret-456")
    decisions = profiles.profile("pay3").decisions
    assert decisions.token_path == "/v2/token" and decisions.create_signed_fields == ("amount", "requestId")
    with pytest.raises(InvalidFieldError, match="unknown Pay3 protocol settings: tokn_path"):
        profiles.set_pay3(base_url="https://acme.pay3.app", client_id="acme", api_secret="pay3-secret-123",
                          protocol={"tokn_path": "/x"})


def test_an_unset_profile_is_named_with_what_to_do(profiles):
    with pytest.raises(ProfileNotFoundError, match="provider set pay3"):
        profiles.profile("pay3")
    with pytest.raises(InvalidFieldError, match="not a provider"):
        profiles.profile("paypal")


def test_remove_forgets_the_profile_and_deletes_the_secret(profiles, ledger, memory_keyring):
    profiles.set_cryptomus(merchant=DEFAULT_CRYPTOMUS_MERCHANT, payout_key="payout-key-12345")
    assert profiles.remove("cryptomus") is True
    assert memory_keyring.secrets == {} and ledger.settings.get("provider.cryptomus") is None
    assert profiles.remove("cryptomus") is False and profiles.summaries() == []


async def test_check_reports_reachable_accepted_and_the_balances(profiles, sandbox):
    set_sandbox_cryptomus(profiles, sandbox)
    report = await profiles.check("cryptomus")
    assert report.ok and report.reachable and report.credentials_accepted
    assert {b.currency: b.amount for b in report.balances}["USDT"] == Decimal("25000")


async def test_check_reports_refused_credentials(profiles, sandbox):
    set_sandbox_cryptomus(profiles, sandbox, key="not-the-right-key")
    report = await profiles.check("cryptomus")
    assert (report.reachable, report.credentials_accepted, report.ok) == (True, False, False)
    assert "Invalid Sign" in report.problem


async def test_check_reports_an_unreachable_provider(profiles, sandbox):
    base_url = sandbox.base_url
    set_sandbox_cryptomus(profiles, sandbox)
    sandbox.running.stop()
    report = await profiles.check("cryptomus")
    assert (report.reachable, report.credentials_accepted) == (False, None)
    assert base_url.startswith("http://127.0.0.1")


async def test_check_of_pay3_gets_a_token_and_says_why_there_are_no_balances(profiles, sandbox):
    profiles.set_pay3(base_url=sandbox.base_url, client_id=DEFAULT_PAY3_CLIENT_ID, api_secret=DEFAULT_PAY3_API_SECRET)
    report = await profiles.check("pay3")
    assert report.ok and report.balances == () and "no balance endpoint" in report.balances_note


async def test_assets_lists_what_the_profile_can_pay(profiles, sandbox):
    set_sandbox_cryptomus(profiles, sandbox)
    options = {o.asset.code: o for o in await profiles.assets("cryptomus")}
    assert options["USDT-TRON"].min_amount == Decimal("0.5")
