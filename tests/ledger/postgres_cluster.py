"""A real PostgreSQL server for tests: a throwaway cluster made with Debian's `initdb` and started with `pg_ctl`
(package `postgresql`, which packaging/bootstrap.py installs for the test suite) in a temporary folder, listening
on loopback on a free port, with password (SCRAM) authentication as a real server has.

`postgres_cluster` (one per test session and xdist worker) is the server; `postgres_database` gives each test a
database of its own on it. Neither is ever skipped: a test that needs PostgreSQL and cannot start it FAILS,
saying why. As root (CI), the server runs as the `postgres` system user, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SUPERUSER = "treasury_test_admin"
START_TIMEOUT_S = 60


@dataclass(frozen=True)
class PostgresCluster:
    host: str
    port: int
    superuser: str
    password: str
    bin_dir: Path
    data_dir: Path

    def url(self, database: str = "postgres", user: str | None = None, password: str | None = None) -> str:
        who = user or self.superuser
        secret = self.password if password is None else password
        return f"postgresql://{who}:{secret}@{self.host}:{self.port}/{database}"

    def admin(self, database: str = "postgres"):
        """A psycopg connection as the superuser (autocommit), for set-up and for tampering tests."""
        import psycopg

        return psycopg.connect(self.url(database), autocommit=True)


def find_bin_dir() -> Path | None:
    """The newest installed server's programs: /usr/lib/postgresql/<major>/bin (Debian), else initdb on PATH."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_server_user(command: list[str]) -> list[str]:
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.fail("PostgreSQL's initdb was not found: install the Debian package postgresql "
                    "(python3 packaging/bootstrap.py test does it when run as root)")
    root = Path(tempfile.mkdtemp(prefix="tdpg-"))
    data, sockets, log = root / "data", root / "run", root / "server.log"
    sockets.mkdir()
    password = secrets.token_urlsafe(18)
    (root / "password").write_text(password + "\n")
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
        shutil.chown(root / "password", "postgres")
    initdb = _as_server_user([str(bin_dir / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=scram-sha-256",
                              f"--pwfile={root / 'password'}", "-E", "UTF8", "--locale=C.UTF-8"])
    made = subprocess.run(initdb, capture_output=True, text=True)
    if made.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"initdb could not make a test cluster:\n{made.stdout}{made.stderr}")
    port = free_port()
    # fsync off: a throwaway cluster needs no durability across a power cut, and it makes every commit cheap.
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60"
    start = _as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w",
                             "-t", str(START_TIMEOUT_S), "-o", options, "start"])
    started = subprocess.run(start, capture_output=True, text=True)
    if started.returncode != 0:
        detail = log.read_text() if log.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"pg_ctl could not start the test cluster:\n{started.stdout}{started.stderr}\n{detail}")
    try:
        yield PostgresCluster("127.0.0.1", port, SUPERUSER, password, bin_dir, data)
    finally:
        subprocess.run(_as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_ledgers_database(postgres_cluster: PostgresCluster) -> str:
    """One database per session for the tests' ledgers, each in a schema of its own (made in milliseconds, where
    a database takes half a second to copy)."""
    with postgres_cluster.admin() as admin:
        # An English collation, as a company's server would have, not the cluster's C: the ledger must sort and
        # compare as SQLite does whatever the server's default (its schema says COLLATE "C" where it matters).
        admin.execute("""CREATE DATABASE "ledgers" TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C.UTF-8' """
                      """LOCALE_PROVIDER icu ICU_LOCALE 'en-US'""")
    with postgres_cluster.admin("ledgers") as admin:
        # Once, in `public` (on every test's search path): an extension lives in one schema of a database, and
        # each test's ledger schema would otherwise look for it in its own.
        admin.execute("CREATE EXTENSION pg_trgm")
    return "ledgers"


@pytest.fixture
def postgres_database(postgres_cluster: PostgresCluster, postgres_ledgers_database: str) -> Iterator[str]:
    """An empty ledger location for one test: a fresh schema, first on the URL's search path; dropped after."""
    name = f"t_{secrets.token_hex(6)}"
    with postgres_cluster.admin(postgres_ledgers_database) as admin:
        admin.execute(f'CREATE SCHEMA "{name}"')
    try:
        yield postgres_cluster.url(postgres_ledgers_database) + f"?options=-csearch_path%3D{name}%2Cpublic"
    finally:
        with postgres_cluster.admin(postgres_ledgers_database) as admin:
            admin.execute(f'DROP SCHEMA "{name}" CASCADE')
