"""Operator roles and what each one allows; a person may hold several, and admin does not imply approver.

Admin is deliberately not a super-role: whoever manages operators and policy could otherwise approve payouts
too, and two-person approval would rest on one person's honesty.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from .errors import InvalidFieldError


class Role(StrEnum):
    VIEWER = "viewer"
    INITIATOR = "initiator"
    APPROVER = "approver"
    ADMIN = "admin"


class Permission(StrEnum):
    VIEW = "view"
    EXPORT = "export"
    COMPOSE = "compose"
    EXECUTE = "execute"
    APPROVE = "approve"  # approve or reject someone else's payout
    MANAGE_OPERATORS = "manage_operators"
    MANAGE_PROVIDERS = "manage_providers"
    MANAGE_POLICY = "manage_policy"
    # An address-book entry counts as a known destination for the approval policy (it can lift "new
    # destination needs approval"), so whoever adds one vouches for it like an approver: never an initiator.
    MANAGE_ADDRESS_BOOK = "manage_address_book"


_READ = frozenset({Permission.VIEW, Permission.EXPORT})

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: _READ,
    Role.INITIATOR: _READ | {Permission.COMPOSE, Permission.EXECUTE},
    Role.APPROVER: _READ | {Permission.APPROVE, Permission.MANAGE_ADDRESS_BOOK},
    Role.ADMIN: _READ | {Permission.MANAGE_OPERATORS, Permission.MANAGE_PROVIDERS, Permission.MANAGE_POLICY,
                         Permission.MANAGE_ADDRESS_BOOK},
}

# Which role to ask an admin for when a permission is missing (for error messages).
ROLE_FOR: dict[Permission, Role] = {
    Permission.VIEW: Role.VIEWER,
    Permission.EXPORT: Role.VIEWER,
    Permission.COMPOSE: Role.INITIATOR,
    Permission.EXECUTE: Role.INITIATOR,
    Permission.APPROVE: Role.APPROVER,
    Permission.MANAGE_OPERATORS: Role.ADMIN,
    Permission.MANAGE_PROVIDERS: Role.ADMIN,
    Permission.MANAGE_POLICY: Role.ADMIN,
    Permission.MANAGE_ADDRESS_BOOK: Role.APPROVER,  # or admin: both hold it
}


def parse_role(text: str) -> Role:
    try:
        return Role(str(text).strip().lower())
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise InvalidFieldError("role", f"'{text}' is not a role; use one of {names}") from None


def parse_roles(texts: Iterable[str]) -> frozenset[Role]:
    """At least one role; unknown names are refused by name."""
    if isinstance(texts, str):
        texts = (texts,)
    roles = frozenset(parse_role(text) for text in texts)
    if not roles:
        raise InvalidFieldError("role", "give at least one role (viewer, initiator, approver, admin)")
    return roles


def permissions_of(roles: Iterable[str]) -> frozenset[Permission]:
    """Everything the roles allow together; stored names that are no longer roles grant nothing."""
    granted: set[Permission] = set()
    for name in roles:
        try:
            granted |= ROLE_PERMISSIONS[Role(name)]
        except ValueError:
            continue
    return frozenset(granted)


def may(roles: Iterable[str], permission: Permission) -> bool:
    return permission in permissions_of(roles)


# What the Administration window is made of: whoever holds one of these may open it (and sees its tabs).
ADMINISTRATION = (Permission.MANAGE_OPERATORS, Permission.MANAGE_POLICY, Permission.MANAGE_PROVIDERS)


def may_administer(roles: Iterable[str]) -> bool:
    granted = permissions_of(roles)
    return any(permission in granted for permission in ADMINISTRATION)
