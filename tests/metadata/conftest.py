"""Catalogue fixtures: every catalogue test runs on SQLite and on the real PostgreSQL."""
from __future__ import annotations

import pytest

from tests.metadata.pg import postgres_database


@pytest.fixture(scope="session")
def postgres_url():
    """A throwaway database on 127.0.0.1:5432 for this session (dropped at the end)."""
    with postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def catalogue_url(request, tmp_path):
    """An empty catalogue URL of each backend (PostgreSQL: a fresh schema per test)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'catalogue.sqlite'}"
        return
    from tests.metadata.pg import fresh_schema

    with fresh_schema(request.getfixturevalue("postgres_url")) as url:
        yield url
