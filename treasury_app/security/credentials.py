"""Provider secrets in the operating system's keyring (through the keyring library), and nowhere else.

A secret is stored under the service "treasury-desk" and the user name "<provider>:<profile key>". When the
machine has no keyring this app may use — keyring's fail or null backend, a plain-text file backend, or a
Secret Service that cannot be reached — `KeyringUnavailableError` says so and how to get one. There is no
fallback to plain text, silent or otherwise.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import keyring
import keyring.errors
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null

from treasury_app.domain.errors import InvalidFieldError

from .errors import SecurityError

T = TypeVar("T")
SERVICE_NAME = "treasury-desk"
# Real payout keys and API secrets are long; a short one is a typo (and would garble redacted logs).
MIN_SECRET_LENGTH = 8
MAX_SECRET_LENGTH = 4096


class KeyringUnavailableError(SecurityError):
    """No keyring this app may keep secrets in; the message says what is missing and how to get one."""

    def __init__(self, problem: str) -> None:
        self.problem = problem
        super().__init__(f"no usable keyring: {problem}. {how_to_get_a_keyring()}")


class CredentialNotFoundError(SecurityError):
    """The keyring holds no secret for this provider profile (never set, or removed from the keyring)."""

    def __init__(self, provider: str, profile_key: str) -> None:
        self.provider = provider
        self.profile_key = profile_key
        super().__init__(f"the keyring holds no secret for {provider} (entry '{SERVICE_NAME}' / "
                         f"'{credential_username(provider, profile_key)}'); set it again with "
                         f"'treasury-app provider set {provider} …'")


def how_to_get_a_keyring() -> str:
    if sys.platform.startswith("linux"):
        return ("Treasury Desk keeps provider secrets only in the operating system's keyring. On Linux that is a "
                "Secret Service: install and start one (e.g. 'sudo apt install gnome-keyring' in a desktop "
                "session, or KWallet on KDE), with a D-Bus session bus running (DBUS_SESSION_BUS_ADDRESS set) "
                "and the keyring unlocked. To choose a backend explicitly, set PYTHON_KEYRING_BACKEND, e.g. "
                "keyring.backends.SecretService.Keyring")
    if sys.platform == "darwin":
        return ("Treasury Desk keeps provider secrets only in the macOS Keychain; check that "
                "PYTHON_KEYRING_BACKEND or keyringrc.cfg does not select another backend, and that the login "
                "keychain is unlocked")
    return ("Treasury Desk keeps provider secrets only in the Windows Credential Manager; check that "
            "PYTHON_KEYRING_BACKEND or keyringrc.cfg does not select another backend")


def credential_username(provider: str, profile_key: str) -> str:
    return f"{provider}:{profile_key}"


def usable_backend(backend: KeyringBackend) -> KeyringBackend:
    """The backend that will really hold the secret, if this app may use it; else KeyringUnavailableError."""
    if isinstance(backend, chainer.ChainerBackend):
        members = list(backend.backends)
        if not members:
            raise KeyringUnavailableError("keyring found no backend at all on this computer")
        backend = members[0]  # the chainer writes to its first (highest-priority) backend
    name = backend_name(backend)
    if isinstance(backend, fail.Keyring | null.Keyring):
        raise KeyringUnavailableError(f"keyring has no backend it recommends here (it chose {name})")
    if "plaintext" in type(backend).__name__.lower():
        raise KeyringUnavailableError(f"{name} keeps secrets as plain text in a file, which this app refuses")
    try:
        priority = backend.priority
    except Exception as error:  # keyring's way of saying "not viable here": the priority raises
        raise KeyringUnavailableError(f"{name} cannot be used here ({_say(error)})") from None
    if priority < 1:
        # keyring's own rule (keyring.core.recommended): below 1 means not recommended, e.g. unencrypted files.
        raise KeyringUnavailableError(f"{name} is not a recommended keyring backend (priority {priority:g})")
    return backend


def backend_name(backend: KeyringBackend) -> str:
    kind = type(backend)
    return f"{kind.__module__}.{kind.__qualname__}"


@dataclass(frozen=True)
class StoredCredential:
    """Where a secret is in the keyring (never the secret itself): safe to show and to log."""

    service: str
    username: str
    backend: str


class CredentialStore:
    """Store, read and delete provider secrets. `backend` defaults to the one keyring selects."""

    def __init__(self, backend: KeyringBackend | None = None, *, service: str = SERVICE_NAME) -> None:
        self._backend = backend
        self.service = service

    def backend(self) -> KeyringBackend:
        """The usable backend, or KeyringUnavailableError."""
        try:
            chosen = self._backend if self._backend is not None else keyring.get_keyring()
        except Exception as error:
            raise KeyringUnavailableError(f"keyring could not choose a backend ({_say(error)})") from None
        return usable_backend(chosen)

    def store(self, provider: str, profile_key: str, secret: str) -> StoredCredential:
        _check_secret(secret)
        backend = self.backend()
        username = credential_username(provider, profile_key)
        self._run(backend, "store the secret", lambda: backend.set_password(self.service, username, secret),
                  secret=secret)
        # Some backends drop what they are given without a word; a secret that did not stick is an error now,
        # not at the first payout.
        kept = self._run(backend, "read the secret back", lambda: backend.get_password(self.service, username),
                         secret=secret)
        if kept != secret:
            raise KeyringUnavailableError(f"{backend_name(backend)} did not keep the secret it was given")
        return StoredCredential(self.service, username, backend_name(backend))

    def read(self, provider: str, profile_key: str) -> str:
        backend = self.backend()
        username = credential_username(provider, profile_key)
        secret = self._run(backend, "read the secret", lambda: backend.get_password(self.service, username))
        if not secret:
            raise CredentialNotFoundError(provider, profile_key)
        return secret

    def delete(self, provider: str, profile_key: str) -> bool:
        """Remove the secret; False when there was none."""
        backend = self.backend()
        username = credential_username(provider, profile_key)
        if self._run(backend, "look the secret up", lambda: backend.get_password(self.service, username)) is None:
            return False
        try:
            backend.delete_password(self.service, username)
        except keyring.errors.PasswordDeleteError:
            return False
        except Exception as error:
            raise KeyringUnavailableError(f"{backend_name(backend)} could not delete the secret ({_say(error)})") \
                from None
        return True

    def location(self, provider: str, profile_key: str) -> StoredCredential:
        """Where the secret is (or would be) kept, without touching the keyring."""
        backend = self._backend
        shown = backend_name(backend) if backend is not None else "the system keyring"
        return StoredCredential(self.service, credential_username(provider, profile_key), shown)

    @staticmethod
    def _run(backend: KeyringBackend, action: str, operation: Callable[[], T], *, secret: str | None = None) -> T:
        try:
            return operation()
        except keyring.errors.KeyringLocked:
            raise KeyringUnavailableError(f"{backend_name(backend)} is locked and could not be unlocked to "
                                          f"{action}; unlock the keyring and try again") from None
        except Exception as error:
            raise KeyringUnavailableError(
                f"{backend_name(backend)} failed to {action} ({_say(error, secret)})") from None


def _check_secret(secret: str) -> None:
    if not isinstance(secret, str) or not secret:
        raise InvalidFieldError("secret", "is empty")
    if len(secret) < MIN_SECRET_LENGTH:
        raise InvalidFieldError("secret", f"is shorter than {MIN_SECRET_LENGTH} characters; paste the whole key")
    if len(secret) > MAX_SECRET_LENGTH:
        raise InvalidFieldError("secret", f"is longer than {MAX_SECRET_LENGTH} characters")
    if secret != secret.strip() or any(ord(ch) < 32 or ord(ch) == 127 for ch in secret):
        raise InvalidFieldError("secret", "contains spaces at an end or control characters; paste the key alone")


def _say(error: BaseException, secret: str | None = None) -> str:
    """An exception's text for a message, cut short, with the secret masked should a backend have quoted it."""
    text = " ".join(str(error).split()) or type(error).__name__
    if secret:
        text = text.replace(secret, "***")
    return text[:300]
