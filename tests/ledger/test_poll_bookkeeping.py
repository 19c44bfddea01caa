"""The poller's back-off bookkeeping for a whole batch: one commit, no timeline event, and no change to what
tells a payout's facts apart (version, updated_at); a bad item writes nothing."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from psycopg import pq

from treasury_app.domain.payout_lifecycle import PayoutStatus as S

BACKENDS = ("sqlite", "postgresql")


def in_flight(ledger, add_payout):
    payout = add_payout()
    for target in (S.ESTIMATED, S.SUBMITTING, S.PROCESSING):
        payout = ledger.payouts.transition(payout.id, target, actor="alice")
    return payout


@pytest.fixture
def statements(tmp_path):
    """Every statement the ledger's connection runs from now on: SQLite's own trace, or (PostgreSQL) the
    server's completion of each, from libpq's trace (nothing replaced; the connection is private, and tracing it changes nothing)."""
    traced: list[Any] = []

    def start(ledger) -> Callable[[], list[str]]:
        conn = ledger._link.conn
        if isinstance(conn, sqlite3.Connection):
            seen: list[str] = []
            conn.set_trace_callback(seen.append)
            return lambda: seen
        trace = (tmp_path / "libpq.trace").open("w")
        traced.append((conn.pgconn, trace))
        conn.pgconn.trace(trace.fileno())
        conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)

        def sent() -> list[str]:
            conn.pgconn.untrace()  # flushes libpq's buffer: the trace ends here
            lines = (tmp_path / "libpq.trace").read_text().splitlines()
            # The server's word for each statement it ran ("BEGIN", "UPDATE 40", "COMMIT"): psycopg sends some as
            # prepared statements, whose SQL is not repeated on the wire.
            return [match.group(1) for line in lines if (match := _STATEMENT_DONE.match(line))]

        return sent

    yield start
    for pgconn, trace in traced:
        pgconn.untrace()
        trace.close()


_STATEMENT_DONE = re.compile(r'^B\t\d+\tCommandComplete\t "(.*)"$')


def test_a_batch_of_schedules_is_one_commit_without_events(ledger, add_payout, statements):
    payouts = [in_flight(ledger, add_payout) for _ in range(40)]
    events_before = {p.id: ledger.payouts.events(p.id) for p in payouts}
    when = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    traced = statements(ledger)

    found = ledger.payouts.schedule_polls((p.id, when + timedelta(seconds=n), n % 3) for n, p in enumerate(payouts))

    assert found == 40
    assert [s.split()[0] for s in traced() if s.split()[0] in {"BEGIN", "COMMIT", "ROLLBACK"}] == ["BEGIN", "COMMIT"]
    for n, before in enumerate(payouts):
        after = ledger.payouts.get(before.id)
        assert (after.next_poll_at, after.poll_failures) == (when + timedelta(seconds=n), n % 3)
        # Bookkeeping, not a fact: a window's compare-and-set and the "last changed" time are untouched.
        assert (after.version, after.updated_at, after.status) == (before.version, before.updated_at, before.status)
        assert ledger.payouts.events(before.id) == events_before[before.id]


def test_none_clears_the_next_poll_and_unknown_ids_are_not_counted(ledger, add_payout):
    payout = in_flight(ledger, add_payout)
    ledger.payouts.schedule_polls([(payout.id, datetime(2026, 3, 2, tzinfo=UTC), 2)])
    assert ledger.payouts.schedule_polls([(payout.id, None, 0), (404, None, 0)]) == 1
    stored = ledger.payouts.get(payout.id)
    assert (stored.next_poll_at, stored.poll_failures) == (None, 0)


def test_nothing_to_schedule_opens_no_transaction(ledger, statements):
    traced = statements(ledger)
    assert ledger.payouts.schedule_polls([]) == 0
    assert traced() == []


@pytest.mark.parametrize("bad", [(None, -1), (None, True), (datetime(2026, 3, 2), 0)],
                         ids=["negative failures", "a bool for a count", "a time without zone"])
def test_one_bad_item_writes_nothing_of_the_batch(ledger, add_payout, bad):
    first, second = in_flight(ledger, add_payout), in_flight(ledger, add_payout)
    when = datetime(2026, 3, 2, tzinfo=UTC)
    with pytest.raises((ValueError, TypeError)):
        ledger.payouts.schedule_polls([(first.id, when, 1), (second.id, *bad)])
    assert ledger.payouts.get(first.id) == first
    assert ledger.payouts.get(second.id) == second
