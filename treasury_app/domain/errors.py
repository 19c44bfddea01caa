"""The typed errors the domain raises; every other layer's errors derive from `TreasuryError` too."""

from __future__ import annotations


class TreasuryError(Exception):
    """Root of every error this application raises on purpose (anything else is a bug)."""


class InvalidFieldError(TreasuryError, ValueError):
    """A value a person typed or a file held is not acceptable; `field` names the form field."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class IllegalTransitionError(TreasuryError):
    """The payout lifecycle does not allow moving from one status to another."""

    def __init__(self, current: str, target: str, subject: str = "payout") -> None:
        self.current = current
        self.target = target
        self.subject = subject
        super().__init__(f"{subject} cannot go from '{current}' to '{target}'")
