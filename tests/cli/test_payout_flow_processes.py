"""The README's flow, exactly as a new user types it, each command a real `python -m treasury_app` process
against a sandbox started here at the README's pace: operators, a threshold, a large payout, a second person's
approval, execute (answering its question), `refresh --watch` until completed — and the sandbox holds exactly
one payout for it. The commands are read from the README, so the README cannot drift from what runs."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from desk_fixtures import PROJECT_ROOT, password_of, run_app

from treasury_app.sandbox import ManualClock, RunningSandbox, SandboxConfig, start_in_background
from treasury_app.security.passwords import TEST_HASHING_ENV
from treasury_app.services.provider_directory import SANDBOX_URL_ENV

README = PROJECT_ROOT / "README.md"
SECTION = "## A payout from the command line, on the sandbox"


def readme_blocks() -> list[list[list[str]]]:
    """The `sh` blocks of the README's section, each a list of commands (continuations joined) as words."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index(SECTION):]
    section = section[:section.index("\n## ", len(SECTION))]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)
    return [[shlex.split(line, comments=True) for line in block.replace("\\\n", " ").splitlines() if line.strip()]
            for block in blocks]


def app_words(command: list[str]) -> list[str]:
    assert command[0] == "treasury-app", command
    return command[1:]


def answers_for(words: list[str]) -> tuple[str | None, str]:
    """The password `--as NAME` asks for, and what the command reads on stdin (a new password, a yes)."""
    acting = words[words.index("--as") + 1] if "--as" in words else None
    if words[:2] == ["operator", "add"]:
        return acting and password_of(acting), password_of(words[2]) + "\n"
    if words[:2] == ["payout", "execute"]:
        return acting and password_of(acting), "y\n"
    return acting and password_of(acting), ""


@pytest.fixture
def readme_pace_sandbox() -> Iterator[RunningSandbox]:
    terminal_1, _ = readme_blocks()
    (sandbox_words,) = terminal_1
    assert app_words(sandbox_words) == ["sandbox", "--speed", "50"]  # the pace the README promises
    with start_in_background(SandboxConfig(port=0, speed=50)) as running:
        yield running


def test_the_readme_flow_runs_to_completed_with_exactly_one_provider_payout(tmp_path, readme_pace_sandbox):
    _, terminal_2 = readme_blocks()
    env = {SANDBOX_URL_ENV: readme_pace_sandbox.base_url}
    outputs = []
    for command in terminal_2:
        words = app_words(command)
        password, stdin = answers_for(words)
        result = run_app(tmp_path / "desk", *words, password=password, stdin=stdin, env_extra=env)
        assert result.returncode == 0, f"{' '.join(words)}\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr
        outputs.append((words, result.stdout, result.stderr))

    said = {" ".join(words[:2]): (out, err) for words, out, err in outputs}
    assert "awaiting_approval" in said["payout new"][0] and "SANDBOX" in said["payout new"][0]
    assert "About to send payout 1" in said["payout execute"][1]
    assert "→ completed" in said["refresh --watch"][0]

    shown = run_app(tmp_path / "desk", "payout", "show", "1", "--json", env_extra=env)
    payout = json.loads(shown.stdout, parse_float=lambda text: pytest.fail(f"float {text} in JSON"))["payout"]
    assert (payout["status"], payout["amount"], payout["estimated_total"]) == ("completed", "1500", "1501.000000")
    held = httpx.get(f"{readme_pace_sandbox.base_url}/_sandbox/payouts", timeout=10).json()["payouts"]
    assert [(p["idempotency_key"], p["status"]) for p in held] == [(payout["idempotency_key"], "paid")]


def test_refresh_watch_stops_cleanly_on_ctrl_c(tmp_path):
    # A sandbox whose clock never moves: the payout stays in flight until the watch is interrupted.
    with start_in_background(SandboxConfig(port=0), clock=ManualClock()) as running:
        env = {SANDBOX_URL_ENV: running.base_url}
        data_dir = tmp_path / "desk"
        for words, stdin in ((["operator", "add", "root", "--role", "admin"], password_of("root")),
                             (["operator", "add", "alice", "--role", "initiator", "--as", "root"],
                              password_of("alice"))):
            assert run_app(data_dir, *words, password=password_of("root"), stdin=stdin + "\n").returncode == 0
        created = run_app(data_dir, "payout", "new", "--provider", "cryptomus", "--currency", "USDT", "--network",
                          "TRON", "--address", "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", "--amount", "20", "--as",
                          "alice", password=password_of("alice"), env_extra=env)
        assert created.returncode == 0, created.stderr
        sent = run_app(data_dir, "payout", "execute", "1", "--yes", "--as", "alice", password=password_of("alice"),
                       env_extra=env)
        assert sent.returncode == 0, sent.stderr

        watch = subprocess.Popen(
            [sys.executable, "-m", "treasury_app", "--data-dir", str(data_dir), "refresh", "--watch"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=PROJECT_ROOT,
            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), TEST_HASHING_ENV: "1", **env})
        try:
            time.sleep(3)  # started, recovered, and polled at least once
            assert watch.poll() is None, watch.communicate()
            watch.send_signal(signal.SIGINT)
            out, err = watch.communicate(timeout=30)
        finally:
            if watch.poll() is None:
                watch.kill()
    assert watch.returncode == 0, err
    assert "Traceback" not in err
    assert "stopped; 1 payout(s) still in flight" in out


def test_the_readme_names_every_command_it_runs():
    # The flow the test above runs is the README's, step for step: a guard against an empty or moved section.
    _, terminal_2 = readme_blocks()
    assert [" ".join(app_words(c)[:2]) for c in terminal_2] == [
        "operator add", "operator add", "operator add", "policy set", "payout new", "payout approve",
        "payout execute", "refresh --watch", "payout show"]

