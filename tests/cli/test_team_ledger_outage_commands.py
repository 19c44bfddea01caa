"""The command line on a team ledger whose server is down (stopped with pg_ctl, postgres_outage.py): one line
that names the server and says nothing was saved, exit code 5 (exit_codes.py), no traceback, no password; and
the same command works once the server is back. Real processes, as a script would run them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from postgres_cluster import postgres_cluster, postgres_database, postgres_ledgers_database  # noqa: F401
from postgres_outage import server_stopped

from treasury_app.commands.exit_codes import ExitCode
from treasury_app.ledger import open_ledger
from treasury_app.ledger.location import shown_url
from treasury_app.services.ledger_choice import TEAM_LEDGER_ENV


def treasury_app(data_dir: Path, ledger_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key != TEAM_LEDGER_ENV}
    return subprocess.run([sys.executable, "-m", "treasury_app", "--data-dir", str(data_dir), "--ledger", ledger_url,
                           *args], capture_output=True, text=True, env=env, timeout=60, check=False)


def test_a_command_run_while_the_server_is_down_says_so_in_one_line_and_exits_5(tmp_path, postgres_cluster,
                                                                                 postgres_database):
    with open_ledger(postgres_database):
        pass  # the ledger's tables, made while the server is up
    with server_stopped(postgres_cluster):
        for command in (["payout", "list"], ["overview"], ["ledger", "info"]):
            ran = treasury_app(tmp_path / "desk", postgres_database, *command)
            assert ran.returncode == ExitCode.LEDGER_UNREACHABLE == 5, (command, ran.stdout, ran.stderr)
            assert ran.stderr.startswith(f"Error: The team ledger at {shown_url(postgres_database)} cannot be "
                                         "reached"), ran.stderr
            assert "Nothing was saved" in ran.stderr and len(ran.stderr.strip().splitlines()) == 1
            assert "Traceback" not in ran.stderr + ran.stdout
            assert postgres_cluster.password not in ran.stderr + ran.stdout
    back = treasury_app(tmp_path / "desk", postgres_database, "payout", "list")
    assert back.returncode == 0, back.stderr


def test_the_exit_code_is_documented_where_the_others_are():
    from treasury_app import cli
    from treasury_app.commands import exit_codes

    assert "5  the team ledger's server cannot be reached" in cli.__doc__
    assert "5 the team ledger's server could not be reached" in exit_codes.__doc__
