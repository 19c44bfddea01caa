"""Choosing a team ledger from the command line, on a real PostgreSQL server (initdb/pg_ctl, postgres_cluster.py)
and a real Secret Service (private gnome-keyring, secret_service_bus.py): `ledger connect` keeps the password in
the keyring and never in a file, `ledger info` says which ledger is in use and why, `--ledger` and
TREASURY_LEDGER_URL take precedence, and a refused connection keeps nothing."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from postgres_cluster import postgres_cluster, postgres_database, postgres_ledgers_database  # noqa: F401
from secret_service_bus import secret_service, secret_service_keyring  # noqa: F401 — fixtures

from treasury_app.cli import main
from treasury_app.ledger.location import shown_url, without_password
from treasury_app.services.ledger_choice import KEYRING_KIND, TEAM_LEDGER_ENV, TEAM_LEDGER_SETTING
from treasury_app.security.credentials import SERVICE_NAME, credential_username


@pytest.fixture
def real_keyring(secret_service_keyring):  # noqa: F811
    return secret_service_keyring


def run(data_dir: Path, *args: str, input: str | None = None, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, ["--data-dir", str(data_dir), *args], input=input,
                              env={TEAM_LEDGER_ENV: None, **(env or {})}, catch_exceptions=False)


def info(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> dict:
    result = run(data_dir, *args, "ledger", "info", "--json", env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_connect_keeps_the_password_in_the_keyring_and_the_url_without_it(tmp_path, postgres_database,
                                                                         real_keyring):
    password = urlsplit(postgres_database).password
    bare = without_password(postgres_database)
    desk_a = tmp_path / "desk-a"

    connected = run(desk_a, "ledger", "connect", bare, "--password-stdin", input=password + "\n")

    assert connected.exit_code == 0, connected.output
    assert f"team ledger {shown_url(bare)}" in connected.stdout and password not in connected.output
    setting = (desk_a / TEAM_LEDGER_SETTING).read_text()
    assert json.loads(setting) == {"url": bare} and password not in setting
    assert real_keyring.get_password(SERVICE_NAME, credential_username(KEYRING_KIND, shown_url(bare))) == password
    said = info(desk_a)
    assert said["team_ledger"] is True and said["chosen_by"] == "ledger connect"
    assert said["ledger_file"] == shown_url(bare) and said["schema_version"] == 5
    assert not (desk_a / "ledger.sqlite3").exists()  # the desk's own file was never made

    # Desk B reaches the same ledger through the environment (password in the URL): what A wrote, B reads.
    assert run(desk_a, "operator", "add", "ann", "--role", "admin", input="a-long-password-1\n").exit_code == 0
    desk_b = tmp_path / "desk-b"
    listed = run(desk_b, "operator", "list", env={TEAM_LEDGER_ENV: postgres_database})
    assert listed.exit_code == 0 and "ann" in listed.stdout
    assert info(desk_b, env={TEAM_LEDGER_ENV: postgres_database})["chosen_by"] == TEAM_LEDGER_ENV

    # --ledger wins over the setting; disconnect goes back to the file and forgets the password.
    assert info(desk_a, "--ledger", str(tmp_path / "other.sqlite3"))["team_ledger"] is False
    assert run(desk_a, "ledger", "disconnect").exit_code == 0
    back = info(desk_a)
    assert back["team_ledger"] is False and back["ledger_file"] == str(desk_a / "ledger.sqlite3")
    assert real_keyring.get_password(SERVICE_NAME, credential_username(KEYRING_KIND, shown_url(bare))) is None


def test_a_wrong_password_is_refused_in_words_and_nothing_is_kept(tmp_path, postgres_database, real_keyring):
    bare = without_password(postgres_database)
    desk = tmp_path / "desk"

    refused = run(desk, "ledger", "connect", bare, "--password-stdin", input="not-the-password\n")

    assert refused.exit_code == 1
    assert shown_url(bare) in refused.stderr and "password authentication failed" in refused.stderr
    assert "not-the-password" not in refused.output
    assert not (desk / TEAM_LEDGER_SETTING).exists()
    assert real_keyring.get_password(SERVICE_NAME, credential_username(KEYRING_KIND, shown_url(bare))) is None
    assert info(desk)["team_ledger"] is False


def test_a_url_that_is_not_postgresql_is_refused_naming_the_field(tmp_path):
    refused = run(tmp_path, "ledger", "connect", "mysql://ann@db/ledger", "--password-stdin", input="\n")
    assert refused.exit_code == 1 and "url" in refused.stderr and "postgresql://" in refused.stderr
    assert not (tmp_path / TEAM_LEDGER_SETTING).exists()
