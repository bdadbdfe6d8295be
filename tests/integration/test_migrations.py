"""Migrations build exactly the schema the models describe, on PostgreSQL and on SQLite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url

from tests.conftest import PG_ADMIN_URL
from wms.db.engine import create_database_if_missing, make_engine
from wms.db.migrate import downgrade, is_up_to_date, upgrade
from wms.models import metadata


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def test_postgres_schema_matches_the_models(pg_engine: Engine) -> None:
    assert is_up_to_date(pg_engine)
    assert _differences(pg_engine) == []


def test_sqlite_schema_matches_the_models(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'm.sqlite3'}")
    upgrade(engine)
    assert is_up_to_date(engine)
    assert _differences(engine) == []
    assert {c["name"] for c in inspect(engine).get_check_constraints("stock_levels")} >= {
        "ck_stock_levels_never_oversold",
        "ck_stock_levels_counters_not_negative",
    }


def test_postgres_migrations_go_down_to_nothing_and_up_again() -> None:
    name = f"wms_migrations_{os.getpid()}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(
        make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    )
    try:
        upgrade(engine)
        downgrade(engine, "base")
        assert set(inspect(engine).get_table_names()) == {"alembic_version"}
        upgrade(engine)
        assert _differences(engine) == []
        with engine.connect() as connection:
            virtual = connection.execute(
                text("SELECT count(*) FROM locations WHERE warehouse_id IS NULL")
            ).scalar()
        assert virtual == 5
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.parametrize("table", ["moves", "quants", "stock_levels", "lots", "locations"])
def test_every_table_has_named_constraints(pg_engine: Engine, table: str) -> None:
    inspector = inspect(pg_engine)
    names = [fk["name"] for fk in inspector.get_foreign_keys(table)]
    names += [ck["name"] for ck in inspector.get_check_constraints(table)]
    assert all(n and not n.startswith(f"{table}_") for n in names), names


def test_a_missing_postgres_database_is_created_once() -> None:
    name = f"wms_created_{os.getpid()}"
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        assert create_database_if_missing(url) is True
        assert create_database_if_missing(url) is False
        with admin.connect() as connection:
            assert connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            ).first()
        assert create_database_if_missing("sqlite:///var/never-created.sqlite3") is False
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
