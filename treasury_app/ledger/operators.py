"""Operator accounts as stored: name, password hash, roles, lockout state. The rules live in `security/`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from treasury_app.domain.errors import InvalidFieldError

from .changes import OperatorChanges, encode_roles
from .connection import LedgerConnection
from .errors import ConstraintViolation, DuplicateRecordError, OperatorNotFoundError
from .records import OperatorRecord
from .timestamps import format_timestamp


class OperatorRepository:
    def __init__(self, link: LedgerConnection, clock: Callable[[], datetime]) -> None:
        self._link = link
        self._clock = clock

    def add(self, name: str, *, password_hash: str, roles: Iterable[str], active: bool = True) -> OperatorRecord:
        clean = _name(name)
        if not password_hash:
            raise ValueError("password_hash must not be empty")
        now = format_timestamp(self._clock())
        with self._link.transaction():
            try:
                self._link.execute(
                    "INSERT INTO operators (name, password_hash, roles, active, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (clean, password_hash, encode_roles(roles), int(active), now, now),
                )
            except ConstraintViolation as error:
                if "operators.name" not in str(error):
                    raise
                # Names are unique regardless of case: "Alice" and "alice" would be one person to an auditor.
                raise DuplicateRecordError(f"an operator named '{clean}' already exists") from None
            return self.get(clean)

    def find(self, name: str) -> OperatorRecord | None:
        row = self._link.row("SELECT * FROM operators WHERE name = ?", (_name(name),))
        return None if row is None else OperatorRecord.from_row(row)

    def get(self, name: str) -> OperatorRecord:
        found = self.find(name)
        if found is None:
            raise OperatorNotFoundError(name)
        return found

    def all(self) -> list[OperatorRecord]:
        return [OperatorRecord.from_row(row) for row in self._link.rows("SELECT * FROM operators ORDER BY name")]

    def count(self) -> int:
        """How many accounts exist (the very first one may be created without signing in)."""
        return int(self._link.scalar("SELECT count(*) FROM operators"))

    def update(self, name: str, changes: OperatorChanges) -> OperatorRecord:
        values = changes.column_values()
        if not values:
            return self.get(name)
        values["updated_at"] = format_timestamp(self._clock())
        assignments = ", ".join(f"{column} = :{column}" for column in values)
        with self._link.transaction():
            cursor = self._link.execute(
                f"UPDATE operators SET {assignments} WHERE name = :where_name", {**values, "where_name": _name(name)}
            )
            if cursor.rowcount == 0:
                raise OperatorNotFoundError(name)
            return self.get(name)


def _name(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidFieldError("operator", "name is empty")
    return name.strip()
