"""Opening the ledger file: created where asked, configured for safety, and refused when it is not ours."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from treasury_app.domain.errors import TreasuryError
from treasury_app.ledger import Ledger, LedgerFileError, LedgerVersionError, open_ledger
from treasury_app.ledger.errors import ConstraintViolation
from treasury_app.ledger.schema import SCHEMA_VERSION


def pragma(ledger: Ledger, name: str):
    return ledger._link.run_pragma(f"PRAGMA {name}")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_fresh_ledger_is_created_with_its_data_folder_at_the_current_schema(tmp_path):
    path = tmp_path / "new" / "folder" / "ledger.sqlite3"
    with open_ledger(path) as ledger:
        assert path.is_file()
        assert ledger.path == path
        assert ledger.schema_version == SCHEMA_VERSION
        assert ledger.integrity_check() == []


def test_the_connection_runs_with_wal_foreign_keys_full_sync_and_a_busy_timeout(ledger_path):
    with open_ledger(ledger_path, busy_timeout_ms=1234) as ledger:
        assert pragma(ledger, "journal_mode") == "wal"
        assert pragma(ledger, "foreign_keys") == 1
        assert pragma(ledger, "synchronous") == 2  # FULL
        assert pragma(ledger, "busy_timeout") == 1234


def test_wal_mode_is_recorded_in_the_file_for_every_later_connection(ledger_path):
    open_ledger(ledger_path).close()
    plain = sqlite3.connect(ledger_path)
    try:
        assert plain.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        plain.close()


def test_foreign_keys_are_enforced(ledger):
    with pytest.raises(ConstraintViolation, match="FOREIGN KEY"), ledger.transaction():
        ledger._link.execute(
            "INSERT INTO payout_events (payout_id, at, actor, to_status) VALUES (999, 'x', 'x', 'draft')"
        )


def test_a_file_from_a_newer_treasury_desk_is_refused_and_left_untouched(ledger_path):
    ledger_path.parent.mkdir(parents=True)
    newer = sqlite3.connect(ledger_path)
    newer.execute("CREATE TABLE from_the_future (x)")
    newer.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    newer.commit()
    newer.close()
    before = digest(ledger_path)

    with pytest.raises(LedgerVersionError) as refused:
        open_ledger(ledger_path)

    message = str(refused.value)
    assert "newer Treasury Desk" in message and str(ledger_path) in message and "untouched" in message
    assert refused.value.file_version == SCHEMA_VERSION + 1
    assert digest(ledger_path) == before
    assert not ledger_path.with_name(ledger_path.name + "-wal").exists()  # not even switched to WAL


def test_a_file_that_is_not_a_database_is_refused_naming_its_path(ledger_path):
    ledger_path.parent.mkdir(parents=True)
    ledger_path.write_bytes(b"this is not a database, it is a shopping list\n" * 100)
    before = digest(ledger_path)

    with pytest.raises(LedgerFileError) as refused:
        open_ledger(ledger_path)

    assert str(ledger_path) in str(refused.value)
    assert "not a Treasury Desk ledger" in str(refused.value)
    assert isinstance(refused.value, TreasuryError)
    assert digest(ledger_path) == before


def test_somebody_elses_sqlite_database_is_refused_and_not_mixed_with_ours(ledger_path):
    ledger_path.parent.mkdir(parents=True)
    foreign = sqlite3.connect(ledger_path)
    foreign.execute("CREATE TABLE recipes (name TEXT)")
    foreign.commit()
    foreign.close()

    with pytest.raises(LedgerFileError, match="not a Treasury Desk ledger"):
        open_ledger(ledger_path)

    check = sqlite3.connect(ledger_path)
    tables = [row[0] for row in check.execute("SELECT name FROM sqlite_master")]
    check.close()
    assert tables == ["recipes"]


def test_an_empty_file_is_a_fresh_ledger(ledger_path):
    ledger_path.parent.mkdir(parents=True)
    ledger_path.touch()
    with open_ledger(ledger_path) as ledger:
        assert ledger.schema_version == SCHEMA_VERSION


def test_a_folder_in_place_of_the_file_is_refused(ledger_path):
    ledger_path.mkdir(parents=True)
    with pytest.raises(LedgerFileError, match="folder"):
        open_ledger(ledger_path)


def test_a_data_folder_that_cannot_be_created_is_refused_naming_the_path(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    with pytest.raises(LedgerFileError) as refused:
        open_ledger(blocker / "ledger.sqlite3")
    assert str(blocker / "ledger.sqlite3") in str(refused.value)


def test_reopening_keeps_everything_and_runs_no_migration(ledger_path, clock):
    from ledger_fixtures import make_request

    with open_ledger(ledger_path, clock=clock) as ledger:
        ledger.payouts.add(make_request(), idempotency_key="kept-1", actor="alice")
    with open_ledger(ledger_path) as again:
        assert again.payouts.find_by_key("kept-1") is not None
        assert again.schema_version == SCHEMA_VERSION


def test_integrity_check_reports_a_reference_to_a_missing_payout(ledger_path):
    open_ledger(ledger_path).close()
    raw = sqlite3.connect(ledger_path)  # foreign keys are off on a plain connection: this is what tampering does
    raw.execute("INSERT INTO payout_events (payout_id, at, actor, to_status) VALUES (42, 'x', 'mallory', 'draft')")
    raw.commit()
    raw.close()
    with open_ledger(ledger_path) as ledger:
        problems = ledger.integrity_check()
    assert len(problems) == 1 and "payout_events" in problems[0] and "payouts" in problems[0]
