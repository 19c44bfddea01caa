"""The address book service: entries checked by the domain like any payout address, added and removed only by
approvers and admins (each an audit row), and an entry that makes the policy treat its address as known."""

from __future__ import annotations

import pytest
from desk_fixtures import OTHER_TRON_ADDRESS, TRON_ADDRESS

from treasury_app.domain.approval_policy import ReasonCode
from treasury_app.domain.errors import InvalidFieldError
from treasury_app.domain.payout_lifecycle import PayoutStatus as S
from treasury_app.domain.payout_request import compose_payout
from treasury_app.domain.roles import Permission, Role, may
from treasury_app.ledger import DuplicateRecordError
from treasury_app.security.errors import PermissionDeniedError
from treasury_app.services.address_book import AddressBook, EntryFields, entry_problems
from treasury_app.services.approval_policies import ApprovalPolicies
from treasury_app.services.audit import AuditAction
from treasury_app.security.audit_chain import verify

ETH_CHECKSUMMED = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
BTC_ADDRESS = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"


@pytest.fixture
def book(desk) -> AddressBook:
    return AddressBook(desk.ledger, clock=desk.clock)


def supplier(**changes: str) -> EntryFields:
    values = {"label": "Supplier Ltd", "currency": "USDT", "network": "TRON", "address": TRON_ADDRESS,
              "note": "monthly invoice"}
    values.update(changes)
    return EntryFields(**values)


def test_only_approvers_and_admins_hold_the_address_book_permission():
    assert may({Role.APPROVER}, Permission.MANAGE_ADDRESS_BOOK)
    assert may({Role.ADMIN}, Permission.MANAGE_ADDRESS_BOOK)
    assert not may({Role.INITIATOR}, Permission.MANAGE_ADDRESS_BOOK)
    assert not may({Role.VIEWER}, Permission.MANAGE_ADDRESS_BOOK)


def test_an_approver_adds_an_entry_with_who_and_when(desk, book):
    entry = book.add(supplier(), acting=desk.sign_in("bob"))
    assert (entry.label, entry.currency, entry.network, entry.address, entry.note, entry.created_by) == \
        ("Supplier Ltd", "USDT", "TRON", TRON_ADDRESS, "monthly invoice", "bob")
    assert entry.created_at is not None
    assert book.list() == [entry]


def test_an_address_on_the_wrong_network_is_refused_naming_the_address_field(desk, book):
    with pytest.raises(InvalidFieldError) as refused:
        book.add(supplier(network="ETH", currency="USDT"), acting=desk.sign_in("root"))
    assert refused.value.field == "address"
    assert "tron" in refused.value.message.lower()
    assert book.list() == []


def test_an_evm_address_with_a_bad_checksum_is_refused_naming_the_address_field(desk, book):
    wrong_case = ETH_CHECKSUMMED[:3] + ETH_CHECKSUMMED[3].swapcase() + ETH_CHECKSUMMED[4:]
    with pytest.raises(InvalidFieldError) as refused:
        book.add(supplier(network="ETH", address=wrong_case), acting=desk.sign_in("root"))
    assert refused.value.field == "address"
    assert "checksum" in refused.value.message.lower()


def test_a_currency_not_on_the_network_is_refused_naming_the_network(desk, book):
    with pytest.raises(InvalidFieldError) as refused:
        book.add(supplier(currency="BTC", network="TRON"), acting=desk.sign_in("root"))
    assert refused.value.field == "network"


def test_the_form_check_names_every_wrong_field_at_once():
    problems = entry_problems(supplier(label="  ", address="0x123"))
    assert set(problems) == {"label", "address"}
    assert entry_problems(supplier()) == {}


@pytest.mark.parametrize("name", ["alice", "vic"])
def test_an_initiator_or_viewer_may_not_add(desk, book, name):
    with pytest.raises(PermissionDeniedError) as refused:
        book.add(supplier(), acting=desk.sign_in(name))
    assert "approver or admin" in str(refused.value)
    assert book.list() == []
    assert not [row for row in desk.ledger.audit.rows() if row.action == AuditAction.ADDRESS_BOOK_ADDED]


def test_an_operator_disabled_since_signing_in_may_not_add(desk, book):
    signed = desk.sign_in("dave")
    desk.accounts.disable("dave", acting=desk.sign_in("root"))
    with pytest.raises(PermissionDeniedError):
        book.add(supplier(), acting=signed)


def test_adding_and_removing_each_leave_an_audit_row_and_the_chain_holds(desk, book):
    entry = book.add(supplier(), acting=desk.sign_in("bob"))
    book.remove(entry.id, acting=desk.sign_in("root"))
    rows = desk.ledger.audit.rows_about(f"address_book:{entry.id}")
    assert [(row.operator, row.action) for row in rows] == [
        ("bob", AuditAction.ADDRESS_BOOK_ADDED), ("root", AuditAction.ADDRESS_BOOK_REMOVED)]
    assert TRON_ADDRESS in rows[0].detail_json and "Supplier Ltd" in rows[0].detail_json
    assert book.list() == []
    assert verify(desk.ledger).problem_count == 0


def test_an_initiator_may_not_remove(desk, book):
    entry = book.add(supplier(), acting=desk.sign_in("bob"))
    with pytest.raises(PermissionDeniedError):
        book.remove(entry.id, acting=desk.sign_in("alice"))
    assert book.list() == [entry]


def test_the_same_address_twice_is_refused_in_words(desk, book):
    book.add(supplier(), acting=desk.sign_in("bob"))
    with pytest.raises(DuplicateRecordError, match="already in the address book"):
        book.add(supplier(label="Other name"), acting=desk.sign_in("bob"))


def test_search_finds_labels_case_insensitively(desk, book):
    bob = desk.sign_in("bob")
    book.add(supplier(), acting=bob)
    book.add(supplier(label="Exchange hot wallet", address=OTHER_TRON_ADDRESS), acting=bob)
    book.add(EntryFields("Cold storage", "BTC", "BTC", BTC_ADDRESS), acting=bob)
    assert [e.label for e in book.list()] == ["Cold storage", "Exchange hot wallet", "Supplier Ltd"]
    assert [e.label for e in book.list("SUPP")] == ["Supplier Ltd"]
    assert [e.label for e in book.list("wallet")] == ["Exchange hot wallet"]
    assert book.list("nobody") == []


def test_an_entry_lifts_the_new_destination_reason_for_the_next_payout(desk, book):
    ApprovalPolicies(desk.ledger, clock=desk.clock).set("USDT", acting=desk.sign_in("root"),
                                                        new_destination_needs_approval=True)
    request = compose_payout(provider="cryptomus", currency="USDT", network="TRON", address=TRON_ADDRESS,
                             amount="5")
    assert ReasonCode.NEW_DESTINATION in desk.approvals.decision_for_request(request, initiator="alice").codes
    entry = book.add(supplier(), acting=desk.sign_in("bob"))
    assert desk.approvals.decision_for_request(request, initiator="alice").is_free
    book.remove(entry.id, acting=desk.sign_in("bob"))
    assert ReasonCode.NEW_DESTINATION in desk.approvals.decision_for_request(request, initiator="alice").codes


def test_a_completed_payout_is_offered_to_an_approver_but_not_to_an_initiator(desk, book):
    payout = desk.compose("alice", amount="5")
    assert "completed" in book.why_not_add_from(payout, desk.sign_in("bob"))
    payout = desk.finish(payout, S.SUBMITTING, S.PROCESSING, S.COMPLETED)
    assert book.why_not_add_from(payout, desk.sign_in("bob")) is None
    assert "approver or admin" in book.why_not_add_from(payout, desk.sign_in("alice"))
    book.add(book.fields_from_payout(payout, "From payout"), acting=desk.sign_in("bob"))
    assert "already in the address book" in book.why_not_add_from(payout, desk.sign_in("bob"))
