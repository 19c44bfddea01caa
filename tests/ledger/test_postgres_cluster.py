"""The throwaway PostgreSQL server the team-ledger tests run on: it starts, wants its password, and has what the
ledger needs (version 13 or newer, pg_trgm for the payout search)."""

from __future__ import annotations

import psycopg
import pytest
from postgres_cluster import postgres_cluster, postgres_database, postgres_ledgers_database  # noqa: F401 — fixtures


def test_the_cluster_answers_on_loopback_with_password_authentication(postgres_cluster):
    with psycopg.connect(postgres_cluster.url()) as conn:
        version = conn.execute("SHOW server_version_num").fetchone()[0]
    assert int(version) >= 130000
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(postgres_cluster.url(password="not-the-password"))


def test_each_test_gets_an_empty_schema_of_its_own_with_pg_trgm_available(postgres_database):
    with psycopg.connect(postgres_database) as conn:
        schema = conn.execute("SELECT current_schema()").fetchone()[0]
        assert schema.startswith("t_")
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = %s", (schema,)).fetchone()[0] == 0
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        assert conn.execute("SELECT similarity('TRX7n2', 'TRX7n2')").fetchone()[0] == 1.0
