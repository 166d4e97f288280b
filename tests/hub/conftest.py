"""The hub's fixtures: a database URL for each test on SQLite (a real file) and on PostgreSQL (a real server:
one throwaway cluster per session, a fresh database per test)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.pgcluster import Cluster, ClusterUnavailable


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """One PostgreSQL cluster for the session (initdb in a temporary directory, a Unix socket only)."""
    try:
        cluster = Cluster()
    except ClusterUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    yield cluster
    cluster.remove()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test that takes it runs twice: on an SQLite file and on a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hub.db'}"
    return request.getfixturevalue("pg_cluster").database()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """An SQLite file (for tests of rules that do not depend on the database)."""
    return f"sqlite:///{tmp_path / 'hub.db'}"
