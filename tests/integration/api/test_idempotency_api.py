"""Idempotency-Key on the storefront's state-changing calls: once per key, whatever the retries."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from tests.conftest import Database
from tests.integration.api.conftest import assert_problem
from tests.integration.fulfillment.support import level, stock_up
from wms.api.schemas_storefront import ReservationIn
from wms.auth.services import IssuedKey, create_api_key
from wms.db.idempotency import claim, fingerprint
from wms.inventory import stock

RESERVATION = {"external_ref": "cart-1", "lines": [{"sku": "MUG", "quantity": 2}]}
ORDER = {
    "external_ref": "web-1",
    "lines": [{"sku": "TEA", "quantity": 1}],
    "ship_to": {
        "name": "Li Wei",
        "address_lines": ["88 Century Avenue"],
        "city": "Shanghai",
        "country": "CN",
        "latitude": 31.2,
        "longitude": 121.5,
    },
}


@pytest.fixture
def stocked(pg: Database) -> Database:
    return stock_up(pg)


@pytest.fixture
def issued(pg: Database) -> IssuedKey:
    with pg.uow() as uow:
        key = create_api_key(uow, name="shop", scopes=["storefront"])
        uow.commit()
    return key


def call(
    client: TestClient, issued: IssuedKey, method: str, path: str, body: Any, key: str | None
) -> Response:
    headers = {"Authorization": f"Bearer {issued.key}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    response: Response = client.request(method, f"/api/v1{path}", headers=headers, json=body)
    return response


def test_a_retry_gets_the_stored_answer_and_holds_once(
    client: TestClient, stocked: Database, issued: IssuedKey
) -> None:
    key = str(uuid.uuid4())
    first = call(client, issued, "POST", "/reservations", RESERVATION, key)
    retry = call(client, issued, "POST", "/reservations", RESERVATION, key)
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert stocked.count("reservations") == 1
    assert level(stocked, "MUG", "CAN")["reserved"] + level(stocked, "MUG", "SHA")["reserved"] == 2


def test_the_same_key_with_another_body_is_a_422(
    client: TestClient, stocked: Database, issued: IssuedKey
) -> None:
    key = str(uuid.uuid4())
    call(client, issued, "POST", "/reservations", RESERVATION, key)
    other = {**RESERVATION, "lines": [{"sku": "MUG", "quantity": 3}]}
    response = call(client, issued, "POST", "/reservations", other, key)
    assert_problem(response, 422, "idempotency_key_reused", field="Idempotency-Key")
    assert stocked.count("reservations") == 1


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/reservations", RESERVATION),
        ("DELETE", "/reservations/res_x", None),
        ("POST", "/reservations/res_x/extend", {"ttl_seconds": 60}),
        ("POST", "/orders", ORDER),
        ("POST", "/orders/ord_x/cancel", None),
    ],
)
def test_a_missing_key_is_a_400(
    client: TestClient,
    stocked: Database,
    issued: IssuedKey,
    method: str,
    path: str,
    body: Any,
) -> None:
    response = call(client, issued, method, path, body, None)
    assert_problem(response, 400, "bad_request", field="Idempotency-Key")
    assert stocked.count("reservations") == stocked.count("orders") == 0


def test_a_key_whose_request_is_still_running_is_a_409(
    client: TestClient, pg: Database, stocked: Database, issued: IssuedKey
) -> None:
    key = "still-running-1"
    digest = fingerprint(
        {
            "method": "POST",
            "path": "/api/v1/reservations",
            "body": ReservationIn.model_validate(RESERVATION).model_dump(mode="json"),
        }
    )
    assert (
        claim(pg.session_factory, owner=f"apikey:{issued.id}", key=key, fingerprint=digest) is None
    )
    response = call(client, issued, "POST", "/reservations", RESERVATION, key)
    assert_problem(response, 409, "idempotency_key_in_use", field="Idempotency-Key")
    assert stocked.count("reservations") == 0


def test_a_refused_request_stores_nothing_so_its_key_can_be_retried(
    client: TestClient, pg: Database, stocked: Database, issued: IssuedKey
) -> None:
    key = str(uuid.uuid4())
    body = {"external_ref": "cart", "lines": [{"sku": "PAN", "quantity": 6}]}
    assert_problem(
        call(client, issued, "POST", "/reservations", body, key), 409, "insufficient_stock"
    )
    with pg.uow() as uow:
        stock.receive(uow, sku="PAN", quantity=2, warehouse="PEK", location="B01", actor="t")
        uow.commit()
    retry = call(client, issued, "POST", "/reservations", body, key)
    assert retry.status_code == 201, retry.text
    assert "Idempotent-Replayed" not in retry.headers


def test_release_extend_and_cancel_replay_their_first_answer(
    client: TestClient, stocked: Database, issued: IssuedKey
) -> None:
    held = call(client, issued, "POST", "/reservations", RESERVATION, str(uuid.uuid4())).json()
    extend_key, release_key = str(uuid.uuid4()), str(uuid.uuid4())
    path = f"/reservations/{held['id']}"
    extended = call(client, issued, "POST", f"{path}/extend", {"ttl_seconds": 99}, extend_key)
    replayed = call(client, issued, "POST", f"{path}/extend", {"ttl_seconds": 99}, extend_key)
    assert replayed.json() == extended.json()
    assert replayed.headers["Idempotent-Replayed"] == "true"
    released = call(client, issued, "DELETE", path, None, release_key)
    assert released.status_code == 200
    again = call(client, issued, "DELETE", path, None, release_key)
    assert (again.status_code, again.json()) == (200, released.json())
    assert again.headers["Idempotent-Replayed"] == "true"

    order_body = ORDER
    order_key, cancel_key = str(uuid.uuid4()), str(uuid.uuid4())
    placed = call(client, issued, "POST", "/orders", order_body, order_key)
    assert call(client, issued, "POST", "/orders", order_body, order_key).json() == placed.json()
    assert stocked.count("orders") == 1
    cancel = f"/orders/{placed.json()['id']}/cancel"
    cancelled = call(client, issued, "POST", cancel, None, cancel_key)
    assert cancelled.status_code == 200
    replay = call(client, issued, "POST", cancel, None, cancel_key)
    assert (replay.status_code, replay.json()) == (200, cancelled.json())
    # the same key on another path is another request
    other = call(client, issued, "DELETE", "/reservations/res_other", None, release_key)
    assert_problem(other, 422, "idempotency_key_reused")
