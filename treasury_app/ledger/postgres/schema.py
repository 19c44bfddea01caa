"""The team ledger's schema on PostgreSQL: the same tables, columns and meanings as SQLite's (ledger/schema.py),
so that one set of repositories reads and writes both, and a desk's file can be copied over row for row.

Versioned in the table `ledger_schema` (SQLite keeps `PRAGMA user_version`); the numbers are SQLite's, so a
version means the same tables on both. Rules as for SQLite: never edit a shipped migration, append one.

Differences, each for a reason:
- Ids are BIGINT, given as SQLite gives them (largest + 1, by a trigger): no gaps. Money and times stay TEXT, exactly as in SQLite (plain decimals, sortable ISO-8601
  UTC), so the codecs and the amount keys are shared.
- Text compares and sorts byte by byte (`COLLATE "C"`), as SQLite's BINARY does, whatever the server's own
  locale: the table's sort orders, the keyset pages and the amount keys mean the same on both.
- Operator names are unique regardless of case, as SQLite's NOCASE makes them: the `nocase` collation is a
  non-deterministic ICU collation (PostgreSQL ≥ 12), and queries written `COLLATE NOCASE` use it unchanged.
- The audit trail is append-only in the database itself: a trigger refuses UPDATE, DELETE and TRUNCATE on
  `audit_log`, whoever asks (the app's role should not have those privileges either: see the README).
- `payout_counts` is kept by triggers as in SQLite, in PL/pgSQL, once per statement over its rows (an import's
  batch moves each count once, where SQLite's row triggers move it per row).
- Text search: a pg_trgm index where SQLite has an FTS5 trigram table (`dialects.PostgresDialect.text_search`).
  pg_trgm is a trusted extension (PostgreSQL ≥ 13): the database's owner may create it.
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
    password_hash TEXT COLLATE "C" NOT NULL,
    roles TEXT COLLATE "C" NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT COLLATE "C",
    created_at TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL
);

CREATE TABLE payouts (
    id BIGINT PRIMARY KEY,
    idempotency_key TEXT COLLATE "C" NOT NULL CONSTRAINT payouts_idempotency_key_key UNIQUE,
    provider TEXT COLLATE "C" NOT NULL,
    currency TEXT COLLATE "C" NOT NULL,
    network TEXT COLLATE "C" NOT NULL,
    address TEXT COLLATE "C" NOT NULL,
    amount TEXT COLLATE "C" NOT NULL,
    amount_key TEXT COLLATE "C" NOT NULL,
    fee_mode TEXT COLLATE "C" NOT NULL,
    priority TEXT COLLATE "C",
    memo TEXT COLLATE "C",
    reference TEXT COLLATE "C",
    note TEXT COLLATE "C",
    status TEXT COLLATE "C" NOT NULL,
    provider_status TEXT COLLATE "C",
    provider_payout_id TEXT COLLATE "C",
    tx_hash TEXT COLLATE "C",
    estimated_fee TEXT COLLATE "C",
    estimated_net TEXT COLLATE "C",
    estimated_total TEXT COLLATE "C",
    estimate_warnings TEXT COLLATE "C",
    estimate_data TEXT COLLATE "C",
    estimated_at TEXT COLLATE "C",
    actual_fee TEXT COLLATE "C",
    actual_amount TEXT COLLATE "C",
    failure_reason TEXT COLLATE "C",
    created_by TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL,
    submitted_at TEXT COLLATE "C",
    finished_at TEXT COLLATE "C",
    next_poll_at TEXT COLLATE "C",
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

-- The search box finds text anywhere in these columns, case-insensitively: pg_trgm's trigram index over the
-- columns run together (SQLite's payouts_search holds the same in FTS5). chr(31), the unit separator, between
-- them: a search may not hold control characters, so no match runs across two columns.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE FUNCTION payout_search_text(address TEXT, reference TEXT, note TEXT, idempotency_key TEXT,
                                   provider_payout_id TEXT, tx_hash TEXT)
    RETURNS TEXT LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(address, '') || chr(31) || coalesce(reference, '') || chr(31) || coalesce(note, '') || chr(31)
        || coalesce(idempotency_key, '') || chr(31) || coalesce(provider_payout_id, '') || chr(31)
        || coalesce(tx_hash, '')
$$;
CREATE INDEX payouts_search ON payouts USING gin (
    payout_search_text(address, reference, note, idempotency_key, provider_payout_id, tx_hash) gin_trgm_ops);

CREATE TABLE payout_events (
    id BIGINT PRIMARY KEY,
    payout_id BIGINT NOT NULL CONSTRAINT payout_events_payout_id_fkey REFERENCES payouts (id),
    at TEXT COLLATE "C" NOT NULL,
    actor TEXT COLLATE "C" NOT NULL,
    from_status TEXT COLLATE "C",
    to_status TEXT COLLATE "C" NOT NULL,
    provider_status TEXT COLLATE "C",
    detail TEXT COLLATE "C"
);
CREATE INDEX payout_events_payout ON payout_events (payout_id, id);

CREATE TABLE approvals (
    id BIGINT PRIMARY KEY,
    payout_id BIGINT NOT NULL CONSTRAINT approvals_payout_id_fkey REFERENCES payouts (id),
    decision TEXT COLLATE "C" NOT NULL CHECK (decision IN ('approved', 'rejected')),
    operator TEXT COLLATE "C" NOT NULL,
    payout_digest TEXT COLLATE "C" NOT NULL,
    reason TEXT COLLATE "C",
    decided_at TEXT COLLATE "C" NOT NULL,
    expires_at TEXT COLLATE "C",
    voided_at TEXT COLLATE "C",
    void_reason TEXT COLLATE "C"
);
CREATE INDEX approvals_payout ON approvals (payout_id, id);

CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at TEXT COLLATE "C" NOT NULL,
    operator TEXT COLLATE "C",
    action TEXT COLLATE "C" NOT NULL,
    subject TEXT COLLATE "C",
    detail TEXT COLLATE "C",
    prev_hash TEXT COLLATE "C" NOT NULL,
    hash TEXT COLLATE "C" NOT NULL CONSTRAINT audit_log_hash_key UNIQUE
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
    label TEXT COLLATE "C" NOT NULL,
    currency TEXT COLLATE "C",
    network TEXT COLLATE "C" NOT NULL,
    address TEXT COLLATE "C" NOT NULL,
    note TEXT COLLATE "C",
    created_by TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    CONSTRAINT address_book_network_address_key UNIQUE (network, address)
);

CREATE TABLE policies (
    currency TEXT COLLATE "C" PRIMARY KEY,
    approval_threshold TEXT COLLATE "C",
    daily_limit_operator TEXT COLLATE "C",
    daily_limit_desk TEXT COLLATE "C",
    over_limit TEXT COLLATE "C" NOT NULL DEFAULT 'needs_approval' CHECK (over_limit IN ('needs_approval', 'refuse')),
    new_destination_needs_approval INTEGER NOT NULL DEFAULT 0,
    updated_by TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL
);

CREATE TABLE settings (
    key TEXT COLLATE "C" PRIMARY KEY,
    value TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL
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
-- WHEN: a row that brings its id (an import gives a batch's ids at once) does not call the function at all.
CREATE TRIGGER operators_next_id BEFORE INSERT ON operators FOR EACH ROW WHEN (NEW.id IS NULL)
    EXECUTE FUNCTION next_row_id('id');
CREATE TRIGGER payouts_next_id BEFORE INSERT ON payouts FOR EACH ROW WHEN (NEW.id IS NULL)
    EXECUTE FUNCTION next_row_id('id');
CREATE TRIGGER payout_events_next_id BEFORE INSERT ON payout_events FOR EACH ROW WHEN (NEW.id IS NULL)
    EXECUTE FUNCTION next_row_id('id');
CREATE TRIGGER approvals_next_id BEFORE INSERT ON approvals FOR EACH ROW WHEN (NEW.id IS NULL)
    EXECUTE FUNCTION next_row_id('id');
CREATE TRIGGER address_book_next_id BEFORE INSERT ON address_book FOR EACH ROW WHEN (NEW.id IS NULL)
    EXECUTE FUNCTION next_row_id('id');
CREATE TRIGGER audit_log_next_seq BEFORE INSERT ON audit_log FOR EACH ROW WHEN (NEW.seq IS NULL)
    EXECUTE FUNCTION next_row_id('seq');

CREATE TABLE payout_counts (
    status TEXT COLLATE "C" NOT NULL,
    provider TEXT COLLATE "C" NOT NULL,
    currency TEXT COLLATE "C" NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (status, provider, currency)
);
-- Once per statement, over the statement's rows (transition tables), not once per row: an import's batch of
-- 10,000 payouts changes each (status, provider, currency) count once.
CREATE FUNCTION payout_counts_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO payout_counts (status, provider, currency, n)
    SELECT status, provider, currency, count(*) FROM added_rows GROUP BY status, provider, currency
    ON CONFLICT (status, provider, currency) DO UPDATE SET n = payout_counts.n + excluded.n;
    RETURN NULL;
END;
$$;
CREATE FUNCTION payout_counts_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE payout_counts AS c SET n = c.n - gone.k
    FROM (SELECT status, provider, currency, count(*) AS k FROM removed_rows GROUP BY status, provider, currency)
        AS gone
    WHERE c.status = gone.status AND c.provider = gone.provider AND c.currency = gone.currency;
    RETURN NULL;
END;
$$;
CREATE FUNCTION payout_counts_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Only rows whose status, provider or currency changed move from one count to another (most updates are
    -- provider answers and poll bookkeeping, which move none).
    UPDATE payout_counts AS c SET n = c.n - gone.k
    FROM (SELECT o.status, o.provider, o.currency, count(*) AS k
          FROM earlier_rows AS o JOIN changed_rows AS n ON n.id = o.id
          WHERE (o.status, o.provider, o.currency) IS DISTINCT FROM (n.status, n.provider, n.currency)
          GROUP BY o.status, o.provider, o.currency) AS gone
    WHERE c.status = gone.status AND c.provider = gone.provider AND c.currency = gone.currency;
    INSERT INTO payout_counts (status, provider, currency, n)
    SELECT n.status, n.provider, n.currency, count(*)
    FROM earlier_rows AS o JOIN changed_rows AS n ON n.id = o.id
    WHERE (o.status, o.provider, o.currency) IS DISTINCT FROM (n.status, n.provider, n.currency)
    GROUP BY n.status, n.provider, n.currency
    ON CONFLICT (status, provider, currency) DO UPDATE SET n = payout_counts.n + excluded.n;
    RETURN NULL;
END;
$$;
CREATE TRIGGER payout_counts_insert AFTER INSERT ON payouts REFERENCING NEW TABLE AS added_rows
    FOR EACH STATEMENT EXECUTE FUNCTION payout_counts_added();
CREATE TRIGGER payout_counts_delete AFTER DELETE ON payouts REFERENCING OLD TABLE AS removed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION payout_counts_removed();
CREATE TRIGGER payout_counts_update AFTER UPDATE ON payouts
    REFERENCING OLD TABLE AS earlier_rows NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION payout_counts_changed();

-- Live across desks: every commit that adds or changes payouts, or approves or voids, tells every desk listening
-- on the channel treasury_ledger which payouts (NOTIFY is sent at commit, so a rolled-back change is never
-- announced). One notification per statement, at most 500 ids (more: "ids" is null, re-read everything). The schema
-- is named: several ledgers may share a database, and a channel is per database. The poller's bookkeeping
-- (next poll time) leaves `version` as it is and is not announced.
CREATE FUNCTION ledger_feed_notify(is_new BOOLEAN, ids BIGINT[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(cardinality(ids), 0) = 0 THEN
        RETURN;
    END IF;
    PERFORM pg_notify('treasury_ledger', json_build_object(
        'schema', current_schema(), 'new', is_new,
        'ids', CASE WHEN cardinality(ids) > 500 THEN NULL ELSE to_json(ids) END)::text);
END;
$$;
CREATE FUNCTION payouts_added_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ledger_feed_notify(true, (SELECT array_agg(id) FROM added_rows));
    RETURN NULL;
END;
$$;
CREATE FUNCTION payouts_changed_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ledger_feed_notify(false, (SELECT array_agg(n.id) FROM changed_rows AS n JOIN earlier_rows AS o
                                       ON o.id = n.id WHERE n.version IS DISTINCT FROM o.version));
    RETURN NULL;
END;
$$;
CREATE FUNCTION approvals_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ledger_feed_notify(false, (SELECT array_agg(DISTINCT payout_id) FROM decided_rows));
    RETURN NULL;
END;
$$;
CREATE TRIGGER payouts_added_feed AFTER INSERT ON payouts REFERENCING NEW TABLE AS added_rows
    FOR EACH STATEMENT EXECUTE FUNCTION payouts_added_notify();
CREATE TRIGGER payouts_changed_feed AFTER UPDATE ON payouts
    REFERENCING OLD TABLE AS earlier_rows NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION payouts_changed_notify();
CREATE TRIGGER approvals_added_feed AFTER INSERT ON approvals REFERENCING NEW TABLE AS decided_rows
    FOR EACH STATEMENT EXECUTE FUNCTION approvals_notify();
CREATE TRIGGER approvals_changed_feed AFTER UPDATE ON approvals REFERENCING NEW TABLE AS decided_rows
    FOR EACH STATEMENT EXECUTE FUNCTION approvals_notify();
"""


def _v1_to_v5(link: PostgresConnection) -> None:
    # The team ledger began at SQLite's version 5: its first migration makes every table of version 5 at once.
    link.conn.execute(_V5_SCHEMA)


# MIGRATIONS[i] takes the database from version FIRST_VERSION + i - 1 (0: empty) to FIRST_VERSION + i.
FIRST_VERSION = 5
MIGRATIONS: list[Migration] = [_v1_to_v5]
SCHEMA_VERSION = FIRST_VERSION + len(MIGRATIONS) - 1
