"""Operator accounts: who may create whom, sign-in with a lockout that grows, passwords, deactivation; each
step in the audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from desk_fixtures import TestClock, password_of

from treasury_app.domain.errors import InvalidFieldError
from treasury_app.ledger import DuplicateRecordError, open_ledger
from treasury_app.security.errors import (
    AccountDisabledError,
    AccountLockedError,
    AuthenticationError,
    PermissionDeniedError,
    WeakPasswordError,
)
from treasury_app.security.passwords import PRODUCTION_PROFILE, TEST_HASHING_ENV, parameters_of
from treasury_app.services.operator_accounts import OperatorAccounts

WRONG = "not the right password"


@pytest.fixture
def empty(ledger, clock):
    return OperatorAccounts(ledger, clock=clock)


def fail(accounts, name="bob", password=WRONG):
    with pytest.raises((AuthenticationError, AccountLockedError)) as refused:
        accounts.authenticate(name, password)
    return refused.value


# --- creating accounts -----------------------------------------------------------------------------------

def test_the_first_operator_is_created_without_signing_in_and_must_be_an_admin(empty, ledger):
    with pytest.raises(InvalidFieldError, match="first operator must be an admin"):
        empty.add("alice", ["initiator", "approver"], password_of("alice"), acting=None)
    assert not empty.has_operators()
    added = empty.add("alice", ["admin"], password_of("alice"), acting=None)
    assert (added.name, added.roles, added.active) == ("alice", ("admin",), True)
    row = ledger.audit.last()
    assert (row.operator, row.action, row.subject) == ("alice", "operator.added", "operator:alice")
    assert row.detail["first_operator"] is True


def test_every_later_operator_needs_a_signed_in_admin(empty):
    empty.add("root", ["admin"], password_of("root"), acting=None)
    with pytest.raises(PermissionDeniedError, match="--as ADMIN"):
        empty.add("bob", ["approver"], password_of("bob"), acting=None)
    root = empty.authenticate("root", password_of("root"))
    empty.add("bob", ["approver"], password_of("bob"), acting=root)
    bob = empty.authenticate("bob", password_of("bob"))
    with pytest.raises(PermissionDeniedError, match="admin role"):
        empty.add("mallory", ["admin"], password_of("mallory"), acting=bob)
    assert [o.name for o in empty.list()] == ["bob", "root"]


def test_a_signed_in_admin_who_was_disabled_since_can_no_longer_add_operators(desk):
    desk.accounts.add("root2", ["admin"], password_of("root2"), acting=desk.sign_in("root"))
    root = desk.sign_in("root")
    desk.accounts.disable("root", acting=desk.sign_in("root2"))
    with pytest.raises(PermissionDeniedError, match="no longer active"):
        desk.accounts.add("eve", ["viewer"], password_of("eve"), acting=root)


def test_names_are_unique_regardless_of_case(desk):
    with pytest.raises(DuplicateRecordError):
        desk.accounts.add("BOB", ["viewer"], password_of("bob2"), acting=desk.sign_in("root"))


@pytest.mark.parametrize("name", ["", " ", "a b", "x" * 65, "-dash", "poller", "Recovery", "ali\nce"])
def test_a_name_that_could_confuse_the_audit_trail_is_refused(desk, name):
    with pytest.raises(InvalidFieldError, match="operator"):
        desk.accounts.add(name, ["viewer"], "a long enough password", acting=desk.sign_in("root"))


@pytest.mark.parametrize(("password", "why"), [
    ("short", "at least 12"),
    ("            ", "only spaces"),
    ("eve", "at least 12"),
    ("evelyn-the-op", "must not be the operator's name"),
    ("line\nbreak in it", "control character"),
])
def test_a_weak_password_is_refused_saying_what_to_change(desk, password, why):
    with pytest.raises(WeakPasswordError, match=why):
        desk.accounts.add("evelyn-the-op", ["viewer"], password, acting=desk.sign_in("root"))


@pytest.mark.parametrize("role", ["superuser", "Admin "])
def test_roles_are_checked_by_name(desk, role):
    if role.strip().lower() == "admin":
        desk.accounts.add("eve", [role], password_of("eve"), acting=desk.sign_in("root"))
        assert desk.ledger.operators.get("eve").roles == {"admin"}
    else:
        with pytest.raises(InvalidFieldError, match="not a role"):
            desk.accounts.add("eve", [role], password_of("eve"), acting=desk.sign_in("root"))


# --- signing in ------------------------------------------------------------------------------------------

def test_the_right_password_signs_in_and_is_audited(desk):
    signed = desk.sign_in("carol")
    assert (signed.name, signed.roles) == ("carol", {"initiator", "approver"})
    row = desk.ledger.audit.last()
    assert (row.operator, row.action, row.subject) == ("carol", "operator.signed_in", "operator:carol")


def test_a_wrong_password_and_an_unknown_name_get_the_same_message(desk):
    wrong = fail(desk.accounts, "bob")
    unknown = fail(desk.accounts, "nobody-here")
    assert str(wrong) == str(unknown) == "operator name or password is wrong"
    rows = list(desk.ledger.audit.rows())[-2:]
    assert [r.action for r in rows] == ["operator.sign_in_failed"] * 2
    assert rows[0].detail["reason"] == "wrong_password" and rows[1].detail["reason"] == "unknown_operator"
    assert rows[1].detail["typed_name"] == "nobody-here"


def test_five_wrong_passwords_lock_the_account_for_a_minute(desk, clock):
    for attempt in range(1, 5):
        assert isinstance(fail(desk.accounts), AuthenticationError)
        assert desk.ledger.operators.get("bob").failed_attempts == attempt
    locked = fail(desk.accounts)
    assert isinstance(locked, AccountLockedError)
    assert timedelta(seconds=59) < locked.locked_until - clock.now <= timedelta(minutes=1)
    assert "locked until" in str(locked) and "password" not in str(locked).split("after")[0]
    # While locked, even the right password is refused, and the attempt is not counted.
    with pytest.raises(AccountLockedError):
        desk.sign_in("bob")
    assert desk.ledger.operators.get("bob").failed_attempts == 5


def test_the_lock_doubles_with_each_further_failure_up_to_an_hour(desk, clock):
    for _ in range(4):
        fail(desk.accounts)
    locks = []
    for _ in range(9):
        locked = fail(desk.accounts)
        locks.append(locked.locked_until - clock.now)
        clock.now = locked.locked_until  # wait it out, then guess again
    minutes = [round(lock.total_seconds() / 60) for lock in locks]
    assert minutes == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_a_successful_sign_in_resets_the_count(desk, clock):
    for _ in range(4):
        fail(desk.accounts)
    desk.sign_in("bob")
    stored = desk.ledger.operators.get("bob")
    assert (stored.failed_attempts, stored.locked_until) == (0, None)
    for _ in range(4):
        assert isinstance(fail(desk.accounts), AuthenticationError)  # four more free tries, not one


def test_failures_are_counted_in_the_ledger_so_another_process_sees_them(desk, ledger_file, clock):
    for _ in range(3):
        fail(desk.accounts)
    with open_ledger(ledger_file, clock=clock) as other:
        accounts = OperatorAccounts(other, clock=clock)
        assert isinstance(fail(accounts), AuthenticationError)
        assert isinstance(fail(accounts), AccountLockedError)
    with pytest.raises(AccountLockedError):
        desk.sign_in("bob")


def test_a_hash_made_with_weaker_parameters_is_upgraded_at_sign_in(desk, monkeypatch):
    # Operators were created with the test profile; a desk without the test setting upgrades them.
    monkeypatch.delenv(TEST_HASHING_ENV)
    desk.sign_in("vic")
    upgraded = parameters_of(desk.ledger.operators.get("vic").password_hash)
    assert (upgraded.memory_cost, upgraded.time_cost) == (PRODUCTION_PROFILE.parameters.memory_cost,
                                                          PRODUCTION_PROFILE.parameters.time_cost)
    assert desk.ledger.audit.last().detail["hash_upgraded"] is True
    desk.sign_in("vic")  # and the new hash works


# --- passwords and deactivation --------------------------------------------------------------------------

def test_an_operator_changes_their_own_password(desk):
    desk.accounts.change_password("bob", "a brand new passphrase", acting=desk.sign_in("bob"))
    assert isinstance(fail(desk.accounts, "bob", password_of("bob")), AuthenticationError)
    desk.accounts.authenticate("bob", "a brand new passphrase")
    assert desk.ledger.audit.last().action == "operator.signed_in"


def test_only_an_admin_sets_someone_elses_password_and_that_lifts_a_lock(desk):
    with pytest.raises(PermissionDeniedError):
        desk.accounts.change_password("bob", "alice chose this one", acting=desk.sign_in("alice"))
    for _ in range(5):
        fail(desk.accounts)
    desk.accounts.change_password("bob", "reset by the admin!", acting=desk.sign_in("root"))
    desk.accounts.authenticate("bob", "reset by the admin!")
    changes = [r for r in desk.ledger.audit.rows() if r.action == "operator.password_changed"]
    assert [(r.operator, r.subject, r.detail["reset_by_admin"]) for r in changes] == [("root", "operator:bob", True)]


def test_a_disabled_operator_cannot_sign_in_and_stays_in_the_list(desk):
    desk.accounts.disable("bob", acting=desk.sign_in("root"))
    with pytest.raises(AccountDisabledError, match="disabled"):
        desk.sign_in("bob")
    assert str(fail(desk.accounts, "bob")) == "operator name or password is wrong"  # wrong password: no hint
    listed = {o.name: o for o in desk.accounts.list()}
    assert listed["bob"].active is False
    with pytest.raises(InvalidFieldError, match="already disabled"):
        desk.accounts.disable("bob", acting=desk.sign_in("root"))


def test_only_an_admin_disables_and_never_the_last_admin(desk):
    with pytest.raises(PermissionDeniedError):
        desk.accounts.disable("vic", acting=desk.sign_in("bob"))
    with pytest.raises(PermissionDeniedError, match="last active admin"):
        desk.accounts.disable("root", acting=desk.sign_in("root"))


def test_the_summary_never_carries_the_password_hash(desk):
    summary = desk.accounts.list()[0]
    assert not hasattr(summary, "password_hash")
    assert "argon2" not in repr(desk.ledger.operators.get("bob"))


def test_every_account_change_is_in_the_audit_trail(ledger):
    clock = TestClock()
    accounts = OperatorAccounts(ledger, clock=clock)
    accounts.add("root", ["admin"], password_of("root"), acting=None)
    root = accounts.authenticate("root", password_of("root"))
    accounts.add("bob", ["approver"], password_of("bob"), acting=root)
    accounts.change_password("bob", "bob's second password", acting=root)
    accounts.disable("bob", acting=root)
    assert [(r.operator, r.action, r.subject) for r in ledger.audit.rows()] == [
        ("root", "operator.added", "operator:root"),
        ("root", "operator.signed_in", "operator:root"),
        ("root", "operator.added", "operator:bob"),
        ("root", "operator.password_changed", "operator:bob"),
        ("root", "operator.disabled", "operator:bob"),
    ]
