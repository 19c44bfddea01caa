"""The real thing: a secret stored, read and deleted in gnome-keyring through the Secret Service over D-Bus.

The fixture (secret_service_bus.py, shared with the window's test of the Providers tab) starts a private D-Bus
session bus and an unlocked gnome-keyring-daemon, so nothing of this computer's own session or keyring is
touched.
"""

from __future__ import annotations

import sys

import pytest
from keyring.backends import SecretService
from secret_service_bus import secret_service  # noqa: F401 — the fixture

from treasury_app.security.credentials import CredentialNotFoundError, CredentialStore

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Secret Service is Linux's keyring")


def test_a_provider_secret_lives_in_the_secret_service_and_leaves_it_when_deleted(secret_service):
    store = CredentialStore(secret_service)
    secret = "payout-key-held-by-gnome-keyring-0123"
    where = store.store("cryptomus", "desk-under-test", secret)
    assert where.backend == "keyring.backends.SecretService.Keyring"
    # Read back through a fresh backend object: the secret is in the daemon, not in our process.
    assert CredentialStore(SecretService.Keyring()).read("cryptomus", "desk-under-test") == secret
    assert store.delete("cryptomus", "desk-under-test") is True
    with pytest.raises(CredentialNotFoundError):
        store.read("cryptomus", "desk-under-test")
