"""Approval policies, one per currency: threshold, daily limits and what crossing them does."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from treasury_app.domain.errors import InvalidFieldError

from .column_codecs import optional_amount_to_text
from .connection import LedgerConnection
from .records import OverLimitAction, PolicyRecord
from .timestamps import format_timestamp


class PolicyRepository:
    def __init__(self, link: LedgerConnection, clock: Callable[[], datetime]) -> None:
        self._link = link
        self._clock = clock

    def get(self, currency: str) -> PolicyRecord | None:
        row = self._link.row("SELECT * FROM policies WHERE currency = ?", (_currency(currency),))
        return None if row is None else PolicyRecord.from_row(row)

    def all(self) -> list[PolicyRecord]:
        return [PolicyRecord.from_row(row) for row in self._link.rows("SELECT * FROM policies ORDER BY currency")]

    def put(
        self,
        currency: str,
        *,
        actor: str,
        approval_threshold: Decimal | None = None,
        daily_limit_operator: Decimal | None = None,
        daily_limit_desk: Decimal | None = None,
        over_limit: OverLimitAction = OverLimitAction.NEEDS_APPROVAL,
        new_destination_needs_approval: bool = False,
    ) -> PolicyRecord:
        """Set a currency's whole policy (replacing any earlier one); an omitted limit means no limit."""
        code = _currency(currency)
        if not isinstance(actor, str) or not actor.strip():
            raise InvalidFieldError("actor", "must name the admin who changed the policy")
        row = {
            "currency": code,
            "approval_threshold": optional_amount_to_text(approval_threshold, "approval_threshold"),
            "daily_limit_operator": optional_amount_to_text(daily_limit_operator, "daily_limit_operator"),
            "daily_limit_desk": optional_amount_to_text(daily_limit_desk, "daily_limit_desk"),
            "over_limit": OverLimitAction(over_limit).value,
            "new_destination_needs_approval": int(bool(new_destination_needs_approval)),
            "updated_by": actor,
            "updated_at": format_timestamp(self._clock()),
        }
        columns = ", ".join(row)
        updates = ", ".join(f"{column} = excluded.{column}" for column in row if column != "currency")
        with self._link.transaction():
            self._link.execute(
                f"INSERT INTO policies ({columns}) VALUES ({', '.join(':' + c for c in row)}) "
                f"ON CONFLICT (currency) DO UPDATE SET {updates}",
                row,
            )
            policy = self.get(code)
        assert policy is not None
        return policy

    def remove(self, currency: str) -> bool:
        """Drop a currency's policy (it then has no threshold and no limits); False when it had none."""
        with self._link.transaction():
            return self._link.execute("DELETE FROM policies WHERE currency = ?", (_currency(currency),)).rowcount > 0


def _currency(currency: str) -> str:
    code = (currency or "").strip().upper()
    if not code:
        raise InvalidFieldError("currency", "is empty")
    return code
