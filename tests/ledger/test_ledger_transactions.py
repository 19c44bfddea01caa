"""Explicit transactions: all or nothing, nested writes join one commit, and no write happens outside one."""

from __future__ import annotations

import sqlite3
import threading

import pytest
import sqlite_utils
from ledger_fixtures import make_request

from treasury_app.ledger import open_ledger


def count_settings(path) -> int:
    plain = sqlite3.connect(path)
    try:
        return plain.execute("SELECT count(*) FROM settings").fetchone()[0]
    finally:
        plain.close()


def test_a_transaction_commits_when_its_block_ends(ledger, ledger_path):
    with ledger.transaction():
        ledger.settings.set("a", 1)
        ledger.settings.set("b", 2)
        assert count_settings(ledger_path) == 0  # another connection sees nothing before the commit
    assert count_settings(ledger_path) == 2


def test_any_exception_rolls_the_whole_transaction_back(ledger):
    with pytest.raises(KeyError), ledger.transaction():
        ledger.settings.set("a", 1)
        ledger.payouts.add(make_request(), idempotency_key="k1", actor="alice")
        raise KeyError("something unrelated went wrong")
    assert ledger.settings.get("a") is None
    assert ledger.payouts.find_by_key("k1") is None


def test_a_failed_inner_write_that_the_caller_handles_undoes_only_itself(ledger):
    with ledger.transaction():
        ledger.settings.set("kept", True)
        ledger.payouts.add(make_request(), idempotency_key="k1", actor="alice")
        with pytest.raises(Exception, match="already in the ledger"):
            ledger.payouts.add(make_request(), idempotency_key="k1", actor="alice")
    assert ledger.settings.get("kept") is True
    assert ledger.payouts.count() == 1


def test_writes_outside_a_transaction_are_refused(ledger):
    with pytest.raises(RuntimeError, match="inside transaction"):
        ledger._link.execute("DELETE FROM settings")


def test_sqlite_utils_write_helpers_commit_on_their_own_which_is_why_the_ledger_does_not_use_them(tmp_path):
    # Pins the behaviour the ledger's design relies on (sqlite-utils 4.x): outside a transaction, `insert`
    # commits by itself. If this ever changes, connection.py's note about writes should be revisited.
    path = tmp_path / "probe.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    db = sqlite_utils.Database(conn, execute_plugins=False)
    db["t"].insert({"x": 1})
    assert not conn.in_transaction
    other = sqlite3.connect(path)
    assert other.execute("SELECT count(*) FROM t").fetchone()[0] == 1
    other.close()
    conn.close()


def test_a_second_connection_reads_committed_rows_while_a_write_is_in_progress(ledger, ledger_path):
    ledger.settings.set("committed", "yes")
    seen: list[object] = []
    with ledger.transaction():
        ledger.settings.set("uncommitted", "not yet")

        def read_elsewhere() -> None:
            # A worker thread opens its own ledger: WAL lets it read while this thread holds the write lock.
            with open_ledger(ledger_path, busy_timeout_ms=200) as reader:
                seen.append(reader.settings.get("committed"))
                seen.append(reader.settings.get("uncommitted"))

        worker = threading.Thread(target=read_elsewhere)
        worker.start()
        worker.join(timeout=10)
    assert seen == ["yes", None]


def test_a_ledger_belongs_to_the_thread_that_opened_it(ledger):
    errors: list[BaseException] = []

    def misuse() -> None:
        try:
            ledger.settings.get("x")
        except BaseException as error:  # noqa: BLE001 - the test inspects it
            errors.append(error)

    worker = threading.Thread(target=misuse)
    worker.start()
    worker.join(timeout=10)
    assert len(errors) == 1 and isinstance(errors[0], sqlite3.ProgrammingError)
