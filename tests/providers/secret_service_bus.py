"""A real Secret Service for tests: a private D-Bus session bus and an unlocked gnome-keyring-daemon (from Debian's
packages `dbus` and `gnome-keyring`, which packaging/bootstrap.py installs for the test suite), so nothing of
this computer's own session or keyring is touched.

The `secret_service` fixture yields keyring's SecretService backend over that bus, with the environment
(HOME, XDG_*, DBUS_SESSION_BUS_ADDRESS) pointing at it for the test. It FAILS the test, saying why, when the
daemons are missing or do not start: on Linux this is the keyring the app uses, and it must be tested.
Import the fixture into a test module (`from secret_service_bus import secret_service`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import secretstorage
from keyring.backends import SecretService
from secretstorage.collection import get_collection_by_alias

NEEDED = ("dbus-daemon", "gnome-keyring-daemon")
# A session bus WITHOUT service directories: nothing is started on demand. With the system's session config, a
# client that asks for the Secret Service before our daemon has claimed the name makes the bus start a second,
# locked gnome-keyring-daemon of its own, which then wins the name (and outlives the test).
PRIVATE_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def secret_service(monkeypatch: pytest.MonkeyPatch) -> Iterator[SecretService.Keyring]:
    missing = [tool for tool in NEEDED if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} not found: install the Debian packages dbus and gnome-keyring "
                    "(python3 packaging/bootstrap.py test does it when run as root)")
    # A short private folder: a unix socket path must stay under about 100 bytes.
    home = Path(tempfile.mkdtemp(prefix="tdks-"))
    runtime = home / "run"
    runtime.mkdir(mode=0o700)
    env = {**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(runtime),
           "XDG_DATA_HOME": str(home / "data"), "XDG_CONFIG_HOME": str(home / "config"),
           "XDG_CACHE_HOME": str(home / "cache")}
    config = home / "session.conf"
    config.write_text(PRIVATE_BUS_CONFIG.format(socket=runtime / "bus"))
    bus = subprocess.Popen(["dbus-daemon", f"--config-file={config}", "--nofork", "--print-address=1"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
    daemon = None
    try:
        address = bus.stdout.readline().strip()
        assert address.startswith("unix:"), "dbus-daemon printed no address"
        env["DBUS_SESSION_BUS_ADDRESS"] = address
        # --unlock reads the login keyring's password from stdin when it starts: it must already be there.
        password_out, password_in = os.pipe()
        os.write(password_in, b"test-keyring-password")
        os.close(password_in)
        try:
            daemon = subprocess.Popen(["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
                                      stdin=password_out, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      env=env)
        finally:
            os.close(password_out)
        for name, value in env.items():
            if name.startswith(("XDG_", "DBUS_")) or name == "HOME":
                monkeypatch.setenv(name, value)
        try:
            backend = wait_for_secret_service(daemon)
        except Exception as error:
            pytest.fail(f"the Secret Service did not come up on the private bus ({type(error).__name__}: {error}; "
                        f"gnome-keyring-daemon exit status {daemon.poll()}): the keyring test cannot run")
        yield backend
    finally:
        if daemon is not None:
            stop(daemon)
        stop(bus)
        if bus.stdout:
            bus.stdout.close()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def secret_service_keyring(secret_service: SecretService.Keyring) -> Iterator[SecretService.Keyring]:
    """The Secret Service as this process's keyring (keyring's own `set_keyring`); the previous one after."""
    import keyring

    before = keyring.get_keyring()
    keyring.set_keyring(secret_service)
    yield secret_service
    keyring.set_keyring(before)


def wait_for_secret_service(daemon: subprocess.Popen, timeout: float = 20) -> SecretService.Keyring:
    """Wait until the daemon has created and unlocked its login keyring behind the "default" alias.

    Only side-effect-free calls here: asking keyring for a password too early makes it create a default
    collection itself, which needs a prompt that cannot be shown, and leaves the daemon locked for good.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            connection = secretstorage.dbus_init()
            try:
                if get_collection_by_alias(connection, "default").is_locked():
                    raise RuntimeError("the login keyring is still locked")
            finally:
                connection.close()
            return SecretService.Keyring()
        except Exception:
            if daemon.poll() is not None or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
