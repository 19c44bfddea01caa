"""A real PostgreSQL server for tests: the throwaway cluster of throwaway_postgres.py (initdb and pg_ctl in a
temporary folder, loopback, SCRAM passwords, fsync off), as pytest fixtures.

`postgres_cluster` (one per test session and xdist worker) is the server; `postgres_database` gives each test a
database of its own on it. Neither is ever skipped: a test that needs PostgreSQL and cannot start it FAILS,
saying why.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from throwaway_postgres import (
    ClusterError,
    PostgresCluster,
    create_ledgers_database,
    throwaway_cluster,
)


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    with ExitStack() as running:
        try:
            cluster = running.enter_context(throwaway_cluster())
        except ClusterError as error:
            pytest.fail(str(error))
        yield cluster


@pytest.fixture(scope="session")
def postgres_ledgers_database(postgres_cluster: PostgresCluster) -> str:
    """One database per session for the tests' ledgers, each in a schema of its own (made in milliseconds, where
    a database takes half a second to copy)."""
    return create_ledgers_database(postgres_cluster)


@pytest.fixture
def postgres_database(postgres_cluster: PostgresCluster, postgres_ledgers_database: str) -> Iterator[str]:
    """An empty ledger location for one test: a fresh schema, first on the URL's search path; dropped after."""
    name = f"t_{secrets.token_hex(6)}"
    with postgres_cluster.admin(postgres_ledgers_database) as admin:
        admin.execute(f'CREATE SCHEMA "{name}"')
    try:
        yield postgres_cluster.url(postgres_ledgers_database) + f"?options=-csearch_path%3D{name}%2Cpublic"
    finally:
        with postgres_cluster.admin(postgres_ledgers_database) as admin:
            admin.execute(f'DROP SCHEMA "{name}" CASCADE')
