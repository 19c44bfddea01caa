"""`treasury-app export payouts|summary` as a scheduled job runs it: a real process over a real data folder, the
file read back with Python's csv module, and one clear line naming the option when the input is wrong."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from desk_fixtures import TRON_ADDRESS, password_of, run_app

from treasury_app.app_paths import ledger_path
from treasury_app.domain.assets import find_asset
from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.domain.payout_request import PayoutRequest
from treasury_app.ledger import ImportedPayout, PayoutFilter, open_ledger
from treasury_app.ledger.report_queries import PAYOUT_REPORT_HEADER
from treasury_app.services.reports import REPORT_EXPORTED

NOVEMBER = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def desk_with_payouts(data_dir: Path) -> Path:
    """Forty payouts through October, November and December 2026, half completed, half awaiting approval."""
    payouts = [ImportedPayout(
        PayoutRequest("cryptomus" if n % 2 else "pay3", find_asset("USDT", "TRON"), TRON_ADDRESS,
                      Decimal(f"{n + 1}.5"), reference=f"INV-{n:03d}"),
        idempotency_key=f"cli-export-{n}", status=PayoutStatus.COMPLETED if n % 2 else PayoutStatus.AWAITING_APPROVAL,
        created_at=NOVEMBER + timedelta(days=n * 1.5 - 20), created_by="alice",
        actual_fee=Decimal("0.5") if n % 2 else None,
        finished_at=NOVEMBER + timedelta(days=n * 1.5 - 19) if n % 2 else None) for n in range(40)]
    with open_ledger(ledger_path(data_dir)) as ledger:
        ledger.payouts.import_payouts(payouts, actor="alice")
    return data_dir


def exported(data_dir: Path, *args: str) -> tuple[int, str, str]:
    done = run_app(data_dir, "export", *args, "--as", "alice", password=password_of("alice"))
    return done.returncode, done.stdout, done.stderr


def read_rows(path: Path, delimiter: str = ",") -> list[list[str]]:
    with open(path, newline="", encoding="utf-8-sig") as stream:
        return list(csv.reader(stream, delimiter=delimiter))[2:]


def test_a_payouts_report_of_november_holds_novembers_payouts_and_says_where_it_went(desk_with_payouts, tmp_path):
    target = tmp_path / "november.csv"
    code, out, err = exported(desk_with_payouts, "payouts", "--from", "2026-11-01", "--to", "2026-12-01",
                              "-o", str(target))
    assert code == 0, err
    rows = read_rows(target)
    created = [datetime.fromisoformat(row[0].replace("Z", "+00:00")) for row in rows]
    assert rows and all(NOVEMBER <= moment < datetime(2026, 12, 1, tzinfo=UTC) for moment in created)
    with open_ledger(ledger_path(desk_with_payouts)) as ledger:
        in_november = ledger.payouts.count(PayoutFilter(created_from=NOVEMBER,
                                                        created_to=datetime(2026, 12, 1, tzinfo=UTC)))
        (audit_row,) = [r for r in ledger.audit.rows() if r.action == REPORT_EXPORTED]
    assert len(rows) == in_november
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    assert out.strip() == (f"Wrote {len(rows)} payouts to {target} ({target.stat().st_size:,} bytes, SHA-256 "
                           f"{digest}); the export is in the audit trail.")
    assert json.loads(audit_row.detail_json)["sha256"] == digest


def test_by_final_time_with_status_and_provider_filters(desk_with_payouts, tmp_path):
    target = tmp_path / "final.csv"
    code, _, err = exported(desk_with_payouts, "payouts", "--by", "final", "--from", "2026-11-01",
                            "--status", "completed", "--provider", "cryptomus", "--currency", "usdt", "-o", str(target))
    assert code == 0, err
    rows = read_rows(target)
    column = {name: number for number, name in enumerate(PAYOUT_REPORT_HEADER)}
    assert rows and {(r[column["status"]], r[column["provider"]]) for r in rows} == {("completed", "cryptomus")}
    assert all(r[column["final_at"]] >= "2026-11-01T00:00:00" for r in rows)


def test_a_summary_to_standard_output_with_semicolons_and_the_excel_mark(desk_with_payouts):
    code, out, err = exported(desk_with_payouts, "summary", "--delimiter", ";", "--bom", "-o", "-")
    assert code == 0, err
    assert out.startswith("\ufeffTreasury Desk summary report;")
    lines = list(csv.reader(io.StringIO(out.lstrip("\ufeff")), delimiter=";"))
    assert lines[1][:4] == ["currency", "provider", "status", "payouts"]
    total = next(line for line in lines[2:] if line[1] == "all providers")
    assert total[:4] == ["USDT", "all providers", "all statuses", "40"]
    assert Decimal(total[4]) == sum(Decimal(f"{n + 1}.5") for n in range(40))
    assert "Wrote 3 summary rows to standard output" in err  # the message goes beside the data, not into it


def test_an_existing_file_is_kept_without_force_and_replaced_with_it(desk_with_payouts, tmp_path):
    target = tmp_path / "kept.csv"
    target.write_text("yesterday's report\n")
    code, out, err = exported(desk_with_payouts, "payouts", "-o", str(target))
    assert code == 1 and out == ""
    assert err.strip() == f"Error: output: {target} exists; it is replaced only when you say so (--force)"
    assert target.read_text() == "yesterday's report\n"
    code, _, err = exported(desk_with_payouts, "payouts", "-o", str(target), "--force")
    assert code == 0, err
    assert len(read_rows(target)) == 40


@pytest.mark.parametrize(("arguments", "option"), [
    (("--from", "2026-02-30"), "'--from'"),
    (("--from", "2026-12-01", "--to", "2026-11-01"), "'--to'"),
    (("--status", "paid"), "'--status'"),
    (("--currency", "EURO"), "'--currency'"),
    (("--delimiter", "."), "'--delimiter'"),
    (("--by", "approved"), "'--by'"),
])
def test_wrong_input_exits_2_with_one_line_naming_the_option(desk_with_payouts, tmp_path, arguments, option):
    target = tmp_path / "never.csv"
    code, _, err = exported(desk_with_payouts, "payouts", *arguments, "-o", str(target))
    assert code == 2
    error_lines = [line for line in err.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1 and option in error_lines[0], err
    assert not target.exists()


def test_a_folder_that_cannot_be_written_exits_1_and_leaves_nothing(desk_with_payouts, tmp_path):
    code, _, err = exported(desk_with_payouts, "payouts", "-o", str(tmp_path / "missing" / "report.csv"))
    assert code == 1
    assert err.strip() == f"Error: output: the folder {tmp_path / 'missing'} does not exist"
    assert not (tmp_path / "missing").exists()
