"""Forward migrations: a file at any earlier schema version opens, keeps its rows, and ends up with the schema
of a fresh file.

When a migration is added to `schema.MIGRATIONS`, add the rows that must survive it to `SEED_ROWS` under the
version they were written at; the parametrised test then covers the new path from every earlier version.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from treasury_app.domain.payout_lifecycle import PayoutStatus
from treasury_app.ledger import PayoutFilter, open_ledger
from treasury_app.ledger.schema import MIGRATIONS, SCHEMA_VERSION

# Representative rows for each schema version, written with that version's SQL, and how to find them later.
SEED_ROWS: dict[int, list[tuple[str, tuple]]] = {
    1: [
        ("INSERT INTO operators (id, name, password_hash, roles, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
         (1, "alice", "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", '["admin","initiator"]',
          "2025-01-02T03:04:05.000006Z", "2025-01-02T03:04:05.000006Z")),
        ("INSERT INTO payouts (id, idempotency_key, provider, currency, network, address, amount, amount_key, "
         "fee_mode, reference, note, status, created_by, created_at, updated_at) "
         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
         (7, "k7", "pay3", "USDT", "TRON", "TXguLRFtrAFrEDA17WuPfrxB84jVzJcNNV", "123456789012345.123456",
          "000123456789012345.123456000000000000", "from_balance", "INV-7", "old note", "completed", "alice",
          "2025-01-02T03:04:05.000006Z", "2025-01-02T03:04:05.000006Z")),
        ("INSERT INTO payout_events (payout_id, at, actor, from_status, to_status, detail) VALUES (?, ?, ?, ?, ?, ?)",
         (7, "2025-01-02T03:04:05.000006Z", "alice", None, "draft", None)),
        ("INSERT INTO approvals (payout_id, decision, operator, payout_digest, decided_at) VALUES (?, ?, ?, ?, ?)",
         (7, "approved", "bob", "digest-7", "2025-01-02T04:00:00.000000Z")),
        ("INSERT INTO audit_log (seq, at, operator, action, subject, detail, prev_hash, hash) "
         "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
         (1, "2025-01-02T03:04:05.000006Z", "alice", "compose", "payout:7", '{"amount":"1"}', "0" * 64, "a" * 64)),
        ("INSERT INTO address_book (label, network, address, created_by, created_at) VALUES (?, ?, ?, ?, ?)",
         ("Supplier", "TRON", "TXguLRFtrAFrEDA17WuPfrxB84jVzJcNNV", "alice", "2025-01-02T03:04:05.000006Z")),
        ("INSERT INTO policies (currency, approval_threshold, updated_by, updated_at) VALUES (?, ?, ?, ?)",
         ("USDT", "1000", "alice", "2025-01-02T03:04:05.000006Z")),
        ("INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)",
         ("approval_expiry_hours", "24", "2025-01-02T03:04:05.000006Z")),
    ],
    # Version 2 indexed the audit log by subject (the approval checks read a payout's rows through it).
    2: [
        ("INSERT INTO audit_log (seq, at, operator, action, subject, detail, prev_hash, hash) "
         "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
         (2, "2025-01-03T03:04:05.000006Z", "bob", "payout.approved", "payout:7", '{"approval_id":1}', "a" * 64,
          "b" * 64)),
    ],
    # Version 3 searches keys, provider payout ids and tx hashes too, and counts payouts per status/provider/currency.
    3: [
        ("INSERT INTO payouts (id, idempotency_key, provider, currency, network, address, amount, amount_key, "
         "fee_mode, status, provider_payout_id, tx_hash, created_by, created_at, updated_at) "
         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
         (8, "k8-sent", "cryptomus", "BTC", "BTC", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "0.5",
          "000000000000000000.500000000000000000", "from_balance", "processing", "cm-uuid-8", "ab" * 32, "bob",
          "2025-01-04T03:04:05.000006Z", "2025-01-04T03:04:05.000006Z")),
    ],
    # Version 4 indexes payouts by status and final time (the dashboard's "completed today", "failed this week").
    4: [
        ("INSERT INTO payouts (id, idempotency_key, provider, currency, network, address, amount, amount_key, "
         "fee_mode, status, estimated_fee, created_by, created_at, updated_at, finished_at) "
         "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
         (9, "k9-failed", "pay3", "ETH", "ETH", "0x52908400098527886E0F7030069857D2E4169EE7", "1.25",
          "000000000000000001.250000000000000000", "from_balance", "failed", "0.0009", "bob",
          "2025-01-05T03:04:05.000006Z", "2025-01-05T04:04:05.000006Z", "2025-01-05T04:04:05.000006Z")),
    ],
    # Version 5 indexes the audit log by operator and by action (the Audit trail screen's filters and choices).
    5: [
        ("INSERT INTO audit_log (seq, at, operator, action, subject, detail, prev_hash, hash) "
         "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
         (3, "2025-01-06T03:04:05.000006Z", None, "operator.sign_in_failed", "operator:?", '{"reason":"x"}',
          "b" * 64, "c" * 64)),
    ],
}
SEEDED_TABLES = ["address_book", "approvals", "audit_log", "operators", "payout_events", "payouts", "policies",
                 "settings"]


def build_file_at_version(path: Path, version: int) -> dict[str, list[tuple]]:
    """A ledger file as version `version` of the app left it, with its rows; returns those rows per table."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        for migration in MIGRATIONS[:version]:
            migration(conn)
        for seeded_at in range(1, version + 1):
            for sql, params in SEED_ROWS.get(seeded_at, []):
                conn.execute(sql, params)
        conn.execute(f"PRAGMA user_version = {version}")
        conn.execute("COMMIT")
        return table_rows(conn) if version else {}
    finally:
        conn.close()


def table_rows(conn: sqlite3.Connection) -> dict[str, list[tuple]]:
    return {table: conn.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall() for table in SEEDED_TABLES}


def schema_of(path: Path) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return sorted(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall(),
                      key=lambda row: (row[0], row[1]))
    finally:
        conn.close()


def test_a_fresh_file_reaches_the_current_schema_version(tmp_path):
    with open_ledger(tmp_path / "fresh.sqlite3") as ledger:
        assert ledger.schema_version == SCHEMA_VERSION == len(MIGRATIONS)


def test_seed_rows_exist_for_the_current_schema():
    # Without rows at the newest version, the next migration would be tested on an empty file only.
    assert SCHEMA_VERSION in SEED_ROWS


@pytest.mark.parametrize("version", range(0, SCHEMA_VERSION))
def test_a_file_at_an_earlier_version_is_migrated_keeping_its_rows(tmp_path, version):
    old = tmp_path / f"v{version}.sqlite3"
    rows_before = build_file_at_version(old, version)

    with open_ledger(old) as ledger:
        assert ledger.schema_version == SCHEMA_VERSION
        assert ledger.integrity_check() == []
        if version:  # the search and the counts cover the rows written before they existed
            assert ledger.payouts.count(PayoutFilter(text="k7")) == 1
            assert ledger.payouts.count(PayoutFilter(provider="pay3", currency="USDT")) == 1

    open_ledger(tmp_path / "fresh.sqlite3").close()
    assert schema_of(old) == schema_of(tmp_path / "fresh.sqlite3")
    if rows_before:
        conn = sqlite3.connect(old)
        try:
            rows_after = table_rows(conn)
        finally:
            conn.close()
        for table, rows in rows_before.items():
            # Migrations may add columns; every old column's value must still be there, in order.
            assert [row[: len(rows[0])] for row in rows_after[table]] == rows, table


def test_a_file_at_the_current_version_opens_with_its_rows_readable_through_the_repositories(tmp_path):
    path = tmp_path / "current.sqlite3"
    build_file_at_version(path, SCHEMA_VERSION)
    with open_ledger(path) as ledger:
        payout = ledger.payouts.get(7)
        assert str(payout.amount) == "123456789012345.123456"
        assert [e.to_status for e in ledger.payouts.events(7)] == ["draft"]
        assert ledger.operators.get("ALICE").roles == {"admin", "initiator"}
        assert ledger.settings.get("approval_expiry_hours") == 24
        assert ledger.approvals.for_payout(7)[0].operator == "bob"
        assert ledger.audit.last().hash == "c" * 64  # the version 5 seed row is the newest
        assert [row.seq for row in ledger.audit.rows_about("payout:7")] == [1, 2]
        assert ledger.policies.get("usdt").approval_threshold == 1000
        assert ledger.address_book.find("TRON", "TXguLRFtrAFrEDA17WuPfrxB84jVzJcNNV").label == "Supplier"
        assert ledger.payouts.count(PayoutFilter(text="old note")) == 1
        # Rows of every version are found by the fields version 3 added to the search, and counted.
        assert ledger.payouts.count(PayoutFilter(text="k7")) == ledger.payouts.count(PayoutFilter(text="cm-uuid")) == 1
        assert ledger.payouts.count(PayoutFilter(provider="pay3", statuses=("completed",))) == 1


def test_a_failing_migration_leaves_the_file_at_its_old_version(tmp_path, monkeypatch):
    from treasury_app.ledger import schema

    path = tmp_path / "v0.sqlite3"
    build_file_at_version(path, 0)

    def broken_migration(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("migration bug")

    # The one place a test changes the app: a migration list with a broken step appended.
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, broken_migration])
    monkeypatch.setattr("treasury_app.ledger.migrations.MIGRATIONS", schema.MIGRATIONS)
    monkeypatch.setattr("treasury_app.ledger.migrations.SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(RuntimeError, match="migration bug"):
        open_ledger(path)

    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
    finally:
        conn.close()


def test_a_file_migrated_to_version_4_counts_final_payouts_through_the_status_and_final_time_index(tmp_path):
    path = tmp_path / "v3.sqlite3"
    build_file_at_version(path, 3)
    with open_ledger(path) as ledger:
        # Payout 7 (written at version 1) is completed; it gets a final time as a later version would write it.
        conn = sqlite3.connect(path)
        try:
            conn.execute("UPDATE payouts SET finished_at = '2025-01-02T05:00:00.000000Z' WHERE id = 7")
            conn.commit()
            plan = " ".join(str(row) for row in conn.execute(
                "EXPLAIN QUERY PLAN SELECT count(*) FROM payouts WHERE status = 'completed' "
                "AND finished_at >= '2025-01-02T00:00:00.000000Z' AND finished_at < '2025-01-03T00:00:00.000000Z'"))
        finally:
            conn.close()
        day = (PayoutStatus.COMPLETED, datetime(2025, 1, 2, tzinfo=UTC), datetime(2025, 1, 3, tzinfo=UTC))
        assert ledger.dashboard.finished_counts([day]) == [1]
    assert "payouts_status_finished" in plan


def test_a_file_migrated_to_version_5_filters_and_lists_the_audit_trail_through_its_new_indexes(tmp_path):
    from treasury_app.ledger.audit_trail_reads import AuditFilter

    path = tmp_path / "v4.sqlite3"
    build_file_at_version(path, 4)
    with open_ledger(path) as ledger:
        reads = ledger.audit_trail
        assert reads.operators() == ["alice", "bob"]  # the v1 and v2 rows' operators, none for an unnamed row
        assert reads.actions() == ["compose", "payout.approved"]
        assert [row.seq for row in reads.page(AuditFilter(operator="bob"), 10)] == [2]
        conn = sqlite3.connect(path)
        try:
            plans = {column: " ".join(str(row) for row in conn.execute(
                f"EXPLAIN QUERY PLAN SELECT * FROM audit_log WHERE {column} = ? ORDER BY seq DESC LIMIT 200",
                ("x",))) for column in ("operator", "action")}
        finally:
            conn.close()
    assert "audit_log_operator" in plans["operator"] and "audit_log_action" in plans["action"], plans
