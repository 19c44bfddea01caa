"""A `Desk` is one opened data folder: the ledger and, later, providers and the signed-in operator.

Both faces (window, command line) open a Desk and ask it; neither opens the ledger itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from treasury_app.app_paths import ledger_path
from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.ledger import Ledger, PayoutFilter, open_ledger


@dataclass(frozen=True)
class LedgerOverview:
    data_dir: Path
    ledger_file: Path
    schema_version: int
    payouts_by_status: dict[PayoutStatus, int]

    @property
    def payout_count(self) -> int:
        return sum(self.payouts_by_status.values())


class Desk:
    def __init__(self, data_dir: Path, ledger: Ledger) -> None:
        self.data_dir = data_dir
        self.ledger = ledger

    @classmethod
    def open(cls, data_dir: Path) -> Desk:
        return cls(data_dir, open_ledger(ledger_path(data_dir)))

    def close(self) -> None:
        self.ledger.close()

    def __enter__(self) -> Desk:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def overview(self) -> LedgerOverview:
        with self.ledger.snapshot():  # one state of the file: the counts add up to one total
            counts = {status: self.ledger.payouts.count(PayoutFilter(statuses=(status,))) for status in PayoutStatus}
        return LedgerOverview(
            data_dir=self.data_dir,
            ledger_file=self.ledger.path,
            schema_version=self.ledger.schema_version,
            payouts_by_status={status: n for status, n in counts.items() if n},
        )

    def check_ledger(self) -> list[str]:
        """Problems SQLite finds in the file; an empty list means it is sound."""
        return self.ledger.integrity_check()
