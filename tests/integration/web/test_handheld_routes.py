"""The handheld's pages over the ASGI app: sign-in redirects and the session's label PDFs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests import factories
from tests.conftest import Database
from wms.api.app import create_app
from wms.auth.services import create_user
from wms.auth.sessions import set_pin
from wms.config import Settings


@pytest.fixture
def client(pg: Database) -> Iterator[TestClient]:
    with pg.uow() as uow:
        factories.warehouse(uow, "SHA", bins=3)
        factories.product(uow, "MUG")
        create_user(uow, username="op", display_name="Op", role="operator", password="pw-1234")
        set_pin(uow, username="op", pin="1234")
        uow.commit()
    app = create_app(Settings(database_url=pg.url, secret_key="test-secret"))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_pages_send_a_visitor_without_a_session_to_sign_in(client: TestClient) -> None:
    for path in (
        "/handheld",
        "/handheld/menu",
        "/handheld/switch-warehouse",
        "/handheld/labels/bins.pdf",
    ):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/handheld/login"


def test_a_signed_in_session_prints_the_bin_labels_of_its_warehouse(client: TestClient) -> None:
    signed_in = client.post(
        "/handheld/login", data={"username": "op", "pin": "1234"}, follow_redirects=False
    )
    assert signed_in.status_code == 303
    before_warehouse = client.get("/handheld/labels/bins.pdf", follow_redirects=False)
    assert before_warehouse.status_code == 303
    assert before_warehouse.headers["location"] == "/handheld"
    client.post("/handheld/warehouse", data={"warehouse": "SHA"}, follow_redirects=False)
    pdf = client.get("/handheld/labels/bins.pdf")
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert 'filename="bins-SHA.pdf"' in pdf.headers["content-disposition"]
    assert pdf.content.startswith(b"%PDF-")
    pages = pdf.content.count(b"/Type /Page") - pdf.content.count(b"/Type /Pages")
    assert pages == 3  # one thermal label per bin
    unknown = client.get("/handheld/labels/product.pdf", params={"sku": "NOPE"})
    assert 400 <= unknown.status_code < 500
    assert unknown.headers["content-type"] == "application/problem+json"
