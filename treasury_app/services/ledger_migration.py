"""Moving a desk's own ledger file to a team ledger: `treasury-app ledger migrate --to postgresql://…`.

The desk's audit trail is verified first (a broken trail is not carried somewhere it would look settled); then
every record is copied in one transaction, and before that transaction commits the copy is verified as it stands:
it must be intact and reach the very head (row and hash) the desk's file reached. Anything less, and nothing is
committed: the team ledger stays empty. The desk's file is left as it was, and the desk keeps using it until
`ledger connect` points it at the team ledger.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from treasury_app.app_paths import ledger_path
from treasury_app.domain.errors import InvalidFieldError, TreasuryError
from treasury_app.ledger import Ledger, open_ledger
from treasury_app.ledger.location import is_postgres_url
from treasury_app.security.audit_chain import VerifyReport, verify

from .audit_trail import verdict_of
from .ledger_choice import team_ledger_location

# What the copy says as it goes: (table, rows copied so far of it, rows it has).
MigrationProgress = Callable[[str, int, int], None]


class AuditTrailNotIntactError(TreasuryError):
    """The trail of the desk's file (or of the copy) does not verify; nothing was copied."""

    def __init__(self, where: str, problem: str) -> None:
        self.where = where
        self.problem = problem
        super().__init__(f"the audit trail of {where} does not verify ({problem}); nothing was copied. "
                         "`treasury-app audit verify` says more.")


@dataclass(frozen=True)
class LedgerMigration:
    source: Path
    target: str  # the team ledger as people may see it: no password
    rows: dict[str, int]  # copied, by table
    audit_rows: int
    head_seq: int | None  # the audit head both the file and the copy reach
    head_hash: str | None


def migrate_desk_ledger(data_dir: Path, url: str, password: str | None, *, source: Path | str | None = None,
                        progress: MigrationProgress | None = None) -> LedgerMigration:
    """Copy the desk's ledger file (its data folder's, or `source`: `--ledger FILE`) into the empty team ledger
    at `url`."""
    from treasury_app.ledger.postgres.copy_in import (
        copy_into_team_ledger,  # psycopg only here
    )

    if source is not None and is_postgres_url(str(source)):
        raise InvalidFieldError("--ledger", "names a team ledger; migrate copies a desk's own ledger file. Give "
                                            "the file with --ledger FILE, or none for the data folder's")
    source_path = Path(source).expanduser().resolve() if source is not None else ledger_path(data_dir)
    if not source_path.is_file():
        raise InvalidFieldError("ledger file", f"{source_path} does not exist: there is no desk ledger to copy")
    target = team_ledger_location(url, password)
    with open_ledger(source_path) as desk_ledger:
        desk = _intact(verify(desk_ledger), str(source_path))

        def same_head(copy: Ledger) -> None:
            copied = _intact(verify(copy), target.shown)
            if (copied.head_seq, copied.head_hash) != (desk.head_seq, desk.head_hash) \
                    or copied.rows_checked != desk.rows_checked:
                raise AuditTrailNotIntactError(target.shown, f"the copy's head is row {copied.head_seq}, the "
                                                             f"file's row {desk.head_seq}")

        copied = copy_into_team_ledger(desk_ledger, target, before_commit=same_head, progress=progress)
    return LedgerMigration(source_path, target.shown, copied.rows, desk.rows_checked, desk.head_seq,
                           desk.head_hash)


def _intact(report: VerifyReport, where: str) -> VerifyReport:
    if not report.intact:
        raise AuditTrailNotIntactError(where, verdict_of(report).first_problem or "broken")
    return report
