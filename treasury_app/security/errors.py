"""The security layer's typed errors. Sign-in errors say as little as a stranger may know, and no more."""

from __future__ import annotations

from datetime import datetime, timedelta

from treasury_app.domain.errors import InvalidFieldError, TreasuryError


class SecurityError(TreasuryError):
    """Root of the errors about who may do what."""


class AuthenticationError(SecurityError):
    """Wrong name or wrong password: deliberately never says which, so that names cannot be guessed."""

    def __init__(self) -> None:
        super().__init__("operator name or password is wrong")


class AccountLockedError(SecurityError):
    """Too many wrong passwords in a row: the account refuses every sign-in until `locked_until`."""

    def __init__(self, locked_until: datetime) -> None:
        self.locked_until = locked_until
        super().__init__(f"sign-in refused: locked until {clock_time(locked_until)} after repeated wrong passwords")


class AccountDisabledError(SecurityError):
    """The account was disabled by an admin (shown only to someone who typed its correct password)."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"operator '{name}' is disabled; ask an admin")


class PermissionDeniedError(SecurityError):
    """The operator lacks the role an action needs, or the action is never theirs to take."""

    def __init__(self, operator: str, message: str) -> None:
        self.operator = operator
        super().__init__(message)


class WeakPasswordError(InvalidFieldError, SecurityError):
    def __init__(self, message: str) -> None:
        super().__init__("password", message)


class TamperedRecordError(SecurityError):
    """A payout or approval in the ledger differs from what the audit trail recorded: edited outside the app."""

    def __init__(self, subject: str, message: str) -> None:
        self.subject = subject
        super().__init__(
            f"{message}. It was changed outside Treasury Desk, so nothing will be done with it: run "
            "'treasury-app audit verify' and tell whoever is responsible for the desk's security"
        )


def clock_time(moment: datetime) -> str:
    """HH:MM in this computer's time zone, rounded up so that 'until 14:32' is never early."""
    local = moment.astimezone()
    if local.second or local.microsecond:
        local = local.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return f"{local:%H:%M}"
