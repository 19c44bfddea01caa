"""The README's flow, exactly as a new user types it, each command a real `python -m treasury_app` process
against a sandbox started here at the README's pace: operators, a threshold, a large payout through each
provider, a second person's approval, execute (answering its question), `refresh --watch` until completed — and
the sandbox holds exactly one payout for each. The commands are read from the README, so the README cannot
drift from what runs (`test_readme_examples.py` runs every README example in-process)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from desk_fixtures import PROJECT_ROOT, password_of, run_app
from readme_commands import answers_for, section_blocks

from treasury_app.sandbox import ManualClock, RunningSandbox, SandboxConfig, start_in_background
from treasury_app.security.passwords import TEST_HASHING_ENV
from treasury_app.services.provider_directory import SANDBOX_URL_ENV

SECTION = "A payout from the command line, on the sandbox"


def walkthrough() -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """The section's first two blocks: the sandbox in terminal 1, the Cryptomus flow in terminal 2."""
    terminal_1, terminal_2, *_ = section_blocks(SECTION)
    return list(terminal_1.commands), list(terminal_2.commands)


def app_words(command: tuple[str, ...]) -> list[str]:
    assert command[0] == "treasury-app", command
    return list(command[1:])


@pytest.fixture
def readme_pace_sandbox() -> Iterator[RunningSandbox]:
    terminal_1, _ = walkthrough()
    (sandbox_words,) = terminal_1
    assert app_words(sandbox_words) == ["sandbox", "--speed", "50"]  # the pace the README promises
    with start_in_background(SandboxConfig(port=0, speed=50)) as running:
        yield running


def test_the_readme_flow_runs_to_completed_with_exactly_one_provider_payout_each(tmp_path, readme_pace_sandbox):
    _, terminal_2 = walkthrough()
    env = {SANDBOX_URL_ENV: readme_pace_sandbox.base_url}
    outputs = []
    for command in terminal_2:
        words = app_words(command)
        password, stdin = answers_for(words)
        result = run_app(tmp_path / "desk", *words, password=password, stdin=stdin, env_extra=env)
        assert result.returncode == 0, f"{' '.join(words)}\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr
        outputs.append((words, result.stdout, result.stderr))

    said = {" ".join(words[:3]): (out, err) for words, out, err in outputs}
    assert "awaiting_approval" in said["payout new --provider"][0] and "SANDBOX" in said["payout new --provider"][0]
    assert "About to send payout 1" in said["payout execute 1"][1]
    assert "About to send payout 2" in said["payout execute 2"][1]
    assert "→ completed" in said["refresh --watch"][0]

    held = httpx.get(f"{readme_pace_sandbox.base_url}/_sandbox/payouts", timeout=10).json()["payouts"]
    final = {"cryptomus": "paid", "pay3": "COMPLETED"}
    for payout_id, provider in ((1, "cryptomus"), (2, "pay3")):
        shown = run_app(tmp_path / "desk", "payout", "show", str(payout_id), "--json", env_extra=env)
        payout = json.loads(shown.stdout, parse_float=lambda text: pytest.fail(f"float {text} in JSON"))["payout"]
        assert (payout["provider"], payout["status"], payout["amount"]) == (provider, "completed", "1500")
        assert [p["status"] for p in held if p["idempotency_key"] == payout["idempotency_key"]] == [final[provider]]
        # No fee option was given: each provider's own default (Pay3 takes it out of the amount).
        assert payout["fee_mode"] == {"cryptomus": "from_balance", "pay3": "from_amount"}[provider]
    assert len(held) == 2


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
    _, terminal_2 = walkthrough()
    assert [" ".join(app_words(c)[:2]) for c in terminal_2] == [
        "operator add", "operator add", "operator add", "policy set", "payout new", "payout approve",
        "payout execute", "payout new", "payout approve", "payout execute", "refresh --watch", "payout show"]

