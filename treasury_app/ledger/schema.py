"""The ledger's schema, as an ordered list of forward migrations; `PRAGMA user_version` records how far a file is.

Rules for changing it: never edit a migration that has shipped; append a new one. Every migration runs inside
the caller's transaction, so a file is either at the old version or the new one, never in between.
Money columns are TEXT holding plain decimal notation (exact); `amount_key` is a fixed-width text key
so that SQL can sort amounts exactly without ever converting them to floating point.
Times are UTC ISO-8601 text with microseconds (`2026-11-21T22:17:03.123456Z`): readable, and they sort.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

Migration = Callable[[sqlite3.Connection], None]


def run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run several statements inside the current transaction.

    `executescript` would COMMIT first and break the all-or-nothing promise, so statements are split with
    SQLite's own completeness test (which knows that a trigger body's `;` does not end the statement).
    """
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            conn.execute(pending)
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement in migration: {pending.strip()[:80]}")


def _v1_initial(conn: sqlite3.Connection) -> None:
    run_script(conn, 
        """
        CREATE TABLE operators (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE,
            password_hash TEXT NOT NULL,
            roles TEXT NOT NULL,                       -- JSON array of role names
            active INTEGER NOT NULL DEFAULT 1,
            failed_attempts INTEGER NOT NULL DEFAULT 0,
            locked_until TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );

        CREATE TABLE payouts (
            id INTEGER PRIMARY KEY,
            idempotency_key TEXT NOT NULL UNIQUE,
            provider TEXT NOT NULL,
            currency TEXT NOT NULL,
            network TEXT NOT NULL,
            address TEXT NOT NULL,
            amount TEXT NOT NULL,
            amount_key TEXT NOT NULL,
            fee_mode TEXT NOT NULL,
            priority TEXT,
            memo TEXT,
            reference TEXT,
            note TEXT,
            status TEXT NOT NULL,
            provider_status TEXT,
            provider_payout_id TEXT,
            tx_hash TEXT,
            estimated_fee TEXT,
            estimated_net TEXT,
            estimated_total TEXT,
            estimate_warnings TEXT,                   -- JSON array of strings
            estimate_data TEXT,                       -- JSON: what execution needs (e.g. Pay3's order token)
            estimated_at TEXT,
            actual_fee TEXT,
            actual_amount TEXT,
            failure_reason TEXT,
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            submitted_at TEXT,
            finished_at TEXT,
            next_poll_at TEXT,
            poll_failures INTEGER NOT NULL DEFAULT 0,
            version INTEGER NOT NULL DEFAULT 1        -- bumped on every update: compare-and-set claims
        );
        CREATE INDEX payouts_created ON payouts (created_at DESC, id DESC);
        CREATE INDEX payouts_status_created ON payouts (status, created_at DESC, id DESC);
        CREATE INDEX payouts_provider_created ON payouts (provider, created_at DESC, id DESC);
        CREATE INDEX payouts_currency_created ON payouts (currency, created_at DESC, id DESC);
        CREATE INDEX payouts_amount ON payouts (amount_key, id);
        CREATE INDEX payouts_provider_payout ON payouts (provider, provider_payout_id);
        CREATE INDEX payouts_address ON payouts (address);

        -- Substring search over address, reference and note: trigram FTS kept in step by triggers.
        CREATE VIRTUAL TABLE payouts_search USING fts5(
            address, reference, note, content='payouts', content_rowid='id', tokenize='trigram'
        );
        CREATE TRIGGER payouts_search_insert AFTER INSERT ON payouts BEGIN
            INSERT INTO payouts_search (rowid, address, reference, note)
            VALUES (new.id, new.address, new.reference, new.note);
        END;
        CREATE TRIGGER payouts_search_delete AFTER DELETE ON payouts BEGIN
            INSERT INTO payouts_search (payouts_search, rowid, address, reference, note)
            VALUES ('delete', old.id, old.address, old.reference, old.note);
        END;
        CREATE TRIGGER payouts_search_update AFTER UPDATE OF address, reference, note ON payouts BEGIN
            INSERT INTO payouts_search (payouts_search, rowid, address, reference, note)
            VALUES ('delete', old.id, old.address, old.reference, old.note);
            INSERT INTO payouts_search (rowid, address, reference, note)
            VALUES (new.id, new.address, new.reference, new.note);
        END;

        CREATE TABLE payout_events (
            id INTEGER PRIMARY KEY,
            payout_id INTEGER NOT NULL REFERENCES payouts (id),
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            from_status TEXT,
            to_status TEXT NOT NULL,
            provider_status TEXT,
            detail TEXT                               -- JSON object
        );
        CREATE INDEX payout_events_payout ON payout_events (payout_id, id);

        CREATE TABLE approvals (
            id INTEGER PRIMARY KEY,
            payout_id INTEGER NOT NULL REFERENCES payouts (id),
            decision TEXT NOT NULL CHECK (decision IN ('approved', 'rejected')),
            operator TEXT NOT NULL,
            payout_digest TEXT NOT NULL,              -- binds the decision to the exact payout fields
            reason TEXT,
            decided_at TEXT NOT NULL,
            expires_at TEXT,
            voided_at TEXT,
            void_reason TEXT
        );
        CREATE INDEX approvals_payout ON approvals (payout_id, id);

        CREATE TABLE audit_log (
            seq INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            operator TEXT,
            action TEXT NOT NULL,
            subject TEXT,
            detail TEXT,                              -- JSON object
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL UNIQUE
        );
        CREATE INDEX audit_log_at ON audit_log (at);

        CREATE TABLE address_book (
            id INTEGER PRIMARY KEY,
            label TEXT NOT NULL,
            currency TEXT,
            network TEXT NOT NULL,
            address TEXT NOT NULL,
            note TEXT,
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL,
            UNIQUE (network, address)
        );

        CREATE TABLE policies (
            currency TEXT PRIMARY KEY,
            approval_threshold TEXT,
            daily_limit_operator TEXT,
            daily_limit_desk TEXT,
            over_limit TEXT NOT NULL DEFAULT 'needs_approval' CHECK (over_limit IN ('needs_approval', 'refuse')),
            new_destination_needs_approval INTEGER NOT NULL DEFAULT 0,
            updated_by TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );

        CREATE TABLE settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,                      -- JSON
            updated_at TEXT NOT NULL
        );
        """
    )


def _v2_audit_subject_index(conn: sqlite3.Connection) -> None:
    # Approving or executing a payout checks it against its last audit row; without this index that check
    # would read the whole audit log.
    run_script(conn, "CREATE INDEX audit_log_subject ON audit_log (subject, seq);")


# What the payout table's search box looks in: everything a person may have copied from somewhere else.
SEARCH_COLUMNS = "address, reference, note, idempotency_key, provider_payout_id, tx_hash"
_NEW_SEARCH = "new.address, new.reference, new.note, new.idempotency_key, new.provider_payout_id, new.tx_hash"
_OLD_SEARCH = "old.address, old.reference, old.note, old.idempotency_key, old.provider_payout_id, old.tx_hash"
_COUNT_KEY = "status, provider, currency"


def _v3_table_sorts_counts_and_search(conn: sqlite3.Connection) -> None:
    # Sorting the window's table by status, provider or currency pages by (column, created_at, id): the row
    # value comparison that continues a page uses an index only when all its columns run the same way, so
    # these indexes become ascending throughout (walked backwards for newest first).
    # The search also finds idempotency keys, provider payout ids and tx hashes, which support staff paste.
    # `payout_counts` keeps how many payouts each (status, provider, currency) has: the table's row count
    # for those filters is a sum of a few rows instead of a walk over a million.
    run_script(conn, f"""
        DROP INDEX payouts_status_created;
        DROP INDEX payouts_provider_created;
        DROP INDEX payouts_currency_created;
        CREATE INDEX payouts_status_created ON payouts (status, created_at, id);
        CREATE INDEX payouts_provider_created ON payouts (provider, created_at, id);
        CREATE INDEX payouts_currency_created ON payouts (currency, created_at, id);

        DROP TRIGGER payouts_search_insert;
        DROP TRIGGER payouts_search_delete;
        DROP TRIGGER payouts_search_update;
        DROP TABLE payouts_search;
        CREATE VIRTUAL TABLE payouts_search USING fts5(
            {SEARCH_COLUMNS}, content='payouts', content_rowid='id', tokenize='trigram'
        );
        INSERT INTO payouts_search (payouts_search) VALUES ('rebuild');
        CREATE TRIGGER payouts_search_insert AFTER INSERT ON payouts BEGIN
            INSERT INTO payouts_search (rowid, {SEARCH_COLUMNS}) VALUES (new.id, {_NEW_SEARCH});
        END;
        CREATE TRIGGER payouts_search_delete AFTER DELETE ON payouts BEGIN
            INSERT INTO payouts_search (payouts_search, rowid, {SEARCH_COLUMNS})
            VALUES ('delete', old.id, {_OLD_SEARCH});
        END;
        CREATE TRIGGER payouts_search_update AFTER UPDATE OF {SEARCH_COLUMNS} ON payouts BEGIN
            INSERT INTO payouts_search (payouts_search, rowid, {SEARCH_COLUMNS})
            VALUES ('delete', old.id, {_OLD_SEARCH});
            INSERT INTO payouts_search (rowid, {SEARCH_COLUMNS}) VALUES (new.id, {_NEW_SEARCH});
        END;

        CREATE TABLE payout_counts (
            status TEXT NOT NULL,
            provider TEXT NOT NULL,
            currency TEXT NOT NULL,
            n INTEGER NOT NULL,
            PRIMARY KEY ({_COUNT_KEY})
        ) WITHOUT ROWID;
        INSERT INTO payout_counts ({_COUNT_KEY}, n) SELECT {_COUNT_KEY}, count(*) FROM payouts GROUP BY {_COUNT_KEY};
        CREATE TRIGGER payout_counts_insert AFTER INSERT ON payouts BEGIN
            INSERT INTO payout_counts ({_COUNT_KEY}, n) VALUES (new.status, new.provider, new.currency, 1)
            ON CONFLICT ({_COUNT_KEY}) DO UPDATE SET n = n + 1;
        END;
        CREATE TRIGGER payout_counts_delete AFTER DELETE ON payouts BEGIN
            UPDATE payout_counts SET n = n - 1
            WHERE status = old.status AND provider = old.provider AND currency = old.currency;
        END;
        CREATE TRIGGER payout_counts_update AFTER UPDATE OF {_COUNT_KEY} ON payouts
        WHEN old.status IS NOT new.status OR old.provider IS NOT new.provider OR old.currency IS NOT new.currency
        BEGIN
            UPDATE payout_counts SET n = n - 1
            WHERE status = old.status AND provider = old.provider AND currency = old.currency;
            INSERT INTO payout_counts ({_COUNT_KEY}, n) VALUES (new.status, new.provider, new.currency, 1)
            ON CONFLICT ({_COUNT_KEY}) DO UPDATE SET n = n + 1;
        END;
        """)


def _v4_finished_by_status_index(conn: sqlite3.Connection) -> None:
    # The dashboard counts the payouts that reached a final status in a period (completed today, failed in
    # the last seven days) and sums each day's completed payouts: without this index each of those reads walks
    # every payout of the status (800,000 completed ones on a million-payout ledger: half a second a count).
    # It carries what the daily sums add (currency, amount key, fees), so they never visit the table's rows.
    run_script(conn, "CREATE INDEX payouts_status_finished ON payouts "
                     "(status, finished_at, currency, amount_key, estimated_fee, actual_fee);")


def _v5_audit_operator_and_action_indexes(conn: sqlite3.Connection) -> None:
    # The Audit trail screen filters by operator or by action, newest first, and lists both for its choices:
    # without these a filter walked the whole trail (0.2 s on a million rows) and the choices took over a second
    # (tests/benchmarks/audit_trail.py). With them a filter reads its own rows and the choices are one seek each.
    run_script(conn, "CREATE INDEX audit_log_operator ON audit_log (operator, seq);\n"
                     "CREATE INDEX audit_log_action ON audit_log (action, seq);\n")


# Index i holds the migration that takes a file from version i to version i + 1.
MIGRATIONS: list[Migration] = [_v1_initial, _v2_audit_subject_index, _v3_table_sorts_counts_and_search,
                               _v4_finished_by_status_index, _v5_audit_operator_and_action_indexes]

SCHEMA_VERSION = len(MIGRATIONS)
