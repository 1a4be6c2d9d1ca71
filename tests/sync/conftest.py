"""Fixtures for the sync tests: a real PostgreSQL server per test session (tests/sync/pg_server.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.sync.pg_server import PgServer, PgServerError


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One throwaway PostgreSQL cluster for this session (each xdist worker starts its own).
    Missing or broken PostgreSQL fails the tests that need it, with what to do: never a skip."""
    try:
        server = PgServer().start()
    except PgServerError as e:
        pytest.fail(f"the postgres backend's tests need a real PostgreSQL: {e}", pytrace=False)
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """A fresh database owned by the hub's ordinary (RLS-bound) role."""
    return pg_server.new_database()
