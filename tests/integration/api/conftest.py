"""The API under test, API keys of each scope, and a picture of every row a request could write."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from structlog.testing import capture_logs

from tests.conftest import Database
from wms.api.app import create_app
from wms.auth.services import create_api_key
from wms.config import Settings

# Every table a catalogue or stock request can write to.
WRITABLE_TABLES = (
    "warehouses",
    "locations",
    "products",
    "product_packs",
    "lots",
    "moves",
    "quants",
    "stock_levels",
)


@pytest.fixture(autouse=True)
def _quiet_logs() -> Iterator[None]:
    # A 500 logs its traceback with every local variable; rendering that takes seconds.
    with capture_logs():
        yield


@pytest.fixture
def client(pg: Database) -> Iterator[TestClient]:
    """The API on the test database; server errors come back as responses, not exceptions."""
    app = create_app(Settings(database_url=pg.url, secret_key="test-secret"))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def bearer(pg: Database, *scopes: str, name: str = "tests") -> dict[str, str]:
    """Headers carrying a new API key with ``scopes``."""
    with pg.uow() as uow:
        issued = create_api_key(uow, name=name, scopes=list(scopes))
        uow.commit()
    return {"Authorization": f"Bearer {issued.key}"}


@pytest.fixture
def admin(pg: Database) -> dict[str, str]:
    return bearer(pg, "admin", name="back-office")


@pytest.fixture
def reader(pg: Database) -> dict[str, str]:
    return bearer(pg, "read", name="reporting")


def written(pg: Database) -> dict[str, Any]:
    """Row counts of every writable table plus every quant and stock level, to compare later."""
    picture: dict[str, Any] = {table: pg.count(table) for table in WRITABLE_TABLES}
    picture["quant_rows"] = pg.scalar(
        "SELECT coalesce(string_agg(id || ':' || quantity, ',' ORDER BY id), '') FROM quants"
    )
    picture["level_rows"] = pg.scalar(
        "SELECT coalesce(string_agg(concat_ws(':', id, version, on_hand, committed, reserved, "
        "quality_control, damaged, safety_stock, incoming), ',' ORDER BY id), '') "
        "FROM stock_levels"
    )
    return picture


def assert_problem(
    response: Response, status: int, code: str, *, field: str | None = None
) -> dict[str, Any]:
    """The response is problem+json with ``status`` and ``code``, naming ``field`` if given."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["detail"]
    assert body["title"]
    if field is not None:
        assert field in [error["field"] for error in body["errors"]], body
    return body
