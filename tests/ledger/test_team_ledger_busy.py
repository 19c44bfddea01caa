"""A team ledger while another desk holds its write lock: a desk waits as long as for a busy ledger file and then
hears that the ledger is busy, with nothing of its change written; and a desk that stops in the middle of a
change (here a real process that opened a transaction and then waits, as a laptop put to sleep would) is ended by
the server after its idle limit, its change undone, so that every other desk goes on."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from treasury_app.ledger import LedgerBusyError, open_ledger
from treasury_app.ledger.postgres.location import shown_url

PROJECT_ROOT = Path(__file__).resolve().parents[2]
STOPPED_DESK = textwrap.dedent("""
    import sys
    from treasury_app.ledger import LedgerUnavailableError, open_ledger
    from treasury_app.ledger.postgres.connection import PostgresConnection

    PostgresConnection.idle_in_transaction_s = float(sys.argv[2])
    with open_ledger(sys.argv[1]) as ledger:
        try:
            with ledger.transaction():
                ledger.settings.set("desk.a", "written while it stopped")
                print("holding", flush=True)
                sys.stdin.readline()  # stopped here, the write lock held, until the test lets it go on
        except LedgerUnavailableError as error:
            print(f"saved={error.saved}: {error}", flush=True)
            sys.exit(0)
    print("committed", flush=True)
""")


def start_stopped_desk(url: str, idle_s: float) -> subprocess.Popen[str]:
    desk = subprocess.Popen([sys.executable, "-c", STOPPED_DESK, url, str(idle_s)], cwd=PROJECT_ROOT, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert desk.stdout is not None
    line = desk.stdout.readline()
    assert line == "holding\n", line + desk.stderr.read()
    return desk


def finish(desk: subprocess.Popen[str]) -> str:
    out, err = desk.communicate("go on\n", timeout=60)
    assert desk.returncode == 0, err
    return out


@pytest.fixture
def team_ledger_url(postgres_database: str) -> str:
    with open_ledger(postgres_database):  # the tables made before the desks come
        pass
    return postgres_database


def test_a_write_while_another_desk_holds_the_lock_waits_then_hears_the_ledger_is_busy(team_ledger_url):
    desk_a = start_stopped_desk(team_ledger_url, idle_s=600)
    try:
        with open_ledger(team_ledger_url) as desk_b:
            with pytest.raises(LedgerBusyError) as busy:
                desk_b.settings.set("desk.b", "tried while A held the lock")
            assert str(busy.value) == (f"The ledger is busy: another Treasury Desk process is writing to "
                                       f"{shown_url(team_ledger_url)}. Try again in a moment.")
            assert "password" not in str(busy.value).lower() and "@" in str(busy.value)
            assert desk_b.settings.get("desk.b") is None  # nothing of it written; reads never wait
            assert desk_b.settings.get("desk.a") is None  # nor is A's uncommitted change seen
    finally:
        said = finish(desk_a)
    assert said == "committed\n"  # A was only slow: its change commits once it goes on
    with open_ledger(team_ledger_url) as ledger:
        assert ledger.settings.get("desk.a") == "written while it stopped"
        assert ledger.settings.get("desk.b") is None
        ledger.settings.set("desk.b", "after A")  # and the lock is free again
        assert ledger.settings.get("desk.b") == "after A"


def test_a_desk_stopped_in_the_middle_of_a_change_is_ended_by_the_server_and_the_others_go_on(team_ledger_url):
    desk_a = start_stopped_desk(team_ledger_url, idle_s=1)
    try:
        with open_ledger(team_ledger_url) as desk_b:
            # A's session ends after 1 s idle; B's write waits at most the lock timeout (5 s) for it, or retries.
            for _attempt in range(3):
                try:
                    desk_b.settings.set("desk.b", "written once A was ended")
                    break
                except LedgerBusyError:
                    continue
            assert desk_b.settings.get("desk.b") == "written once A was ended"
            assert desk_b.settings.get("desk.a") is None
    finally:
        said = finish(desk_a)
    # A, going on, hears that nothing of its change was saved, in words.
    assert said.startswith("saved=False: The team ledger at "), said
    assert "sat idle in the middle of a change for too long, so the change was undone" in said
    assert "Nothing was saved" in said
    with open_ledger(team_ledger_url) as ledger:
        assert ledger.settings.get("desk.a") is None
