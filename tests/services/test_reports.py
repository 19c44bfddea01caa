"""The CSV reports as finance gets them: exact amounts, the filters the ledger means, totals that add up, cells a
spreadsheet cannot run, the file whole or not at all, and every export in the audit trail. Real ledger files;
the reports read back with Python's csv module."""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import subprocess
import sys
import textwrap
from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from desk_fixtures import PROJECT_ROOT, START, TRON_ADDRESS, TestDesk, password_of

from treasury_app.domain.assets import find_asset
from treasury_app.domain.errors import InvalidFieldError
from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.domain.payout_request import FeeMode, PayoutRequest
from treasury_app.domain.spreadsheet_cells import FORMULA_STARTERS
from treasury_app.ledger import ImportedPayout
from treasury_app.ledger.report_queries import PAYOUT_REPORT_HEADER, SUMMARY_HEADER
from treasury_app.security.errors import PermissionDeniedError
from treasury_app.services.reports import (
    BOM,
    REPORT_EXPORTED,
    PeriodBasis,
    ReportCancelledError,
    ReportKind,
    ReportRequest,
    write_report,
)

S = PayoutStatus
COLUMN = {name: number for number, name in enumerate(PAYOUT_REPORT_HEADER)}
BSC_ADDRESS = "0x52908400098527886E0F7030069857D2E4169EE7"
BTC_ADDRESS = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
KEYS = itertools.count(1)


def imported(*, currency: str = "USDT", network: str = "TRON", address: str = TRON_ADDRESS,
             amount: str = "100", status: PayoutStatus = S.COMPLETED, created_at: datetime = START,
             created_by: str = "alice", provider: str = "cryptomus", actual_fee: str | None = "1",
             fee_mode: FeeMode = FeeMode.FROM_BALANCE, finished_at: datetime | None = None, key: str = "",
             reference: str | None = None, note: str | None = None, provider_status: str | None = "paid",
             tx_hash: str | None = None) -> ImportedPayout:
    request = PayoutRequest(provider=provider, asset=find_asset(currency, network), address=address,
                            amount=Decimal(amount), fee_mode=fee_mode, reference=reference, note=note)
    final = status.is_final
    return ImportedPayout(request, idempotency_key=key or f"key-{next(KEYS)}",
                          status=status, created_at=created_at, created_by=created_by,
                          provider_status=provider_status, tx_hash=tx_hash,
                          actual_fee=Decimal(actual_fee) if actual_fee is not None and final else None,
                          finished_at=(finished_at or created_at + timedelta(minutes=30)) if final else None)


def export(desk: TestDesk, tmp_path: Path, name: str = "report.csv", **fields: object) -> tuple[list[list[str]], Path]:
    """Write a report as `alice` and read it back: (heading, column names, rows…), and the file."""
    target = tmp_path / name
    request = ReportRequest(**fields)  # type: ignore[arg-type]
    write_report(desk.ledger, request, target, acting=desk.sign_in("alice"), clock=desk.clock)
    with open(target, newline="", encoding="utf-8-sig") as stream:
        return list(csv.reader(stream, delimiter=request.delimiter)), target


def data_rows(lines: list[list[str]]) -> list[list[str]]:
    return lines[2:]


def test_amounts_with_eighteen_decimals_and_huge_amounts_read_back_as_the_same_decimals(desk, tmp_path):
    amounts = ["123456789012345678.123456789012345678", "0.000000000000000001", "3", "999999999999999999.5"]
    desk.ledger.payouts.import_payouts(
        [imported(currency="USDT", network="BSC", address=BSC_ADDRESS, amount=a, actual_fee="0.000000000000000009",
                  created_at=START + timedelta(minutes=n)) for n, a in enumerate(amounts)], actor="alice")

    lines, _ = export(desk, tmp_path)

    rows = data_rows(lines)
    assert [Decimal(row[COLUMN["amount"]]) for row in rows] == [Decimal(a) for a in amounts]
    # Written with the asset's 18 places, never an exponent, never rounded.
    assert [row[COLUMN["amount"]] for row in rows] == [
        "123456789012345678.123456789012345678", "0.000000000000000001", "3.000000000000000000",
        "999999999999999999.500000000000000000"]
    # The total debited (fee on top) is a 36-digit sum: exact, where a float or a 28-digit Decimal would round.
    assert rows[0][COLUMN["total_debited"]] == "123456789012345678.123456789012345687"
    assert all("e" not in cell.lower() for row in rows for cell in row[COLUMN["amount"]:COLUMN["fee_mode"]])


def test_the_net_amount_and_the_total_debited_follow_who_pays_the_fee(desk, tmp_path):
    desk.ledger.payouts.import_payouts([
        imported(amount="100", actual_fee="1.5", fee_mode=FeeMode.FROM_BALANCE),
        imported(amount="100", actual_fee="1.5", fee_mode=FeeMode.FROM_AMOUNT, created_at=START + timedelta(1)),
        imported(amount="100", status=S.AWAITING_APPROVAL, created_at=START + timedelta(2)),
    ], actor="alice")
    estimated = desk.compose(amount="250")  # the fixture's estimate: fee 1, net 250, total 251

    rows = data_rows(export(desk, tmp_path)[0])

    figures = {int(row[COLUMN["payout_id"]]): (row[COLUMN["net_amount"]], row[COLUMN["total_debited"]])
               for row in rows}
    assert figures == {1: ("100.000000", "101.500000"),  # fee on top: the recipient gets it all
                       2: ("98.500000", "100.000000"),  # fee out of the amount
                       3: ("", ""),  # not estimated, not sent: nothing to say yet
                       estimated.id: ("250.000000", "251.000000")}  # the estimate's, before any actual fee


def test_each_filter_selects_exactly_what_the_ledger_selects(desk, tmp_path):
    payouts = []
    for n in range(48):
        status = (S.COMPLETED, S.FAILED, S.AWAITING_APPROVAL, S.CANCELLED)[n % 4]
        currency, network, address = (("USDT", "TRON", TRON_ADDRESS), ("BTC", "BTC", BTC_ADDRESS))[n % 3 == 0]
        payouts.append(imported(currency=currency, network=network, address=address, amount=f"{n + 1}.25",
                                status=status, created_at=START + timedelta(hours=7 * n),
                                finished_at=START + timedelta(hours=7 * n + 50),
                                created_by=("alice", "carol")[n % 5 == 0],
                                provider=("cryptomus", "pay3")[n % 2]))
    desk.ledger.payouts.import_payouts(payouts, actor="alice")
    middle, late = START + timedelta(days=3), START + timedelta(days=9)
    requests = [
        ReportRequest(),
        ReportRequest(statuses=(S.COMPLETED, S.FAILED)),
        ReportRequest(provider="pay3"),
        ReportRequest(currency="btc"),
        ReportRequest(operator="carol"),
        ReportRequest(start=middle, end=late),
        ReportRequest(basis=PeriodBasis.FINAL, start=middle, end=late),
        ReportRequest(basis=PeriodBasis.FINAL, start=middle, statuses=(S.COMPLETED,), provider="cryptomus",
                      currency="USDT"),
    ]
    for number, request in enumerate(requests):
        target = tmp_path / f"report-{number}.csv"
        write_report(desk.ledger, request, target, acting=desk.sign_in("alice"), clock=desk.clock)
        with open(target, newline="") as stream:
            ids = [int(row[COLUMN["payout_id"]]) for row in data_rows(list(csv.reader(stream)))]
        expected = [p.id for batch in desk.ledger.payouts.iter_batches(request.payout_filter) for p in batch]
        assert ids == expected, request  # the same payouts, oldest first
        # The whole ledger unfiltered; each filter a real part of it (none idle, none selecting nothing).
        assert len(ids) == 48 if number == 0 else 0 < len(ids) < 48, request
    # By final time a payout not final yet is in no period.
    final_ids = set(ids)
    assert all(desk.ledger.payouts.get(i).status is S.COMPLETED for i in final_ids)


def test_summary_totals_are_the_sums_of_the_payouts_report_and_never_cross_currencies(desk, tmp_path):
    payouts = []
    for n in range(60):
        status = (S.COMPLETED, S.FAILED, S.AWAITING_APPROVAL)[n % 3]
        currency, network, address = (("USDT", "TRON", TRON_ADDRESS), ("USDT", "BSC", BSC_ADDRESS),
                                      ("BTC", "BTC", BTC_ADDRESS))[n % 3 if n % 7 else 2]
        payouts.append(imported(currency=currency, network=network, address=address,
                                amount=f"{n * 37 + 1}.{n:02d}0000000000001"[: 4 + len(str(n * 37 + 1)) + (n % 9)],
                                actual_fee=f"0.{n + 1:03d}", status=status, provider=("cryptomus", "pay3")[n % 2],
                                fee_mode=(FeeMode.FROM_BALANCE, FeeMode.FROM_AMOUNT)[n % 4 == 0],
                                created_at=START + timedelta(minutes=n)))
    desk.ledger.payouts.import_payouts(payouts, actor="alice")
    desk.compose(amount="77.7")  # estimated: its fee is the estimate's

    report = data_rows(export(desk, tmp_path, "payouts.csv")[0])
    summary_lines = export(desk, tmp_path, "summary.csv", kind=ReportKind.SUMMARY)[0]

    assert summary_lines[1] == list(SUMMARY_HEADER)
    expected: dict[tuple[str, str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 5)
    for row in report:
        fee = row[COLUMN["actual_fee"]] or row[COLUMN["estimated_fee"]]
        figures = (Decimal(1), Decimal(row[COLUMN["amount"]]), Decimal(fee or 0),
                   Decimal(row[COLUMN["net_amount"]] or 0), Decimal(row[COLUMN["total_debited"]] or 0))
        for key in ((row[COLUMN["currency"]], row[COLUMN["provider"]], row[COLUMN["status"]]),
                    (row[COLUMN["currency"]], "all providers", "all statuses")):
            expected[key] = [a + b for a, b in zip(expected[key], figures, strict=True)]
    found = {(c, p, s): [Decimal(n), Decimal(a), Decimal(f or 0), Decimal(net or 0), Decimal(t or 0)]
             for c, p, s, n, a, f, net, t in data_rows(summary_lines)}
    assert found == dict(expected)
    assert {currency for currency, _, _ in found} == {"BTC", "USDT"}  # a total per currency, none across them


@pytest.mark.parametrize("starter", FORMULA_STARTERS)
def test_a_cell_that_would_run_as_a_formula_is_neutralised_and_an_amount_never_is(desk, tmp_path, starter):
    text = f"{starter}HYPERLINK(\"http://evil.example\",\"x\")"
    key = "-key" if starter == "-" else "key"  # an idempotency key is letters, digits, '_' and '-' only
    desk.ledger.payouts.import_payouts([imported(reference=text, note=text, provider_status=text, tx_hash=text,
                                                 key=key, amount="12.5")], actor="alice")

    (row,) = data_rows(export(desk, tmp_path)[0])

    for name in ("reference", "note", "provider_status", "tx_hash"):
        assert row[COLUMN[name]] == "'" + text, name
    assert row[COLUMN["idempotency_key"]] == ("'-key" if starter == "-" else "key")
    assert row[COLUMN["amount"]] == "12.500000" and row[COLUMN["address"]] == TRON_ADDRESS


def test_text_with_quotes_delimiters_and_line_breaks_reads_back_whole(desk, tmp_path):
    note = 'Line one, with "quotes";\r\nline two\ttabbed | piped\nend'
    desk.ledger.payouts.import_payouts([imported(note=note, reference="plain")], actor="alice")
    for delimiter in (",", ";", "\t", "|"):
        lines, _ = export(desk, tmp_path, f"report-{ord(delimiter)}.csv", delimiter=delimiter)
        (row,) = data_rows(lines)
        assert len(row) == len(PAYOUT_REPORT_HEADER)
        assert row[COLUMN["note"]] == note and row[COLUMN["reference"]] == "plain"


def test_the_first_line_says_what_the_file_holds_and_the_second_names_the_columns(desk, tmp_path):
    desk.ledger.payouts.import_payouts([imported()], actor="alice")
    lines, _ = export(desk, tmp_path, basis=PeriodBasis.FINAL, start=START, end=START + timedelta(days=31),
                      statuses=(S.COMPLETED,), currency="usdt")
    heading = lines[0]
    assert heading[0] == "Treasury Desk payouts report"
    assert heading[1] == ("period by final time (UTC), from 2026-03-01T09:00:00.000000Z (inclusive) to "
                          "2026-04-01T09:00:00.000000Z (exclusive)")
    assert "statuses: completed" in heading and "currency: USDT" in heading and "provider: all" in heading
    assert heading[-1].startswith("written 2026-03-01T") and heading[-1].endswith(" by alice")
    assert lines[1] == list(PAYOUT_REPORT_HEADER)


def test_every_export_is_audited_with_the_files_sha256_rows_and_filters(desk, tmp_path):
    desk.ledger.payouts.import_payouts([imported(created_at=START + timedelta(minutes=n)) for n in range(5)],
                                       actor="alice")
    target = tmp_path / "audited.csv"
    written = write_report(desk.ledger, ReportRequest(provider="cryptomus", bom=True), target,
                           acting=desk.sign_in("alice"), clock=desk.clock)

    content = target.read_bytes()
    assert content.startswith(BOM)
    (row,) = [r for r in desk.ledger.audit.rows() if r.action == REPORT_EXPORTED]
    detail = json.loads(row.detail_json)
    assert detail["sha256"] == hashlib.sha256(content).hexdigest() == written.sha256
    assert (detail["rows"], detail["bytes"], detail["file"]) == (5, len(content), str(target))
    assert detail["filters"]["provider"] == "cryptomus" and row.operator == "alice"


def test_a_report_to_a_stream_is_audited_as_standard_output(desk):
    desk.ledger.payouts.import_payouts([imported()], actor="alice")
    stream = io.BytesIO()
    written = write_report(desk.ledger, ReportRequest(kind=ReportKind.SUMMARY), stream, acting=desk.sign_in("alice"))
    assert written.path is None and hashlib.sha256(stream.getvalue()).hexdigest() == written.sha256
    (row,) = [r for r in desk.ledger.audit.rows() if r.action == REPORT_EXPORTED]
    assert json.loads(row.detail_json)["file"] == "standard output"


def test_an_existing_file_is_replaced_only_when_the_caller_says_so(desk, tmp_path):
    desk.ledger.payouts.import_payouts([imported()], actor="alice")
    folder = tmp_path / "reports"
    folder.mkdir()
    target = folder / "kept.csv"
    target.write_text("finance's own file\n")
    with pytest.raises(InvalidFieldError) as refused:
        write_report(desk.ledger, ReportRequest(), target, acting=desk.sign_in("alice"))
    assert refused.value.field == "output" and str(target) in refused.value.message
    assert target.read_text() == "finance's own file\n"
    assert sorted(p.name for p in folder.iterdir()) == ["kept.csv"]  # no temporary file left beside it

    write_report(desk.ledger, ReportRequest(), target, acting=desk.sign_in("alice"), replace=True)
    assert target.read_text(encoding="utf-8").startswith("Treasury Desk payouts report")


def test_a_cancelled_export_leaves_no_file_and_no_audit_row(desk, tmp_path):
    desk.ledger.payouts.import_payouts([imported(created_at=START + timedelta(seconds=n)) for n in range(50)],
                                       actor="alice")
    heard: list[tuple[int, int]] = []
    folder = tmp_path / "reports"
    folder.mkdir()
    with pytest.raises(ReportCancelledError, match="no file was written"):
        write_report(desk.ledger, ReportRequest(), folder / "cancelled.csv", acting=desk.sign_in("alice"),
                     progress=lambda done, total: heard.append((done, total)), cancelled=lambda: bool(heard))
    assert heard == [(0, 50)]  # it had begun: the count was read, the heading written
    assert list(folder.iterdir()) == []
    assert not [r for r in desk.ledger.audit.rows() if r.action == REPORT_EXPORTED]


def test_a_write_that_fails_midway_leaves_no_file_and_says_which(desk, tmp_path, ledger_file):
    """The operating system refuses the write once the file passes 16 KB (RLIMIT_FSIZE: a disk that fills
    up mid-export, as the kernel reports it to the process)."""
    desk.ledger.payouts.import_payouts([imported(created_at=START + timedelta(seconds=n), note="x" * 200)
                                        for n in range(400)], actor="alice")
    folder = tmp_path / "out"
    folder.mkdir()
    script = textwrap.dedent(f"""
        import resource, signal, sys
        from pathlib import Path
        from treasury_app.ledger import open_ledger
        from treasury_app.services.operator_accounts import OperatorAccounts
        from treasury_app.services.reports import ReportRequest, write_report
        with open_ledger(Path({str(ledger_file)!r})) as ledger:
            acting = OperatorAccounts(ledger).authenticate("alice", {password_of("alice")!r})
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
            resource.setrlimit(resource.RLIMIT_FSIZE, (16_000, 16_000))
            try:
                write_report(ledger, ReportRequest(), Path({str(folder / "full.csv")!r}), acting=acting)
            except Exception as error:
                print(type(error).__name__, error)
                sys.exit(1)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
                          cwd=PROJECT_ROOT, env={"PYTHONPATH": str(PROJECT_ROOT), "TREASURY_INSECURE_TEST_HASHING": "1",
                                                 "PATH": "/usr/bin:/bin"})
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.startswith("InvalidFieldError output: could not write ")
    assert str(folder / "full.csv") in done.stdout and "no file was left" in done.stdout
    assert list(folder.iterdir()) == []
    assert not [r for r in desk.ledger.audit.rows() if r.action == REPORT_EXPORTED]


def test_an_operator_needs_to_be_active_to_export_and_a_viewer_may(desk: TestDesk, tmp_path):
    desk.ledger.payouts.import_payouts([imported()], actor="alice")
    viewer = desk.sign_in("vic")
    write_report(desk.ledger, ReportRequest(), tmp_path / "viewer.csv", acting=viewer)
    desk.accounts.disable("vic", acting=desk.sign_in("root"))
    with pytest.raises(PermissionDeniedError, match="no longer active"):
        write_report(desk.ledger, ReportRequest(), tmp_path / "refused.csv", acting=viewer)
    assert not (tmp_path / "refused.csv").exists()


def test_a_request_that_makes_no_sense_names_its_field():
    with pytest.raises(InvalidFieldError) as backwards:
        ReportRequest(start=START, end=START - timedelta(days=1))
    assert backwards.value.field == "to"
    with pytest.raises(InvalidFieldError) as delimiter:
        ReportRequest(delimiter=".")
    assert delimiter.value.field == "delimiter"
    with pytest.raises(InvalidFieldError) as naive:
        ReportRequest(start=datetime(2026, 3, 1))  # noqa: DTZ001 — the naive moment is the point
    assert naive.value.field == "from"
