"""The address book: named destinations per currency and network, listed and searched by anyone signed in,
added and removed by approvers and admins only, each change an audited act.

Who may add, and why: the approval policy counts an entry as a known destination, which lifts "a new
destination needs approval". An initiator who could add entries could lift that rule for their own next
payout, and two-person approval would rest on one person. So adding (and removing) needs the
`manage_address_book` permission, which the approver and admin roles hold and the initiator role does not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from treasury_app.domain.addresses import validate_address
from treasury_app.domain.assets import Asset, find_asset
from treasury_app.domain.errors import InvalidFieldError
from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.domain.roles import Permission, may
from treasury_app.ledger import AddressBookEntry, Ledger, PayoutRecord
from treasury_app.ledger.timestamps import utc_now
from treasury_app.security.errors import PermissionDeniedError

from . import audit
from .audit import AuditAction
from .operator_accounts import SignedIn

Clock = Callable[[], datetime]
MAX_LABEL = 80
MAX_NOTE = 500
NOT_ALLOWED = ("Adding to the address book needs the approver or admin role: an entry counts as a known "
               "destination, so an initiator may not add one (two-person rule).")


@dataclass(frozen=True)
class EntryFields:
    """An entry as a person types it (every field text, as the form or the command line has it)."""

    label: str
    currency: str
    network: str
    address: str
    note: str = ""


@dataclass(frozen=True)
class CheckedEntry:
    """`EntryFields` the domain accepted: the asset they name, and the address as the domain cleaned it."""

    label: str
    asset: Asset
    address: str
    note: str | None


def check_entry(fields: EntryFields) -> CheckedEntry:
    """The fields as an entry, or `InvalidFieldError` naming the first field that is wrong (label, currency,
    network, address, note). The address is checked as a payout's is: format, checksum, wrong network."""
    label = fields.label.strip()
    if not label:
        raise InvalidFieldError("label", "is empty: give the destination a name people will recognise")
    if len(label) > MAX_LABEL:
        raise InvalidFieldError("label", f"is longer than {MAX_LABEL} characters")
    if not fields.network.strip():
        raise InvalidFieldError("network", "is empty")
    asset = find_asset(fields.currency, fields.network)
    if not fields.address.strip():
        raise InvalidFieldError("address", "is empty")
    address = validate_address(asset.network, fields.address)
    note = fields.note.strip()
    if len(note) > MAX_NOTE:
        raise InvalidFieldError("note", f"is longer than {MAX_NOTE} characters")
    return CheckedEntry(label, asset, address, note or None)


def entry_problems(fields: EntryFields) -> dict[str, str]:
    """Every field's problem at once, for a form checking as the person types (field → the domain's words)."""
    problems: dict[str, str] = {}
    label = fields.label.strip()
    if not label:
        problems["label"] = "is empty: give the destination a name people will recognise"
    elif len(label) > MAX_LABEL:
        problems["label"] = f"is longer than {MAX_LABEL} characters"
    if len(fields.note.strip()) > MAX_NOTE:
        problems["note"] = f"is longer than {MAX_NOTE} characters"
    try:
        asset = find_asset(fields.currency, fields.network)
    except InvalidFieldError as error:
        problems[error.field] = error.message
        return problems
    if not fields.address.strip():
        problems["address"] = "is empty"
    else:
        try:
            validate_address(asset.network, fields.address)
        except InvalidFieldError as error:
            problems["address"] = error.message
    return problems


def fields_from_payout(payout: PayoutRecord, label: str = "") -> EntryFields:
    """A new entry's fields prefilled from a payout; the label is the person's to give."""
    return EntryFields(label=label, currency=payout.currency, network=payout.network, address=payout.address,
                       note=f"Added from payout #{payout.id}")


def may_manage(roles: frozenset[str] | set[str] | tuple[str, ...]) -> bool:
    return may(roles, Permission.MANAGE_ADDRESS_BOOK)


class AddressBook:
    def __init__(self, ledger: Ledger, *, clock: Clock = utc_now) -> None:
        self._ledger = ledger
        self._clock = clock

    def list(self, search: str = "") -> list[AddressBookEntry]:
        """Every entry by label, or those whose label holds `search` (case-insensitive)."""
        wanted = search.strip().casefold()
        entries = self._ledger.address_book.all()
        return [e for e in entries if wanted in e.label.casefold()] if wanted else entries

    def get(self, entry_id: int) -> AddressBookEntry:
        return self._ledger.address_book.get(entry_id)

    def add(self, fields: EntryFields, *, acting: SignedIn) -> AddressBookEntry:
        """A new entry, checked by the domain, with its audit row in the same transaction."""
        checked = check_entry(fields)
        with self._ledger.transaction():
            actor = self._require(acting, "add to the address book")
            entry = self._ledger.address_book.add(
                label=checked.label, network=checked.asset.network.code, address=checked.address, actor=actor,
                currency=checked.asset.currency, note=checked.note)
            audit.record(self._ledger, actor, AuditAction.ADDRESS_BOOK_ADDED, _subject(entry.id),
                         {"label": entry.label[:audit.MAX_TEXT_IN_DETAIL], "currency": entry.currency,
                          "network": entry.network, "address": entry.address}, clock=self._clock)
        return entry

    def remove(self, entry_id: int, *, acting: SignedIn) -> AddressBookEntry:
        """The entry removed (its next payout's destination is new again, unless paid before), audited."""
        with self._ledger.transaction():
            actor = self._require(acting, "remove from the address book")
            entry = self._ledger.address_book.get(entry_id)
            self._ledger.address_book.remove(entry_id)
            audit.record(self._ledger, actor, AuditAction.ADDRESS_BOOK_REMOVED, _subject(entry.id),
                         {"label": entry.label[:audit.MAX_TEXT_IN_DETAIL], "network": entry.network,
                          "address": entry.address}, clock=self._clock)
        return entry

    def fields_from_payout(self, payout: PayoutRecord, label: str = "") -> EntryFields:
        return fields_from_payout(payout, label)

    def why_not_add_from(self, payout: PayoutRecord, acting: SignedIn | None) -> str | None:
        """Why `acting` cannot add this payout's destination (None: they can). Only a completed payout's
        destination is offered: one that was paid is known to work."""
        if acting is None:
            return "Sign in to add to the address book."
        record = self._ledger.operators.find(acting.name)
        if record is None or not record.active or not may_manage(record.roles):
            return NOT_ALLOWED
        if payout.status is not PayoutStatus.COMPLETED:
            return "Only a completed payout's destination can be added to the address book."
        existing = self._ledger.address_book.find(payout.network, payout.address)
        if existing is not None:
            return f"This address is already in the address book as \u201c{existing.label}\u201d."
        return None

    def _require(self, acting: SignedIn, doing: str) -> str:
        # Read now, under the write lock: an operator who lost the role since signing in no longer may.
        record = self._ledger.operators.find(acting.name)
        if record is None or not record.active:
            raise PermissionDeniedError(acting.name, f"operator '{acting.name}' is no longer active and cannot "
                                                     f"{doing}")
        if not may_manage(record.roles):
            raise PermissionDeniedError(
                acting.name, f"operator '{record.name}' cannot {doing}: that needs the approver or admin role, "
                             "since an entry counts as a known destination for the approval policy (ask an admin)")
        return record.name


def _subject(entry_id: int) -> str:
    return f"address_book:{entry_id}"
