"""Provider secrets in the keyring: kept there and only there; no usable keyring is said plainly, never worked around.

Backends are chosen through keyring's own mechanisms (keyring.set_keyring, PYTHON_KEYRING_BACKEND).
"""

import os
import subprocess
import sys
from pathlib import Path

import keyring
import keyring.backend
import keyring.errors
import pytest
from keyring.backends import SecretService, chainer, fail, null
from provider_test_keyrings import MemoryKeyring, PlaintextFileKeyring, SilentlyDroppingKeyring

from treasury_app.domain.errors import InvalidFieldError
from treasury_app.security.credentials import (
    SERVICE_NAME,
    CredentialNotFoundError,
    CredentialStore,
    KeyringUnavailableError,
)

PROJECT = Path(__file__).resolve().parents[2]
SECRET = "a-long-enough-payout-key-0123456789"


def test_a_secret_is_stored_read_and_deleted_in_the_selected_keyring(memory_keyring):
    store = CredentialStore()
    where = store.store("cryptomus", "desk1", SECRET)
    assert (where.service, where.username) == (SERVICE_NAME, "cryptomus:desk1")
    assert memory_keyring.secrets == {(SERVICE_NAME, "cryptomus:desk1"): SECRET}
    assert store.read("cryptomus", "desk1") == SECRET
    assert store.delete("cryptomus", "desk1") is True
    assert store.delete("cryptomus", "desk1") is False
    with pytest.raises(CredentialNotFoundError, match="provider set cryptomus"):
        store.read("cryptomus", "desk1")


def test_profiles_of_different_desks_do_not_share_a_secret():
    store = CredentialStore(MemoryKeyring())
    store.store("pay3", "sandbox-desk", "sandbox-secret-000")
    store.store("pay3", "real-desk", "real-secret-000000")
    assert store.read("pay3", "sandbox-desk") == "sandbox-secret-000"


@pytest.mark.parametrize("secret", ["", "short", " padded-secret-value", "two\nlines-secret"])
def test_a_secret_that_cannot_be_a_key_is_refused_and_nothing_is_stored(memory_keyring, secret):
    with pytest.raises(InvalidFieldError) as caught:
        CredentialStore().store("cryptomus", "desk1", secret)
    assert caught.value.field == "secret"
    assert memory_keyring.secrets == {}


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring(), PlaintextFileKeyring()],
                         ids=["fail", "null", "plaintext"])
def test_a_backend_that_would_lose_or_expose_secrets_is_refused_plainly(backend):
    keyring.set_keyring(backend)
    store = CredentialStore()
    for attempt in (lambda: store.store("cryptomus", "desk1", SECRET), lambda: store.read("cryptomus", "desk1")):
        with pytest.raises(KeyringUnavailableError) as caught:
            attempt()
        message = str(caught.value)
        assert "no usable keyring" in message
        if sys.platform.startswith("linux"):
            assert "gnome-keyring" in message and "PYTHON_KEYRING_BACKEND" in message
    assert getattr(backend, "secrets", {}) == {}


def test_a_chainer_with_nothing_to_chain_is_refused(monkeypatch):
    monkeypatch.setattr(keyring.backend, "_limit", lambda backend: False)
    with pytest.raises(KeyringUnavailableError, match="no backend at all"):
        CredentialStore(chainer.ChainerBackend()).backend()


def test_the_secret_service_without_a_session_bus_is_refused_with_how_to_start_one(monkeypatch, tmp_path):
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/no-bus-here")
    with pytest.raises(KeyringUnavailableError, match="SecretService.Keyring cannot be used here") as caught:
        CredentialStore(SecretService.Keyring()).store("pay3", "desk1", SECRET)
    assert "D-Bus" in str(caught.value)


def test_a_backend_that_drops_what_it_is_given_is_caught_when_storing():
    with pytest.raises(KeyringUnavailableError, match="did not keep the secret"):
        CredentialStore(SilentlyDroppingKeyring()).store("pay3", "desk1", SECRET)


class LockedKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")


def test_a_locked_keyring_says_to_unlock_it():
    with pytest.raises(KeyringUnavailableError, match="is locked"):
        CredentialStore(LockedKeyring()).read("pay3", "desk1")


class ExplodingKeyring(MemoryKeyring):
    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.PasswordSetError(f"backend choked on {password}")


def test_a_backend_error_quoting_the_secret_does_not_repeat_it():
    with pytest.raises(KeyringUnavailableError) as caught:
        CredentialStore(ExplodingKeyring()).store("pay3", "desk1", SECRET)
    assert SECRET not in str(caught.value) and "***" in str(caught.value)


def run_python(code: str, env_extra: dict[str, str]) -> subprocess.CompletedProcess:
    env = {**os.environ, **env_extra,
           "PYTHONPATH": os.pathsep.join([str(PROJECT), str(Path(__file__).parent)])}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)


def test_python_keyring_backend_chooses_the_backend_and_the_fail_backend_is_refused():
    code = ("from treasury_app.security.credentials import CredentialStore, KeyringUnavailableError\n"
            "try:\n    CredentialStore().read('pay3', 'desk1')\n"
            "except KeyringUnavailableError as e:\n    print('refused:', e)\n")
    result = run_python(code, {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("refused: no usable keyring")


def test_python_keyring_backend_shares_a_test_keyring_between_processes(tmp_path):
    env = {"PYTHON_KEYRING_BACKEND": "provider_test_keyrings.TestFolderKeyring",
           "TREASURY_TEST_KEYRING_DIR": str(tmp_path)}
    store = "from treasury_app.security.credentials import CredentialStore\n"
    assert run_python(store + f"CredentialStore().store('pay3', 'desk1', {SECRET!r})", env).returncode == 0
    result = run_python(store + "print(CredentialStore().read('pay3', 'desk1'))", env)
    assert result.stdout.strip() == SECRET, result.stderr
