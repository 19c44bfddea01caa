"""Operator accounts: add, sign in (with lockout), change a password or the roles, unlock, disable; every step
audited.

Accounts are never deleted: the audit trail and the payouts keep their names, and a name once used stays
taken. Whoever acts is re-read from the ledger at the moment they act, so a `SignedIn` of an operator who has
since been disabled, or lost a role, no longer opens anything.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from treasury_app.domain.approval_binding import same_operator
from treasury_app.domain.errors import InvalidFieldError
from treasury_app.domain.roles import ROLE_FOR, Permission, Role, may, parse_roles
from treasury_app.ledger import Ledger, OperatorChanges, OperatorRecord
from treasury_app.ledger.timestamps import utc_now
from treasury_app.security.errors import (
    AccountDisabledError,
    AccountLockedError,
    AuthenticationError,
    PermissionDeniedError,
)
from treasury_app.security.lockout import lock_duration
from treasury_app.security.passwords import (
    check_password_rules,
    hash_password,
    spend_a_verification,
    verify_password,
)

from . import audit
from .audit import AuditAction

Clock = Callable[[], datetime]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# Parts of the app act under these names in payout timelines (the poller, recovery…): no person may take one.
RESERVED_NAMES = frozenset({"poller", "recovery", "system", "sandbox", "treasury-app", "app"})


@dataclass(frozen=True)
class SignedIn:
    """Proof, for this process, that `name` typed the right password at `at`; re-checked when used."""

    name: str
    roles: frozenset[str]
    at: datetime


@dataclass(frozen=True)
class OperatorSummary:
    """An account as shown to people: everything but the password hash."""

    name: str
    roles: tuple[str, ...]
    active: bool
    failed_attempts: int
    locked_until: datetime | None
    created_at: datetime

    def is_locked_at(self, moment: datetime) -> bool:
        """Whether wrong passwords keep the account shut at `moment` (a lock that ran out no longer counts)."""
        return self.locked_until is not None and moment < self.locked_until

    @classmethod
    def of(cls, record: OperatorRecord) -> OperatorSummary:
        return cls(record.name, tuple(sorted(record.roles)), record.active, record.failed_attempts,
                   record.locked_until, record.created_at)


def validate_operator_name(name: str) -> str:
    text = name.strip() if isinstance(name, str) else ""
    if not _NAME.fullmatch(text):
        raise InvalidFieldError("operator", "a name is 1 to 64 letters, digits, '.', '_' or '-', starting with a "
                                            "letter or digit")
    if text.lower() in RESERVED_NAMES:
        raise InvalidFieldError("operator", f"'{text}' is reserved for a part of the app; choose another name")
    return text


def require_permission(ledger: Ledger, acting: SignedIn, permission: Permission, doing: str) -> OperatorRecord:
    """The acting operator, read now: still active and holding a role that allows `permission`."""
    record = ledger.operators.find(acting.name)
    if record is None or not record.active:
        raise PermissionDeniedError(acting.name, f"operator '{acting.name}' is no longer active and cannot {doing}")
    if not may(record.roles, permission):
        raise PermissionDeniedError(
            acting.name, f"operator '{record.name}' cannot {doing}: that needs the {ROLE_FOR[permission]} role "
                         "(ask an admin)")
    return record


class OperatorAccounts:
    def __init__(self, ledger: Ledger, *, clock: Clock = utc_now) -> None:
        self._ledger = ledger
        self._clock = clock

    def has_operators(self) -> bool:
        return self._ledger.operators.count() > 0

    def list(self) -> list[OperatorSummary]:
        return [OperatorSummary.of(record) for record in self._ledger.operators.all()]

    def now(self) -> datetime:
        """The desk's time, as the lockout reads it (to say whether a listed account is locked now)."""
        return self._clock()

    def add(self, name: str, roles: Iterable[str], password: str, *, acting: SignedIn | None) -> OperatorSummary:
        """A new account. The desk's very first one needs no sign-in and must be an admin; later ones need one."""
        clean = validate_operator_name(name)
        granted = parse_roles(roles)
        check_password_rules(password, name=clean)
        password_hash = hash_password(password)  # slow on purpose: done before the write lock is taken
        with self._ledger.transaction():
            first = self._ledger.operators.count() == 0  # read under the lock: only one process can be first
            if first:
                if Role.ADMIN not in granted:
                    raise InvalidFieldError("role", "the desk's first operator must be an admin (add --role admin), "
                                                    "so that someone can add the others")
                actor = clean
            elif acting is None:
                raise PermissionDeniedError("", "the desk already has operators: sign in as an admin to add one "
                                                "(--as ADMIN)")
            else:
                actor = require_permission(self._ledger, acting, Permission.MANAGE_OPERATORS, "add operators").name
            added = self._ledger.operators.add(clean, password_hash=password_hash, roles=sorted(granted))
            audit.record(self._ledger, actor, AuditAction.OPERATOR_ADDED, _subject(clean),
                         {"roles": sorted(granted), "first_operator": first}, clock=self._clock)
        return OperatorSummary.of(added)

    def authenticate(self, name: str, password: str) -> SignedIn:
        """Check a password now. Failures are counted in the ledger and lock the account for a growing time.

        A stranger learns only "name or password is wrong", or that the account is locked and until when.
        """
        record = self._find(name)
        if record is None:
            spend_a_verification(password)  # an unknown name must take as long as a wrong password
            self._record_failure(None, name, "unknown_operator")
            raise AuthenticationError()
        now = self._clock()
        if record.locked_until is not None and now < record.locked_until:
            # Not even checked: while locked, a guess can neither succeed nor tell right from wrong.
            self._record_failure(record.name, name, "locked")
            raise AccountLockedError(record.locked_until)
        check = verify_password(record.password_hash, password)
        if not check.matches:
            locked_until = self._count_failure(record.name, now)
            if locked_until is not None:
                raise AccountLockedError(locked_until)
            raise AuthenticationError()
        if not record.active:
            self._record_failure(record.name, name, "disabled")
            raise AccountDisabledError(record.name)
        changes = OperatorChanges(failed_attempts=0, locked_until=None)
        if check.upgraded_hash is not None:
            changes = OperatorChanges(failed_attempts=0, locked_until=None, password_hash=check.upgraded_hash)
        with self._ledger.transaction():
            signed = self._ledger.operators.update(record.name, changes)
            audit.record(self._ledger, signed.name, AuditAction.OPERATOR_SIGNED_IN, _subject(signed.name),
                         {"hash_upgraded": True} if check.upgraded_hash else None, clock=self._clock)
        return SignedIn(signed.name, signed.roles, now)

    def change_password(self, name: str, new_password: str, *, acting: SignedIn) -> None:
        """Operators change their own (having just typed the old one); an admin may reset anyone's, which also
        lifts a lock."""
        target = validate_operator_name(name)
        check_password_rules(new_password, name=target)
        password_hash = hash_password(new_password)
        with self._ledger.transaction():
            own = same_operator(acting.name, target)
            if own:
                require_permission(self._ledger, acting, Permission.VIEW, "change a password")
            else:
                require_permission(self._ledger, acting, Permission.MANAGE_OPERATORS, "reset another's password")
            record = self._ledger.operators.get(target)
            self._ledger.operators.update(record.name, OperatorChanges(password_hash=password_hash, failed_attempts=0,
                                                                       locked_until=None))
            audit.record(self._ledger, acting.name, AuditAction.OPERATOR_PASSWORD_CHANGED, _subject(record.name),
                         {"reset_by_admin": not own}, clock=self._clock)

    def disable(self, name: str, *, acting: SignedIn) -> OperatorSummary:
        """Deactivate an account for good; the last active admin cannot be disabled (nobody could add one)."""
        target = validate_operator_name(name)
        with self._ledger.transaction():
            require_permission(self._ledger, acting, Permission.MANAGE_OPERATORS, "disable operators")
            record = self._ledger.operators.get(target)
            if not record.active:
                raise InvalidFieldError("operator", f"'{record.name}' is already disabled")
            if self._is_last_active_admin(record):
                raise PermissionDeniedError(acting.name, f"'{record.name}' is the last active admin; add another "
                                                         "admin before disabling this one")
            disabled = self._ledger.operators.update(record.name, OperatorChanges(active=False))
            audit.record(self._ledger, acting.name, AuditAction.OPERATOR_DISABLED, _subject(record.name), None,
                         clock=self._clock)
        return OperatorSummary.of(disabled)

    def set_roles(self, name: str, roles: Iterable[str], *, acting: SignedIn) -> OperatorSummary:
        """Give an account exactly these roles (admins only), audited with before and after. The last active
        admin keeps the admin role: without it nobody could add operators or change a policy again."""
        target = validate_operator_name(name)
        granted = parse_roles(roles)
        with self._ledger.transaction():
            admin = require_permission(self._ledger, acting, Permission.MANAGE_OPERATORS, "change operators' roles")
            record = self._ledger.operators.get(target)
            if not record.active:
                raise InvalidFieldError("operator", f"'{record.name}' is disabled; its roles can no longer change")
            before = sorted(record.roles)
            if set(before) == {role.value for role in granted}:
                return OperatorSummary.of(record)  # nothing changes, so there is nothing to record
            if Role.ADMIN not in granted and self._is_last_active_admin(record):
                raise PermissionDeniedError(acting.name, f"'{record.name}' is the last active admin and keeps the "
                                                         "admin role; make another operator an admin first")
            changed = self._ledger.operators.update(record.name, OperatorChanges(roles=sorted(granted)))
            audit.record(self._ledger, admin.name, AuditAction.OPERATOR_ROLES_CHANGED, _subject(record.name),
                         {"before": before, "after": sorted(granted)}, clock=self._clock)
        return OperatorSummary.of(changed)

    def unlock(self, name: str, *, acting: SignedIn) -> OperatorSummary:
        """Lift a lock left by wrong passwords (admins only), without a new password: for a person who only
        mistyped. Audited; the count of failures starts again from nought."""
        target = validate_operator_name(name)
        with self._ledger.transaction():
            admin = require_permission(self._ledger, acting, Permission.MANAGE_OPERATORS, "unlock operators")
            record = self._ledger.operators.get(target)
            if record.locked_until is None and record.failed_attempts == 0:
                raise InvalidFieldError("operator", f"'{record.name}' is not locked")
            unlocked = self._ledger.operators.update(record.name, OperatorChanges(failed_attempts=0,
                                                                                  locked_until=None))
            audit.record(self._ledger, admin.name, AuditAction.OPERATOR_UNLOCKED, _subject(record.name),
                         {"failed_attempts": record.failed_attempts, "locked_until": record.locked_until},
                         clock=self._clock)
        return OperatorSummary.of(unlocked)

    def _is_last_active_admin(self, record: OperatorRecord) -> bool:
        admins = [o.name for o in self._ledger.operators.all() if o.active and Role.ADMIN.value in o.roles]
        return admins == [record.name]

    def _find(self, name: str) -> OperatorRecord | None:
        try:
            return self._ledger.operators.find(validate_operator_name(name))
        except InvalidFieldError:
            return None

    def _count_failure(self, name: str, now: datetime) -> datetime | None:
        """One more wrong password; returns when the account is now locked until, if it is."""
        with self._ledger.transaction():
            current = self._ledger.operators.get(name)  # re-read under the lock: parallel failures all count
            failures = current.failed_attempts + 1
            lock = lock_duration(failures)
            locked_until = now + lock if lock is not None else None
            self._ledger.operators.update(name, OperatorChanges(failed_attempts=failures, locked_until=locked_until))
            audit.record(self._ledger, None, AuditAction.OPERATOR_SIGN_IN_FAILED, _subject(name),
                         {"reason": "wrong_password", "failures_in_a_row": failures, "locked_until": locked_until},
                         clock=self._clock)
        return locked_until

    def _record_failure(self, known_name: str | None, typed: str, reason: str) -> None:
        subject = _subject(known_name) if known_name else "operator:?"
        detail = {"reason": reason}
        if known_name is None:
            detail["typed_name"] = audit.short_text(typed if isinstance(typed, str) else repr(typed))
        with self._ledger.transaction():
            audit.record(self._ledger, None, AuditAction.OPERATOR_SIGN_IN_FAILED, subject, detail, clock=self._clock)


def _subject(name: str) -> str:
    return f"operator:{name}"
