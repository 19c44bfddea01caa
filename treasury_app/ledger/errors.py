"""The ledger's typed errors: each says which file or record, what happened, and what a person can do next."""

from __future__ import annotations

from pathlib import Path

from treasury_app.domain.errors import TreasuryError


class LedgerError(TreasuryError):
    """Root of the ledger's errors."""


class LedgerFileError(LedgerError):
    """The ledger file cannot be opened, or it is not a Treasury Desk ledger."""

    def __init__(self, path: Path, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")


class LedgerVersionError(LedgerError):
    """The file was written by a newer Treasury Desk; this version refuses to touch it."""

    def __init__(self, path: Path, file_version: int, known_version: int) -> None:
        self.path = path
        self.file_version = file_version
        self.known_version = known_version
        super().__init__(
            f"{path} was written by a newer Treasury Desk (ledger schema version {file_version}; this version "
            f"knows up to {known_version}). It was left untouched: update Treasury Desk to open it."
        )


class LedgerBusyError(LedgerError):
    """Another process kept the ledger locked for longer than we are willing to wait."""

    def __init__(self, path: Path | str) -> None:
        self.path = path
        super().__init__(
            f"The ledger is busy: another Treasury Desk process is writing to {path}. Try again in a moment."
        )


class LedgerUnavailableError(LedgerError):
    """The team ledger's server cannot be reached, or dropped the connection while in use. Every change is one
    transaction, so a change cut anywhere before its COMMIT left nothing behind (`saved` is False); only when
    the connection went while the COMMIT itself was on its way, and the server could not be asked afterwards,
    may the change have been saved (`saved` is None: look before doing it again). The desk connects again by
    itself on its next use of the ledger."""

    def __init__(self, where: str, problem: str, *, saved: bool | None = False) -> None:
        self.where = where
        self.problem = problem
        self.saved = saved
        outcome = ("Nothing was saved" if saved is False else
                   "The last change may or may not have been saved: look at it before doing it again")
        super().__init__(f"The team ledger at {where} cannot be reached ({problem}). {outcome}. Try again once "
                         "the server answers: the desk connects again by itself.")


class LedgerAccessDeniedError(LedgerError):
    """The team ledger's server answered, and refused this desk: a wrong password, an unknown user or database.
    Trying again will not help until the address or the password changes."""

    def __init__(self, where: str, problem: str) -> None:
        self.where = where
        self.problem = problem
        super().__init__(f"The team ledger at {where} refused this desk ({problem}). Nothing was saved. Check the "
                         "user, password and database: `treasury-app ledger connect` sets them again.")


class ConstraintViolation(LedgerError):
    """A uniqueness or check constraint refused a write; `str()` names it as `table.column` (both backends), so a
    repository can turn the one it expects into a DuplicateRecordError and let any other through."""


class RecordNotFoundError(LedgerError, LookupError):
    """A record asked for by its id or name is not in the ledger."""


class PayoutNotFoundError(RecordNotFoundError):
    def __init__(self, payout: int | str) -> None:
        self.payout = payout
        what = f"idempotency key '{payout}'" if isinstance(payout, str) else f"id {payout}"
        super().__init__(f"no payout with {what} in the ledger")


class OperatorNotFoundError(RecordNotFoundError):
    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"no operator named '{name}'")


class ApprovalNotFoundError(RecordNotFoundError):
    def __init__(self, approval_id: int) -> None:
        self.approval_id = approval_id
        super().__init__(f"no approval with id {approval_id}")


class AddressBookEntryNotFoundError(RecordNotFoundError):
    def __init__(self, entry_id: int) -> None:
        self.entry_id = entry_id
        super().__init__(f"no address book entry with id {entry_id}")


class DuplicateRecordError(LedgerError):
    """A record that must be unique (idempotency key, operator name, address book entry…) already exists."""


class StaleRecordError(LedgerError):
    """A compare-and-set lost: the record changed since the caller read it (another window or process)."""


class KeyFixedError(LedgerError):
    """A payout's idempotency key can no longer change: a request may have left under it."""

    def __init__(self, payout_id: int, status: str) -> None:
        self.payout_id = payout_id
        super().__init__(
            f"payout {payout_id} ('{status}') may already have reached its provider under its idempotency key; "
            "the key can never change now"
        )
