"""`treasury-app operator …` and `policy …` as people and scripts use them: real processes on a real data
folder, passwords from standard input and TREASURY_PASSWORD (never from an option)."""

from __future__ import annotations

import json

import pytest
from desk_fixtures import run_app

ROOT_PW = "root password long"
BOB_PW = "bob password long"


@pytest.fixture
def data_dir(tmp_path):
    return tmp_path / "desk"


@pytest.fixture
def with_admin(data_dir):
    result = run_app(data_dir, "operator", "add", "root", "--role", "admin", stdin=ROOT_PW + "\n")
    assert result.returncode == 0, result.stderr
    return data_dir


def assert_one_line_error(result, text):
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert text in lines[0]


def test_the_first_operator_must_be_an_admin(data_dir):
    result = run_app(data_dir, "operator", "add", "alice", "--role", "initiator", stdin="alice password long\n")
    assert_one_line_error(result, "first operator must be an admin")
    result = run_app(data_dir, "operator", "add", "alice", "--role", "admin", "--role", "initiator",
                     stdin="alice password long\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "operator alice added with roles: admin, initiator"


def test_a_second_operator_needs_an_admin_signing_in(with_admin):
    result = run_app(with_admin, "operator", "add", "bob", "--role", "approver", stdin=BOB_PW + "\n")
    assert_one_line_error(result, "--as ADMIN")
    result = run_app(with_admin, "operator", "add", "bob", "--role", "approver", "--as", "root", password=ROOT_PW,
                     stdin=BOB_PW + "\n")
    assert result.returncode == 0, result.stderr
    result = run_app(with_admin, "operator", "add", "carol", "--role", "viewer", "--as", "bob", password=BOB_PW,
                     stdin="carol password long\n")
    assert_one_line_error(result, "admin role")


def test_a_wrong_treasury_password_is_one_clear_line_and_exit_1(with_admin):
    result = run_app(with_admin, "operator", "add", "bob", "--role", "approver", "--as", "root",
                     password="not the password", stdin=BOB_PW + "\n")
    assert_one_line_error(result, "operator name or password is wrong")
    unknown = run_app(with_admin, "operator", "disable", "root", "--as", "nobody", password="not the password")
    assert unknown.stderr == result.stderr


def test_without_a_terminal_or_treasury_password_acting_as_someone_is_refused(with_admin):
    result = run_app(with_admin, "operator", "disable", "root", "--as", "root")
    assert_one_line_error(result, "set TREASURY_PASSWORD")


def test_a_password_is_never_accepted_as_an_option(with_admin):
    result = run_app(with_admin, "operator", "add", "bob", "--role", "approver", "--password", BOB_PW)
    assert result.returncode == 2


def test_a_weak_new_password_names_the_field(with_admin):
    result = run_app(with_admin, "operator", "add", "bob", "--role", "approver", "--as", "root", password=ROOT_PW,
                     stdin="short\n")
    assert_one_line_error(result, "password: is 5 characters long; use at least 12")


def test_the_lockout_shows_on_the_command_line(with_admin):
    for _ in range(4):
        run_app(with_admin, "operator", "passwd", "root", password="wrong guess here", stdin="new password 12\n")
    result = run_app(with_admin, "operator", "passwd", "root", password="wrong guess here", stdin="new password 12\n")
    assert_one_line_error(result, "locked until")
    import re
    assert re.search(r"locked until \d\d:\d\d ", result.stderr)
    listed = run_app(with_admin, "operator", "list")
    assert "locked until" in listed.stdout


def test_list_change_password_and_disable(with_admin):
    run_app(with_admin, "operator", "add", "bob", "--role", "approver", "--role", "initiator", "--as", "root",
            password=ROOT_PW, stdin=BOB_PW + "\n")
    changed = run_app(with_admin, "operator", "passwd", "bob", password=BOB_PW, stdin="bob's new password\n")
    assert changed.returncode == 0, changed.stderr
    old = run_app(with_admin, "operator", "passwd", "bob", password=BOB_PW, stdin="another password\n")
    assert_one_line_error(old, "operator name or password is wrong")
    disabled = run_app(with_admin, "operator", "disable", "bob", "--as", "root", password=ROOT_PW)
    assert disabled.returncode == 0 and disabled.stdout.strip() == "operator bob disabled"
    listed = run_app(with_admin, "operator", "list", "--json")
    assert [(o["name"], o["roles"], o["active"]) for o in json.loads(listed.stdout)] == [
        ("bob", ["approver", "initiator"], False), ("root", ["admin"], True)]
    text = run_app(with_admin, "operator", "list").stdout.splitlines()
    assert text[0].split() == ["NAME", "ROLES", "STATE"]
    assert text[1].split() == ["bob", "approver,initiator", "disabled"]


def test_policy_set_and_show(with_admin):
    result = run_app(with_admin, "policy", "set", "--currency", "usdt", "--approval-threshold", "1000",
                     "--daily-limit", "50000", "--as", "root", password=ROOT_PW)
    assert result.returncode == 0, result.stderr
    result = run_app(with_admin, "policy", "set", "--currency", "USDT", "--operator-daily-limit", "7500.5",
                     "--over-limit", "refuse", "--new-destination-needs-approval", "--as", "root", password=ROOT_PW)
    assert result.returncode == 0, result.stderr
    shown = json.loads(run_app(with_admin, "policy", "show", "--json").stdout)
    assert shown["approval_expiry_hours"] == 24
    assert shown["policies"] == [{
        "currency": "USDT", "approval_threshold": "1000", "daily_limit_desk": "50000",
        "daily_limit_operator": "7500.5", "over_limit": "refuse", "new_destination_needs_approval": True,
        "updated_by": "root", "updated_at": shown["policies"][0]["updated_at"],
    }]
    text = run_app(with_admin, "policy", "show").stdout
    assert "approval threshold      1000" in text and "over a daily limit      refuse" in text
    expiry = run_app(with_admin, "policy", "approval-expiry", "8", "--as", "root", password=ROOT_PW)
    assert expiry.returncode == 0 and "8 hours" in expiry.stdout
    assert "expire after 8 hours" in run_app(with_admin, "policy", "show").stdout


def test_policy_set_refuses_bad_values_and_non_admins(with_admin):
    bad = run_app(with_admin, "policy", "set", "--currency", "USDT", "--approval-threshold", "1,000", "--as", "root",
                  password=ROOT_PW)
    assert_one_line_error(bad, "approval_threshold: must use '.' as the decimal point")
    run_app(with_admin, "operator", "add", "bob", "--role", "approver", "--as", "root", password=ROOT_PW,
            stdin=BOB_PW + "\n")
    refused = run_app(with_admin, "policy", "set", "--currency", "USDT", "--approval-threshold", "1", "--as", "bob",
                      password=BOB_PW)
    assert_one_line_error(refused, "admin role")
    assert "No policy set" in run_app(with_admin, "policy", "show").stdout


def test_policy_execution_limits_are_set_by_an_admin_audited_and_shown(with_admin):
    shown = json.loads(run_app(with_admin, "policy", "show", "--json").stdout)
    assert shown["execution"] == {"workflow.estimate_max_age_seconds": 600, "workflow.fee_tolerance": "0.05",
                                  "workflow.claim_grace_seconds": 120}
    result = run_app(with_admin, "policy", "execution", "--estimate-max-age", "300", "--fee-tolerance", "0.1",
                     "--as", "root", password=ROOT_PW)
    assert result.returncode == 0, result.stderr
    assert "older than 300 s" in result.stdout and "more than 10 %" in result.stdout
    shown = json.loads(run_app(with_admin, "policy", "show", "--json").stdout)
    assert shown["execution"]["workflow.estimate_max_age_seconds"] == 300
    assert shown["execution"]["workflow.fee_tolerance"] == "0.1"
    assert shown["execution"]["workflow.claim_grace_seconds"] == 120  # left out: unchanged
    audit_text = run_app(with_admin, "audit", "show", "--json").stdout
    assert "setting:workflow" in audit_text
    bad = run_app(with_admin, "policy", "execution", "--fee-tolerance", "5%", "--as", "root", password=ROOT_PW)
    assert_one_line_error(bad, "fee_tolerance")
    too_long = run_app(with_admin, "policy", "execution", "--estimate-max-age", "86400", "--as", "root",
                       password=ROOT_PW)
    assert_one_line_error(too_long, "estimate_max_age")
    run_app(with_admin, "operator", "add", "bob", "--role", "approver", "--as", "root", password=ROOT_PW,
            stdin=BOB_PW + "\n")
    refused = run_app(with_admin, "policy", "execution", "--claim-grace", "0", "--as", "bob", password=BOB_PW)
    assert_one_line_error(refused, "admin role")
