"""The team ledger's schema on PostgreSQL: the same tables, columns and meanings as SQLite's (ledger/schema.py),
so that one set of repositories reads and writes both, and a desk's file can be copied over row for row.

Versioned in the table `ledger_schema` (SQLite keeps `PRAGMA user_version`); the numbers are SQLite's, so a
version means the same tables on both. Rules as for SQLite: never edit a shipped migration, append one.

Differences, each for a reason:
- Ids are BIGINT, given as SQLite gives them (largest + 1, by a trigger): no gaps. Money and times stay TEXT, exactly as in SQLite (plain decimals, sortable ISO-8601
  UTC), so the codecs and the amount keys are shared.
- Operator names are unique regardless of case, as SQLite's NOCASE makes them: the `nocase` collation is a
  non-deterministic ICU collation (PostgreSQL ≥ 12), and queries written `COLLATE NOCASE` use it unchanged.
- The audit trail is append-only in the database itself: a trigger refuses UPDATE, DELETE and TRUNCATE on
  `audit_log`, whoever asks (the app's role should not have those privileges either: see the README).
- `payout_counts` is kept by the same triggers as in SQLite, in PL/pgSQL.
"""

from __future__ import annotations

from collections.abc import Callable

from .connection import PostgresConnection

Migration = Callable[[PostgresConnection], None]

_V5_SCHEMA = """
CREATE COLLATION IF NOT EXISTS nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);

CREATE TABLE operators (
    id BIGINT PRIMARY KEY,
    name TEXT NOT NULL COLLATE nocase CONSTRAINT operators_name_unique UNIQUE,
    password_hash TEXT NOT NULL,
    roles TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE payouts (
    id BIGINT PRIMARY KEY,
    idempotency_key TEXT NOT NULL CONSTRAINT payouts_idempotency_key_key UNIQUE,
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
    estimate_warnings TEXT,
    estimate_data TEXT,
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
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX payouts_created ON payouts (created_at, id);
CREATE INDEX payouts_status_created ON payouts (status, created_at, id);
CREATE INDEX payouts_provider_created ON payouts (provider, created_at, id);
CREATE INDEX payouts_currency_created ON payouts (currency, created_at, id);
CREATE INDEX payouts_amount ON payouts (amount_key, id);
CREATE INDEX payouts_provider_payout ON payouts (provider, provider_payout_id);
CREATE INDEX payouts_address ON payouts (address);
CREATE INDEX payouts_status_finished ON payouts (status, finished_at, currency, amount_key, estimated_fee, actual_fee);

CREATE TABLE payout_events (
    id BIGINT PRIMARY KEY,
    payout_id BIGINT NOT NULL CONSTRAINT payout_events_payout_id_fkey REFERENCES payouts (id),
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    provider_status TEXT,
    detail TEXT
);
CREATE INDEX payout_events_payout ON payout_events (payout_id, id);

CREATE TABLE approvals (
    id BIGINT PRIMARY KEY,
    payout_id BIGINT NOT NULL CONSTRAINT approvals_payout_id_fkey REFERENCES payouts (id),
    decision TEXT NOT NULL CHECK (decision IN ('approved', 'rejected')),
    operator TEXT NOT NULL,
    payout_digest TEXT NOT NULL,
    reason TEXT,
    decided_at TEXT NOT NULL,
    expires_at TEXT,
    voided_at TEXT,
    void_reason TEXT
);
CREATE INDEX approvals_payout ON approvals (payout_id, id);

CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    operator TEXT,
    action TEXT NOT NULL,
    subject TEXT,
    detail TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL CONSTRAINT audit_log_hash_key UNIQUE
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_subject ON audit_log (subject, seq);
CREATE INDEX audit_log_operator ON audit_log (operator, seq);
CREATE INDEX audit_log_action ON audit_log (action, seq);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only: % on audit_log is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_log_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();

CREATE TABLE address_book (
    id BIGINT PRIMARY KEY,
    label TEXT NOT NULL,
    currency TEXT,
    network TEXT NOT NULL,
    address TEXT NOT NULL,
    note TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    CONSTRAINT address_book_network_address_key UNIQUE (network, address)
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
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Row ids as SQLite gives them: one more than the largest, so a rolled-back insert leaves no gap (a sequence
-- would). The audit chain's verification counts on it: a missing seq means a deleted row. Every insert runs
-- under the ledger's write lock, so two inserts never read the same largest id.
CREATE FUNCTION next_row_id() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    next_id BIGINT;
BEGIN
    IF to_jsonb(NEW) ->> TG_ARGV[0] IS NULL THEN
        EXECUTE format('SELECT coalesce(max(%I), 0) + 1 FROM %I.%I', TG_ARGV[0], TG_TABLE_SCHEMA, TG_TABLE_NAME)
            INTO next_id;
        NEW := jsonb_populate_record(NEW, jsonb_build_object(TG_ARGV[0], next_id));
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER operators_next_id BEFORE INSERT ON operators FOR EACH ROW EXECUTE FUNCTION next_row_id('id');
CREATE TRIGGER payouts_next_id BEFORE INSERT ON payouts FOR EACH ROW EXECUTE FUNCTION next_row_id('id');
CREATE TRIGGER payout_events_next_id BEFORE INSERT ON payout_events FOR EACH ROW EXECUTE FUNCTION next_row_id('id');
CREATE TRIGGER approvals_next_id BEFORE INSERT ON approvals FOR EACH ROW EXECUTE FUNCTION next_row_id('id');
CREATE TRIGGER address_book_next_id BEFORE INSERT ON address_book FOR EACH ROW EXECUTE FUNCTION next_row_id('id');
CREATE TRIGGER audit_log_next_seq BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION next_row_id('seq');

CREATE TABLE payout_counts (
    status TEXT NOT NULL,
    provider TEXT NOT NULL,
    currency TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (status, provider, currency)
);
CREATE FUNCTION payout_counts_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE payout_counts SET n = n - 1
        WHERE status = OLD.status AND provider = OLD.provider AND currency = OLD.currency;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO payout_counts (status, provider, currency, n) VALUES (NEW.status, NEW.provider, NEW.currency, 1)
        ON CONFLICT (status, provider, currency) DO UPDATE SET n = payout_counts.n + 1;
    END IF;
    RETURN NULL;
END;
$$;
CREATE TRIGGER payout_counts_insert_or_delete AFTER INSERT OR DELETE ON payouts
    FOR EACH ROW EXECUTE FUNCTION payout_counts_follow();
CREATE TRIGGER payout_counts_update AFTER UPDATE OF status, provider, currency ON payouts
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.provider IS DISTINCT FROM NEW.provider
                       OR OLD.currency IS DISTINCT FROM NEW.currency)
    EXECUTE FUNCTION payout_counts_follow();
"""


def _v1_to_v5(link: PostgresConnection) -> None:
    # The team ledger began at SQLite's version 5: its first migration makes every table of version 5 at once.
    link.conn.execute(_V5_SCHEMA)


# MIGRATIONS[i] takes the database from version FIRST_VERSION + i - 1 (0: empty) to FIRST_VERSION + i.
FIRST_VERSION = 5
MIGRATIONS: list[Migration] = [_v1_to_v5]
SCHEMA_VERSION = FIRST_VERSION + len(MIGRATIONS) - 1
