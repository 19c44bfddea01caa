"""The payouts report's lines as the ledger makes them (SQLite pads, neutralises and quotes; the reader checks each
batch and has the lines that need quotes made again), against a plain Python rendering of the same rows: every
line must read back, with Python's csv module and the same delimiter, to exactly the reference's cells.

The adversarial values are written straight into the real ledger file: the report must render whatever the file
holds, including what the domain would refuse today (30-digit amounts, a network the catalogue does not know)."""

from __future__ import annotations

import csv
import io
import itertools
import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Context, Decimal
from pathlib import Path
from typing import Any

import pytest
from ledger_fixtures import TRON_ADDRESS, make_request, raw_connection

from treasury_app.domain.assets import ASSETS
from treasury_app.domain.money import format_amount
from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.domain.spreadsheet_cells import FORMULA_STARTERS, NEUTRALISING_PREFIX
from treasury_app.ledger import ImportedPayout, Ledger, PayoutFilter
from treasury_app.ledger.report_queries import (
    DELIMITERS,
    LINE_END,
    PAYOUT_REPORT_HEADER,
)
from treasury_app.ledger.report_reads import BATCH_ROWS, QUOTED_LOOKUP_IDS

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
TYPED_COLUMNS = ("idempotency_key", "provider_payout_id", "address", "provider_status", "tx_hash", "created_by",
                 "reference", "note")
AWKWARD_TEXT = ['say "hi"', '"', '""', "a,b", "a;b", "a\tb", "a|b", "line\nbreak", "carriage\rreturn",
                "crlf\r\nend", "ends with newline\n", "", "zürich – 東京 🚀", "a=b", "trailing '", "x" * 500,
                "\r", "\t", "=1+1,\"2\"\n", *(starter + "SUM(A1:A9)" for starter in FORMULA_STARTERS)]
AMOUNTS = ["0", "3", "4.36311", "150.25", "0.000000000000000001", "4.3631100001",
           "123456789012345678901234567890123.5", "999999999999999999999999999999999999"]
EXACT = Context(prec=200)  # the reference's sums: far wider than any amount here, so never rounded
NETWORKS = [("USDT", "TRON"), ("BTC", "BTC"), ("ETH", "ETH"), ("DOGE", "DOGE"), ("USDT", "MARS")]
BACKENDS = ("sqlite", "postgresql")


def add_payouts(ledger: Ledger, count: int) -> list[int]:
    """`count` ordinary imported payouts, one second apart; their ids, oldest first."""
    payouts = [ImportedPayout(make_request(address=TRON_ADDRESS), idempotency_key=f"key-{n}",
                              status=PayoutStatus.COMPLETED, created_at=START + timedelta(seconds=n),
                              created_by="alice", provider_status="paid", finished_at=START + timedelta(hours=1))
               for n in range(count)]
    ledger.payouts.import_payouts(payouts, actor="alice")
    return [row[0] for row in ledger.payouts.initiators_of(PayoutFilter())]


def overwrite(path: Path | str, payout_id: int, **columns: Any) -> None:
    """Put values into a payout's row as a ledger could hold them (NULL, '', anything)."""
    with raw_connection(path) as conn:
        overwrite_on(conn, payout_id, **columns)


def overwrite_on(conn: Any, payout_id: int, **columns: Any) -> None:
    assignments = ", ".join(f"{name} = ?" for name in columns)
    conn.execute(f"UPDATE payouts SET {assignments} WHERE id = ?", (*columns.values(), payout_id))


def approve(path: Path | str, payout_id: int, operator: str, at: datetime, *, voided: bool = False) -> None:
    with raw_connection(path) as conn:
        approve_on(conn, payout_id, operator, at, voided=voided)


def approve_on(conn: Any, payout_id: int, operator: str, at: datetime, *, voided: bool = False) -> None:
    conn.execute("INSERT INTO approvals (payout_id, decision, operator, payout_digest, decided_at, voided_at) "
                 "VALUES (?, 'approved', ?, 'digest', ?, ?)",
                 (payout_id, operator, at.isoformat(), at.isoformat() if voided else None))


def adversarial_rows(path: Path | str, ids: list[int]) -> None:
    """Each awkward text in every typed column in turn, each amount in every amount column, on every network."""
    with raw_connection(path) as conn:
        _adversarial_rows(conn, ids)


def _adversarial_rows(conn: Any, ids: list[int]) -> None:
    cases = itertools.cycle(AWKWARD_TEXT)
    amounts = itertools.cycle(AMOUNTS)
    for number, payout_id in enumerate(ids):
        currency, network = NETWORKS[number % len(NETWORKS)]
        column = TYPED_COLUMNS[number % len(TYPED_COLUMNS)]
        fee = next(amounts) if number % 3 else None
        values = dict(currency=currency, network=network, amount=next(amounts),
                      estimated_fee=next(amounts) if number % 2 else None, actual_fee=fee,
                      actual_amount=next(amounts) if number % 7 == 0 else None,
                      estimated_net=next(amounts) if number % 5 else None, estimated_total=next(amounts),
                      fee_mode="from_amount" if number % 4 else "from_balance",
                      estimated_at=None if number % 2 else "2026-03-01T08:59:00.000000Z",
                      provider_payout_id=None if number % 9 == 0 else "")  # NULL beside the empty text
        case = next(cases)
        values[column] = case + f" {number}" if column == "idempotency_key" else case  # the key is unique
        overwrite_on(conn, payout_id, **values)
        if number % 6 == 0:  # approvals with awkward operator names, one voided
            approve_on(conn, payout_id, next(cases), START + timedelta(minutes=number))
            approve_on(conn, payout_id, "bob", START + timedelta(minutes=number + 1))
            approve_on(conn, payout_id, "carol", START + timedelta(minutes=number + 2), voided=True)


def reference_rows(path: Path | str) -> list[list[str]]:
    """The report's cells worked out in plain Python from the ledger's rows, oldest payout first."""
    with raw_connection(path, by_name=True) as conn:
        return _reference_rows(conn)


def _reference_rows(conn: Any) -> list[list[str]]:
    standing: dict[int, list[Any]] = {}
    for row in conn.execute("SELECT * FROM approvals WHERE decision = 'approved' AND voided_at IS NULL "
                            "ORDER BY payout_id, decided_at, id"):
        standing.setdefault(row["payout_id"], []).append(row)
    rows = []
    for p in conn.execute("SELECT * FROM payouts ORDER BY created_at, id"):
        asset = ASSETS.get((p["currency"], p["network"]))
        places = asset.decimals if asset is not None else 0

        def money(value: Decimal | str | None, places: int = places) -> str:
            return "" if value is None else format_amount(Decimal(value), places)

        amount, fee = p["amount"], p["actual_fee"]
        if p["actual_amount"] is not None:
            net = money(p["actual_amount"])
        elif fee is None:
            net = money(p["estimated_net"])
        elif p["fee_mode"] == "from_amount":
            net = money(EXACT.subtract(Decimal(amount), Decimal(fee)))
        else:
            net = money(amount)
        if fee is None:
            total = money(p["estimated_total"])
        elif p["fee_mode"] == "from_amount":
            total = money(amount)
        else:
            total = money(EXACT.add(Decimal(amount), Decimal(fee)))
        approvals = standing.get(p["id"], [])
        cells = {"created_at": p["created_at"], "estimated_at": p["estimated_at"],
                 "approved_at": max((a["decided_at"] for a in approvals), default=None),
                 "executed_at": p["submitted_at"], "final_at": p["finished_at"], "payout_id": str(p["id"]),
                 "idempotency_key": text_cell(p["idempotency_key"]), "provider": p["provider"],
                 "provider_payout_id": text_cell(p["provider_payout_id"]), "currency": p["currency"],
                 "network": p["network"], "address": text_cell(p["address"]), "amount": money(amount),
                 "estimated_fee": money(p["estimated_fee"]), "actual_fee": money(fee), "net_amount": net,
                 "total_debited": total, "fee_mode": p["fee_mode"], "status": p["status"],
                 "provider_status": text_cell(p["provider_status"]), "tx_hash": text_cell(p["tx_hash"]),
                 "initiator": text_cell(p["created_by"]),
                 "approvers": text_cell("; ".join(a["operator"] for a in approvals) if approvals else None),
                 "reference": text_cell(p["reference"]), "note": text_cell(p["note"])}
        rows.append([cells[name] or "" for name in PAYOUT_REPORT_HEADER])
    return rows


def text_cell(text: str | None) -> str:
    """OWASP: typed text starting with a formula starter gets the apostrophe."""
    if text and text[0] in FORMULA_STARTERS:
        return NEUTRALISING_PREFIX + text
    return text or ""


def report_text(ledger: Ledger, delimiter: str, payout_filter: PayoutFilter | None = None) -> tuple[str, int]:
    with ledger.snapshot():
        batches = list(ledger.reports.payout_lines(payout_filter or PayoutFilter(), delimiter))
    return b"".join(batch.text for batch in batches).decode("utf-8"), sum(batch.rows for batch in batches)


@pytest.mark.parametrize("delimiter", DELIMITERS, ids=["comma", "semicolon", "tab", "pipe"])
def test_every_awkward_line_reads_back_as_the_reference_cells(ledger, ledger_path, delimiter):
    ids = add_payouts(ledger, 3 * len(AWKWARD_TEXT) * len(TYPED_COLUMNS) // 2)
    adversarial_rows(ledger_path, ids)
    text, rows = report_text(ledger, delimiter)
    parsed = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    assert rows == len(ids)
    expected = reference_rows(ledger_path)
    for got, wanted in zip(parsed, expected, strict=True):
        assert got == wanted
    assert text.endswith(LINE_END)


def test_a_line_without_awkward_text_carries_no_quotes_and_an_awkward_one_quotes_its_typed_cells(ledger, ledger_path):
    plain_id, awkward_id = add_payouts(ledger, 2)
    overwrite(ledger_path, awkward_id, note='a "quoted", note')
    text, _ = report_text(ledger, ",")
    plain_line, awkward_line = text.split(LINE_END)[:2]
    assert '"' not in plain_line
    assert f',"{TRON_ADDRESS}",' in awkward_line and awkward_line.endswith(',"a ""quoted"", note"')
    assert f",{TRON_ADDRESS}," in plain_line


def test_amounts_are_padded_to_the_assets_places_and_never_rounded_or_neutralised(ledger, ledger_path):
    ids = add_payouts(ledger, len(AMOUNTS))
    for payout_id, amount in zip(ids, AMOUNTS, strict=True):
        overwrite(ledger_path, payout_id, amount=amount, actual_fee=None, estimated_total=None)
    text, _ = report_text(ledger, ",")
    amounts = [row[PAYOUT_REPORT_HEADER.index("amount")] for row in csv.reader(io.StringIO(text, newline=""))]
    assert amounts == ["0.000000", "3.000000", "4.363110", "150.250000", "0.000000000000000001", "4.3631100001",
                       "123456789012345678901234567890123.500000", "999999999999999999999999999999999999.000000"]


def test_lines_needing_quotes_across_batches_come_back_in_order(ledger, ledger_path):
    """More lines than a batch, and more lines needing quotes in one batch than one look-up asks for."""
    ids = add_payouts(ledger, BATCH_ROWS + 2 * QUOTED_LOOKUP_IDS + 7)
    with raw_connection(ledger_path) as conn:
        conn.executemany("UPDATE payouts SET note = ? WHERE id = ?",
                         [(f"Salary, {n}" if n < QUOTED_LOOKUP_IDS + 3 or n % 997 == 0 else f"Salary {n}", payout_id)
                          for n, payout_id in enumerate(ids)])
    overwrite(ledger_path, ids[BATCH_ROWS - 1], reference="last of the batch\r\n")
    overwrite(ledger_path, ids[BATCH_ROWS], reference="=first of the next")
    text, rows = report_text(ledger, ",")
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert rows == len(ids) == len(parsed)
    assert parsed == reference_rows(ledger_path)


def test_a_filtered_report_holds_only_the_filtered_payouts(ledger, ledger_path):
    ids = add_payouts(ledger, 10)
    for payout_id in ids[:4]:
        overwrite(ledger_path, payout_id, currency="BTC", network="BTC", note="btc, with a comma")
    text, rows = report_text(ledger, ";", PayoutFilter(currency="BTC"))
    parsed = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    assert rows == 4
    assert [row[PAYOUT_REPORT_HEADER.index("payout_id")] for row in parsed] == [str(i) for i in ids[:4]]
    assert [row for row in reference_rows(ledger_path) if row[PAYOUT_REPORT_HEADER.index("currency")] == "BTC"] \
        == parsed


@pytest.mark.backends("sqlite")  # the look-up of lines needing quotes is SQLite's; PostgreSQL quotes as it writes
def test_a_look_up_of_lines_needing_quotes_reads_only_those_payouts_approvals(ledger, ledger_path):
    """Grouping every approval in the ledger for each look-up made an export where most lines need quotes
    quadratic (44 s for 100,000 payouts with an approval each): the look-up must search the approvals by payout."""
    from treasury_app.ledger.report_queries import (
        prepare_for_reports,
        quoted_lines_query,
    )

    ids = add_payouts(ledger, 3)
    for payout_id in ids:
        approve(ledger_path, payout_id, "bob", START)
    query = quoted_lines_query(ids[:2])
    conn = sqlite3.connect(ledger_path)
    prepare_for_reports(conn)
    plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {query.sql}", query.params)]
    remade = dict(conn.execute(query.sql, query.params).fetchall())
    conn.close()
    assert any(step.startswith("SEARCH approvals USING INDEX approvals_payout (payout_id=?)") for step in plan), plan
    assert not any(step.startswith("SCAN approvals") for step in plan), plan
    assert sorted(remade) == ids[:2]
    assert all(line.split(b",")[PAYOUT_REPORT_HEADER.index("approvers")] == b"bob" for line in remade.values())
