"""A team ledger whose server goes away (issue 16): the server stopped and started again with pg_ctl, a session
ended by the administrator (`pg_terminate_backend`), a change cut between two of its statements, the answer to
a COMMIT lost on the wire. Each time the desk hears one error that names the server (never the password) and
says whether anything was saved; nothing is half-written; nothing is sent twice; and the same open ledger works
again as soon as the server answers, without being reopened."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from ledger_fixtures import make_request
from postgres_outage import CuttingProxy, backend_pids, server_stopped

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.ledger import (
    Ledger,
    LedgerChange,
    LedgerReachability,
    LedgerUnavailableError,
    open_ledger,
)
from treasury_app.ledger.postgres.location import shown_url


@pytest.fixture
def team_ledger(postgres_database: str) -> Iterator[Ledger]:
    with open_ledger(postgres_database) as ledger:
        yield ledger


def backend_of(ledger: Ledger) -> int:
    return ledger._link.conn.info.backend_pid


def where(url: str) -> str:
    return shown_url(url).removeprefix("postgresql://")


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, f"waited {timeout} s for {what}"
        time.sleep(0.02)
    return found


def test_a_stopped_server_is_said_in_words_and_the_same_desk_works_again_once_it_is_restarted(
        postgres_cluster, postgres_database, team_ledger):
    added = team_ledger.payouts.add(make_request(), idempotency_key="before", actor="alice")
    with server_stopped(postgres_cluster):
        for attempt in (lambda: team_ledger.payouts.get(added.id),
                        lambda: team_ledger.payouts.add(make_request(), idempotency_key="while-down", actor="alice")):
            with pytest.raises(LedgerUnavailableError) as raised:
                attempt()
            said = str(raised.value)
            assert f"The team ledger at {shown_url(postgres_database)} cannot be reached" in said
            assert "Nothing was saved" in said and raised.value.saved is False
            assert postgres_cluster.password not in said
    # No reopening: the next read and the next write connect again by themselves.
    assert team_ledger.payouts.get(added.id).idempotency_key == "before"
    after = team_ledger.payouts.add(make_request(), idempotency_key="after", actor="alice")
    assert team_ledger.payouts.count() == 2 and team_ledger.payouts.find_by_key("while-down") is None
    assert after.id == added.id + 1  # the payout tried while the server was down left nothing, not even an id


def test_a_session_ended_while_the_desk_was_idle_is_replaced_without_an_error(postgres_cluster, team_ledger):
    """The first thing done after a restart works: a read, or the opening of a change, that finds its session
    gone is sent once more on a new one (neither had changed anything)."""
    for use in (lambda: team_ledger.settings.get("anything"),
                lambda: team_ledger.settings.set("written", "after the cut")):
        ended = backend_of(team_ledger)
        with postgres_cluster.admin() as admin:
            admin.execute("SELECT pg_terminate_backend(%s, 5000)", (ended,))  # waits until the session is gone
        use()
        assert backend_of(team_ledger) != ended
    assert team_ledger.settings.get("written") == "after the cut"


def test_a_change_cut_between_its_statements_leaves_none_of_it(postgres_cluster, postgres_database, team_ledger):
    """A status change is one transaction of two statements (the payout's row, then its event row). The cut
    comes between them: the event's INSERT waits on a lock the test holds, and the server ends the session
    there. Neither statement's effect survives, and the desk's next try of the same change succeeds."""
    payout = team_ledger.payouts.add(make_request(), idempotency_key="cut", actor="alice")
    events_before = len(team_ledger.payouts.events(payout.id))
    pid = backend_of(team_ledger)
    failures: list[BaseException] = []

    def change() -> None:
        try:
            team_ledger.payouts.transition(payout.id, PayoutStatus.ESTIMATED, actor="alice",
                                           expected_version=payout.version)
        except BaseException as error:  # noqa: BLE001 — handed to the test's thread
            failures.append(error)

    # The superuser, in the test's own schema (its URL's search path), holds the lock and watches.
    with psycopg.connect(postgres_database, autocommit=True) as holder, \
            psycopg.connect(postgres_database, autocommit=True) as admin:
        holder.execute("BEGIN")
        holder.execute("LOCK TABLE payout_events IN EXCLUSIVE MODE")  # INSERTs wait; reads do not
        desk = threading.Thread(target=change)
        desk.start()
        wait_for(lambda: admin.execute(
            "SELECT query FROM pg_stat_activity WHERE pid = %s AND wait_event_type = 'Lock'", (pid,)).fetchone(),
            10, "the change's second statement waiting for the event table")
        # The first statement has run inside the transaction: the payout's row is already changed there.
        assert admin.execute("SELECT count(*) FROM pg_locks WHERE pid = %s AND relation = 'payouts'::regclass "
                             "AND mode = 'RowExclusiveLock'", (pid,)).fetchone()[0] == 1
        admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))
        desk.join(10)
        holder.execute("ROLLBACK")
    assert len(failures) == 1 and isinstance(failures[0], LedgerUnavailableError), failures
    assert failures[0].saved is False and "Nothing was saved" in str(failures[0])
    assert where(postgres_database) in str(failures[0]) and postgres_cluster.password not in str(failures[0])
    with open_ledger(postgres_database) as other_desk:
        unchanged = other_desk.payouts.get(payout.id)
        assert (unchanged.status, unchanged.version) == (PayoutStatus.DRAFT, payout.version)
        assert len(other_desk.payouts.events(payout.id)) == events_before
    moved = team_ledger.payouts.transition(payout.id, PayoutStatus.ESTIMATED, actor="alice",
                                           expected_version=payout.version)
    assert moved.status is PayoutStatus.ESTIMATED and len(team_ledger.payouts.events(payout.id)) == events_before + 1


@pytest.fixture
def proxy(postgres_cluster) -> Iterator[CuttingProxy]:
    relay = CuttingProxy(postgres_cluster.host, postgres_cluster.port)
    try:
        yield relay
    finally:
        relay.close()


def test_a_commit_whose_answer_is_lost_is_settled_by_asking_the_server_not_by_committing_again(
        postgres_database, proxy):
    with open_ledger(proxy.url(postgres_database)) as ledger:
        commits = proxy.commits_relayed
        proxy.lose_next_commit_answer()
        added = ledger.payouts.add(make_request(), idempotency_key="answer-lost", actor="alice")
        # The server said, on a new connection, that the transaction committed: the desk carries on.
        assert proxy.commits_relayed == commits + 1  # and the COMMIT was sent once
    with open_ledger(postgres_database) as other_desk:
        assert other_desk.payouts.count() == 1
        assert other_desk.payouts.get(added.id).idempotency_key == "answer-lost"


def test_a_commit_whose_answer_is_lost_while_the_server_stays_away_may_have_been_saved_and_is_never_resent(
        postgres_cluster, postgres_database, proxy):
    with open_ledger(proxy.url(postgres_database)) as ledger:
        commits = proxy.commits_relayed
        proxy.lose_next_commit_answer()
        proxy.turn_away = True
        with pytest.raises(LedgerUnavailableError) as raised:
            ledger.payouts.add(make_request(), idempotency_key="maybe-saved", actor="alice")
        said = str(raised.value)
        assert raised.value.saved is None and "may or may not have been saved" in said and "look at it" in said
        assert "Nothing was saved" not in said and postgres_cluster.password not in said
        proxy.turn_away = False
        # It was saved, once: the desk sent the COMMIT once and never the change again.
        assert ledger.payouts.count() == 1 and ledger.payouts.find_by_key("maybe-saved") is not None
        assert proxy.commits_relayed == commits + 1


def test_the_change_feed_says_when_the_server_is_gone_and_back_and_then_that_everything_changed(
        postgres_cluster, postgres_database, team_ledger):
    heard: queue.Queue[LedgerChange | LedgerReachability] = queue.Queue()
    others = set(backend_pids(postgres_cluster, "treasury-desk feed"))  # other tests' desks, if any still listen
    feed = team_ledger.follow_changes(heard.put, heard.put)
    assert feed is not None
    try:
        assert feed.wait_until_listening(10)
        # A session ended by an administrator is replaced at once, and the server is not said to be away.
        (listening,) = set(backend_pids(postgres_cluster, "treasury-desk feed")) - others
        with postgres_cluster.admin() as admin:
            admin.execute("SELECT pg_terminate_backend(%s, 5000)", (listening,))
        assert heard.get(timeout=15) == LedgerChange.everything_changed()
        with server_stopped(postgres_cluster):
            lost = heard.get(timeout=15)
            assert lost == LedgerReachability(False, where(postgres_database), lost.problem) and lost.problem
            assert postgres_cluster.password not in lost.problem
        assert heard.get(timeout=15) == LedgerReachability(True, where(postgres_database))
        assert heard.get(timeout=15) == LedgerChange.everything_changed()  # what was said meanwhile is lost
        assert heard.empty()
    finally:
        feed.stop()
