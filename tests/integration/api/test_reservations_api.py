"""Reservations over the JSON API: holds, refusals as problem+json, owners, transitions."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from tests.conftest import Database
from tests.integration.api.conftest import assert_problem, bearer
from tests.integration.fulfillment.support import level, levels_picture, stock_up


@pytest.fixture
def stocked(pg: Database) -> Database:
    return stock_up(pg)


@pytest.fixture
def shop(pg: Database) -> dict[str, str]:
    return bearer(pg, "storefront", name="shop")


def reservation(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "external_ref": "cart-1",
        "lines": [{"sku": "MUG", "quantity": 2}],
        "ship_to": {"latitude": 31.2, "longitude": 121.5},
    }
    body.update(overrides)
    return body


def send(
    client: TestClient,
    method: str,
    path: str,
    headers: dict[str, str],
    body: dict[str, Any] | None = None,
    *,
    key: str | None = None,
) -> Response:
    headers = {**headers, "Idempotency-Key": key or str(uuid.uuid4())}
    response: Response = client.request(method, f"/api/v1{path}", headers=headers, json=body)
    return response


def test_a_reservation_is_created_with_its_lines_and_expiry(
    client: TestClient, stocked: Database, shop: dict[str, str]
) -> None:
    response = send(client, "POST", "/reservations", shop, reservation(ttl_seconds=600))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["id"].startswith("res_")
    assert body["status"] == "active"
    assert body["external_ref"] == "cart-1"
    assert body["lines"] == [{"sku": "MUG", "quantity": 2, "warehouse": "SHA"}]
    expires = datetime.fromisoformat(body["expires_at"])
    created = datetime.fromisoformat(body["created_at"])
    assert expires - created == timedelta(seconds=600)
    assert level(stocked, "MUG", "SHA")["reserved"] == 2
    got = client.get(f"/api/v1/reservations/{body['id']}", headers=shop)
    assert got.status_code == 200
    assert got.json() == body


def test_the_default_ttl_comes_from_the_settings(
    client: TestClient, stocked: Database, shop: dict[str, str]
) -> None:
    body = send(client, "POST", "/reservations", shop, reservation()).json()
    held = datetime.fromisoformat(body["expires_at"]) - datetime.fromisoformat(body["created_at"])
    assert held == timedelta(seconds=900)


def test_short_stock_is_a_409_listing_every_short_line_and_holds_nothing(
    client: TestClient, stocked: Database, shop: dict[str, str]
) -> None:
    picture = levels_picture(stocked)
    response = send(
        client,
        "POST",
        "/reservations",
        shop,
        reservation(
            lines=[
                {"sku": "MUG", "quantity": 1},
                {"sku": "PAN", "quantity": 5},
                {"sku": "NONE", "quantity": 1},
            ]
        ),
    )
    body = assert_problem(response, 409, "insufficient_stock", field="quantity")
    assert body["lines"] == [
        {"sku": "PAN", "requested": 5, "available": 4},
        {"sku": "NONE", "requested": 1, "available": 0},
    ]
    assert levels_picture(stocked) == picture
    assert stocked.count("reservations") == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"lines": []}, "lines"),
        ({"lines": [{"sku": "MUG", "quantity": 0}]}, "lines[0].quantity"),
        ({"lines": [{"sku": "MUG", "quantity": 1_000_000_001}]}, "lines[0].quantity"),
        ({"lines": [{"sku": "MUG", "quantity": "2"}]}, "lines[0].quantity"),
        ({"lines": [{"sku": "MUG", "quantity": 1}] * 501}, "lines"),
        ({"lines": [{"sku": "MUG", "quantity": 1, "lot": "X"}]}, "lines[0].lot"),
        ({"ttl_seconds": 0}, "ttl_seconds"),
        ({"ttl_seconds": 86_401}, "ttl_seconds"),
        ({"ship_to": {"latitude": 91, "longitude": 0}}, "ship_to.latitude"),
        ({"ship_to": {"latitude": 0, "longitude": -181}}, "ship_to.longitude"),
        ({"external_ref": ""}, "external_ref"),
        ({"external_ref": "x" * 129}, "external_ref"),
        ({"colour": "red"}, "colour"),
        ({"lines": [{"sku": "NOPE", "quantity": 1}]}, "lines[0].sku"),
        ({"warehouse": "XYZ"}, "warehouse"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(
    client: TestClient,
    stocked: Database,
    shop: dict[str, str],
    overrides: dict[str, Any],
    field: str,
) -> None:
    response = send(client, "POST", "/reservations", shop, reservation(**overrides))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]], response.json()
    assert stocked.count("reservations") == 0


def test_a_ttl_above_the_configured_maximum_is_a_422(
    pg: Database, stocked: Database, shop: dict[str, str]
) -> None:
    from wms.api.app import create_app
    from wms.config import Settings

    settings = Settings(
        database_url=pg.url, secret_key="t", reservation_max_ttl_seconds=60, _env_file=None
    )
    with TestClient(create_app(settings)) as capped:
        response = send(capped, "POST", "/reservations", shop, reservation(ttl_seconds=61))
    assert_problem(response, 422, "validation_failed", field="ttl_seconds")


def test_releasing_returns_the_released_reservation_and_the_stock(
    client: TestClient, stocked: Database, shop: dict[str, str]
) -> None:
    held = send(client, "POST", "/reservations", shop, reservation()).json()
    response = send(client, "DELETE", f"/reservations/{held['id']}", shop)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "released"
    assert response.json()["lines"] == held["lines"]
    assert level(stocked, "MUG", "SHA")["reserved"] == 0
    again = send(client, "DELETE", f"/reservations/{held['id']}", shop)
    body = assert_problem(again, 409, "invalid_transition")
    assert (body["current"], body["target"]) == ("released", "released")


def test_extending_moves_the_expiry(
    client: TestClient, stocked: Database, shop: dict[str, str]
) -> None:
    held = send(client, "POST", "/reservations", shop, reservation(ttl_seconds=60)).json()
    response = send(
        client, "POST", f"/reservations/{held['id']}/extend", shop, {"ttl_seconds": 7200}
    )
    assert response.status_code == 200, response.text
    assert datetime.fromisoformat(response.json()["expires_at"]) > datetime.fromisoformat(
        held["expires_at"]
    ) + timedelta(seconds=7000)
    bad = send(client, "POST", f"/reservations/{held['id']}/extend", shop, {"ttl_seconds": 0})
    assert_problem(bad, 422, "validation_failed", field="ttl_seconds")
    send(client, "DELETE", f"/reservations/{held['id']}", shop)
    ended = send(client, "POST", f"/reservations/{held['id']}/extend", shop, {"ttl_seconds": 60})
    assert_problem(ended, 409, "invalid_transition")


def test_another_api_key_gets_404_for_a_reservation(
    client: TestClient, pg: Database, stocked: Database, shop: dict[str, str]
) -> None:
    held = send(client, "POST", "/reservations", shop, reservation()).json()
    other = bearer(pg, "storefront", name="other-shop")
    path = f"/reservations/{held['id']}"
    assert_problem(client.get(f"/api/v1{path}", headers=other), 404, "unknown_reservation")
    assert_problem(send(client, "DELETE", path, other), 404, "unknown_reservation")
    assert_problem(
        send(client, "POST", f"{path}/extend", other, {"ttl_seconds": 60}),
        404,
        "unknown_reservation",
    )
    assert level(stocked, "MUG", "SHA")["reserved"] == 2
    assert_problem(
        client.get("/api/v1/reservations/res_missing", headers=shop), 404, "unknown_reservation"
    )


def test_reservations_need_a_storefront_key(
    client: TestClient, pg: Database, stocked: Database
) -> None:
    anonymous = client.post("/api/v1/reservations", json=reservation())
    assert_problem(anonymous, 401, "unauthorized")
    reader = bearer(pg, "read", name="reporting")
    assert_problem(send(client, "POST", "/reservations", reader, reservation()), 403, "forbidden")
    assert_problem(client.get("/api/v1/reservations/res_x", headers=reader), 403, "forbidden")
