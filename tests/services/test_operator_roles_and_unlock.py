"""Changing an operator's roles and lifting a lock without a new password: admins only, each audited, and the
last active admin always keeps the admin role. Also: every administration change the window offers is refused
by the services themselves for an operator without the admin role."""

from __future__ import annotations

from datetime import timedelta

import pytest
from desk_fixtures import password_of

from treasury_app.domain.errors import InvalidFieldError
from treasury_app.security.credentials import CredentialStore
from treasury_app.security.errors import AccountLockedError, AuthenticationError, PermissionDeniedError
from treasury_app.services.approval_policies import ApprovalPolicies
from treasury_app.services.idle_lock import set_idle_lock
from treasury_app.services.provider_administration import ProviderAdministration
from treasury_app.services.workflow_settings import save_workflow_settings


def lock(desk, name: str) -> None:
    for _ in range(5):
        with pytest.raises((AuthenticationError, AccountLockedError)):
            desk.accounts.authenticate(name, "not the right password")


def test_an_admin_gives_an_operator_exactly_the_roles_named_audited_before_and_after(desk):
    changed = desk.accounts.set_roles("alice", ["approver", "viewer"], acting=desk.sign_in("root"))
    assert changed.roles == ("approver", "viewer")
    assert desk.ledger.operators.get("alice").roles == frozenset({"approver", "viewer"})
    row = desk.ledger.audit.last()
    assert (row.operator, row.action, row.subject) == ("root", "operator.roles_changed", "operator:alice")
    assert list(row.detail["before"]) == ["initiator"] and list(row.detail["after"]) == ["approver", "viewer"]


def test_the_same_roles_again_change_nothing_and_record_nothing(desk):
    root = desk.sign_in("root")
    rows = len(list(desk.ledger.audit.rows()))
    assert desk.accounts.set_roles("carol", ["approver", "initiator"], acting=root).roles == ("approver", "initiator")
    assert len(list(desk.ledger.audit.rows())) == rows


def test_roles_are_checked_by_name_and_at_least_one_is_needed(desk):
    root = desk.sign_in("root")
    with pytest.raises(InvalidFieldError, match="is not a role"):
        desk.accounts.set_roles("alice", ["treasurer"], acting=root)
    with pytest.raises(InvalidFieldError, match="at least one role"):
        desk.accounts.set_roles("alice", [], acting=root)
    assert desk.ledger.operators.get("alice").roles == frozenset({"initiator"})


def test_the_last_active_admin_keeps_the_admin_role_until_there_is_another(desk):
    root = desk.sign_in("root")
    with pytest.raises(PermissionDeniedError, match="last active admin"):
        desk.accounts.set_roles("root", ["approver"], acting=root)
    assert desk.ledger.operators.get("root").roles == frozenset({"admin"})
    desk.accounts.set_roles("dave", ["admin", "approver"], acting=root)
    assert desk.accounts.set_roles("root", ["viewer"], acting=root).roles == ("viewer",)
    with pytest.raises(PermissionDeniedError, match="admin role"):  # root acts no more as an admin, at once
        desk.accounts.set_roles("vic", ["admin"], acting=root)


def test_a_disabled_operator_s_roles_no_longer_change(desk):
    root = desk.sign_in("root")
    desk.accounts.disable("bob", acting=root)
    with pytest.raises(InvalidFieldError, match="disabled"):
        desk.accounts.set_roles("bob", ["admin"], acting=root)


def test_an_admin_lifts_a_lock_and_the_old_password_signs_in_again(desk):
    lock(desk, "bob")
    with pytest.raises(AccountLockedError):
        desk.sign_in("bob")
    unlocked = desk.accounts.unlock("bob", acting=desk.sign_in("root"))
    assert (unlocked.failed_attempts, unlocked.locked_until) == (0, None)
    row = desk.ledger.audit.last()
    assert (row.operator, row.action, row.subject) == ("root", "operator.unlocked", "operator:bob")
    assert row.detail["failed_attempts"] >= 5 and row.detail["locked_until"] is not None
    assert desk.sign_in("bob").name == "bob"
    with pytest.raises(InvalidFieldError, match="not locked"):
        desk.accounts.unlock("bob", acting=desk.sign_in("root"))


def test_an_unlock_counts_failures_from_nought_again(desk, clock):
    lock(desk, "bob")
    desk.accounts.unlock("bob", acting=desk.sign_in("root"))
    clock.advance(seconds=1)
    for _ in range(4):  # four wrong ones are free again
        with pytest.raises(AuthenticationError):
            desk.accounts.authenticate("bob", "not the right password")
    assert desk.ledger.operators.get("bob").locked_until is None


@pytest.mark.parametrize("who", ["alice", "bob", "vic"])
def test_no_administration_change_is_open_to_an_operator_without_the_admin_role(desk, who):
    acting = desk.sign_in(who)
    rows = len(list(desk.ledger.audit.rows()))
    refusals = [
        lambda: desk.accounts.add("mallory", ["admin"], password_of("mallory"), acting=acting),
        lambda: desk.accounts.set_roles(who, ["admin"], acting=acting),
        lambda: desk.accounts.unlock("dave", acting=acting),
        lambda: desk.accounts.disable("dave", acting=acting),
        lambda: desk.accounts.change_password("dave", password_of("mallory"), acting=acting),
        lambda: ApprovalPolicies(desk.ledger).set("USDT", acting=acting, approval_threshold="1"),
        lambda: ApprovalPolicies(desk.ledger).set_approval_expiry(1, acting=acting),
        lambda: save_workflow_settings(desk.ledger, acting=acting, fee_tolerance="0.5"),
        lambda: set_idle_lock(desk.ledger, acting=acting, after=timedelta(hours=8)),
        lambda: ProviderAdministration(desk.ledger, CredentialStore()).set_cryptomus(
            acting=acting, merchant="m", payout_key="a-secret-never-stored", base_url="http://127.0.0.1:1"),
    ]
    for index, change in enumerate(refusals):
        with pytest.raises(PermissionDeniedError, match="admin role"):
            change()
        assert len(list(desk.ledger.audit.rows())) == rows, f"change {index} left an audit row"
    assert desk.ledger.policies.get("USDT") is None and desk.ledger.settings.get("provider.cryptomus") is None


def test_a_listed_account_is_locked_until_its_lock_runs_out_on_the_desk_s_clock(desk, clock):
    lock(desk, "bob")
    listed = {o.name: o for o in desk.accounts.list()}
    assert listed["bob"].is_locked_at(desk.accounts.now())
    assert not listed["alice"].is_locked_at(desk.accounts.now())
    clock.advance(minutes=2)
    assert not listed["bob"].is_locked_at(desk.accounts.now())  # the count stays; the lock has run out
