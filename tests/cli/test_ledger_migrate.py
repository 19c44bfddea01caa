"""`treasury-app ledger migrate --to postgresql://…` on a real PostgreSQL server (postgres_cluster.py): a desk
that has lived (operators, a policy, an address-book entry, payouts estimated, approved, sent and rejected, a
failed sign-in) is copied row for row; `audit verify` on the copy reaches the same head as on the file; the
team ledger then works as the desk did. A target that is not empty is refused untouched, a desk whose trail does
not verify is not copied, and a copy killed half-way (SIGKILL) leaves the target empty."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from desk_fixtures import OTHER_TRON_ADDRESS, TRON_ADDRESS
from ledger_fixtures import raw_rows, subprocess_env
from postgres_cluster import postgres_cluster, postgres_database, postgres_ledgers_database  # noqa: F401
from secret_service_bus import secret_service, secret_service_keyring  # noqa: F401 — fixtures

from treasury_app.app_paths import ledger_path
from treasury_app.cli import main
from treasury_app.commands.password_input import PASSWORD_ENV
from treasury_app.ledger.location import shown_url, without_password
from treasury_app.services.ledger_choice import TEAM_LEDGER_ENV

# Every table a desk keeps, with its key: compared row for row between the file and the copy.
# (`payout_counts` is rebuilt by the team ledger's triggers: the file keeps rows that fell to zero, the copy has
# only the counts there are.)
TABLES = {"operators": "id", "payouts": "id", "payout_events": "id", "approvals": "id", "audit_log": "seq",
          "address_book": "id", "policies": "currency", "settings": "key",
          "payout_counts WHERE n > 0": "status, provider, currency"}
HEAD = re.compile(r"^head: row (\d+), hash ([0-9a-f]{64})$", re.MULTILINE)


def new_payout(cli, amount: str, provider: str = "cryptomus", *ledger: str) -> int:
    result = cli(*ledger, "payout", "new", "--provider", provider, "--currency", "USDT", "--network", "TRON",
                 "--address", TRON_ADDRESS, "--amount", amount, "--as", "alice")
    assert result.exit_code == 0, result.output
    return int(re.match(r"payout (\d+):", result.stdout).group(1))


def lived_in_desk(cli) -> None:
    """A desk's ordinary week, through its own command line."""
    assert cli("policy", "set", "--currency", "USDT", "--approval-threshold", "1000", "--as", "root").exit_code == 0
    assert cli("address-book", "add", "--label", "Payroll wallet", "--currency", "USDT", "--network", "TRON",
               "--address", OTHER_TRON_ADDRESS, "--as", "bob").exit_code == 0
    assert new_payout(cli, "150") == 1  # small: sent at once
    assert cli("payout", "execute", "1", "--yes", "--as", "alice").exit_code == 0
    assert new_payout(cli, "1500") == 2  # approved by bob, then sent
    assert cli("payout", "approve", "2", "--as", "bob").exit_code == 0
    assert cli("payout", "execute", "2", "--yes", "--as", "alice").exit_code == 0
    assert new_payout(cli, "2500", "pay3") == 3  # rejected
    assert cli("payout", "reject", "3", "--reason", "not on the list", "--as", "dave").exit_code == 0
    assert new_payout(cli, "42.5") == 4  # left estimated
    mistyped = CliRunner().invoke(main, ["--data-dir", str(cli.data_dir), "payout", "approve", "4", "--as", "bob"],
                                  env={PASSWORD_ENV: "not bob's password at all"})
    assert mistyped.exit_code == 1  # a failed sign-in: counted against bob, and in the trail


def stored(location: Path | str) -> dict[str, list[tuple]]:
    return {table: raw_rows(location, f"SELECT * FROM {table} ORDER BY {key}") for table, key in TABLES.items()}


def migrate(data_dir: Path, url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**subprocess_env(), TEAM_LEDGER_ENV: ""}
    return subprocess.run([sys.executable, "-m", "treasury_app", "--data-dir", str(data_dir), *extra, "ledger",
                           "migrate", "--to", url], capture_output=True, text=True, env=env, timeout=120)


def verified_head(cli, *ledger: str) -> tuple[str, str]:
    result = cli(*ledger, "audit", "verify")
    assert result.exit_code == 0, result.output
    found = HEAD.search(result.stdout)
    assert found, result.stdout
    return found.group(1), found.group(2)


def ledger_tables(cluster, url: str) -> list[str]:
    schema = re.search(r"search_path%3D([a-z0-9_]+)", url).group(1)
    with cluster.admin("ledgers") as admin:
        return [name for (name,) in admin.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY 1", (schema,)).fetchall()]


def test_a_lived_in_desk_is_copied_row_for_row_and_verifies_to_the_same_head(cli, data_dir, postgres_database,
                                                                            sandbox):
    lived_in_desk(cli)
    file = ledger_path(data_dir)
    before = stored(file)
    file_head = verified_head(cli)

    result = migrate(data_dir, postgres_database)

    assert result.returncode == 0, result.stderr
    password = re.search(r"://[^:]+:([^@]+)@", postgres_database).group(1)
    assert password not in result.stdout + result.stderr
    assert f"into the team ledger {shown_url(postgres_database)}" in result.stdout
    assert f"the same head as the file: row {file_head[0]}, hash {file_head[1]}" in result.stdout
    assert re.search(r"^  payouts\s+4 rows$", result.stderr, re.MULTILINE), result.stderr
    assert stored(postgres_database) == before  # every row of every table, as the file holds it
    assert stored(file) == before  # the file itself is untouched
    assert verified_head(cli, "--ledger", postgres_database) == file_head

    # The team ledger carries on where the desk left off: the next payout is number 5, the copied password
    # hashes sign people in, and sending payout 4 reaches the provider once.
    assert new_payout(cli, "7", "cryptomus", "--ledger", postgres_database) == 5
    assert cli("--ledger", postgres_database, "payout", "execute", "4", "--yes", "--as", "alice").exit_code == 0
    assert len([p for p in sandbox.payouts() if p["executed"]]) == 3
    assert verified_head(cli, "--ledger", postgres_database)[0] > file_head[0]


def test_a_team_ledger_that_already_holds_records_is_refused_and_left_as_it_was(cli, data_dir, postgres_database):
    lived_in_desk(cli)
    assert migrate(data_dir, postgres_database).returncode == 0
    held = stored(postgres_database)

    again = migrate(data_dir, postgres_database)

    assert again.returncode == 1
    assert "already holds a ledger (6 operators, 4 payouts" in again.stderr and "Nothing was copied" in again.stderr
    assert "Traceback" not in again.stderr
    assert stored(postgres_database) == held


def test_a_desk_whose_audit_trail_does_not_verify_is_not_copied(cli, data_dir, postgres_cluster, postgres_database):
    lived_in_desk(cli)
    file = ledger_path(data_dir)
    with sqlite3.connect(file) as plain:  # a saboteur edits the amount of payout 2 in the file
        plain.execute("UPDATE payouts SET amount = '15000' WHERE id = 2")

    result = migrate(data_dir, postgres_database)

    assert result.returncode == 1
    assert f"the audit trail of {file} does not verify" in result.stderr
    assert "payout 2 (15000 USDT" in result.stderr and "nothing was copied" in result.stderr
    assert ledger_tables(postgres_cluster, postgres_database) == []


def test_a_desk_with_no_ledger_file_has_nothing_to_copy(tmp_path, postgres_cluster, postgres_database):
    result = migrate(tmp_path / "new-desk", postgres_database)
    assert result.returncode == 1
    assert "ledger file:" in result.stderr and "there is no desk ledger to copy" in result.stderr
    assert not ledger_path(tmp_path / "new-desk").exists()  # not made by looking for it
    assert ledger_tables(postgres_cluster, postgres_database) == []


def test_a_copy_killed_half_way_leaves_the_team_ledger_empty(tmp_path, postgres_cluster, postgres_database):
    """SIGKILL while the rows stream in: the server rolls the transaction back, tables and all."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from audit_trail import (
        build,  # the benchmark's chained trail: `audit verify` passes on it
    )

    data_dir = tmp_path / "desk"
    data_dir.mkdir()
    build(ledger_path(data_dir), 40_000)
    env = {**subprocess_env(), TEAM_LEDGER_ENV: ""}
    copying = subprocess.Popen([sys.executable, "-m", "treasury_app", "--data-dir", str(data_dir), "ledger",
                                "migrate", "--to", postgres_database], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        backend = wait_for_copy(postgres_cluster, copying)
        os.kill(copying.pid, signal.SIGKILL)
        copying.wait(timeout=10)
    finally:
        if copying.poll() is None:
            copying.kill()
    wait_until_gone(postgres_cluster, backend)

    assert ledger_tables(postgres_cluster, postgres_database) == []
    # Nothing is left behind either: the next attempt copies the whole desk.
    finished = migrate(data_dir, postgres_database)
    assert finished.returncode == 0, finished.stderr
    assert raw_rows(postgres_database, "SELECT count(*), max(seq) FROM audit_log") == [(40_000, 40_000)]


def wait_for_copy(cluster, process: subprocess.Popen, timeout: float = 60) -> int:
    """The server process of the desk's connection, once it is receiving rows (a COPY under way)."""
    deadline = time.monotonic() + timeout
    with cluster.admin("ledgers") as admin:
        while time.monotonic() < deadline:
            found = admin.execute("SELECT pid FROM pg_stat_activity WHERE application_name = 'treasury-desk' "
                                  "AND query LIKE 'COPY audit_log%%' AND state = 'active'").fetchone()
            if found:
                return found[0]
            if process.poll() is not None:
                pytest.fail(f"the copy ended before it could be killed: {process.stderr.read()}")
            time.sleep(0.005)
    pytest.fail("the copy never started streaming the audit trail")


def wait_until_gone(cluster, backend: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    with cluster.admin("ledgers") as admin:
        while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (backend,)).fetchone():
            if time.monotonic() > deadline:
                pytest.fail(f"the server still runs the killed desk's session {backend}")
            time.sleep(0.02)


def test_connect_first_then_migrate_with_the_password_from_the_keyring(cli, data_dir, postgres_database,
                                                                        secret_service_keyring):
    """The other order: `ledger connect` made the (empty) tables and keeps the password; `migrate` finds it there."""
    lived_in_desk(cli)
    password = re.search(r"://[^:]+:([^@]+)@", postgres_database).group(1)
    bare = without_password(postgres_database)
    connected = cli("ledger", "connect", bare, "--password-stdin", input=password + "\n")
    assert connected.exit_code == 0, connected.output
    before = stored(ledger_path(data_dir))

    moved = cli("ledger", "migrate", "--to", bare)  # no password given: the keyring's

    assert moved.exit_code == 0, moved.output
    assert password not in moved.output
    assert stored(postgres_database) == before
    assert verified_head(cli)[0] == str(len(before["audit_log"]))  # the desk now reads the team ledger's trail


def test_the_file_to_copy_may_be_named_by_ledger_but_not_a_team_ledger(cli, data_dir, tmp_path, postgres_cluster,
                                                                       postgres_database):
    lived_in_desk(cli)
    refused = migrate(tmp_path / "elsewhere", postgres_database, "--ledger", postgres_database)
    assert refused.returncode == 1
    assert "--ledger: names a team ledger; migrate copies a desk's own ledger file" in refused.stderr
    assert ledger_tables(postgres_cluster, postgres_database) == []

    copied = migrate(tmp_path / "elsewhere", postgres_database, "--ledger", str(ledger_path(data_dir)))
    assert copied.returncode == 0, copied.stderr
    assert f"Copied {ledger_path(data_dir)} into the team ledger" in copied.stdout
    assert stored(postgres_database) == stored(ledger_path(data_dir))
