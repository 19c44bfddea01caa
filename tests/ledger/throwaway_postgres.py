"""A throwaway PostgreSQL server: a cluster made with `initdb` and started with `pg_ctl` (Debian's `postgresql`
package, which packaging/bootstrap.py installs for the test suite) in a temporary folder, listening on loopback
on a free port, with password (SCRAM) authentication as a real server has; stopped and removed afterwards.

Plain Python, no pytest: the test fixtures (postgres_cluster.py) and the ledger benchmark
(tests/benchmarks/ledger_scale.py --postgres-cluster) both start their server here. As root, the server runs as
the `postgres` system user, since PostgreSQL refuses to run as root.
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
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

SUPERUSER = "treasury_test_admin"
START_TIMEOUT_S = 60
INITDB_MISSING = ("PostgreSQL's initdb was not found: install the Debian package postgresql "
                  "(python3 packaging/bootstrap.py test does it when run as root)")


class ClusterError(RuntimeError):
    """The throwaway server could not be made or started (the text says why)."""


@dataclass(frozen=True)
class PostgresCluster:
    host: str
    port: int
    superuser: str
    password: str = field(repr=False)
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


@contextmanager
def throwaway_cluster(*, durable: bool = False, max_connections: int = 60) -> Iterator[PostgresCluster]:
    """A running server for the block; stopped and its folder removed after. `durable=False` runs it with
    fsync off: a throwaway cluster for tests needs no durability across a power cut, and every commit is cheap.
    A benchmark passes `durable=True`, so that commits cost what they cost on a real server."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise ClusterError(INITDB_MISSING)
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
        raise ClusterError(f"initdb could not make a throwaway cluster:\n{made.stdout}{made.stderr}")
    port = free_port()
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c max_connections={max_connections}"
    if not durable:
        options += " -c fsync=off"
    start = _as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w",
                             "-t", str(START_TIMEOUT_S), "-o", options, "start"])
    started = subprocess.run(start, capture_output=True, text=True)
    if started.returncode != 0:
        detail = log.read_text() if log.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise ClusterError(f"pg_ctl could not start the throwaway cluster:\n{started.stdout}{started.stderr}\n{detail}")
    try:
        yield PostgresCluster("127.0.0.1", port, SUPERUSER, password, bin_dir, data)
    finally:
        subprocess.run(_as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def create_ledgers_database(cluster: PostgresCluster, name: str = "ledgers") -> str:
    """A database for ledgers with an English collation, as a company's server would have, not the cluster's C
    (the ledger must sort and compare as SQLite does whatever the server's default: its schema says COLLATE "C"
    where it matters), and pg_trgm in `public`, on every ledger schema's search path (an extension lives in one
    schema of a database; each ledger schema would otherwise look for it in its own)."""
    with cluster.admin() as admin:
        admin.execute(f"""CREATE DATABASE "{name}" TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C.UTF-8' """
                      """LOCALE_PROVIDER icu ICU_LOCALE 'en-US'""")
    with cluster.admin(name) as admin:
        admin.execute("CREATE EXTENSION pg_trgm")
    return name
