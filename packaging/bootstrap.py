"""Set up and run Treasury Desk, or its whole test suite, on a fresh machine with one command.

    python3 packaging/bootstrap.py run   [app arguments…]
    python3 packaging/bootstrap.py test  [pytest arguments…]
    python3 packaging/bootstrap.py build [packaging/build.py arguments…]   (the installable bundle)

It makes a virtual environment in `.venv` beside the project (re-installing only when pyproject.toml
changed), compiles the package to bytecode (as an installed wheel has it), installs the operating-system
packages the tests or the build need where it can (Debian/Ubuntu, as root or with passwordless sudo; otherwise
it prints the command to run), then runs the app, pytest or packaging/build.py. Only the standard
library is used here, so it works before anything is installed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

MIN_PYTHON = (3, 11)
PROJECT = Path(__file__).resolve().parent.parent
VENV = PROJECT / ".venv"
STAMP = VENV / ".treasury-install-stamp"

# Debian package → a file or command that shows it is present. What the test suite needs from the system.
TEST_SYSTEM_PACKAGES: dict[str, str] = {
    "sqlite3": "sqlite3",  # the command-line shell the ledger benchmark compares against
    # A private D-Bus session bus and a real Secret Service, for the keyring integration test.
    "dbus": "dbus-daemon",
    "gnome-keyring": "gnome-keyring-daemon",
    # The window tests draw real Qt widgets offscreen: Qt's own shared libraries need these, and text needs a font.
    "libgl1": "lib:GL",
    "libegl1": "lib:EGL",
    "libfontconfig1": "lib:fontconfig",
    "libxkbcommon0": "lib:xkbcommon",
    "libglib2.0-0": "lib:glib-2.0",
    "libdbus-1-3": "lib:dbus-1",
    "fonts-dejavu-core": "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    # The team-ledger tests start a throwaway PostgreSQL server of their own (initdb, pg_ctl).
    "postgresql": "glob:/usr/lib/postgresql/*/bin/initdb",
    # The installers' menu entry and AppStream metainfo are validated by the build (tests/packaging builds it).
    "desktop-file-utils": "desktop-file-validate",
    "appstream": "appstreamcli",
}
# The build renders the icons with Qt and validates the Linux menu entry: the test packages serve it, bar the server.
BUILD_SYSTEM_PACKAGES = {name: probe for name, probe in TEST_SYSTEM_PACKAGES.items() if name != "postgresql"}
EXTRAS = {"run": None, "test": "dev", "build": "build"}


def main(argv: list[str]) -> int:
    if sys.version_info < MIN_PYTHON:
        wanted = ".".join(map(str, MIN_PYTHON))
        print(f"Treasury Desk needs Python {wanted} or newer; this is {sys.version.split()[0]}.", file=sys.stderr)
        return 2
    if not argv or argv[0] not in EXTRAS:
        print(__doc__, file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    python = ensure_virtualenv(extra=EXTRAS[command])
    compile_package(python)
    if command == "test":
        if install_system_packages(TEST_SYSTEM_PACKAGES, needed_for="The test suite"):
            return 3
        return subprocess.call([str(python), "-m", "pytest", *rest], cwd=PROJECT)
    if command == "build":
        if sys.platform.startswith("linux") and install_system_packages(BUILD_SYSTEM_PACKAGES, needed_for="The build"):
            return 3
        return subprocess.call([str(python), str(PROJECT / "packaging" / "build.py"), *rest], cwd=PROJECT)
    return subprocess.call([str(python), "-m", "treasury_app", *rest], cwd=PROJECT)


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_virtualenv(extra: str | None) -> Path:
    """Create `.venv` if needed and install the project (editable) when its requirements changed."""
    python = venv_python()
    if not python.exists():
        print(f"Creating a virtual environment in {VENV} …", flush=True)
        subprocess.check_call([sys.executable, "-m", "venv", str(VENV)])
    target = f".[{extra}]" if extra else "."
    wanted = install_fingerprint(target)
    if STAMP.exists() and wanted in STAMP.read_text().split():
        return python
    print(f"Installing Treasury Desk ({target}) into {VENV} …", flush=True)
    subprocess.check_call([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"])
    subprocess.check_call([str(python), "-m", "pip", "install", "--quiet", "-e", target], cwd=PROJECT)
    # A dev install also satisfies a plain one: remember both so `run` after `test` installs nothing.
    done = {wanted, install_fingerprint(".")} if extra else {wanted}
    previous = set(STAMP.read_text().split()) if STAMP.exists() else set()
    STAMP.write_text("\n".join(sorted(done | previous)) + "\n")
    return python


def compile_package(python: Path) -> None:
    """Bytecode for the package's modules, as an installed wheel has it. The editable install leaves that to
    the first start, and where PYTHONDONTWRITEBYTECODE is set every start would compile ~150 modules again
    (a third of the window's start on a 2-core machine). Up to date, this only compares timestamps."""
    subprocess.call([str(python), "-m", "compileall", "-q", str(PROJECT / "treasury_app")])


def install_fingerprint(target: str) -> str:
    digest = hashlib.sha256((PROJECT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    return f"{target}@{digest}"


def install_system_packages(packages: dict[str, str], needed_for: str) -> list[str]:
    """Install missing Debian packages when allowed; return what is still missing (after saying so)."""
    missing = [name for name, probe in packages.items() if not is_present(probe)]
    if not missing:
        return []
    apt = shutil.which("apt-get")
    prefix = [] if hasattr(os, "geteuid") and os.geteuid() == 0 else sudo_prefix()
    if apt and prefix is not None:
        print(f"Installing system packages: {' '.join(missing)} …", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.check_call([*prefix, apt, "update", "-qq"], env=env)
        subprocess.check_call([*prefix, apt, "install", "-y", "-qq", "--no-install-recommends", *missing], env=env)
        missing = [name for name in missing if not is_present(packages[name])]
    if missing:
        print(
            f"{needed_for} needs these system packages, which could not be installed automatically:\n"
            f"    {' '.join(missing)}\n"
            f"On Debian or Ubuntu: sudo apt-get install {' '.join(missing)}",
            file=sys.stderr,
        )
    return missing


def is_present(probe: str) -> bool:
    """A file (a path, or "glob:PATTERN"), a shared library ("lib:NAME", as the dynamic linker finds it) or a
    command."""
    if probe.startswith("glob:"):
        import glob

        return bool(glob.glob(probe[5:]))
    if probe.startswith("lib:"):
        import ctypes.util

        return ctypes.util.find_library(probe[4:]) is not None
    return Path(probe).exists() if os.sep in probe else shutil.which(probe) is not None


def sudo_prefix() -> list[str] | None:
    """`sudo -n` when it works without a password prompt; None when it would have to ask."""
    sudo = shutil.which("sudo")
    if sudo and subprocess.call([sudo, "-n", "true"], stderr=subprocess.DEVNULL) == 0:
        return [sudo, "-n"]
    return None


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
