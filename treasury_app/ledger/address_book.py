"""The address book: named, trusted destinations, one entry per network and address."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from treasury_app.domain.addresses import canonical_address
from treasury_app.domain.assets import NETWORKS
from treasury_app.domain.errors import InvalidFieldError

from .connection import LedgerConnection
from .errors import AddressBookEntryNotFoundError, ConstraintViolation, DuplicateRecordError
from .records import AddressBookEntry
from .timestamps import format_timestamp


class AddressBookRepository:
    def __init__(self, link: LedgerConnection, clock: Callable[[], datetime]) -> None:
        self._link = link
        self._clock = clock

    def add(self, *, label: str, network: str, address: str, actor: str, currency: str | None = None,
            note: str | None = None) -> AddressBookEntry:
        """A new entry. An EVM address is stored in its checksummed (EIP-55) spelling, which a wrong mixed-case
        one is refused for (`InvalidFieldError("address")`); other addresses as given (validated by the caller)."""
        network_code = _required(network, "network").upper()
        row = {
            "label": _required(label, "label"),
            "currency": currency.strip().upper() if currency and currency.strip() else None,
            "network": network_code,
            "address": _spelling(network_code, _required(address, "address")),
            "note": note.strip() if note and note.strip() else None,
            "created_by": _required(actor, "actor"),
            "created_at": format_timestamp(self._clock()),
        }
        with self._link.transaction():
            try:
                new_id = self._link.insert(
                    "INSERT INTO address_book (label, currency, network, address, note, created_by, created_at) "
                    "VALUES (:label, :currency, :network, :address, :note, :created_by, :created_at)",
                    row,
                )
            except ConstraintViolation as error:
                if "UNIQUE" not in str(error):
                    raise
                raise DuplicateRecordError(
                    f"{row['address']} on {row['network']} is already in the address book"
                ) from None
            return self.get(new_id)

    def get(self, entry_id: int) -> AddressBookEntry:
        row = self._link.row("SELECT * FROM address_book WHERE id = ?", (entry_id,))
        if row is None:
            raise AddressBookEntryNotFoundError(entry_id)
        return AddressBookEntry.from_row(row)

    def all(self) -> list[AddressBookEntry]:
        rows = self._link.rows("SELECT * FROM address_book ORDER BY label COLLATE NOCASE, id")
        return [AddressBookEntry.from_row(row) for row in rows]

    def find(self, network: str, address: str) -> AddressBookEntry | None:
        """The entry of `address` on `network`; an EVM address is found in whichever case it is written."""
        network_code = network.strip().upper()
        try:
            spelling = _spelling(network_code, address)
        except InvalidFieldError:
            return None  # no entry can hold an address that is not one
        row = self._link.row("SELECT * FROM address_book WHERE network = ? AND address = ?", (network_code, spelling))
        return None if row is None else AddressBookEntry.from_row(row)

    def remove(self, entry_id: int) -> None:
        with self._link.transaction():
            if self._link.execute("DELETE FROM address_book WHERE id = ?", (entry_id,)).rowcount == 0:
                raise AddressBookEntryNotFoundError(entry_id)


def _spelling(network_code: str, address: str) -> str:
    # One spelling per address, so that the UNIQUE (network, address) key holds for EVM in any case too.
    known = NETWORKS.get(network_code)
    return address.strip() if known is None else canonical_address(known, address)


def _required(value: str, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidFieldError(field, "is empty")
    return value.strip()
