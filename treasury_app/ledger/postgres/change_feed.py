"""Following a team ledger live: what other desks commit, as it commits (LISTEN/NOTIFY).

The schema's triggers announce every statement that adds or changes payouts, or approves or voids an approval,
on the channel `treasury_ledger` (`schema.py`). A `ChangeFeed` holds one connection of its own that LISTENs, on
a thread of its own, and hands each announcement of this ledger's schema to `on_change` on that thread. A lost
connection is made again (at once, then every `RECONNECT_S`) and, since announcements made meanwhile are lost
with it, the first thing said after a reconnect is "everything may have changed".

Being always connected, the feed is also how a window learns that the server is gone and back:
`on_reachability` hears "unreachable" when the feed's connection is lost and cannot be made again at once (a
backend ended by an administrator is simply replaced, unannounced), and "reachable" when it is made again.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable

import psycopg

from ..live_changes import LedgerChange, LedgerReachability
from .connection import CONNECT_TIMEOUT_S
from .location import shown_url

CHANNEL = "treasury_ledger"
WAIT_S = 0.5  # how long one wait for a notification lasts: how soon `stop()` is noticed
RECONNECT_S = 2.0

log = logging.getLogger(__name__)


class ChangeFeed:
    def __init__(self, url: str, on_change: Callable[[LedgerChange], None],
                 on_reachability: Callable[[LedgerReachability], None] | None = None) -> None:
        self._url = url
        self._where = shown_url(url).removeprefix("postgresql://")
        self._on_change = on_change
        self._on_reachability = on_reachability
        self._stopped = threading.Event()
        self._listening = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ledger-change-feed", daemon=True)

    def start(self) -> ChangeFeed:
        self._thread.start()
        return self

    def wait_until_listening(self, timeout: float) -> bool:
        """Whether the feed listens (tests, and a desk that must not miss the next change)."""
        return self._listening.wait(timeout)

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout=WAIT_S + CONNECT_TIMEOUT_S)

    def _run(self) -> None:
        first = True
        said_unreachable = False
        tried_at_once = False  # the last attempt was the immediate one after a loss: the next one waits
        while not self._stopped.is_set():
            connected = False
            try:
                with psycopg.connect(self._url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
                                     application_name="treasury-desk feed") as conn:
                    connected = True
                    schema = conn.execute("SELECT current_schema()").fetchone()[0]
                    conn.execute(f'LISTEN "{CHANNEL}"')
                    self._listening.set()
                    tried_at_once = False
                    if said_unreachable:
                        said_unreachable = False
                        self._tell_reachability(LedgerReachability(True, self._where))
                    if not first:
                        self._on_change(LedgerChange.everything_changed())  # what was said while we were away is lost
                    first = False
                    while not self._stopped.is_set():
                        for notice in conn.notifies(timeout=WAIT_S):
                            change = _change_of(notice.payload, schema)
                            if change is not None:
                                self._on_change(change)
            except psycopg.Error as error:
                self._listening.clear()
                problem = str(error).splitlines()[0] if str(error) else type(error).__name__
                if connected and not tried_at_once:  # lost while in use: try again at once, before saying anything
                    log.warning("the team ledger's change feed lost its connection (%s); trying again", problem)
                    tried_at_once = True
                    continue
                tried_at_once = False
                if not said_unreachable:
                    said_unreachable = True
                    log.warning("the team ledger at %s cannot be reached (%s); trying again every %s s",
                                self._where, problem, RECONNECT_S)
                    self._tell_reachability(LedgerReachability(False, self._where, problem))
                self._stopped.wait(RECONNECT_S)
            except Exception:  # a bug in a listener must not end the feed silently
                log.exception("a team ledger change could not be handed on")
                self._stopped.wait(RECONNECT_S)

    def _tell_reachability(self, reachability: LedgerReachability) -> None:
        if self._on_reachability is not None:
            self._on_reachability(reachability)


def _change_of(payload: str, schema: str) -> LedgerChange | None:
    try:
        said = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(said, dict) or said.get("schema") != schema:
        return None  # another ledger in the same database
    ids = said.get("ids")
    if ids is None:
        return LedgerChange.everything_changed()
    return LedgerChange(payout_ids=frozenset(int(i) for i in ids), new_payouts=bool(said.get("new")))
