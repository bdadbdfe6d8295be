"""Shared fixtures: a real PostgreSQL database per test run, SQLite files for the smoke suite."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from wms.db.engine import make_engine, make_session_factory
from wms.db.migrate import upgrade
from wms.db.uow import UnitOfWork
from wms.models import metadata

PG_ADMIN_URL = os.environ.get(
    "WMS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
# Tables that keep rows the first migration created (the virtual locations).
_KEEP = {"locations", "warehouses"}


@dataclass
class Database:
    """A migrated database and a way to open units of work on it."""

    engine: Engine
    session_factory: sessionmaker[Session]

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=False)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory)

    def scalar(self, sql: str, **params: object) -> object:
        with self.engine.connect() as connection:
            return connection.execute(text(sql), params).scalar()

    def count(self, table: str) -> int:
        return int(str(self.scalar(f"SELECT count(*) FROM {table}")))


@pytest.fixture(scope="session")
def pg_engine() -> Iterator[Engine]:
    """A fresh PostgreSQL database for this test run, migrated to head."""
    name = f"wms_test_{os.getpid()}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN_URL).set(database=name)
    engine = make_engine(url.render_as_string(hide_password=False), pool_size=64, max_overflow=16)
    upgrade(engine)
    yield engine
    engine.dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate(engine: Engine) -> None:
    tables = [t.name for t in metadata.sorted_tables if t.name not in _KEEP]
    with engine.begin() as connection:
        connection.execute(text("SET LOCAL wms.allow_ledger_truncate = 'on'"))
        connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        connection.execute(text("DELETE FROM locations WHERE warehouse_id IS NOT NULL"))
        connection.execute(text("DELETE FROM warehouses"))


@pytest.fixture
def pg(pg_engine: Engine) -> Database:
    """The PostgreSQL test database, emptied of everything but the virtual locations."""
    _truncate(pg_engine)
    return Database(pg_engine, make_session_factory(pg_engine))


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    """A migrated SQLite file, as the embedded default uses."""
    engine = make_engine(f"sqlite:///{tmp_path / 'wms.sqlite3'}")
    upgrade(engine)
    yield Database(engine, make_session_factory(engine))
    engine.dispose()
