"""A `Desk` is one opened data folder: the ledger and, later, providers and the signed-in operator.

Both faces (window, command line) open a Desk and ask it; neither opens the ledger itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.ledger import Ledger, PayoutFilter, open_ledger

from .ledger_choice import ChosenBy, LedgerChoice, choose_ledger


@dataclass(frozen=True)
class LedgerOverview:
    data_dir: Path
    ledger_file: Path | str  # the file, or the team ledger's server and database (no password)
    schema_version: int
    payouts_by_status: dict[PayoutStatus, int]
    is_team_ledger: bool = False
    chosen_by: str = ChosenBy.DATA_FOLDER.value

    @property
    def payout_count(self) -> int:
        return sum(self.payouts_by_status.values())


class Desk:
    def __init__(self, data_dir: Path, ledger: Ledger, chosen_by: ChosenBy = ChosenBy.DATA_FOLDER) -> None:
        self.data_dir = data_dir
        self.ledger = ledger
        self.chosen_by = chosen_by

    @classmethod
    def open(cls, data_dir: Path, ledger: LedgerChoice | None = None) -> Desk:
        """The desk over `ledger`, or over the one `choose_ledger` finds for the data folder."""
        choice = ledger or choose_ledger(data_dir)
        return cls(data_dir, open_ledger(choice.location), choice.chosen_by)

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
            is_team_ledger=self.ledger.is_team_ledger,
            chosen_by=self.chosen_by.value,
        )

    def check_ledger(self) -> list[str]:
        """Problems SQLite finds in the file; an empty list means it is sound."""
        return self.ledger.integrity_check()
