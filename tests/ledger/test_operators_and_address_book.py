"""Operator accounts and the address book as stored."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from ledger_fixtures import EVM_ADDRESS, TRON_ADDRESS

from treasury_app.domain.errors import InvalidFieldError
from treasury_app.ledger import (
    AddressBookEntryNotFoundError,
    DuplicateRecordError,
    OperatorChanges,
    OperatorNotFoundError,
)

HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g"

BACKENDS = ("sqlite", "postgresql")


def test_an_operator_is_added_and_found_by_name_in_any_case(ledger, clock):
    assert ledger.operators.count() == 0
    alice = ledger.operators.add("Alice", password_hash=HASH, roles=["admin", "initiator", "admin"])
    assert (alice.name, alice.roles, alice.active, alice.failed_attempts) == ("Alice", {"admin", "initiator"}, True, 0)
    assert alice.created_at == clock.now and alice.locked_until is None
    assert ledger.operators.get("alice") == alice
    assert ledger.operators.count() == 1


def test_the_password_hash_never_shows_in_a_printed_record(ledger):
    alice = ledger.operators.add("alice", password_hash=HASH, roles=["viewer"])
    assert HASH not in repr(alice) and HASH not in str(alice)


def test_operator_names_are_unique_regardless_of_case(ledger):
    ledger.operators.add("alice", password_hash=HASH, roles=["viewer"])
    with pytest.raises(DuplicateRecordError, match="ALICE"):
        ledger.operators.add("ALICE", password_hash=HASH, roles=["admin"])
    assert ledger.operators.count() == 1


@pytest.mark.parametrize(
    ("name", "fields", "error"),
    [
        ("", {"password_hash": HASH, "roles": ["viewer"]}, InvalidFieldError),
        ("bob", {"password_hash": "", "roles": ["viewer"]}, ValueError),
        ("bob", {"password_hash": HASH, "roles": "admin"}, TypeError),
        ("bob", {"password_hash": HASH, "roles": [""]}, ValueError),
    ],
)
def test_a_bad_operator_is_refused(ledger, name, fields, error):
    with pytest.raises(error):
        ledger.operators.add(name, **fields)
    assert ledger.operators.count() == 0


def test_unknown_operators_are_named_in_the_error(ledger):
    assert ledger.operators.find("ghost") is None
    with pytest.raises(OperatorNotFoundError, match="ghost"):
        ledger.operators.get("ghost")
    with pytest.raises(OperatorNotFoundError):
        ledger.operators.update("ghost", OperatorChanges(active=False))


def test_operator_fields_are_updated_and_the_rest_kept(ledger):
    ledger.operators.add("bob", password_hash=HASH, roles=["approver"])
    until = datetime(2026, 5, 1, 12, tzinfo=UTC)
    bob = ledger.operators.update("BOB", OperatorChanges(failed_attempts=3, locked_until=until))
    assert (bob.failed_attempts, bob.locked_until, bob.roles) == (3, until, {"approver"})
    bob = ledger.operators.update("bob", OperatorChanges(failed_attempts=0, locked_until=None, active=False,
                                                         roles=["approver", "viewer"], password_hash="new"))
    assert (bob.failed_attempts, bob.locked_until, bob.active, bob.password_hash) == (0, None, False, "new")
    assert bob.roles == {"approver", "viewer"}
    assert ledger.operators.update("bob", OperatorChanges()) == bob
    with pytest.raises(TypeError):
        ledger.operators.update("bob", OperatorChanges(active="no"))


def test_operators_are_listed_by_name(ledger):
    for name in ("carol", "alice", "bob"):
        ledger.operators.add(name, password_hash=HASH, roles=["viewer"])
    assert [o.name for o in ledger.operators.all()] == ["alice", "bob", "carol"]


def test_an_address_is_added_found_listed_and_removed(ledger, clock):
    entry = ledger.address_book.add(label="Supplier", network="tron", address=TRON_ADDRESS, currency="usdt",
                                    note="monthly", actor="alice")
    assert (entry.network, entry.currency, entry.created_by, entry.created_at) == ("TRON", "USDT", "alice", clock.now)
    ledger.address_book.add(label="exchange", network="ETH", address=EVM_ADDRESS, actor="alice")
    assert ledger.address_book.find("TRON", TRON_ADDRESS) == entry
    assert ledger.address_book.find("ETH", TRON_ADDRESS) is None
    assert [e.label for e in ledger.address_book.all()] == ["exchange", "Supplier"]
    assert ledger.address_book.get(entry.id) == entry
    ledger.address_book.remove(entry.id)
    assert ledger.address_book.find("TRON", TRON_ADDRESS) is None
    with pytest.raises(AddressBookEntryNotFoundError):
        ledger.address_book.remove(entry.id)
    with pytest.raises(AddressBookEntryNotFoundError, match=str(entry.id)):
        ledger.address_book.get(entry.id)


def test_the_same_address_on_the_same_network_is_listed_once(ledger):
    ledger.address_book.add(label="one", network="TRON", address=TRON_ADDRESS, actor="alice")
    with pytest.raises(DuplicateRecordError, match="already in the address book"):
        ledger.address_book.add(label="two", network="TRON", address=TRON_ADDRESS, actor="bob")
    assert len(ledger.address_book.all()) == 1


def test_an_evm_address_is_kept_checksummed_and_found_in_either_case(ledger):
    entry = ledger.address_book.add(label="exchange", network="eth", address=EVM_ADDRESS.lower(), actor="alice")
    assert entry.address == EVM_ADDRESS
    assert ledger.address_book.find("ETH", EVM_ADDRESS.lower()) == entry
    assert ledger.address_book.find("ETH", "0x" + EVM_ADDRESS[2:].upper()) == entry
    assert ledger.address_book.find("BSC", EVM_ADDRESS) is None
    with pytest.raises(DuplicateRecordError, match=EVM_ADDRESS):
        ledger.address_book.add(label="again", network="ETH", address=EVM_ADDRESS, actor="bob")


def test_an_evm_address_with_a_wrong_mixed_case_checksum_is_not_added(ledger):
    wrong = EVM_ADDRESS[:3] + EVM_ADDRESS[3].swapcase() + EVM_ADDRESS[4:]
    with pytest.raises(InvalidFieldError) as refused:
        ledger.address_book.add(label="typo", network="ETH", address=wrong, actor="alice")
    assert refused.value.field == "address" and "EIP-55" in refused.value.message
    assert ledger.address_book.all() == []
    assert ledger.address_book.find("ETH", wrong) is None


@pytest.mark.parametrize("missing", ["label", "network", "address", "actor"])
def test_an_address_book_entry_needs_its_fields(ledger, missing):
    fields = {"label": "x", "network": "TRON", "address": TRON_ADDRESS, "actor": "alice", missing: " "}
    with pytest.raises(InvalidFieldError) as refused:
        ledger.address_book.add(**fields)
    assert refused.value.field == missing

