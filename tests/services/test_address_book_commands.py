"""`treasury-app address-book …` as people and scripts use it: real processes on a real data folder; an
initiator is refused in one line, an approver adds, lists and removes."""

from __future__ import annotations

import json

import pytest
from desk_fixtures import TRON_ADDRESS, run_app

ROOT_PW = "root password long"


@pytest.fixture
def data_dir(tmp_path):
    folder = tmp_path / "desk"
    assert run_app(folder, "operator", "add", "root", "--role", "admin", stdin=ROOT_PW + "\n").returncode == 0
    for name, role in (("alice", "initiator"), ("bob", "approver")):
        added = run_app(folder, "operator", "add", name, "--role", role, "--as", "root", password=ROOT_PW,
                        stdin=f"{name} password long\n")
        assert added.returncode == 0, added.stderr
    return folder


def add(data_dir, name, *extra):
    return run_app(data_dir, "address-book", "add", "--label", "Supplier Ltd", "--currency", "USDT",
                   "--network", "TRON", "--address", TRON_ADDRESS, *extra, "--as", name,
                   password=f"{name} password long")


def test_an_approver_adds_lists_and_removes_an_entry(data_dir):
    added = add(data_dir, "bob", "--note", "invoice 42")
    assert added.returncode == 0, added.stderr
    assert "Supplier Ltd" in added.stdout
    listed = json.loads(run_app(data_dir, "address-book", "list", "--search", "supplier", "--json").stdout)
    assert [(e["label"], e["address"], e["created_by"], e["note"]) for e in listed] == \
        [("Supplier Ltd", TRON_ADDRESS, "bob", "invoice 42")]
    removed = run_app(data_dir, "address-book", "remove", str(listed[0]["id"]), "--as", "root", password=ROOT_PW)
    assert removed.returncode == 0, removed.stderr
    assert "The address book is empty" in run_app(data_dir, "address-book", "list").stdout


def test_an_initiator_is_refused_in_one_line(data_dir):
    refused = add(data_dir, "alice")
    assert refused.returncode == 1
    assert refused.stderr.strip().startswith("Error: ") and "approver or admin" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_a_bad_address_is_refused_naming_the_field(data_dir):
    refused = run_app(data_dir, "address-book", "add", "--label", "X", "--currency", "USDT", "--network", "ETH",
                      "--address", TRON_ADDRESS, "--as", "bob", password="bob password long")
    assert refused.returncode != 0
    assert "address" in refused.stderr and "Traceback" not in refused.stderr
