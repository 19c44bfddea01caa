"""Every default a command's help names is the one a new desk really has: the help reads the services' own
values, and these tests compare it with what the desk then shows or records."""

from __future__ import annotations

import re
from collections.abc import Iterator

import keyring
import pytest
from provider_fixtures import Sandbox
from provider_test_keyrings import MemoryKeyring

from treasury_app.sandbox import DEFAULT_PAY3_API_SECRET, DEFAULT_PAY3_CLIENT_ID


def help_text(cli, *words: str) -> str:
    shown = cli(*words, "--help")
    assert shown.exit_code == 0, shown.output
    # click wraps lines, also after a hyphen inside a word: compare the words only.
    return re.sub(r"-\s+", "-", " ".join(shown.stdout.split()))


def test_the_execution_limits_and_approval_expiry_help_names_are_a_new_desk_s(cli):
    policy, result = cli.json("policy", "show")
    assert result.exit_code == 0, result.output
    execution = policy["execution"]
    limits_help = help_text(cli, "policy", "execution")
    assert f"(default {execution['workflow.estimate_max_age_seconds']})" in limits_help
    assert f"(default {execution['workflow.fee_tolerance']})" in limits_help
    assert f"(default {execution['workflow.claim_grace_seconds']};" in limits_help
    assert f"(default {policy['approval_expiry_hours']})" in help_text(cli, "policy", "approval-expiry")


@pytest.fixture
def memory_keyring() -> Iterator[None]:
    """A keyring in this process's memory for the test (never this computer's real one)."""
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    yield
    keyring.set_keyring(previous)


def test_the_pay3_currencies_its_help_names_are_what_a_new_profile_pays(cli, sandbox: Sandbox, memory_keyring):
    named = re.search(r"\(a new one: (.*?), the sandbox's\)", help_text(cli, "provider", "set", "pay3"))
    assert named is not None
    result = cli("provider", "set", "pay3", "--base-url", sandbox.base_url, "--client-id", DEFAULT_PAY3_CLIENT_ID,
                 "--as", "root", input=DEFAULT_PAY3_API_SECRET + "\n")
    assert result.exit_code == 0, result.output
    assets, result = cli.json("provider", "assets", "pay3")
    assert result.exit_code == 0, result.output
    assert sorted(option["code"] for option in assets) == sorted(named.group(1).split(", "))
