"""Orders over the JSON API: allocation, reservations, short stock, duplicates, cancellation."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from tests import factories
from tests.conftest import Database
from tests.integration.api.conftest import assert_problem, bearer
from tests.integration.fulfillment.support import level, levels_picture, stock_up
from wms.api.app import create_app
from wms.config import Settings
from wms.inventory import stock


@pytest.fixture
def stocked(pg: Database) -> Database:
    return stock_up(pg)


@pytest.fixture
def shop(pg: Database) -> dict[str, str]:
    return bearer(pg, "storefront", name="shop")


SHIP_TO = {
    "name": "Li Wei",
    "address_lines": ["88 Century Avenue", "Floor 12"],
    "city": "Shanghai",
    "postal_code": "200120",
    "country": "CN",
    "latitude": 31.2,
    "longitude": 121.5,
}


def new_order(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "external_ref": "web-1001",
        "lines": [{"sku": "MUG", "quantity": 2}, {"sku": "TEA", "quantity": 1}],
        "ship_to": dict(SHIP_TO),
    }
    body.update(overrides)
    return body


def post(client: TestClient, path: str, headers: dict[str, str], body: Any = None) -> Response:
    headers = {**headers, "Idempotency-Key": str(uuid.uuid4())}
    response: Response = client.post(f"/api/v1{path}", headers=headers, json=body)
    return response


def test_an_order_is_allocated_and_answers_with_its_allocation(
    client: TestClient, stocked: Database, shop: dict[str, str]
) -> None:
    response = post(client, "/orders", shop, new_order(promised_by="2030-05-01"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"].startswith("ord_")
    assert body["status"] == "allocated"
    assert body["promised_by"] == "2030-05-01"
    assert [(ln["sku"], ln["quantity"], ln["warehouse"], ln["status"]) for ln in body["lines"]] == [
        ("MUG", 2, "SHA", "allocated"),
        ("TEA", 1, "SHA", "allocated"),
    ]
    (shipment,) = body["allocation"]
    assert shipment["warehouse"] == "SHA"
    assert shipment["fulfillment_id"].startswith("ful_")
    assert shipment["status"] == "released"
    assert shipment["tracking_number"] is None
    assert [(ln["line_no"], ln["sku"], ln["quantity"]) for ln in shipment["lines"]] == [
        (1, "MUG", 2),
        (2, "TEA", 1),
    ]
    assert body["ship_to"]["address_lines"] == SHIP_TO["address_lines"]
    assert level(stocked, "MUG", "SHA")["committed"] == 2
    got = client.get(f"/api/v1/orders/{body['id']}", headers=shop)
    assert got.status_code == 200
    assert got.json() == body


def test_an_order_converts_its_reservation(
    client: TestClient, stocked: Database, shop: dict[str, str]
) -> None:
    held = post(
        client,
        "/reservations",
        shop,
        {
            "external_ref": "cart-9",
            "lines": [{"sku": "MUG", "quantity": 2}],
            "ship_to": {"latitude": 23.1, "longitude": 113.3},
        },
    ).json()
    body = new_order(lines=[{"sku": "MUG", "quantity": 2}], reservation_id=held["id"])
    response = post(client, "/orders", shop, body)
    assert response.status_code == 201, response.text
    assert response.json()["reservation_id"] == held["id"]
    assert response.json()["lines"][0]["warehouse"] == "CAN"
    assert level(stocked, "MUG", "CAN") | {"version": 0} == {
        "on_hand": 10,
        "committed": 2,
        "reserved": 0,
        "available": 8,
        "version": 0,
    }
    status = client.get(f"/api/v1/reservations/{held['id']}", headers=shop).json()["status"]
    assert status == "committed"
    again = post(client, "/orders", shop, {**body, "external_ref": "web-1002"})
    assert_problem(again, 409, "invalid_transition")


def test_an_order_unlike_its_reservation_is_a_422(
    client: TestClient, stocked: Database, shop: dict[str, str]
) -> None:
    held = post(
        client,
        "/reservations",
        shop,
        {"external_ref": "cart-9", "lines": [{"sku": "MUG", "quantity": 2}]},
    ).json()
    response = post(client, "/orders", shop, new_order(reservation_id=held["id"]))
    body = assert_problem(response, 422, "reservation_mismatch", field="lines")
    assert body["reserved"] == [{"sku": "MUG", "quantity": 2}]
    unknown = post(client, "/orders", shop, new_order(reservation_id="res_nope"))
    assert_problem(unknown, 422, "unknown_reservation", field="reservation_id")
    assert stocked.count("orders") == 0


def test_short_stock_is_a_409_with_every_short_line_and_nothing_written(
    client: TestClient, stocked: Database, shop: dict[str, str]
) -> None:
    picture = levels_picture(stocked)
    body = new_order(
        lines=[
            {"sku": "MUG", "quantity": 1},
            {"sku": "PAN", "quantity": 9},
            {"sku": "TEA", "quantity": 30},
        ]
    )
    response = post(client, "/orders", shop, body)
    problem = assert_problem(response, 409, "insufficient_stock")
    assert problem["lines"] == [
        {"sku": "PAN", "requested": 9, "available": 4},
        {"sku": "TEA", "requested": 30, "available": 20},
    ]
    assert levels_picture(stocked) == picture
    assert stocked.count("orders") == 0
    backordered = post(client, "/orders", shop, {**body, "backorder": True})
    assert backordered.status_code == 201, backordered.text
    assert backordered.json()["status"] == "backordered"
    assert [ln["status"] for ln in backordered.json()["lines"]] == [
        "allocated",
        "backordered",
        "backordered",
    ]


def test_the_server_can_be_set_to_backorder_short_stock(
    pg: Database, stocked: Database, shop: dict[str, str]
) -> None:
    settings = Settings(
        database_url=pg.url, secret_key="t", short_stock="backorder", _env_file=None
    )
    with TestClient(create_app(settings)) as backordering:
        short = new_order(lines=[{"sku": "PAN", "quantity": 9}])
        accepted = post(backordering, "/orders", shop, short)
        assert accepted.status_code == 201, accepted.text
        assert accepted.json()["status"] == "backordered"
        refused = post(
            backordering, "/orders", shop, {**short, "external_ref": "web-2", "backorder": False}
        )
        assert_problem(refused, 409, "insufficient_stock")


def test_an_external_ref_is_a_409_naming_the_first_order(
    client: TestClient, stocked: Database, shop: dict[str, str]
) -> None:
    first = post(client, "/orders", shop, new_order()).json()
    again = post(client, "/orders", shop, new_order())
    problem = assert_problem(again, 409, "duplicate_order", field="external_ref")
    assert problem["order_id"] == first["id"]
    assert level(stocked, "MUG", "SHA")["committed"] == 2


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"lines": []}, "lines"),
        ({"lines": [{"sku": "MUG", "quantity": -1}]}, "lines[0].quantity"),
        ({"ship_to": {**SHIP_TO, "latitude": 95}}, "ship_to.latitude"),
        ({"ship_to": {k: v for k, v in SHIP_TO.items() if k != "longitude"}}, "ship_to.longitude"),
        ({"ship_to": {**SHIP_TO, "address_lines": []}}, "ship_to.address_lines"),
        ({"ship_to": {**SHIP_TO, "name": ""}}, "ship_to.name"),
        ({"backorder": "yes"}, "backorder"),
        ({"promised_by": "soon"}, "promised_by"),
        ({"reservation_id": "r" * 33}, "reservation_id"),
        ({"priority": 1}, "priority"),
        ({"lines": [{"sku": "NOPE", "quantity": 1}]}, "lines[0].sku"),
    ],
)
def test_bad_orders_are_a_422_naming_the_field(
    client: TestClient,
    stocked: Database,
    shop: dict[str, str],
    overrides: dict[str, Any],
    field: str,
) -> None:
    response = post(client, "/orders", shop, new_order(**overrides))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]], response.json()
    assert stocked.count("orders") == 0


def test_cancelling_releases_the_stock_and_cannot_happen_twice(
    client: TestClient, stocked: Database, shop: dict[str, str]
) -> None:
    order = post(client, "/orders", shop, new_order()).json()
    response = post(client, f"/orders/{order['id']}/cancel", shop)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "cancelled"
    assert [ln["cancelled_quantity"] for ln in body["lines"]] == [2, 1]
    assert body["allocation"][0]["status"] == "cancelled"
    assert level(stocked, "MUG", "SHA")["committed"] == 0
    again = post(client, f"/orders/{order['id']}/cancel", shop)
    assert_problem(again, 409, "invalid_transition")


def test_orders_belong_to_the_key_that_placed_them(
    client: TestClient, pg: Database, stocked: Database, shop: dict[str, str]
) -> None:
    order = post(client, "/orders", shop, new_order()).json()
    other = bearer(pg, "storefront", name="other-shop")
    assert_problem(client.get(f"/api/v1/orders/{order['id']}", headers=other), 404, "unknown_order")
    assert_problem(post(client, f"/orders/{order['id']}/cancel", other), 404, "unknown_order")
    assert client.get("/api/v1/orders", headers=other).json() == {"data": [], "next_cursor": None}
    mine = client.get("/api/v1/orders", headers=shop).json()
    assert [o["id"] for o in mine["data"]] == [order["id"]]
    # the other shop may use the same external reference for its own order
    assert post(client, "/orders", other, new_order()).status_code == 201


def test_orders_are_listed_page_by_page_and_by_status(
    client: TestClient, stocked: Database, shop: dict[str, str]
) -> None:
    ids = [
        post(client, "/orders", shop, new_order(external_ref=f"w{i}")).json()["id"]
        for i in range(3)
    ]
    post(client, f"/orders/{ids[1]}/cancel", shop)
    first = client.get("/api/v1/orders", params={"limit": 2}, headers=shop).json()
    rest = client.get(
        "/api/v1/orders", params={"limit": 2, "cursor": first["next_cursor"]}, headers=shop
    ).json()
    assert [o["id"] for o in first["data"] + rest["data"]] == ids
    assert rest["next_cursor"] is None
    cancelled = client.get("/api/v1/orders", params={"status": "cancelled"}, headers=shop).json()
    assert [o["id"] for o in cancelled["data"]] == [ids[1]]
    bad = client.get("/api/v1/orders", params={"status": "lost"}, headers=shop)
    assert_problem(bad, 422, "validation_failed", field="status")
    assert_problem(
        client.get("/api/v1/orders", params={"cursor": "zz"}, headers=shop),
        422,
        "validation_failed",
        field="cursor",
    )


def test_unknown_orders_are_404(
    client: TestClient, stocked: Database, shop: dict[str, str]
) -> None:
    assert_problem(client.get("/api/v1/orders/ord_missing", headers=shop), 404, "unknown_order")
    assert_problem(post(client, "/orders/ord_missing/cancel", shop), 404, "unknown_order")


@pytest.fixture
def openapi(client: TestClient) -> dict[str, Any]:
    schema: dict[str, Any] = client.get("/openapi.json").json()
    return schema


def test_every_storefront_operation_is_documented(openapi: dict[str, Any]) -> None:
    paths = openapi["paths"]
    for path, method in [
        ("/api/v1/reservations", "post"),
        ("/api/v1/reservations/{reservation_id}", "get"),
        ("/api/v1/reservations/{reservation_id}", "delete"),
        ("/api/v1/reservations/{reservation_id}/extend", "post"),
        ("/api/v1/orders", "post"),
        ("/api/v1/orders", "get"),
        ("/api/v1/orders/{order_id}", "get"),
        ("/api/v1/orders/{order_id}/cancel", "post"),
    ]:
        operation = paths[path][method]
        assert operation["summary"], path
        assert operation["description"], path
        success = next(code for code in operation["responses"] if code.startswith("2"))
        assert "$ref" in str(operation["responses"][success]["content"]), path
        assert "409" in operation["responses"] or method == "get", path
        if method != "get":
            names = [p["name"] for p in operation.get("parameters", [])]
            assert "Idempotency-Key" in names, path


def test_an_order_is_allocated_by_the_least_cost_solver_not_the_nearest_full_warehouse(
    client: TestClient, pg: Database, shop: dict[str, str]
) -> None:
    """Only Beijing holds both SKUs. The old rule shipped all 7 units from there, 1,070 km
    away; the solver ships the 6 mugs from Shanghai, next to the customer, and the tea from
    Beijing: two shipments cost less than 7 units carried across the country."""
    with pg.uow() as uow:
        for code in ("SHA", "PEK"):
            factories.warehouse(uow, code, bins=2)
        for sku in ("MUG", "TEA"):
            factories.product(uow, sku)
        for sku, code in (("MUG", "SHA"), ("MUG", "PEK"), ("TEA", "PEK")):
            stock.receive(uow, sku=sku, quantity=10, warehouse=code, location="B01", actor="t")
        uow.commit()
    body = new_order(lines=[{"sku": "MUG", "quantity": 6}, {"sku": "TEA", "quantity": 1}])
    response = post(client, "/orders", shop, body)
    assert response.status_code == 201, response.text
    placed = {ln["sku"]: ln["warehouse"] for ln in response.json()["lines"]}
    assert placed == {"MUG": "SHA", "TEA": "PEK"}
    assert sorted(s["warehouse"] for s in response.json()["allocation"]) == ["PEK", "SHA"]
    assert level(pg, "MUG", "SHA")["committed"] == 6
    assert level(pg, "MUG", "PEK")["committed"] == 0
