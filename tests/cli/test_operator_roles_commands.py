"""`treasury-app operator roles` and `operator unlock` as an admin meets them: real processes on a real data
folder, the acting admin's password from TREASURY_PASSWORD, refusals in one line with exit 1."""

from __future__ import annotations

import json

import pytest
from desk_fixtures import run_app

ROOT_PW = "root password long"
BOB_PW = "bob password long"


@pytest.fixture
def desk(tmp_path):
    folder = tmp_path / "desk"
    assert run_app(folder, "operator", "add", "root", "--role", "admin", stdin=ROOT_PW + "\n").returncode == 0
    added = run_app(folder, "operator", "add", "bob", "--role", "initiator", "--as", "root", password=ROOT_PW,
                    stdin=BOB_PW + "\n")
    assert added.returncode == 0, added.stderr
    return folder


def roles_of(folder) -> dict[str, list[str]]:
    listed = run_app(folder, "operator", "list", "--json")
    return {o["name"]: o["roles"] for o in json.loads(listed.stdout)}


def one_line_error(result) -> str:
    assert result.returncode == 1, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    return lines[0]


def test_an_admin_sets_an_operator_s_roles_and_the_audit_trail_has_before_and_after(desk):
    result = run_app(desk, "operator", "roles", "bob", "--role", "approver", "--role", "viewer", "--as", "root",
                     password=ROOT_PW)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "operator bob now has roles: approver, viewer"
    assert roles_of(desk)["bob"] == ["approver", "viewer"]
    trail = run_app(desk, "audit", "show", "--json")
    assert trail.returncode == 0, trail.stderr
    rows = [json.loads(line) for line in trail.stdout.splitlines() if line.strip()]  # one JSON object a line
    changed = [row for row in rows if row["action"] == "operator.roles_changed"]
    assert [(row["operator"], row["subject"]) for row in changed] == [("root", "operator:bob")]
    assert changed[0]["detail"]["before"] == ["initiator"] and changed[0]["detail"]["after"] == ["approver", "viewer"]


def test_the_last_admin_keeps_the_admin_role_and_a_non_admin_changes_nothing(desk):
    last = run_app(desk, "operator", "roles", "root", "--role", "approver", "--as", "root", password=ROOT_PW)
    assert "last active admin" in one_line_error(last)
    refused = run_app(desk, "operator", "roles", "bob", "--role", "admin", "--as", "bob", password=BOB_PW)
    assert "admin role" in one_line_error(refused)
    assert roles_of(desk) == {"bob": ["initiator"], "root": ["admin"]}


def test_an_admin_unlocks_a_locked_operator_who_then_signs_in_with_the_old_password(desk):
    for _ in range(5):
        run_app(desk, "operator", "passwd", "bob", password="a wrong guess here", stdin="never used here\n")
    locked = run_app(desk, "operator", "passwd", "bob", password=BOB_PW, stdin="bob's next password\n")
    assert "locked until" in one_line_error(locked)
    unlocked = run_app(desk, "operator", "unlock", "bob", "--as", "root", password=ROOT_PW)
    assert unlocked.returncode == 0 and unlocked.stdout.strip() == "operator bob unlocked"
    again = run_app(desk, "operator", "passwd", "bob", password=BOB_PW, stdin="bob's next password\n")
    assert again.returncode == 0, again.stderr
    not_locked = run_app(desk, "operator", "unlock", "bob", "--as", "root", password=ROOT_PW)
    assert "not locked" in one_line_error(not_locked)
