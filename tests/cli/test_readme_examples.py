"""Every `sh` block of the README that calls `treasury-app` runs as written, in-process, section by section in
one data folder (given through TREASURY_DATA_DIR, as the README's commands carry no --data-dir) against a
sandbox started in the background: a block's `treasury-app sandbox …` starts it with the block's own options.
A failure names the block and the command. The README's payouts are then followed to the end: each completed,
paid once by the sandbox, through both providers."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import click
import httpx
import pytest
from click.testing import CliRunner
from readme_commands import APP, ReadmeBlock, answers_for, readme_blocks, readme_synopses, section_blocks

from treasury_app.app_paths import DATA_DIR_ENV
from treasury_app.cli import main
from treasury_app.commands.password_input import PASSWORD_ENV
from treasury_app.sandbox import RunningSandbox, SandboxConfig, start_in_background
from treasury_app.sandbox.command_line import config_from_options, sandbox_command
from treasury_app.services.provider_directory import SANDBOX_URL_ENV

SECTIONS = list(dict.fromkeys(block.section for block in readme_blocks()))
SHELL_SYNTAX = {"|", "<", ">", "<<<", "&&", "||", ";", "&"}


class ReadmeTerminal:
    """One person's terminals for one README section: a data folder, and the sandbox the section started."""

    def __init__(self, data_dir: Any) -> None:
        self.data_dir = data_dir
        self.sandbox: RunningSandbox | None = None

    def run(self, block: ReadmeBlock, words: tuple[str, ...]) -> None:
        shown = f"{block.where()}: `{shlex.join(words)}`"
        assert words[0] == APP, f"{shown} is not a treasury-app command; such a block is not an example to run"
        assert not SHELL_SYNTAX & set(words), f"{shown} needs a shell; give it as a plain command or a text block"
        if words[1] == "sandbox":
            self._start_sandbox(shown, words[2:])
        else:
            self._run_command(shown, words[1:])

    def stop(self) -> None:
        if self.sandbox is not None:
            self.sandbox.stop()
            self.sandbox = None

    def _start_sandbox(self, shown: str, options: tuple[str, ...]) -> None:
        try:
            parsed = sandbox_command.make_context("sandbox", list(options)).params
        except click.ClickException as error:
            pytest.fail(f"{shown}: {error.format_message()}")
        parsed.pop("quiet")  # only changes the log
        # Any port the words name (8700 by default) may be another desk's sandbox on this machine: a free one.
        config = replace(config_from_options(**parsed), port=0)
        self.stop()
        self.sandbox = start_in_background(config)
        info = httpx.get(f"{self.sandbox.base_url}/_sandbox", timeout=10).json()
        assert (info["seed"], info["speed"]) == (config.seed, str(config.speed)), shown

    def _run_command(self, shown: str, words: tuple[str, ...]) -> None:
        if self.sandbox is None:  # a section that starts none: the embedded default, as the CLI tests use
            self.sandbox = start_in_background(SandboxConfig(port=0))
        password, stdin = answers_for(words)
        env = {DATA_DIR_ENV: str(self.data_dir), SANDBOX_URL_ENV: self.sandbox.base_url, PASSWORD_ENV: password}
        result = CliRunner().invoke(main, list(words), input=stdin, env=env, catch_exceptions=False)
        assert result.exit_code == 0, f"{shown} exited {result.exit_code}:\n{result.stdout}{result.stderr}"

    def json_of(self, *words: str) -> Any:
        result = CliRunner().invoke(main, [*words, "--json"], env={DATA_DIR_ENV: str(self.data_dir)})
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


@pytest.fixture
def terminal(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[ReadmeTerminal]:
    monkeypatch.chdir(tmp_path)  # where a command's relative file names land (`export … -o november.csv`)
    person = ReadmeTerminal(tmp_path / "desk")
    yield person
    person.stop()


@pytest.mark.parametrize("section", SECTIONS)
def test_the_readme_s_examples_run_as_written(terminal, section):
    for block in section_blocks(section):
        for words in block.commands:
            terminal.run(block, words)
    if terminal.sandbox is None or not (terminal.data_dir / "ledger.sqlite3").exists():
        return  # the section only started sandboxes
    listed = terminal.json_of("payout", "list")
    held = httpx.get(f"{terminal.sandbox.base_url}/_sandbox/payouts", timeout=10).json()["payouts"]
    for row in listed:  # followed until final, as the README says, and paid once
        payout = terminal.json_of("payout", "show", str(row["id"]))["payout"]
        assert payout["status"] == "completed", f"{section}: payout {payout['id']} ended {payout['status']}"
        assert [p["executed"] for p in held if p["idempotency_key"] == payout["idempotency_key"]] == [True]


def test_the_readme_s_examples_pay_through_both_providers_and_start_each_sandbox_they_show():
    commands = [words for block in readme_blocks() for words in block.commands]
    providers = {words[words.index("--provider") + 1] for words in commands if words[1:3] == ("payout", "new")}
    assert providers == {"cryptomus", "pay3"}
    assert sum(words[1] == "sandbox" for words in commands) >= 5  # the walkthrough's and the sandbox section's
    assert "A payout from the command line, on the sandbox" in SECTIONS


def test_every_option_the_readme_s_synopses_name_exists_on_its_command():
    synopses = readme_synopses()
    assert len(synopses) > 20  # the usage, payout, operator, policy, audit and provider synopses
    for line, text in synopses:
        words = text.split()[1:]
        command: click.Command = main
        for word in words:  # down the groups as far as the words name subcommands (lazy ones too, as click does)
            found = command.get_command(click.Context(command), word) if isinstance(command, click.Group) else None
            if found is None:
                break
            command = found
        known = {name for param in [*command.params, *main.params] for name in (*param.opts, *param.secondary_opts)}
        known |= {"--help", "-h", "--version"}
        named = set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", text))
        assert named <= known, f"README.md line {line}: `{command.name}` has no {sorted(named - known)}"
