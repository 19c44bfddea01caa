"""The frozen app, as IT hands it out: packaging/build.py builds the bundle and tarball once for this module
(about a minute on 2 cores), then the tests run the frozen program itself — its version, the window offscreen on
the built-in sandbox, the real Secret Service — and install the tarball into a staging root and remove it again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from installer_paths import PACKAGING, PROJECT
from postgres_cluster import postgres_cluster, postgres_database, postgres_ledgers_database  # noqa: F401
from secret_service_bus import secret_service  # noqa: F401 — the fixture

from treasury_app import identity

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="this machine builds the Linux bundle")]


class Built:
    def __init__(self, dist: Path, output: str) -> None:
        self.dist = dist
        self.output = output
        self.bundle = dist / identity.EXECUTABLE
        self.program = self.bundle / identity.EXECUTABLE
        self.tarball = dist / f"{identity.EXECUTABLE}-{identity.VERSION}-linux-x86_64.tar.gz"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Built:
    root = tmp_path_factory.mktemp("frozen")
    result = subprocess.run([sys.executable, str(PACKAGING / "build.py"), "--dist", str(root / "dist"),
                             "--work", str(root / "work")], capture_output=True, text=True, cwd=PROJECT, timeout=280)
    assert result.returncode == 0, f"build.py failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    return Built(root / "dist", result.stdout)


def frozen(program: Path, *args: str, env: dict[str, str] | None = None, stdin: str = "",
           timeout: float = 90) -> subprocess.CompletedProcess:
    """The frozen program, with the test's environment minus anything that would point it at our sources."""
    environment = {k: v for k, v in (env or os.environ).items()
                   if k not in {"PYTHONPATH", "PYTHONHOME", "PYTHON_KEYRING_BACKEND", "TREASURY_DATA_DIR"}}
    return subprocess.run([str(program), *args], input=stdin, capture_output=True, text=True, env=environment,
                          timeout=timeout, cwd="/")


def test_the_frozen_program_says_its_version(built):
    result = frozen(built.program, "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{identity.COMMAND}, version {identity.VERSION}"


def test_the_frozen_window_opens_offscreen_on_the_in_process_sandbox(built, tmp_path):
    result = frozen(built.program, "--data-dir", str(tmp_path / "desk"), "--smoke",
                    env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "main window painted its first page of payouts" in result.stdout
    assert "Cryptomus (sandbox), Pay3 (sandbox)" in result.stdout
    # It found its own resources (the icons): a missing file would have been logged as an error.
    assert "Traceback" not in result.stderr and "No such file" not in result.stderr


def test_the_frozen_program_keeps_a_secret_in_the_real_secret_service(built, tmp_path, secret_service):
    desk = ["--data-dir", str(tmp_path / "desk")]
    env = {**os.environ, "TREASURY_PASSWORD": "admin-password-1", "TREASURY_INSECURE_TEST_HASHING": "1"}
    added = frozen(built.program, *desk, "operator", "add", "admin", "--role", "admin", stdin="admin-password-1\n",
                   env=env)
    assert added.returncode == 0, added.stderr
    secret = "frozen-app-payout-key-4711"
    saved = frozen(built.program, *desk, "provider", "set", "cryptomus", "--as", "admin", "--merchant",
                   "c26b80a8-8a2c-4d4a-9a1e-1f7e0f3c2b11", stdin=secret + "\n", env=env)
    assert saved.returncode == 0, saved.stdout + saved.stderr
    shown = frozen(built.program, *desk, "provider", "show", "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    [profile] = json.loads(shown.stdout)
    # keyring chose the Secret Service by itself inside the bundle (its backends are found by entry point, and no
    # PYTHON_KEYRING_BACKEND is set): the daemon, read from this process, holds the secret.
    assert secret_service.get_password(profile["secret"]["service"], profile["secret"]["username"]) == secret
    assert secret not in shown.stdout + saved.stdout + saved.stderr


def test_the_frozen_program_moves_a_desk_to_a_team_ledger_on_postgresql(built, tmp_path, secret_service,
                                                                        postgres_database):
    """psycopg and its libpq inside the bundle: the desk's file copied over, then connected with the password in
    the real Secret Service, and the team ledger's trail verified by the frozen program."""
    from urllib.parse import urlsplit

    from treasury_app.ledger.location import shown_url, without_password

    desk = ["--data-dir", str(tmp_path / "desk")]
    env = {**os.environ, "TREASURY_PASSWORD": "admin-password-1", "TREASURY_INSECURE_TEST_HASHING": "1"}
    env.pop("TREASURY_LEDGER_URL", None)
    password, bare = urlsplit(postgres_database).password, without_password(postgres_database)
    assert frozen(built.program, *desk, "operator", "add", "admin", "--role", "admin", stdin="admin-password-1\n",
                  env=env).returncode == 0
    moved = frozen(built.program, *desk, "ledger", "migrate", "--to", bare, "--password-stdin", stdin=password + "\n",
                   env=env)
    assert moved.returncode == 0, moved.stdout + moved.stderr
    assert "the same head as the file: row 1," in moved.stdout
    connected = frozen(built.program, *desk, "ledger", "connect", bare, "--password-stdin", stdin=password + "\n",
                       env=env)
    assert connected.returncode == 0, connected.stdout + connected.stderr
    info = frozen(built.program, *desk, "ledger", "info", "--json", env=env)
    assert info.returncode == 0, info.stderr
    assert json.loads(info.stdout)["ledger_file"] == shown_url(bare)
    verified = frozen(built.program, *desk, "audit", "verify", env=env)
    assert verified.returncode == 0 and "audit trail intact: 1 rows" in verified.stdout, verified.stdout
    assert password not in moved.stdout + moved.stderr + connected.stdout + info.stdout


def test_the_bundle_carries_only_what_the_app_uses(built):
    internal = built.bundle / "_internal"
    names = {path.name for path in internal.rglob("*")}
    assert not {name for name in names if "WebEngine" in name or "Qt6Qml" in name or "Qt6Quick" in name}
    assert not {name for name in names if name.startswith(("libgtk-3", "libqgtk3", "PyQt", "tkinter", "pytest"))}
    assert not (internal / "PySide6" / "Qt" / "translations").exists()
    assert (internal / "resources" / "icons" / "wallet.svg").exists()
    assert (internal / "resources" / "app-icon" / "treasury-desk.svg").exists()
    assert "validated by desktop-file-validate" in built.output and "validated by appstreamcli" in built.output
    assert f"Bundle {built.bundle}:" in built.output and "MB" in built.output


def test_the_tarball_installs_into_a_root_and_uninstalls_leaving_nothing(built, tmp_path):
    with tarfile.open(built.tarball) as archive:
        members = archive.getmembers()
        assert {m.uid for m in members} == {0} and len({m.mtime for m in members}) == 1
        archive.extractall(tmp_path / "unpacked", filter="tar")
    unpacked = tmp_path / "unpacked" / f"{identity.EXECUTABLE}-{identity.VERSION}"
    root = tmp_path / "root"
    env = {**os.environ, "DESTDIR": str(root)}
    installed = subprocess.run(["sh", str(unpacked / "install.sh")], capture_output=True, text=True, env=env)
    assert installed.returncode == 0, installed.stderr
    program = root / "opt" / identity.EXECUTABLE / identity.EXECUTABLE
    link = root / "usr" / "local" / "bin" / identity.EXECUTABLE
    assert os.readlink(link) == f"/opt/{identity.EXECUTABLE}/{identity.EXECUTABLE}"
    menu = (root / "usr/local/share/applications" / f"{identity.APP_ID}.desktop").read_text()
    assert f"Exec={identity.EXECUTABLE}\n" in menu and f"Icon={identity.APP_ID}\n" in menu
    for size in (16, 48, 256, 512):
        assert (root / f"usr/local/share/icons/hicolor/{size}x{size}/apps/{identity.APP_ID}.png").exists()
    assert (root / "usr/local/share/metainfo" / f"{identity.APP_ID}.metainfo.xml").exists()
    assert frozen(program, "--version").stdout.strip().endswith(identity.VERSION)

    removed = subprocess.run(["sh", str(program.parent / "install.sh"), "--uninstall"], capture_output=True,
                             text=True, env=env)
    assert removed.returncode == 0, removed.stderr
    assert "data folder" in removed.stdout
    assert [path for path in root.rglob("*") if not path.is_dir()] == []
