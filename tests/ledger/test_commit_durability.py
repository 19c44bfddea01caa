"""Which commits are fsynced, and checkpoints off the event loop's thread.

Durable (synchronous=FULL) is the default for every write; only what the providers can be asked again (the
poller's back-off bookkeeping, a status a provider reported) commits without the fsync. The statements the
connection really runs are read through its trace callback.
"""

from __future__ import annotations

import sqlite3
import pytest
from commit_trace import commits_of

from treasury_app.ledger import Ledger


def sync_level(ledger: Ledger) -> int:
    return ledger._link.conn.execute("PRAGMA synchronous").fetchone()[0]


def test_a_transaction_is_durable_unless_it_says_otherwise(ledger):
    with ledger.transaction():
        assert sync_level(ledger) == 2  # FULL
    with ledger.transaction(durable=False):
        assert sync_level(ledger) == 1  # NORMAL, for this commit only
    assert sync_level(ledger) == 2


def test_a_failed_fast_transaction_leaves_the_connection_durable(ledger):
    with pytest.raises(ZeroDivisionError), ledger.transaction(durable=False):
        _ = 1 / 0
    assert sync_level(ledger) == 2


def test_the_outermost_transaction_decides_for_what_it_nests(ledger):
    with ledger.transaction(), ledger.transaction(durable=False):
        assert sync_level(ledger) == 2
    with ledger.transaction(durable=False), ledger.transaction():
        assert sync_level(ledger) == 1


def test_the_poller_bookkeeping_commits_without_an_fsync(ledger):
    with commits_of(ledger) as commits:
        ledger.payouts.schedule_polls([(1, None, 0)])  # no such payout: the commit happens all the same
    assert [level for level, _ in commits] == ["NORMAL"]
    assert sync_level(ledger) == 2


def test_background_checkpoints_keep_the_log_short_while_the_writer_never_checkpoints(ledger):
    path = ledger.path
    wal = path.with_name(path.name + "-wal")
    checkpoints = ledger.checkpoint_in_background(interval=0.05)
    assert ledger._link.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    blob = "x" * 4000  # about one page per row
    for batch in range(6):
        with ledger.transaction():
            for i in range(500):
                ledger._link.execute("INSERT INTO settings (key, value, updated_at) VALUES (?, ?, '')",
                                     (f"k{batch}-{i}", f'"{blob}"'))
        assert checkpoints.wait_for_checkpoint(timeout=10)
    # 3,000 pages were written; without checkpoints the log would hold them all (12 MB and more).
    assert checkpoints.last is not None and checkpoints.last.checkpointed_frames == checkpoints.last.log_frames
    assert wal.stat().st_size < 4 * 1024 * 1024
    ledger.close()
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT count(*) FROM settings WHERE key LIKE 'k%'").fetchone()[0] == 3000


def test_without_background_checkpoints_the_writer_checkpoints_itself(ledger):
    assert ledger._link.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
