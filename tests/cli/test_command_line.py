"""The command line as a user meets it: a real `python -m treasury_app` process on a real data folder."""

import json
import os
import subprocess
import sys

import click
import pytest

from treasury_app import __version__
from treasury_app.cli import main


def run_app(*args: str, env_extra: dict[str, str] | None = None, data_dir=None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "TREASURY_DATA_DIR"}
    env.update(env_extra or {})
    prefix = ["--data-dir", str(data_dir)] if data_dir is not None else []
    return subprocess.run([sys.executable, "-m", "treasury_app", *prefix, *args], capture_output=True, text=True,
                          env=env, timeout=60)


def all_command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = []
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        paths.append((*prefix, name))
        if isinstance(command, click.Group):
            paths.extend(all_command_paths(command, (*prefix, name)))
    return paths


def test_version_prints_the_package_version():
    result = run_app("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"treasury-app, version {__version__}"


@pytest.mark.parametrize("path", [(), *all_command_paths(main)], ids=lambda p: " ".join(p) or "top")
def test_every_command_has_help(path, tmp_path):
    result = run_app(*path, "--help", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: treasury-app")
    # --help must not create or touch the ledger
    assert list(tmp_path.iterdir()) == []


def test_ledger_info_creates_the_ledger_in_the_chosen_data_dir(tmp_path):
    data_dir = tmp_path / "desk"
    result = run_app("ledger", "info", "--json", data_dir=data_dir)
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["data_dir"] == str(data_dir.resolve())
    assert info["payouts"] == 0
    assert info["schema_version"] >= 1
    assert os.path.exists(info["ledger_file"])
    assert os.path.dirname(info["ledger_file"]) == str(data_dir.resolve())


def test_data_dir_comes_from_the_environment_when_no_flag_is_given(tmp_path):
    result = run_app("ledger", "info", "--json", env_extra={"TREASURY_DATA_DIR": str(tmp_path / "from-env")})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["data_dir"] == str((tmp_path / "from-env").resolve())


def test_flag_beats_the_environment(tmp_path):
    result = run_app("--data-dir", str(tmp_path / "flag"), "ledger", "info", "--json",
                     env_extra={"TREASURY_DATA_DIR": str(tmp_path / "env")})
    assert json.loads(result.stdout)["data_dir"] == str((tmp_path / "flag").resolve())
    assert not (tmp_path / "env").exists()


def test_overview_shows_the_state_of_the_data_folder(tmp_path):
    result = run_app("overview", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Ledger:" in result.stdout and "Payouts:      0" in result.stdout
    assert "treasury-app --demo" in result.stdout and "treasury-app payout new" in result.stdout


def test_bare_command_without_a_display_says_so_in_one_line_instead_of_a_qt_abort(tmp_path):
    no_screen = {k: v for k, v in os.environ.items()
                 if k not in {"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "TREASURY_DATA_DIR"}}
    result = subprocess.run([sys.executable, "-m", "treasury_app", "--data-dir", str(tmp_path)], capture_output=True,
                            text=True, env=no_screen, timeout=60)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "found no display" in result.stderr
    assert "QT_QPA_PLATFORM=offscreen" in result.stderr and "treasury-app --help" in result.stderr
    assert "Aborted" not in result.stderr and "Traceback" not in result.stderr


def test_smoke_opens_the_window_paints_the_first_page_and_exits(tmp_path):
    result = run_app("--smoke", data_dir=tmp_path, env_extra={"QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr
    assert "main window painted its first page of payouts" in result.stdout
    assert " ms after start" in result.stdout
    # Behind the painted window the providers open, on the embedded sandbox while none is set up.
    assert "providers open: Cryptomus (sandbox), Pay3 (sandbox)" in result.stdout


def test_demo_and_smoke_belong_to_the_window_not_to_a_command(tmp_path):
    result = run_app("--demo", "ledger", "info", data_dir=tmp_path)
    assert result.returncode == 2
    assert "--demo and --smoke open the window" in result.stderr


def test_ledger_check_passes_on_a_sound_file(tmp_path):
    result = run_app("ledger", "check", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ledger OK")


def test_a_file_that_is_not_a_ledger_gives_one_clear_line_and_no_traceback(tmp_path):
    from treasury_app.app_paths import ledger_path

    ledger_path(tmp_path).write_bytes(b"this is not a database, it is a shopping list" * 100)
    result = run_app("ledger", "info", data_dir=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: ")
    assert str(ledger_path(tmp_path)) in result.stderr


def test_unknown_command_is_a_usage_error():
    result = run_app("fly-to-the-moon")
    assert result.returncode == 2
    assert "No such command" in result.stderr
