"""PostgreSQL for the catalogue tests: a throwaway database on the real server.

If the server at 127.0.0.1:5432 does not answer, the PostgreSQL tests FAIL (they do not
skip): deployments use PostgreSQL, so an untested PostgreSQL path is a broken one.
"""
from __future__ import annotations

import secrets
from contextlib import contextmanager
from typing import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"


@contextmanager
def postgres_database() -> Iterator[str]:
    name = f"dlclab_test_{secrets.token_hex(6)}"
    admin = create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        pytest.fail("PostgreSQL is not reachable at 127.0.0.1:5432 as user postgres "
                    f"(start it: pg_ctlcluster --skip-systemctl-redirect 15 main start): {exc}",
                    pytrace=False)
    try:
        yield f"{SERVER}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@contextmanager
def fresh_schema(database_url: str) -> Iterator[str]:
    """A URL whose connections use a new empty schema (cheaper than a database per test)."""
    schema = f"t_{secrets.token_hex(5)}"
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{database_url}?options=-csearch_path%3D{schema}"
    finally:
        with engine.connect() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()
