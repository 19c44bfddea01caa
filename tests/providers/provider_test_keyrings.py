"""Keyring backends for tests, selected through keyring's own mechanisms (set_keyring, PYTHON_KEYRING_BACKEND).

They are real `keyring.backend.KeyringBackend`s: the app's credentials module talks to them exactly as it talks
to the Secret Service, the macOS Keychain or the Windows Credential Manager.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

FOLDER_ENV = "TREASURY_TEST_KEYRING_DIR"


class MemoryKeyring(KeyringBackend):
    """Secrets in this process's memory only."""

    priority = 1  # type: ignore[assignment]  # recommended, as keyring counts it (>= 1)

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.secrets.pop((service, username), None) is None:
            raise PasswordDeleteError("no such secret")


class TestFolderKeyring(KeyringBackend):
    """Stands in for the OS keyring across subprocesses of one test: one file per secret in a test's folder.

    Only for tests (the folder is the test's tmp_path): it lets `provider set` in one process and
    `provider check` in the next share a keyring without touching the machine's real one.
    """

    __test__ = False  # not a pytest test class
    priority = 1  # type: ignore[assignment]

    def _file(self, service: str, username: str) -> Path:
        folder = Path(os.environ[FOLDER_ENV])
        return folder / f"{service}--{username.replace(':', '--')}.json"

    def get_password(self, service: str, username: str) -> str | None:
        path = self._file(service, username)
        return json.loads(path.read_text())["secret"] if path.exists() else None

    def set_password(self, service: str, username: str, password: str) -> None:
        self._file(service, username).write_text(json.dumps({"secret": password}))

    def delete_password(self, service: str, username: str) -> None:
        path = self._file(service, username)
        if not path.exists():
            raise PasswordDeleteError("no such secret")
        path.unlink()


class PlaintextFileKeyring(MemoryKeyring):
    """Stands for keyrings.alt's PlaintextKeyring: secrets in a readable file, priority below 1."""

    priority = 0.5  # type: ignore[assignment]


class SilentlyDroppingKeyring(MemoryKeyring):
    """A backend that accepts secrets and keeps none (as a broken or null-like backend would)."""

    def set_password(self, service: str, username: str, password: str) -> None:
        return None
