"""The local SQLite ledger: the only place in the app that speaks SQL.

Services use `open_ledger(path)` and the repositories of the `Ledger` it returns; they never see a row.
"""

from .changes import UNCHANGED, ImportedPayout, OperatorChanges, PayoutChanges
from .errors import (
    AddressBookEntryNotFoundError,
    ApprovalNotFoundError,
    DuplicateRecordError,
    KeyFixedError,
    LedgerAccessDeniedError,
    LedgerBusyError,
    LedgerError,
    LedgerFileError,
    LedgerUnavailableError,
    LedgerVersionError,
    OperatorNotFoundError,
    PayoutNotFoundError,
    RecordNotFoundError,
    StaleRecordError,
)
from .live_changes import FollowedChanges, LedgerChange, LedgerReachability
from .location import LedgerLocation
from .opening import Ledger, open_ledger
from .payout_queries import PayoutFilter, PayoutSort
from .records import (
    AddressBookEntry,
    ApprovalDecision,
    ApprovalRecord,
    AuditRow,
    OperatorRecord,
    OverLimitAction,
    PayoutEvent,
    PayoutListing,
    PayoutRecord,
    PolicyRecord,
)

__all__ = [
    "UNCHANGED",
    "AddressBookEntry",
    "AddressBookEntryNotFoundError",
    "ApprovalDecision",
    "ApprovalNotFoundError",
    "ApprovalRecord",
    "AuditRow",
    "DuplicateRecordError",
    "ImportedPayout",
    "KeyFixedError",
    "Ledger",
    "LedgerAccessDeniedError",
    "LedgerBusyError",
    "LedgerError",
    "LedgerFileError",
    "LedgerUnavailableError",
    "LedgerVersionError",
    "OperatorChanges",
    "OperatorNotFoundError",
    "OperatorRecord",
    "OverLimitAction",
    "PayoutChanges",
    "PayoutEvent",
    "PayoutFilter",
    "PayoutListing",
    "PayoutNotFoundError",
    "PayoutRecord",
    "PayoutSort",
    "PolicyRecord",
    "RecordNotFoundError",
    "StaleRecordError",
    "open_ledger",
    "LedgerLocation",
    "LedgerChange",
    "LedgerReachability",
    "FollowedChanges",
]
