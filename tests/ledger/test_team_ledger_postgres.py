"""What the team ledger on PostgreSQL promises beyond the repositories' shared tests: the database refuses to edit
the audit trail, a database that is not ours is left alone, ids have no gaps, writers are serialised, and a lost
server is said in words without the password."""

from __future__ import annotations

import queue
import threading
import time

import psycopg
import pytest
from ledger_fixtures import make_request

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.ledger import LedgerFileError, LedgerVersionError, open_ledger
from treasury_app.ledger.errors import LedgerUnavailableError
from treasury_app.ledger.postgres.connection import postgres_sql
from treasury_app.ledger.postgres.location import shown_url
from treasury_app.ledger.postgres.schema import SCHEMA_VERSION
from treasury_app.ledger.schema import SCHEMA_VERSION as SQLITE_SCHEMA_VERSION

GENESIS = "0" * 64


def append(ledger, n: int, prev: str) -> str:
    from datetime import UTC, datetime

    digest = f"{n:064x}"
    ledger.audit.append(at=datetime(2026, 3, 1, tzinfo=UTC), operator="alice", action="compose",
                        subject=f"payout:{n}", detail_json=None, prev_hash=prev, hash=digest)
    return digest


def test_placeholders_become_psycopg_s_and_quoted_text_is_left_alone():
    assert postgres_sql("SELECT * FROM t WHERE a = ? AND b = :name") == \
        "SELECT * FROM t WHERE a = %s AND b = %(name)s"
    assert postgres_sql("SELECT '?', ':x', 'it''s 5%' WHERE c LIKE '%a' AND d = ?") == \
        "SELECT '?', ':x', 'it''s 5%%' WHERE c LIKE '%%a' AND d = %s"
    assert postgres_sql("SELECT x::text, 10 % 3") == "SELECT x::text, 10 %% 3"


def test_the_url_is_shown_without_its_password():
    shown = shown_url("postgresql://desk:s3cret-pw@db.example:6543/treasury?sslmode=require")
    assert shown == "postgresql://desk@db.example:6543/treasury"


def test_both_backends_are_at_the_same_schema_version(postgres_database):
    assert SCHEMA_VERSION == SQLITE_SCHEMA_VERSION
    with open_ledger(postgres_database) as ledger:
        assert ledger.is_team_ledger and ledger.schema_version == SCHEMA_VERSION
        assert ledger.integrity_check() == []


def test_even_the_superuser_cannot_edit_or_delete_the_audit_trail(postgres_database):
    with open_ledger(postgres_database) as ledger:
        append(ledger, 1, GENESIS)
    with psycopg.connect(postgres_database, autocommit=True) as conn:
        for statement in ("UPDATE audit_log SET action = 'forged'", "DELETE FROM audit_log", "TRUNCATE audit_log"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                conn.execute(statement)
        assert conn.execute("SELECT count(*), min(action) FROM audit_log").fetchone() == (1, "compose")


def test_a_rolled_back_insert_leaves_no_gap_in_the_audit_sequence(postgres_database):
    with open_ledger(postgres_database) as ledger:
        with pytest.raises(RuntimeError), ledger.transaction():
            append(ledger, 1, GENESIS)
            raise RuntimeError("changed my mind")
        append(ledger, 1, GENESIS)
        assert ledger.audit.last().seq == 1


def test_a_database_with_tables_of_its_own_is_refused_and_left_untouched(postgres_database):
    with psycopg.connect(postgres_database, autocommit=True) as conn:
        conn.execute("CREATE TABLE invoices (id int)")
    with pytest.raises(LedgerFileError, match="not a Treasury Desk ledger"):
        open_ledger(postgres_database)
    with psycopg.connect(postgres_database, autocommit=True) as conn:
        tables = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()").fetchall()
    assert tables == [("invoices",)]


def test_a_ledger_from_a_newer_version_is_refused(postgres_database):
    open_ledger(postgres_database).close()
    with psycopg.connect(postgres_database, autocommit=True) as conn:
        conn.execute("INSERT INTO ledger_schema (version) VALUES (%s)", (SCHEMA_VERSION + 1,))
    with pytest.raises(LedgerVersionError):
        open_ledger(postgres_database)


def test_writers_at_two_desks_take_turns(postgres_database):
    """A second desk's write waits while the first desk's transaction is open, then sees its commit."""
    first, second = open_ledger(postgres_database), open_ledger(postgres_database)
    order: list[str] = []
    try:
        inside, done = threading.Event(), threading.Event()

        def other_desk() -> None:
            inside.wait(10)
            with second.transaction():  # waits for the first desk's lock
                order.append("second")
                assert second.settings.get("turn") == "first"
                second.settings.set("turn", "second")
            done.set()

        thread = threading.Thread(target=other_desk)
        thread.start()
        with first.transaction():
            first.settings.set("turn", "first")
            inside.set()
            time.sleep(0.3)  # the other desk is now waiting for the lock, not writing
            order.append("first")
        assert done.wait(10)
        thread.join(10)
        assert order == ["first", "second"] and first.settings.get("turn") == "second"
    finally:
        first.close()
        second.close()


def test_an_unreachable_server_is_said_in_words_without_the_password(postgres_cluster):
    url = postgres_cluster.url("ledgers").replace(str(postgres_cluster.port), "1", 1)  # nothing listens on port 1
    with pytest.raises(LedgerUnavailableError) as raised:
        open_ledger(url)
    assert "cannot be reached" in str(raised.value) and "127.0.0.1:1" in str(raised.value)
    assert postgres_cluster.password not in str(raised.value)


def test_a_connection_cut_mid_transaction_leaves_nothing_half_written(postgres_cluster, postgres_database):
    ledger = open_ledger(postgres_database)
    try:
        pid = ledger._link.conn.info.backend_pid
        with pytest.raises(LedgerUnavailableError), ledger.transaction():
            ledger.settings.set("half", "written")
            with postgres_cluster.admin("ledgers") as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            ledger.settings.set("other", "half")
        with open_ledger(postgres_database) as fresh:
            assert fresh.settings.get("half") is None and fresh.settings.get("other") is None
        # The same desk carries on: its next use connects again.
        ledger.settings.set("after", "reconnect")
        assert ledger.settings.get("after") == "reconnect" and ledger._link.conn.info.backend_pid != pid
    finally:
        ledger.close()


def test_another_desks_commit_reaches_a_follower_within_a_second_and_a_rollback_never_does(postgres_database,
                                                                                          postgres_cluster):
    """LISTEN/NOTIFY: desk B's approval and status change reach desk A's follower at commit; a transaction
    rolled back says nothing; the poller's bookkeeping (no version change) says nothing; another ledger in the
    same database is not heard."""
    heard: queue.Queue = queue.Queue()
    with open_ledger(postgres_database) as desk_a, open_ledger(postgres_database) as desk_b:
        feed = desk_a.follow_changes(heard.put)
        try:
            assert feed is not None and feed.wait_until_listening(10)
            started = time.monotonic()
            payout = desk_b.payouts.add(make_request(), idempotency_key="feed-1", actor="bob")
            first = heard.get(timeout=5)
            assert time.monotonic() - started < 1.0
            assert first.payout_ids == {payout.id} and first.new_payouts and not first.everything

            with pytest.raises(RuntimeError, match="on purpose"), desk_b.transaction():
                desk_b.payouts.transition(payout.id, PayoutStatus.ESTIMATED, actor="bob")
                raise RuntimeError("rolled back on purpose")
            desk_b.payouts.schedule_poll(payout.id, next_poll_at=None, poll_failures=1)
            desk_b.payouts.transition(payout.id, PayoutStatus.ESTIMATED, actor="bob")
            second = heard.get(timeout=5)
            assert second.payout_ids == {payout.id} and not second.new_payouts
            with postgres_cluster.admin("ledgers") as admin:
                admin.execute('CREATE SCHEMA "t_other_ledger"')
            try:
                other = postgres_database.replace("search_path%3D", "search_path%3Dt_other_ledger%2C", 1)
                with open_ledger(other) as elsewhere:
                    elsewhere.payouts.add(make_request(), idempotency_key="feed-elsewhere", actor="carol")
                    assert elsewhere.payouts.count() == 1 and desk_a.payouts.count() == 1  # two ledgers
            finally:
                with postgres_cluster.admin("ledgers") as admin:
                    admin.execute('DROP SCHEMA "t_other_ledger" CASCADE')
            time.sleep(0.3)
            assert heard.empty()  # neither the rollback, the bookkeeping nor another ledger was announced
        finally:
            feed.stop()


def test_a_percent_sign_in_sql_without_parameters_reaches_the_server_as_one(postgres_database):
    with open_ledger(postgres_database) as ledger:
        link = ledger._link  # the connection itself: what it sends for SQL with and without parameters
        assert link.scalar("SELECT '50%'") == "50%"
        assert link.scalar("SELECT format('%s!', ?::text)", ("ok",)) == "ok!"


def test_one_desk_at_a_time_holds_a_providers_poll_lease_until_it_goes(postgres_database):
    desk_a, desk_b = open_ledger(postgres_database), open_ledger(postgres_database)
    try:
        assert desk_a.holds_poll_lease("pay3") and desk_a.holds_poll_lease("pay3")  # kept, asked again
        assert not desk_b.holds_poll_lease("pay3")
        assert desk_b.holds_poll_lease("cryptomus") and not desk_a.holds_poll_lease("cryptomus")
    finally:
        desk_a.close()  # a desk that quits (or dies: its session ends) frees its leases
    try:
        # Once the server has ended desk A's session, which it does a moment after the connection closes.
        deadline = time.monotonic() + 10
        while not desk_b.holds_poll_lease("pay3"):
            assert time.monotonic() < deadline, "desk A's lease was not freed within 10 s of its closing"
            time.sleep(0.02)
    finally:
        desk_b.close()


def test_a_desks_own_file_always_polls_its_providers(tmp_path):
    with open_ledger(tmp_path / "ledger.sqlite3") as ledger, open_ledger(tmp_path / "ledger.sqlite3") as other:
        assert ledger.holds_poll_lease("pay3") and other.holds_poll_lease("pay3")
