"""Losing the team ledger's server, for real, in tests: the test cluster (postgres_cluster.py) stopped with
`pg_ctl` and started again on the same port, as an administrator restarts a server; and `CuttingProxy`, a TCP
relay on loopback between a desk and the server that can lose the answer to a COMMIT the server carried out
(the one cut no server-side tool can aim at) and can turn every connection away meanwhile.
"""

from __future__ import annotations

import shlex
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from urllib.parse import urlsplit, urlunsplit

from throwaway_postgres import START_TIMEOUT_S, PostgresCluster, _as_server_user


@contextmanager
def server_stopped(cluster: PostgresCluster) -> Iterator[None]:
    """The server down for the block (a fast shutdown: every session ended, new ones refused), then up again
    with the very options it was started with (its `postmaster.opts`, as `pg_ctl restart` reads them)."""
    started_with = shlex.split((cluster.data_dir / "postmaster.opts").read_text())[1:]
    options = " ".join(shlex.quote(word) for word in _without_data_dir(started_with))
    pg_ctl = str(cluster.bin_dir / "pg_ctl")
    stop = subprocess.run(_as_server_user([pg_ctl, "-D", str(cluster.data_dir), "-m", "fast", "-w", "stop"]),
                          capture_output=True, text=True, check=False)
    assert stop.returncode == 0, f"pg_ctl could not stop the test server:\n{stop.stdout}{stop.stderr}"
    try:
        yield
    finally:
        log = cluster.data_dir.parent / "server.log"
        start = subprocess.run(_as_server_user([pg_ctl, "-D", str(cluster.data_dir), "-l", str(log), "-w", "-t",
                                                str(START_TIMEOUT_S), "-o", options, "start"]),
                               capture_output=True, text=True, check=False)
        assert start.returncode == 0, f"pg_ctl could not start the test server again:\n{start.stdout}{start.stderr}"


def _without_data_dir(words: list[str]) -> list[str]:
    kept, skip = [], False
    for word in words:
        if skip:
            skip = False
        elif word == "-D":
            skip = True
        else:
            kept.append(word)
    return kept


def backend_pids(cluster: PostgresCluster, application: str) -> list[int]:
    """The server processes of the sessions an application opened (`application_name`)."""
    with cluster.admin() as admin:
        return [pid for (pid,) in admin.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s",
                                                (application,))]


class CuttingProxy:
    """Relays desk ↔ server bytes on loopback. `lose_next_commit_answer()`: the next COMMIT reaches the server,
    which carries it out and answers; the answer is dropped and the desk's connection closed, as a network that
    fails at that instant leaves it. `turn_away` (while True): every new connection is closed at once."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self._upstream = (upstream_host, upstream_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self.turn_away = False
        self.commits_relayed = 0
        self._cut_armed = False
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, name="cutting-proxy", daemon=True)
        self._thread.start()

    def url(self, server_url: str) -> str:
        """`server_url` (user, password, database, options as they are) pointed at the proxy."""
        parts = urlsplit(server_url)
        credentials, _, _ = parts.netloc.rpartition("@")
        return urlunsplit((parts.scheme, f"{credentials}@127.0.0.1:{self.port}", parts.path, parts.query, ""))

    def lose_next_commit_answer(self) -> None:
        self._cut_armed = True

    def close(self) -> None:
        self._closed.set()
        self._thread.join(5)
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                with suppress(OSError):
                    sock.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                desk, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self.turn_away:
                desk.close()
                continue
            server = socket.create_connection(self._upstream)
            with self._lock:
                self._sockets += [desk, server]
            cut = threading.Event()  # set once the COMMIT to lose the answer of has gone to the server
            threading.Thread(target=self._desk_to_server, args=(desk, server, cut), daemon=True).start()
            threading.Thread(target=self._server_to_desk, args=(server, desk, cut), daemon=True).start()

    def _desk_to_server(self, desk: socket.socket, server: socket.socket, cut: threading.Event) -> None:
        with suppress(OSError):
            while data := desk.recv(65536):
                commit = b"COMMIT\x00" in data  # the query text, NUL-terminated, as the protocol sends it
                if commit:
                    self.commits_relayed += 1
                    if self._cut_armed:
                        self._cut_armed = False
                        cut.set()
                server.sendall(data)
        _close(desk, server)

    def _server_to_desk(self, server: socket.socket, desk: socket.socket, cut: threading.Event) -> None:
        with suppress(OSError):
            while data := server.recv(65536):
                if cut.is_set():  # the COMMIT's answer: the server has committed; the desk never hears it
                    break
                desk.sendall(data)
        _close(desk, server)


def _close(*sockets: socket.socket) -> None:
    for sock in sockets:
        with suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        with suppress(OSError):
            sock.close()
